/**
 * Credentials: from AWS Secrets Manager in the cloud, from env vars or files locally.
 * Values are returned to the caller only; nothing here logs them.
 */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from './config';

let secretsManager: SecretsManagerClient | undefined;

/** Reads a JSON secret and validates it; the error names the secret id setting, never the value. */
export async function readJsonSecret<T extends z.ZodType>(
  secretId: string,
  schema: T,
  settingName: string,
  client: SecretsManagerClient = (secretsManager ??= new SecretsManagerClient({})),
): Promise<z.infer<T>> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(SecretString ?? '');
  } catch {
    throw new ConfigError([{ setting: settingName, message: `secret ${secretId} is not JSON` }]);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const fields = result.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new ConfigError([
      { setting: settingName, message: `secret ${secretId} lacks or mistypes: ${fields}` },
    ]);
  }
  return result.data;
}

/** A secret given directly in env, or in a file named by `<NAME>_FILE` (Docker/Kubernetes style). */
export function secretFromEnvOrFile(
  env: Record<string, string | undefined>,
  name: string,
): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError([
      { setting: `${name}_FILE`, message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
}
