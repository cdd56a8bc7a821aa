/**
 * Builds the SailPoint client from the environment: where the tenant is (SAILPOINT_TENANT or
 * SAILPOINT_API_URL), the credentials (Secrets Manager in AWS, env/files locally) and the retry,
 * timeout and rate-budget settings. A missing or bad setting throws ConfigError naming it.
 */
import * as z from 'zod';
import { ConfigError, parseSettings, sailPointSettings, type Env, type SailPointSettings } from '../config';
import { readJsonSecret, secretFromEnvOrFile } from '../secrets';
import { resolveSailPointApiUrl } from './api-url';
import { SailPointClient, type SailPointClientOptions } from './client';

const credentialsSecret = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) });

export async function sailPointCredentialsFromEnv(
  env: Env,
  settings: SailPointSettings = parseSettings(sailPointSettings, env),
): Promise<{ clientId: string; clientSecret: string }> {
  if (settings.SAILPOINT_CREDENTIALS_SECRET_ID) {
    return readJsonSecret(
      settings.SAILPOINT_CREDENTIALS_SECRET_ID,
      credentialsSecret,
      'SAILPOINT_CREDENTIALS_SECRET_ID',
    );
  }
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
}

export async function createSailPointClientFromEnv(
  env: Env = process.env,
  overrides: Partial<SailPointClientOptions> = {},
): Promise<SailPointClient> {
  const settings = parseSettings(sailPointSettings, env);
  let apiUrl: string;
  try {
    apiUrl = resolveSailPointApiUrl({
      tenant: settings.SAILPOINT_TENANT,
      apiUrl: settings.SAILPOINT_API_URL,
      extraHosts: settings.SAILPOINT_EXTRA_API_HOSTS,
    });
  } catch (error) {
    const setting = settings.SAILPOINT_API_URL ? 'SAILPOINT_API_URL' : 'SAILPOINT_TENANT';
    throw new ConfigError([{ setting, message: (error as Error).message }]);
  }
  const credentials = await sailPointCredentialsFromEnv(env, settings);
  return new SailPointClient({
    apiUrl,
    extraApiHosts: settings.SAILPOINT_EXTRA_API_HOSTS,
    ...credentials,
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
    ...overrides,
  });
}
