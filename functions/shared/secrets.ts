/**
 * Credentials: from AWS Secrets Manager in the cloud, from env vars or files locally. Values are
 * returned to the caller only; nothing here logs them.
 *
 * A credential is a `SecretSource`, not a value read once: operators rotate secrets, and a function
 * instance may live for hours. `get()` re-reads it once it is older than its max age (Secrets
 * Manager through Powertools Parameters, whose cache does the ageing; a file by its own read time);
 * `refresh()` re-reads it at once, for a client whose credential was just rejected.
 */
import { readFileSync } from 'node:fs';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from './config';
import { traced } from './observability';

/** A credential that may change while the function runs. */
export interface SecretSource<T> {
  /** The value, re-read once older than the source's max age. */
  get(): Promise<T>;
  /** Re-reads the value now (it was rejected: it may have been rotated) and returns it. */
  refresh(): Promise<T>;
}

/** A value that never changes (tests, or a credential given directly). */
export function fixedSecret<T>(value: T): SecretSource<T> {
  const read = async () => value;
  return { get: read, refresh: read };
}

let defaultProvider: SecretsProvider | undefined;

/**
 * A JSON secret in Secrets Manager, validated by `schema`. Errors name `setting` (the variable
 * holding the secret id) and the missing fields, never a value.
 */
export function secretsManagerJson<T extends z.ZodType>(options: {
  secretId: string;
  schema: T;
  setting: string;
  /** Seconds a value read is used before it is read again. */
  maxAgeSeconds: number;
  /** Injectable for tests; default: one provider (one Secrets Manager client) per instance. */
  provider?: SecretsProvider;
}): SecretSource<z.infer<T>> {
  const { secretId, schema, setting, maxAgeSeconds } = options;
  // The parsed value of the last text read: Powertools hands back its cached text until it expires.
  let last: { text: string; value: z.infer<T> } | undefined;
  const read = async (forceFetch: boolean): Promise<z.infer<T>> => {
    const provider =
      options.provider ??
      (defaultProvider ??= new SecretsProvider({ awsSdkV3Client: traced(new SecretsManagerClient({})) }));
    const raw = await provider.get(secretId, { maxAge: maxAgeSeconds, forceFetch });
    const text = typeof raw === 'string' ? raw : raw === undefined ? '' : Buffer.from(raw).toString('utf8');
    if (last?.text !== text) last = { text, value: parseJsonSecret(text, schema, setting, secretId) };
    return last.value;
  };
  return { get: () => read(false), refresh: () => read(true) };
}

/**
 * A value `read` from the environment or a file, used for `maxAgeSeconds` before it is read again
 * (a mounted secret file may be replaced while the process runs).
 */
export function rereadEvery<T>(
  read: () => T,
  maxAgeSeconds: number,
  now: () => number = Date.now,
): SecretSource<T> {
  let cached: { value: T; at: number } | undefined;
  const fresh = () => (cached = { value: read(), at: now() }).value;
  return {
    get: async () => (cached && now() - cached.at < maxAgeSeconds * 1000 ? cached.value : fresh()),
    refresh: async () => fresh(),
  };
}

/** Reads a JSON secret and validates it; the error names the secret id setting, never the value. */
export function parseJsonSecret<T extends z.ZodType>(
  text: string,
  schema: T,
  settingName: string,
  secretId: string,
): z.infer<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
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
