/**
 * Settings. Each part of the system declares its settings as a zod object whose keys are the
 * environment variable names; `parseSettings` reads them once at start and stops the process
 * with a message naming every bad setting. The same variables are set by the CDK stack on the
 * Lambda functions and by `npm start` locally, so one schema serves both.
 */
import * as z from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly { setting: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n')}`);
  }
}

export type Env = Record<string, string | undefined>;

export function parseSettings<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  // Empty strings count as unset, so `FOO=` falls back to the default instead of failing oddly.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      setting: issue.path.map(String).join('.') || '(settings)',
      message: issue.message,
    })),
  );
}

const DECIMAL_INTEGER = /^-?\d+$/;

/** Small building blocks so every setting states its type, bounds and default the same way. */
export const setting = {
  /**
   * A whole number written in decimal digits (an optional leading minus): `30`, never `0x1e`, `3e1`,
   * `30.0` or `30 days`, which Number() would quietly read as something.
   */
  integer: (def: number, bounds: { min?: number; max?: number } = {}) =>
    z
      .union([z.string(), z.number()], { error: 'must be a whole number' })
      .transform((value, ctx) => {
        const text = String(value).trim();
        if (!DECIMAL_INTEGER.test(text)) {
          ctx.addIssue({ code: 'custom', message: 'must be a whole number in decimal digits (e.g. 30)' });
          return z.NEVER;
        }
        return Number(text);
      })
      .pipe(
        z
          .number()
          .min(bounds.min ?? 0, { error: `must be at least ${bounds.min ?? 0}` })
          .max(bounds.max ?? Number.MAX_SAFE_INTEGER, {
            error: `must be at most ${bounds.max ?? Number.MAX_SAFE_INTEGER}`,
          }),
      )
      .default(def),
  boolean: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(def),
  /** A comma-separated list; empty entries are ignored. */
  list: () =>
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  /** JSON text validated by a schema (for structured settings such as exemption lists). */
  json: <T extends z.ZodType>(schema: T, def: z.input<T>) =>
    z
      .string()
      .default(JSON.stringify(def))
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
          return z.NEVER;
        }
      })
      .pipe(schema),
};

/** Settings every function shares: where SailPoint is and how hard to retry it. */
export const sailPointSettings = z.object({
  /** Tenant name: the API is https://{tenant}.api.identitynow.com. */
  SAILPOINT_TENANT: z
    .string()
    .regex(/^[a-z0-9-]+$/i, { error: 'must be a tenant name like "acme"' })
    .optional(),
  /** Explicit API base URL (the sandbox's, or a custom domain); wins over SAILPOINT_TENANT. */
  SAILPOINT_API_URL: z.url({ error: 'must be a URL' }).optional(),
  /** Comma-separated hosts besides SailPoint's API domains that SAILPOINT_API_URL may name (a vanity or proxy domain). */
  SAILPOINT_EXTRA_API_HOSTS: setting.list(),
  /** Local: client id/secret in env or files. AWS: a Secrets Manager secret {clientId, clientSecret}. */
  SAILPOINT_CLIENT_ID: z.string().optional(),
  SAILPOINT_CLIENT_SECRET: z.string().optional(),
  SAILPOINT_CLIENT_SECRET_FILE: z.string().optional(),
  SAILPOINT_CREDENTIALS_SECRET_ID: z.string().optional(),
  /** Seconds the credential is used before the secret (or secret file) is read again; a rejected one is re-read at once. */
  SAILPOINT_SECRET_MAX_AGE_SECONDS: setting.integer(300, { min: 10, max: 86_400 }),
  SAILPOINT_TIMEOUT_MS: setting.integer(10_000, { min: 100, max: 120_000 }),
  SAILPOINT_MAX_ATTEMPTS: setting.integer(5, { min: 1, max: 20 }),
  SAILPOINT_MAX_RETRY_MS: setting.integer(60_000, { min: 0, max: 900_000 }),
  SAILPOINT_MAX_RETRY_AFTER_SECONDS: setting.integer(60, { min: 1, max: 900 }),
  /** Client-side budget per function instance; the stack divides the tenant budget by concurrency. */
  SAILPOINT_REQUESTS_PER_10S: setting.integer(0, { min: 0, max: 10_000 }),
  /**
   * The shared rate budget (sailpoint/shared-budget.ts): the table holding one send schedule per
   * credential and API version, and that credential's whole budget per 10 s. With both set, every
   * instance using the credential draws from one schedule and SAILPOINT_REQUESTS_PER_10S is only its
   * guaranteed share; without, the instance keeps to SAILPOINT_REQUESTS_PER_10S on its own.
   */
  SAILPOINT_RATE_BUDGET_TABLE: z.string().min(1).optional(),
  SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: setting.integer(0, { min: 0, max: 10_000 }),
});
export type SailPointSettings = z.infer<typeof sailPointSettings>;

/**
 * An SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>. Checked by shape, not with
 * z.url(): that refuses the emulator's http://sqs.us-east-1.127.0.0.1:<port>/… form.
 */
const queueUrl = (what: string) =>
  z
    .string({ error: `must be the URL of ${what}` })
    .regex(/^https?:\/\/[^\s/]+\/\S+$/, { error: `must be the URL of ${what}` });

/** Settings of every SQS-fed function: its queue, its DLQ, and the redrive count (see queue/settle-batch.ts). */
export const queueSettings = z.object({
  /** The intake queue (its URL is needed to delay a rate-limited message by Retry-After). */
  QUEUE_URL: queueUrl('the intake queue'),
  /** Where invalid and refused messages go, with the reason. */
  DEAD_LETTER_QUEUE_URL: queueUrl('the dead-letter queue'),
  /** The queue's redrive maxReceiveCount: the last retry becomes a dead letter that says why. */
  MAX_RECEIVE_COUNT: setting.integer(5, { min: 1, max: 1000 }),
});
