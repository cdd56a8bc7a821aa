/**
 * Builds the SailPoint client from the environment: where the tenant is (SAILPOINT_TENANT or
 * SAILPOINT_API_URL), the credentials (Secrets Manager in AWS, env/files locally) and the retry,
 * timeout and rate-budget settings. A missing or bad setting throws ConfigError naming it.
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { ConfigError, parseSettings, sailPointSettings, type Env, type SailPointSettings } from '../config';
import { rereadEvery, secretFromEnvOrFile, secretsManagerJson, type SecretSource } from '../secrets';
import { resolveSailPointApiUrl } from './api-url';
import { createDocumentClient } from '../aws';
import { SailPointClient, type SailPointClientOptions, type SailPointCredentials } from './client';
import { DynamoScheduleStore, SharedRateBudget } from './shared-budget';

const credentialsSecret = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) });

/**
 * Where the credential comes from: the Secrets Manager secret SAILPOINT_CREDENTIALS_SECRET_ID (AWS),
 * else SAILPOINT_CLIENT_ID with SAILPOINT_CLIENT_SECRET or SAILPOINT_CLIENT_SECRET_FILE (local). Either
 * is read again after SAILPOINT_SECRET_MAX_AGE_SECONDS, and at once when SailPoint rejects it.
 */
export function sailPointCredentialSource(
  env: Env,
  settings: SailPointSettings = parseSettings(sailPointSettings, env),
  /** Injectable for tests; default: the instance's Powertools provider. */
  provider?: SecretsProvider,
): SecretSource<SailPointCredentials> {
  const maxAgeSeconds = settings.SAILPOINT_SECRET_MAX_AGE_SECONDS;
  if (settings.SAILPOINT_CREDENTIALS_SECRET_ID) {
    return secretsManagerJson({
      secretId: settings.SAILPOINT_CREDENTIALS_SECRET_ID,
      schema: credentialsSecret,
      setting: 'SAILPOINT_CREDENTIALS_SECRET_ID',
      maxAgeSeconds,
      provider,
    });
  }
  return rereadEvery(() => {
    const clientId = settings.SAILPOINT_CLIENT_ID;
    const clientSecret = secretFromEnvOrFile(env, 'SAILPOINT_CLIENT_SECRET');
    if (!clientId || !clientSecret) {
      throw new ConfigError([
        {
          setting: clientId ? 'SAILPOINT_CLIENT_SECRET' : 'SAILPOINT_CLIENT_ID',
          message:
            'SailPoint credentials are missing: set SAILPOINT_CREDENTIALS_SECRET_ID (a Secrets Manager secret ' +
            '{"clientId","clientSecret"}) or SAILPOINT_CLIENT_ID with SAILPOINT_CLIENT_SECRET (or _FILE)',
        },
      ]);
    }
    return { clientId, clientSecret };
  }, maxAgeSeconds);
}

/**
 * The API base URL the settings name, or a ConfigError naming SAILPOINT_API_URL / SAILPOINT_TENANT
 * (not configured, malformed, or a host not allowed). No I/O: handlers call it at init, so a bad host
 * stops the cold start before the credential is read.
 */
export function sailPointApiUrlFromSettings(
  settings: Pick<SailPointSettings, 'SAILPOINT_TENANT' | 'SAILPOINT_API_URL' | 'SAILPOINT_EXTRA_API_HOSTS'>,
): string {
  try {
    return resolveSailPointApiUrl({
      tenant: settings.SAILPOINT_TENANT,
      apiUrl: settings.SAILPOINT_API_URL,
      extraHosts: settings.SAILPOINT_EXTRA_API_HOSTS,
    });
  } catch (error) {
    const setting = settings.SAILPOINT_API_URL ? 'SAILPOINT_API_URL' : 'SAILPOINT_TENANT';
    throw new ConfigError([{ setting, message: (error as Error).message }]);
  }
}

export async function createSailPointClientFromEnv(
  env: Env = process.env,
  overrides: Partial<SailPointClientOptions> = {},
): Promise<SailPointClient> {
  const settings = parseSettings(sailPointSettings, env);
  const apiUrl = sailPointApiUrlFromSettings(settings);
  const credentials = overrides.credentials ?? sailPointCredentialSource(env, settings);
  await credentials.get(); // a missing or malformed secret fails here, before any request
  return new SailPointClient({
    apiUrl,
    extraApiHosts: settings.SAILPOINT_EXTRA_API_HOSTS,
    credentials,
    timeoutMs: settings.SAILPOINT_TIMEOUT_MS,
    retry: {
      maxAttempts: settings.SAILPOINT_MAX_ATTEMPTS,
      maxElapsedMs: settings.SAILPOINT_MAX_RETRY_MS,
      maxRetryAfterSeconds: settings.SAILPOINT_MAX_RETRY_AFTER_SECONDS,
    },
    rateLimit:
      settings.SAILPOINT_REQUESTS_PER_10S > 0
        ? { maxRequests: settings.SAILPOINT_REQUESTS_PER_10S, perMs: 10_000 }
        : false,
    ...sailPointSharedBudget(settings, overrides.logger),
    ...overrides,
  });
}

/**
 * The budget shared by every instance using this credential (shared-budget.ts), when the stack gave
 * its table and the credential's budget; the per-instance limit above is then only the fallback.
 */
function sailPointSharedBudget(
  settings: SailPointSettings,
  logger?: SailPointClientOptions['logger'],
): Pick<SailPointClientOptions, 'rateGate'> {
  const table = settings.SAILPOINT_RATE_BUDGET_TABLE;
  const perTenSeconds = settings.SAILPOINT_CREDENTIAL_REQUESTS_PER_10S;
  if (!table || perTenSeconds <= 0) return {};
  return {
    rateGate: new SharedRateBudget(new DynamoScheduleStore(createDocumentClient(), table), {
      requestsPer10s: perTenSeconds,
      onStoreError: (error) =>
        logger?.warn('the shared SailPoint rate budget could not be read; calls go unscheduled', {
          error: error instanceof Error ? error.message : String(error),
        }),
    }),
  };
}
