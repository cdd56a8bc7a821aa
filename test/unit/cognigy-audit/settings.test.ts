import { ConfigError } from '../../../functions/shared/config';
import { parseCognigyAuditSettings } from '../../../functions/cognigy-audit/settings';

const BASE = { COGNIGY_API_URL: 'https://api-trial.cognigy.ai/new', FINDINGS_TABLE: 'findings' };

function problems(env: Record<string, string>): string[] {
  try {
    parseCognigyAuditSettings(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.setting}: ${p.message}`);
  }
}

describe('cognigy-audit settings', () => {
  it('applies the documented defaults', () => {
    const s = parseCognigyAuditSettings(BASE);
    expect(s).toMatchObject({
      COGNIGY_KEY_WARN_AFTER_DAYS: 75,
      COGNIGY_KEY_FLAG_AFTER_DAYS: 90,
      COGNIGY_MAX_ACTIVE_KEYS: 1,
      COGNIGY_REQUESTS_PER_5_MIN: 1000,
      COGNIGY_MAX_ATTEMPTS: 4,
      COGNIGY_MAX_RETRY_AFTER_SECONDS: 60,
    });
    expect(s.COGNIGY_RIGHTS_MANIFEST.organisationWide.rights).toEqual(['apiKeys.read']);
  });

  it('names the missing URL and table', () => {
    const found = problems({});
    expect(found.some((p) => p.startsWith('COGNIGY_API_URL'))).toBe(true);
    expect(found.some((p) => p.startsWith('FINDINGS_TABLE'))).toBe(true);
  });

  it('refuses plain http to a remote host and a key in the URL', () => {
    expect(problems({ ...BASE, COGNIGY_API_URL: 'http://api.example.com/new' })[0]).toMatch(
      /^COGNIGY_API_URL: must use https/,
    );
    expect(problems({ ...BASE, COGNIGY_API_URL: 'https://x.example.com/new?api_key=s3cret' })[0]).toMatch(
      /^COGNIGY_API_URL: must not have a query/,
    );
  });

  it('refuses a warning threshold at or above the flag threshold', () => {
    expect(problems({ ...BASE, COGNIGY_KEY_WARN_AFTER_DAYS: '90' })).toEqual([
      'COGNIGY_KEY_WARN_AFTER_DAYS: must be less than COGNIGY_KEY_FLAG_AFTER_DAYS (90)',
    ]);
  });

  it('names an invalid manifest', () => {
    expect(
      problems({ ...BASE, COGNIGY_RIGHTS_MANIFEST: '{"organisationWide":{"rights":["users"]}}' })[0],
    ).toMatch(/^COGNIGY_RIGHTS_MANIFEST.*"users" is not a right/);
    expect(problems({ ...BASE, COGNIGY_RIGHTS_MANIFEST: 'not json' })[0]).toBe(
      'COGNIGY_RIGHTS_MANIFEST: must be valid JSON',
    );
  });

  it('reads the credential owner (none by default) and names a bad one', () => {
    expect(parseCognigyAuditSettings(BASE).COGNIGY_CREDENTIAL_OWNER).toBeNull();
    expect(
      parseCognigyAuditSettings({ ...BASE, COGNIGY_CREDENTIAL_OWNER: '{"id":"p-1","email":"a@example.com"}' })
        .COGNIGY_CREDENTIAL_OWNER,
    ).toEqual({ id: 'p-1', email: 'a@example.com' });
    expect(problems({ ...BASE, COGNIGY_CREDENTIAL_OWNER: '{"id":"p-1","email":"nobody"}' })).toEqual([
      'COGNIGY_CREDENTIAL_OWNER.email: email must be an e-mail address',
    ]);
    expect(problems({ ...BASE, COGNIGY_CREDENTIAL_OWNER: '{"email":"a@example.com"}' })).toEqual([
      'COGNIGY_CREDENTIAL_OWNER.id: id is required',
    ]);
  });
});
