import { SailPointClient, resolveSailPointApiUrl } from '../../../functions/shared/sailpoint';

describe('resolveSailPointApiUrl', () => {
  it('builds the tenant URL from SAILPOINT_TENANT', () => {
    expect(resolveSailPointApiUrl({ tenant: 'acme' })).toBe('https://acme.api.identitynow.com');
    expect(resolveSailPointApiUrl({ tenant: ' Acme-EU ' })).toBe('https://acme-eu.api.identitynow.com');
  });

  it.each(['acme.api.identitynow.com', 'https://acme', 'ac me', '-acme', 'acme/evil'])(
    'refuses tenant %p and names SAILPOINT_TENANT',
    (tenant) => {
      expect(() => resolveSailPointApiUrl({ tenant })).toThrow(/SAILPOINT_TENANT/);
    },
  );

  it('uses SAILPOINT_API_URL as is (trailing slash removed) and prefers it over the tenant', () => {
    expect(resolveSailPointApiUrl({ apiUrl: 'https://acme.api.identitynow.com/' })).toBe(
      'https://acme.api.identitynow.com',
    );
    expect(resolveSailPointApiUrl({ tenant: 'other', apiUrl: 'https://acme.api.identitynow.com' })).toBe(
      'https://acme.api.identitynow.com',
    );
    expect(
      resolveSailPointApiUrl({ apiUrl: 'https://proxy.example.com/isc', extraHosts: ['proxy.example.com'] }),
    ).toBe('https://proxy.example.com/isc');
  });

  it.each([
    'https://acme.api.identitynow.com',
    'https://acme-poc.api.identitynow-demo.com',
    'https://acme.api.saas.sailpointfedramp.com',
  ])("accepts SailPoint's API domain %p", (apiUrl) => {
    expect(resolveSailPointApiUrl({ apiUrl })).toBe(apiUrl);
  });

  it.each([
    'https://proxy.example.com/isc',
    'https://acme.api.identitynow.com.evil.example',
    'https://a.b.api.identitynow.com',
    'https://api.identitynow.com',
    'https://acme.identitynow.com',
    'https://acmeapi.identitynow.com',
  ])('refuses host %p (the client secret would go there), naming both settings', (apiUrl) => {
    expect(() => resolveSailPointApiUrl({ apiUrl })).toThrow(
      /SAILPOINT_API_URL host .* is not an API host .*SAILPOINT_EXTRA_API_HOSTS/,
    );
  });

  it('extra hosts are exact names, case-insensitive', () => {
    expect(
      resolveSailPointApiUrl({ apiUrl: 'https://ISC.Corp.example', extraHosts: ['isc.corp.example'] }),
    ).toBe('https://isc.corp.example');
    expect(() =>
      resolveSailPointApiUrl({ apiUrl: 'https://x.isc.corp.example', extraHosts: ['isc.corp.example'] }),
    ).toThrow(/SAILPOINT_EXTRA_API_HOSTS/);
  });

  it.each(['http://127.0.0.1:8080', 'http://127.10.20.30:1', 'http://localhost:3000', 'http://[::1]:9000'])(
    'allows plain http to loopback %p',
    (apiUrl) => {
      expect(resolveSailPointApiUrl({ apiUrl })).toBe(apiUrl);
    },
  );

  it.each([
    'http://acme.api.identitynow.com',
    'http://127.0.0.1.nip.io',
    'http://localhost.evil.com',
    'http://10.0.0.1',
    'http://[::2]:80',
  ])('refuses plain http to non-loopback %p and names SAILPOINT_API_URL', (apiUrl) => {
    expect(() => resolveSailPointApiUrl({ apiUrl })).toThrow(/SAILPOINT_API_URL must use https/);
  });

  it('refuses other protocols, invalid URLs, queries, and credentials (without echoing them)', () => {
    expect(() => resolveSailPointApiUrl({ apiUrl: 'ftp://acme.example.com' })).toThrow(/SAILPOINT_API_URL/);
    expect(() => resolveSailPointApiUrl({ apiUrl: 'acme.api.identitynow.com' })).toThrow(/SAILPOINT_API_URL/);
    expect(() => resolveSailPointApiUrl({ apiUrl: 'https://acme.api.identitynow.com?x=1' })).toThrow(/query/);
    let message = '';
    try {
      resolveSailPointApiUrl({ apiUrl: 'https://user:hunter2@acme.example.com' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/SAILPOINT_API_URL must not contain credentials/);
    expect(message).not.toContain('hunter2');
  });

  it('names both variables when neither is set', () => {
    expect(() => resolveSailPointApiUrl({})).toThrow(/SAILPOINT_TENANT.*SAILPOINT_API_URL/);
    expect(() => resolveSailPointApiUrl({ tenant: ' ', apiUrl: '' })).toThrow(/SAILPOINT_TENANT/);
  });

  it('the client refuses a host outside the allow-list before any request', () => {
    const fetch = jest.fn();
    expect(
      () =>
        new SailPointClient({ apiUrl: 'https://evil.example.com', clientId: 'c', clientSecret: 's', fetch }),
    ).toThrow(/SAILPOINT_API_URL host evil\.example\.com/);
    expect(fetch).not.toHaveBeenCalled();
    expect(
      new SailPointClient({
        apiUrl: 'https://evil.example.com',
        extraApiHosts: ['evil.example.com'],
        clientId: 'c',
        clientSecret: 's',
      }),
    ).toBeInstanceOf(SailPointClient);
  });

  it('the client refuses a non-https, non-loopback apiUrl', () => {
    expect(
      () =>
        new SailPointClient({ apiUrl: 'http://acme.api.identitynow.com', clientId: 'c', clientSecret: 's' }),
    ).toThrow(/https/);
  });
});
