import { resolveCognigyApiUrl } from '../../../functions/shared/cognigy/client';
import { parseCognigyAuditSettings } from '../../../functions/cognigy-audit/settings';
import { ConfigError } from '../../../functions/shared/config';

describe('resolveCognigyApiUrl', () => {
  it('accepts https and plain http to a loopback address (the sandbox)', () => {
    expect(resolveCognigyApiUrl('https://api-trial.cognigy.ai/new')).toBe('https://api-trial.cognigy.ai/new');
    expect(resolveCognigyApiUrl('http://127.0.0.1:7100/new')).toBe('http://127.0.0.1:7100/new');
  });

  it('refuses plain http to a host that only looks like loopback', () => {
    expect(() => resolveCognigyApiUrl('http://127.evil.example/new')).toThrow(/must use https/);
    expect(() => resolveCognigyApiUrl('http://api-trial.cognigy.ai/new')).toThrow(/must use https/);
  });

  it.each(['https://api-app.cognigy.ai/new', 'https://API-APP-US.cognigy.ai/new'])(
    "accepts Cognigy's SaaS API host %p",
    (url) => {
      expect(resolveCognigyApiUrl(url)).toBe(url.replace('API-APP-US', 'api-app-us'));
    },
  );

  it.each([
    'https://evil.example.com/new',
    'https://api-trial.cognigy.ai.evil.example/new',
    'https://cognigy.ai/new',
    'https://api-trial.cognigy.ai.evil/new',
    'https://xapi-trial.cognigy.ai/new',
  ])('refuses %p, naming COGNIGY_API_URL and COGNIGY_EXTRA_API_HOSTS', (url) => {
    expect(() => resolveCognigyApiUrl(url)).toThrow(
      /COGNIGY_API_URL host .* is not an API host .*COGNIGY_EXTRA_API_HOSTS/,
    );
  });

  it('accepts a host listed in COGNIGY_EXTRA_API_HOSTS (exact names only)', () => {
    expect(resolveCognigyApiUrl('https://cognigy.corp.example/new', ['cognigy.corp.example'])).toBe(
      'https://cognigy.corp.example/new',
    );
    expect(() =>
      resolveCognigyApiUrl('https://x.cognigy.corp.example/new', ['cognigy.corp.example']),
    ).toThrow(/COGNIGY_EXTRA_API_HOSTS/);
  });

  it('the audit refuses a disallowed host at start, naming the setting', () => {
    const env = {
      FINDINGS_TABLE: 'findings',
      COGNIGY_API_URL: 'https://evil.example.com/new',
    };
    let error: unknown;
    try {
      parseCognigyAuditSettings(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        setting: 'COGNIGY_API_URL',
        message: expect.stringMatching(/evil\.example\.com.*COGNIGY_EXTRA_API_HOSTS/),
      },
    ]);
    expect(() =>
      parseCognigyAuditSettings({ ...env, COGNIGY_EXTRA_API_HOSTS: 'evil.example.com' }),
    ).not.toThrow();
  });
});
