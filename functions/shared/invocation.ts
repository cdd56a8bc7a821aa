/**
 * Payloads of scheduled and on-demand invocations (the stale-token sweep, the Cognigy audit, the
 * absence re-check): bounded, then parsed strictly. Anyone allowed to invoke a function can send
 * anything, so a payload is refused — before any work, with the reason — when it is larger than
 * MAX_INVOCATION_BYTES, has a key the schema does not name, or a value out of bounds (docs/handlers.md,
 * "Input caps"). The refusal is a PermanentMessageError: the invocation fails and the shared failure
 * policy logs it as dead-letter (Lambda's retries then end in the schedule's DLQ).
 */
import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { PermanentMessageError } from './failure-policy';

/** The largest invocation payload accepted, as JSON (ours are under 100 bytes; EventBridge's envelope under 1 KiB). */
export const MAX_INVOCATION_BYTES = 4096;

/** A short text field of an envelope (ids, names, times). */
const text = () => z.string().max(256, 'must be at most 256 characters');

/**
 * An EventBridge rule's "Scheduled Event" (for a rule someone points at the function; the stack's own
 * schedules send our small payloads), every field bounded; `detail` is {} on scheduled events.
 */
export const ScheduledRuleEventSchema = z.strictObject({
  version: text().optional(),
  id: text().optional(),
  'detail-type': z.literal('Scheduled Event'),
  source: text().optional(),
  account: text().optional(),
  time: text().optional(),
  region: text().optional(),
  resources: z.array(text()).max(10, 'must list at most 10 resources').optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** An SQS batch (`Records`), as opposed to a scheduled or on-demand payload (a function with both entry points). */
export const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === 'object' && event !== null && Array.isArray((event as SQSEvent).Records);

export const isScheduledRuleEvent = (event: unknown): boolean =>
  typeof event === 'object' && event !== null && 'detail-type' in event;

/**
 * `event` parsed by `schema`, or a PermanentMessageError that starts with `refusal` (what the
 * function accepts) and names every problem.
 */
export function parseInvocation<S extends z.ZodType>(
  schema: S,
  event: unknown,
  refusal: string,
): z.output<S> {
  const bytes = Buffer.byteLength(JSON.stringify(event ?? null) ?? '', 'utf8');
  if (bytes > MAX_INVOCATION_BYTES) {
    throw new PermanentMessageError(
      `${refusal}: the payload is ${bytes} bytes; at most ${MAX_INVOCATION_BYTES} are accepted`,
    );
  }
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || 'event'}: ${issue.message}`,
  );
  throw new PermanentMessageError(`${refusal}: ${problems.join('; ')}`);
}
