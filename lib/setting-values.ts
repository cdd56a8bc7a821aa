/**
 * Value types of the stack settings that accept both JSON values (cdk.json) and strings
 * (`-c key=value`), shared by lib/stack-config.ts and the constructs' own settings.
 */
import * as z from 'zod';

/** A whole number from `min` to `max`, `def` when unset. */
export const integer = (def: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })
    .default(def);

/**
 * EventBridge Scheduler expressions: `rate(N unit)` or `cron(min hour day-of-month month day-of-week year)`
 * where one of day-of-month/day-of-week is `?`. AWS checks the details at deploy; this catches the
 * common mistakes (5-field Unix cron, missing `?`) at synth.
 */
export const scheduleExpression = (def: string) =>
  z
    .string()
    .trim()
    .default(def)
    .superRefine((expr, ctx) => {
      if (/^rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)$/.test(expr)) return;
      const cron = /^cron\((.*)\)$/.exec(expr);
      if (!cron) {
        ctx.addIssue({
          code: 'custom',
          message: `"${expr}" is not a schedule: use rate(N minutes|hours|days) or cron(min hour day-of-month month day-of-week year)`,
        });
        return;
      }
      const fields = cron[1]!.trim().split(/\s+/);
      if (fields.length !== 6) {
        ctx.addIssue({
          code: 'custom',
          message: `cron needs 6 fields (min hour day-of-month month day-of-week year), got ${fields.length}: "${expr}"`,
        });
      } else if (fields[2] !== '?' && fields[4] !== '?') {
        ctx.addIssue({
          code: 'custom',
          message: `cron must have "?" in day-of-month or day-of-week: "${expr}"`,
        });
      }
    });
