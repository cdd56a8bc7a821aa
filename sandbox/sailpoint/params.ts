/** Standard collection parameters (official/standard-collection-parameters.md) as routes read them. */
import { SailpointError } from './errors';

/** A whole-number query parameter from `min` to `max`; absent: `fallback`; anything else: 400. */
export function integerParam(
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < min || n > max) {
    throw new SailpointError(400, `Invalid ${name}: must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `count`: 'true' or 'false' (default false); anything else: 400. */
export function booleanParam(value: unknown, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new SailpointError(400, `Invalid ${name}: must be true or false`);
}
