import { z } from 'zod';
import { ConfigError, parseSettings, sailPointSettings, setting } from '../../../functions/shared/config';
import { createSailPointClientFromEnv } from '../../../functions/shared/sailpoint/from-settings';

describe('settings', () => {
  const schema = z.object({
    DAYS: setting.integer(90, { min: 1, max: 3650 }),
    ENABLED: setting.boolean(false),
    NAMES: setting.list(),
    RULES: setting.json(z.array(z.object({ id: z.string() })), []),
  });

  it('applies defaults and treats empty strings as unset', () => {
    expect(parseSettings(schema, { DAYS: '', ENABLED: undefined })).toEqual({
      DAYS: 90,
      ENABLED: false,
      NAMES: [],
      RULES: [],
    });
  });

  it('parses values given as text', () => {
    expect(
      parseSettings(schema, { DAYS: '30', ENABLED: 'true', NAMES: 'a, b,,c', RULES: '[{"id":"x"}]' }),
    ).toEqual({ DAYS: 30, ENABLED: true, NAMES: ['a', 'b', 'c'], RULES: [{ id: 'x' }] });
  });

  it('names every bad setting in one error', () => {
    let error: unknown;
    try {
      parseSettings(schema, { DAYS: '0', ENABLED: 'maybe', RULES: '{not json' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('DAYS: must be at least 1');
    expect(message).toContain('ENABLED: must be true or false');
    expect(message).toContain('RULES: must be valid JSON');
  });

  it('reads whole numbers in decimal digits only: no hex, no exponent, no fraction, no unit (#11)', () => {
    for (const text of ['0x10', '1e3', '30.0', '30.5', '30 days', '0b11', 'Infinity', '']) {
      if (text === '') continue; // empty means unset: the default
      expect(() => parseSettings(schema, { DAYS: text })).toThrow(
        /DAYS: must be a whole number in decimal digits/,
      );
    }
    expect(parseSettings(schema, { DAYS: ' 045 ' }).DAYS).toBe(45);
    expect(() => parseSettings(schema, { DAYS: '99999999999999999999' })).toThrow(
      /DAYS: must be at most 3650/,
    );
    expect(() => parseSettings(schema, { DAYS: '-5' })).toThrow(/DAYS: must be at least 1/);
  });

  it('rejects a non-numeric retry setting for SailPoint by name', () => {
    expect(() => parseSettings(sailPointSettings, { SAILPOINT_MAX_ATTEMPTS: 'lots' })).toThrow(
      /SAILPOINT_MAX_ATTEMPTS: must be a whole number/,
    );
  });

  it('refuses to build a SailPoint client without a location or credentials, naming the setting', async () => {
    await expect(
      createSailPointClientFromEnv({ SAILPOINT_CLIENT_ID: 'a', SAILPOINT_CLIENT_SECRET: 'b' }),
    ).rejects.toThrow(/SAILPOINT_TENANT/);
    await expect(createSailPointClientFromEnv({ SAILPOINT_TENANT: 'acme' })).rejects.toThrow(
      /SAILPOINT_CLIENT_ID/,
    );
    await expect(
      createSailPointClientFromEnv({
        SAILPOINT_API_URL: 'http://tenant.example.com',
        SAILPOINT_CLIENT_ID: 'a',
        SAILPOINT_CLIENT_SECRET: 'b',
      }),
    ).rejects.toThrow(/SAILPOINT_API_URL/);
  });

  it('builds a client for a tenant name that talks to that tenant with the env credentials', async () => {
    const seen: { url: string; body: string }[] = [];
    const fakeFetch = (async (url: string | URL, init?: RequestInit) => {
      seen.push({ url: String(url), body: String(init?.body) });
      return new Response(JSON.stringify({ error: 'invalid_client' }), { status: 401 });
    }) as typeof fetch;
    const client = await createSailPointClientFromEnv(
      { SAILPOINT_TENANT: 'acme', SAILPOINT_CLIENT_ID: 'id-1', SAILPOINT_CLIENT_SECRET: 'secret-1' },
      { fetch: fakeFetch },
    );
    await expect(client.tokenInfo()).rejects.toThrow();
    expect(seen[0]?.url).toBe('https://acme.api.identitynow.com/oauth/token');
    expect(seen[0]?.body).toContain('client_id=id-1');
  });
});
