import { ConfigError, parseSettings } from '../../../functions/shared/config';
import { cognigyCredentialSource, cognigySettings } from '../../../functions/shared/cognigy';
import { startSecretsManager, type LocalSecretsManager } from '../../support/secrets-manager';

const URL_ENV = { COGNIGY_API_URL: 'https://api-trial.cognigy.ai/new' };
const settingsOf = (env: Record<string, string>) => parseSettings(cognigySettings, env);

describe('cognigyCredentialSource', () => {
  let secrets: LocalSecretsManager;
  beforeAll(async () => {
    secrets = await startSecretsManager();
  });
  afterAll(() => secrets.stop());

  it('reads the key from COGNIGY_API_KEY locally, with the optional key id', async () => {
    const env = { ...URL_ENV, COGNIGY_API_KEY: 'local-key', COGNIGY_API_KEY_ID: 'id-1' };
    await expect(cognigyCredentialSource(settingsOf(env), env).get()).resolves.toEqual({
      apiKey: 'local-key',
      apiKeyId: 'id-1',
    });
  });

  it('reads {apiKey, apiKeyId} from the secret in AWS; the setting wins for the id', async () => {
    secrets.put('cognigy-key', { apiKey: 'from-secret', apiKeyId: 'secret-id' });
    const env = { ...URL_ENV, COGNIGY_API_KEY_SECRET_ID: 'cognigy-key' };
    const provider = secrets.provider();
    await expect(cognigyCredentialSource(settingsOf(env), env, { provider }).get()).resolves.toEqual({
      apiKey: 'from-secret',
      apiKeyId: 'secret-id',
    });
    const withId = { ...env, COGNIGY_API_KEY_ID: 'setting-id' };
    await expect(
      cognigyCredentialSource(settingsOf(withId), withId, { provider }).get(),
    ).resolves.toMatchObject({
      apiKeyId: 'setting-id',
    });
  });

  it('names the setting when no key is configured, and never echoes a secret value', async () => {
    const error = await cognigyCredentialSource(settingsOf(URL_ENV), URL_ENV)
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.setting).toBe('COGNIGY_API_KEY');

    secrets.put('bad-shape', '{"key":"s3cret-value"}');
    const env = { ...URL_ENV, COGNIGY_API_KEY_SECRET_ID: 'bad-shape' };
    const bad = await cognigyCredentialSource(settingsOf(env), env, { provider: secrets.provider() })
      .get()
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toContain('COGNIGY_API_KEY_SECRET_ID');
    expect((bad as Error).message).not.toContain('s3cret-value');
  });

  it('reads the secret once per max age, and again at once on refresh()', async () => {
    secrets.put('cached-key', { apiKey: 'one' });
    const env = { ...URL_ENV, COGNIGY_API_KEY_SECRET_ID: 'cached-key' };
    const source = cognigyCredentialSource(settingsOf(env), env, { provider: secrets.provider() });
    await source.get();
    await source.get();
    expect(secrets.reads('cached-key')).toBe(1);
    secrets.put('cached-key', { apiKey: 'two' });
    await expect(source.get()).resolves.toMatchObject({ apiKey: 'one' });
    await expect(source.refresh()).resolves.toMatchObject({ apiKey: 'two' });
    expect(secrets.reads('cached-key')).toBe(2);
  });
});
