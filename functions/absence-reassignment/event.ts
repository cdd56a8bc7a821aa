/**
 * The HR absence event: the message body on the absence queue (docs/absence-reassignment.md).
 *
 * Every STARTED/UPDATED event carries the absence's whole current state (window, delegate, work
 * types), not a delta: an UPDATE that arrives before its START is applied as it stands, and the
 * older START is then ignored. `occurredAt` (with `eventId` to break ties) orders events.
 *
 * Bounded (docs/absence-reassignment.md, "Input caps"): a body of at most MAX_EVENT_BYTES, ids of at
 * most 200 printable characters, at most the three work types; unknown keys are refused. One event
 * then costs a bounded amount of work: one absence, a delegate chain of DELEGATE_MAX_HOPS, one
 * configuration per work type.
 */
import * as z from 'zod';
import { CONFIG_TYPES, ConfigTypeSchema, sailPointId, type ConfigType } from '../shared/sailpoint';

export const ABSENCE_EVENT_TYPES = ['ABSENCE_STARTED', 'ABSENCE_UPDATED', 'ABSENCE_CANCELLED'] as const;

/** The largest message body accepted, in bytes (a full event is under 600). */
export const MAX_EVENT_BYTES = 4096;
/** The longest eventId / absenceId. */
export const MAX_ID_LENGTH = 200;

const Id = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
/** A date-time with an explicit offset (Z or ±hh:mm). */
const zonedDateTime = () =>
  z.iso.datetime({
    offset: true,
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : 'must be an ISO-8601 date-time with a time zone, e.g. 2025-07-01T08:00:00Z',
  });
/** Normalised to UTC ISO-8601, to the millisecond. */
const DateTime = zonedDateTime().transform((v) => new Date(v).toISOString());

const ConfigTypes = z
  .array(ConfigTypeSchema, { error: `must be a list of ${CONFIG_TYPES.join(', ')}` })
  .min(1, 'must name at least one work type (leave it out for all three)')
  .max(CONFIG_TYPES.length, `must name at most the ${CONFIG_TYPES.length} work types`)
  .refine((types) => new Set(types).size === types.length, 'must not repeat a work type')
  .transform((types) => CONFIG_TYPES.filter((t) => types.includes(t)))
  .optional()
  .transform((types): ConfigType[] => types ?? [...CONFIG_TYPES]);

/**
 * As DateTime, keeping the fraction of a second beyond milliseconds (up to nanoseconds): two HR
 * events 0.8 ms apart must not become equal, and then ordered by their ids instead.
 */
const PreciseDateTime = zonedDateTime().transform(preciseUtc);

/** UTC ISO-8601 with the given fraction kept to 9 digits (milliseconds shown as usual when that is all it has). */
export function preciseUtc(value: string): string {
  const utc = new Date(value).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ; offsets are whole minutes
  const fraction = /T[^.]*\.(\d+)/.exec(value)?.[1] ?? '';
  return fraction.length <= 3 ? utc : `${utc.slice(0, 20)}${fraction.slice(0, 9)}Z`;
}

const Common = {
  eventId: Id,
  /** HR's id of the absence (leave request): updates and cancellations name the same one. */
  absenceId: Id,
  /** SailPoint identity id of the absent person (32 hex: it goes into API paths). */
  identityId: sailPointId(),
  /** When the HR system recorded the change; orders events of one absence (to the nanosecond). */
  occurredAt: PreciseDateTime,
};

const Window = {
  startDate: DateTime,
  /** null: until further notice (a permanent reassignment until an update or cancellation). */
  endDate: DateTime.nullable(),
  /** SailPoint identity id of the person covering; absent or null: the absent person's manager. */
  delegateId: sailPointId()
    .nullish()
    .transform((v) => v ?? null),
  configTypes: ConfigTypes,
};

const endAfterStart = (e: { startDate: string; endDate: string | null }) =>
  e.endDate === null || Date.parse(e.endDate) > Date.parse(e.startDate);
const endAfterStartIssue = { message: 'must be after startDate', path: ['endDate'] };

export const AbsenceEventSchema = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({ type: z.literal('ABSENCE_STARTED'), ...Common, ...Window })
      .refine(endAfterStart, endAfterStartIssue),
    z
      .strictObject({ type: z.literal('ABSENCE_UPDATED'), ...Common, ...Window })
      .refine(endAfterStart, endAfterStartIssue),
    // A cancellation needs no window; one that carries the fields is accepted (they are ignored).
    z.strictObject({
      type: z.literal('ABSENCE_CANCELLED'),
      ...Common,
      startDate: DateTime.nullish(),
      endDate: DateTime.nullish(),
      delegateId: Id.nullish(),
      configTypes: z
        .array(z.string().max(40, 'must be work type names'))
        .max(CONFIG_TYPES.length, `must name at most the ${CONFIG_TYPES.length} work types`)
        .optional(),
    }),
  ],
  { error: `must be one of ${ABSENCE_EVENT_TYPES.join(', ')}` },
);

export type AbsenceEvent = z.output<typeof AbsenceEventSchema>;
export type AbsenceWindowEvent = Extract<AbsenceEvent, { type: 'ABSENCE_STARTED' | 'ABSENCE_UPDATED' }>;
/** What an HR system sends (before defaults and normalisation). */
export type AbsenceEventInput = z.input<typeof AbsenceEventSchema>;

export type ParsedEvent = { ok: true; event: AbsenceEvent } | { ok: false; reason: string };

/** Parses a message body. The reason names every problem, for the dead-letter record. */
export function parseAbsenceEvent(body: string): ParsedEvent {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    return {
      ok: false,
      reason: `invalid absence event: the body is ${bytes} bytes; at most ${MAX_EVENT_BYTES} are accepted`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'invalid absence event: the message body is not JSON' };
  }
  const result = AbsenceEventSchema.safeParse(json);
  if (result.success) return { ok: true, event: result.data };
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return { ok: false, reason: `invalid absence event: ${problems.join('; ')}` };
}

/**
 * Orders events of one absence: occurredAt to the nanosecond (fraction padded to 9 digits, so the
 * keys compare as text), then eventId, so that equal times still order the same way everywhere.
 */
export function eventOrderKey(event: { occurredAt: string; eventId: string }): string {
  return `${paddedInstant(event.occurredAt)}|${event.eventId}`;
}

/** A stored order key in today's form (keys written before nanoseconds were kept had 3 digits). */
export function normalizeOrderKey(key: string): string {
  const bar = key.indexOf('|');
  return bar < 0 ? key : `${paddedInstant(key.slice(0, bar))}${key.slice(bar)}`;
}

function paddedInstant(utc: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(utc);
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0').slice(0, 9)}Z` : utc;
}
