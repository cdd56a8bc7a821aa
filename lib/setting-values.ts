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
