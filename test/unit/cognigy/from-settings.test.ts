import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, parseSettings } from '../../../functions/shared/config';
import { cognigySettings, loadCognigyCredential } from '../../../functions/shared/cognigy';

const URL_ENV = { COGNIGY_API_URL: 'https://api-trial.cognigy.ai/new' };
const settingsOf = (env: Record<string, string>) => parseSettings(cognigySettings, env);

/** A Secrets Manager client that answers one secret string. */
const secrets = (secretString: string) =>
  ({ send: async () => ({ SecretString: secretString }) }) as unknown as SecretsManagerClient;

describe('loadCognigyCredential', () => {
  it('reads the key from COGNIGY_API_KEY locally, with the optional key id', async () => {
    const env = { ...URL_ENV, COGNIGY_API_KEY: 'local-key', COGNIGY_API_KEY_ID: 'id-1' };
    await expect(loadCognigyCredential(settingsOf(env), env)).resolves.toEqual({
      apiKey: 'local-key',
      apiKeyId: 'id-1',
    });
  });

  it('reads {apiKey, apiKeyId} from the secret in AWS; the setting wins for the id', async () => {
    const env = { ...URL_ENV, COGNIGY_API_KEY_SECRET_ID: 'arn:secret' };
    const client = secrets(JSON.stringify({ apiKey: 'from-secret', apiKeyId: 'secret-id' }));
    await expect(loadCognigyCredential(settingsOf(env), env, client)).resolves.toEqual({
      apiKey: 'from-secret',
      apiKeyId: 'secret-id',
    });
    const withId = { ...env, COGNIGY_API_KEY_ID: 'setting-id' };
    await expect(loadCognigyCredential(settingsOf(withId), withId, client)).resolves.toMatchObject({
      apiKeyId: 'setting-id',
    });
  });

  it('names the setting when no key is configured, and never echoes a secret value', async () => {
    const error = await loadCognigyCredential(settingsOf(URL_ENV), URL_ENV).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.setting).toBe('COGNIGY_API_KEY');

    const env = { ...URL_ENV, COGNIGY_API_KEY_SECRET_ID: 'arn:secret' };
    const bad = await loadCognigyCredential(settingsOf(env), env, secrets('{"key":"s3cret-value"}')).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as Error).message).toContain('COGNIGY_API_KEY_SECRET_ID');
    expect((bad as Error).message).not.toContain('s3cret-value');
  });
});
