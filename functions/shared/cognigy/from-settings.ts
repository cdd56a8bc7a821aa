/**
 * Cognigy.AI connection settings and a client built from them, for any function that talks to
 * Cognigy. Locally the key comes from COGNIGY_API_KEY (or COGNIGY_API_KEY_FILE); in AWS from the
 * Secrets Manager secret named by COGNIGY_API_KEY_SECRET_ID, a JSON object
 * `{"apiKey": "…", "apiKeyId": "…"}` (apiKeyId optional: the key's Cognigy id, see COGNIGY_API_KEY_ID).
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { ConfigError, setting, type Env } from '../config';
import { rereadEvery, secretFromEnvOrFile, secretsManagerJson, type SecretSource } from '../secrets';
import {
  CognigyClient,
  parseCognigyApiUrl,
  type CognigyApi,
  type CognigyClientOptions,
  type CognigyClientStats,
} from './client';

export const cognigySettings = z.object({
  /** Base URL with the /new prefix, e.g. https://api-trial.cognigy.ai/new. */
  COGNIGY_API_URL: z
    .string({ error: 'is required (e.g. https://api-trial.cognigy.ai/new)' })
    .superRefine((value, ctx) => {
      try {
        parseCognigyApiUrl(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^COGNIGY_API_URL /, '') });
      }
    }),
  /** Comma-separated hosts besides Cognigy's SaaS API hosts that COGNIGY_API_URL may name (on-premises). */
  COGNIGY_EXTRA_API_HOSTS: setting.list(),
  /** Local: the key itself, or a file holding it (COGNIGY_API_KEY_FILE). */
  COGNIGY_API_KEY: z.string().optional(),
  COGNIGY_API_KEY_FILE: z.string().optional(),
  /** AWS: Secrets Manager secret id/ARN holding {"apiKey", "apiKeyId"?}. */
  COGNIGY_API_KEY_SECRET_ID: z.string().optional(),
  /** Seconds the key is used before the secret (or key file) is read again; after a 401 it is re-read at once. */
  COGNIGY_SECRET_MAX_AGE_SECONDS: setting.integer(300, { min: 10, max: 86_400 }),
  /** The Cognigy id of the key in use (24 characters); optional, see docs/cognigy-audit.md. */
  COGNIGY_API_KEY_ID: z.string().optional(),
  COGNIGY_TIMEOUT_MS: setting.integer(10_000, { min: 100, max: 120_000 }),
  COGNIGY_MAX_ATTEMPTS: setting.integer(4, { min: 1, max: 10 }),
  COGNIGY_MAX_RETRY_MS: setting.integer(60_000, { min: 0, max: 900_000 }),
  COGNIGY_MAX_RETRY_AFTER_SECONDS: setting.integer(60, { min: 1, max: 900 }),
  /** Client-side budget per function instance; Cognigy's documented default is 1,000 per 5 min. 0: off. */
  COGNIGY_REQUESTS_PER_5_MIN: setting.integer(1000, { min: 0, max: 100_000 }),
});
export type CognigySettings = z.infer<typeof cognigySettings>;

const CognigySecretSchema = z.object({ apiKey: z.string().min(1), apiKeyId: z.string().min(1).optional() });

export interface CognigyCredential {
  readonly apiKey: string;
  readonly apiKeyId?: string;
}

/**
 * The key from the secret COGNIGY_API_KEY_SECRET_ID (AWS) or COGNIGY_API_KEY / COGNIGY_API_KEY_FILE
 * (local), read again after COGNIGY_SECRET_MAX_AGE_SECONDS or when `refresh()`ed. Errors name the
 * setting, never the key.
 */
export function cognigyCredentialSource(
  settings: CognigySettings,
  env: Env,
  /** Injectable for tests: the Powertools provider, and the clock of a file's max age. */
  inject: { provider?: SecretsProvider; now?: () => number } = {},
): SecretSource<CognigyCredential> {
  const maxAgeSeconds = settings.COGNIGY_SECRET_MAX_AGE_SECONDS;
  if (settings.COGNIGY_API_KEY_SECRET_ID) {
    const secret = secretsManagerJson({
      secretId: settings.COGNIGY_API_KEY_SECRET_ID,
      schema: CognigySecretSchema,
      setting: 'COGNIGY_API_KEY_SECRET_ID',
      maxAgeSeconds,
      provider: inject.provider,
    });
    const withId = (value: z.infer<typeof CognigySecretSchema>): CognigyCredential => ({
      apiKey: value.apiKey,
      apiKeyId: settings.COGNIGY_API_KEY_ID ?? value.apiKeyId,
    });
    return {
      get: async () => withId(await secret.get()),
      refresh: async () => withId(await secret.refresh()),
    };
  }
  return rereadEvery(
    () => {
      const apiKey = secretFromEnvOrFile(env, 'COGNIGY_API_KEY');
      if (!apiKey) {
        throw new ConfigError([
          {
            setting: 'COGNIGY_API_KEY',
            message: 'is required (or COGNIGY_API_KEY_FILE, or COGNIGY_API_KEY_SECRET_ID in AWS)',
          },
        ]);
      }
      return { apiKey, apiKeyId: settings.COGNIGY_API_KEY_ID };
    },
    maxAgeSeconds,
    inject.now,
  );
}

/** A Cognigy client with the credential it was built for. */
export interface CognigyConnection {
  readonly cognigy: CognigyApi;
  readonly credential: CognigyCredential;
  readonly stats?: CognigyClientStats;
}

/**
 * A connection per credential: `connect()` reads the credential (from its source, so a rotated key is
 * picked up within the max age) and builds a client only when the key changed; after
 * `credentialRejected()` the next `connect()` re-reads the secret at once.
 */
export function cognigyConnector(
  source: SecretSource<CognigyCredential>,
  build: (credential: CognigyCredential) => CognigyConnection,
): { connect(): Promise<CognigyConnection>; credentialRejected(): void } {
  let current: CognigyConnection | undefined;
  let rejected = false;
  return {
    async connect() {
      const credential = rejected ? await source.refresh() : await source.get();
      rejected = false;
      const same =
        current?.credential.apiKey === credential.apiKey &&
        current.credential.apiKeyId === credential.apiKeyId;
      if (!same) current = build(credential);
      return current!;
    },
    credentialRejected() {
      rejected = true;
    },
  };
}

export function createCognigyClient(
  settings: CognigySettings,
  credential: CognigyCredential,
  extra: Pick<CognigyClientOptions, 'logger' | 'sleep' | 'fetch' | 'now'> = {},
): CognigyClient {
  return new CognigyClient({
    apiUrl: settings.COGNIGY_API_URL,
    extraApiHosts: settings.COGNIGY_EXTRA_API_HOSTS,
    apiKey: credential.apiKey,
    timeoutMs: settings.COGNIGY_TIMEOUT_MS,
    retry: {
      maxAttempts: settings.COGNIGY_MAX_ATTEMPTS,
      maxElapsedMs: settings.COGNIGY_MAX_RETRY_MS,
      maxRetryAfterSeconds: settings.COGNIGY_MAX_RETRY_AFTER_SECONDS,
    },
    rateLimit:
      settings.COGNIGY_REQUESTS_PER_5_MIN > 0
        ? { maxRequests: settings.COGNIGY_REQUESTS_PER_5_MIN, perMs: 300_000 }
        : false,
    ...extra,
  });
}
