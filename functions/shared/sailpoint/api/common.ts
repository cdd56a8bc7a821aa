/**
 * Small zod building blocks shared by the API area files.
 *
 * Conventions for a new API function (a few lines each):
 * - response schemas are `z.looseObject` (unknown fields kept, never rejected) and read-side enums
 *   use `openEnum` so a value SailPoint adds later does not break a workflow;
 * - request body schemas are `z.strictObject` and go through `parseRequestBody`, so a typo in a
 *   field name fails before anything is sent;
 * - path parameters go through `encodeURIComponent`;
 * - call `client.send({ operation, method, path, query, body, responseSchema })`.
 */
import * as z from 'zod';
import { SailPointValidationError } from '../errors';

/** An ISO-8601 date-time kept as a string, but refused when `Date.parse` cannot read it (a garbage
 *  date must not silently become NaN in a policy decision). */
export const isoDateTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: 'expected an ISO-8601 date-time',
});

/** Enum that accepts the known values and, on read, any other string; the TS type keeps the known
 *  literals for completion. Use z.enum for request bodies instead. */
export function openEnum<const T extends readonly [string, ...string[]]>(_known: T) {
  return z.string() as unknown as z.ZodType<T[number] | (string & {}), string>;
}

/** `{ id, name }` reference as returned in many ISC objects; extra fields kept. */
export const RefSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
});

/**
 * Validates an outgoing body; a failure throws SailPointValidationError without `status` (the
 * request was refused locally and never sent). Returns the parsed value (defaults applied).
 */
export function parseRequestBody<S extends z.ZodType>(
  operation: string,
  schema: S,
  body: unknown,
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new SailPointValidationError({
    operation,
    detail: 'request body refused before sending',
    messages: parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`,
    ),
  });
}
