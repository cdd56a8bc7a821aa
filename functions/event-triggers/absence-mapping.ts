/**
 * Identity Attributes Changed → absence events: the mapping setting and the pure rules.
 *
 * ISC sends only the attributes that changed, so the mapper keeps a snapshot of the mapped attributes
 * per identity (value and the event time it came with, newest wins per attribute) and derives the
 * absence from the snapshot, not from the event alone: an extension that changes only the end date
 * still yields the whole absence. Every relevant event emits the derived state of the snapshot:
 *
 * - on leave → ABSENCE_STARTED (it was not on leave before this event) or ABSENCE_UPDATED;
 * - not on leave → ABSENCE_CANCELLED (a reversal cancels; with no absence yet it is a harmless tombstone).
 *
 * `eventId` is `<absenceId>#v<snapshot version>` and `occurredAt` the latest event time in the snapshot,
 * so the absence workflow's own ordering (occurredAt, then eventId) follows the snapshot's versions:
 * a re-delivered trigger changes nothing in the snapshot and re-emits the same eventId (a duplicate),
 * an event that arrives late cannot undo a newer one, and a crash after the snapshot write is repaired
 * by the retry, which emits the same event again.
 */
import * as z from 'zod';
import { CONFIG_TYPES, ConfigTypeSchema } from '../shared/sailpoint/api/reassignment-configurations';
import type { AbsenceEventInput } from '../absence-reassignment/event';
import type { AttributeValue, IdentityAttributesChanged } from './payloads';

const AttributeName = z
  .string({ error: 'must be an identity attribute name' })
  .trim()
  .min(1, 'must be an identity attribute name')
  .max(128, 'must be at most 128 characters');

export const AbsenceAttributeMappingSchema = z
  .strictObject({
    /** An attribute whose values say "on leave" (compared case-insensitively, e.g. ["LOA", "on leave"]). */
    status: z
      .strictObject({
        attribute: AttributeName,
        onLeave: z
          .array(z.string().trim().min(1), { error: 'must list the values that mean "on leave"' })
          .min(1, 'must list at least one value that means "on leave"'),
      })
      .optional(),
    /** An attribute holding the first day (YYYY-MM-DD) or moment (ISO date-time) of the leave. */
    startDate: AttributeName.optional(),
    /** An attribute holding the last day (YYYY-MM-DD, inclusive) or end moment of the leave; empty: open-ended. */
    endDate: AttributeName.optional(),
    /** Work types to reassign; default all three. */
    configTypes: z.array(ConfigTypeSchema).min(1).optional(),
  })
  .superRefine((m, ctx) => {
    if (!m.status && !m.startDate) {
      ctx.addIssue({
        code: 'custom',
        message: 'name a status attribute ({"status": {"attribute", "onLeave"}}) or a startDate attribute',
      });
    }
    const names = [m.status?.attribute, m.startDate, m.endDate].filter((n) => n !== undefined);
    if (new Set(names).size !== names.length) {
      ctx.addIssue({
        code: 'custom',
        message: 'status, startDate and endDate must name different attributes',
      });
    }
  });
export type AbsenceAttributeMapping = z.infer<typeof AbsenceAttributeMappingSchema>;

export function mappedAttributes(mapping: AbsenceAttributeMapping): string[] {
  return [mapping.status?.attribute, mapping.startDate, mapping.endDate].filter((n) => n !== undefined);
}

/**
 * The subscription filter that keeps other attribute changes from being sent at all (JSONPath, as ISC
 * evaluates it: the event is sent when the expression selects something).
 */
export function recommendedAttributeFilter(mapping: AbsenceAttributeMapping): string {
  const tests = mappedAttributes(mapping).map((name) => `@.attribute == ${JSON.stringify(name)}`);
  return `$.changes[?(${tests.join(' || ')})]`;
}

/** One mapped attribute as the snapshot holds it. */
export interface SnapshotValue {
  readonly value: AttributeValue;
  /** The event time (ISO) of the change that set it. */
  readonly at: string;
}

export interface AttributeSnapshot {
  readonly identityId: string;
  readonly values: Readonly<Record<string, SnapshotValue>>;
  /** +1 per write; every write is conditional on it. */
  readonly version: number;
}

type Change = IdentityAttributesChanged['changes'][number];

/**
 * The snapshot after `changes` (mapped ones only) made at `at`, or undefined when nothing changes.
 * Per attribute the newer event wins; at the same time (EventBridge times are whole seconds) a change
 * whose oldValue is the value held follows it and wins.
 */
export function applyChanges(
  identityId: string,
  current: AttributeSnapshot | undefined,
  changes: readonly Change[],
  at: string,
): AttributeSnapshot | undefined {
  const values: Record<string, SnapshotValue> = { ...current?.values };
  let changed = false;
  for (const change of changes) {
    const held = values[change.attribute];
    const value = change.newValue ?? null;
    const newer =
      !held ||
      Date.parse(at) > Date.parse(held.at) ||
      (Date.parse(at) === Date.parse(held.at) && sameValue(held.value, change.oldValue ?? null));
    // The same value again keeps its first time (a status-only leave starts when the status first said so).
    if (!newer || (held && sameValue(held.value, value))) continue;
    values[change.attribute] = { value, at };
    changed = true;
  }
  if (!changed) return undefined;
  return { identityId, values, version: (current?.version ?? 0) + 1 };
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export type DerivedAbsence =
  | { readonly onLeave: true; readonly startDate: string; readonly endDate: string | null }
  | { readonly onLeave: false };

/** Thrown when the mapped attributes hold something that is no absence (a date that is no date). */
export class UnreadableAbsenceError extends Error {
  override readonly name = 'UnreadableAbsenceError';
}

/** Whether the snapshot says "on leave", and the window. Throws UnreadableAbsenceError on bad dates. */
export function deriveAbsence(mapping: AbsenceAttributeMapping, snapshot: AttributeSnapshot): DerivedAbsence {
  const read = (name: string | undefined) => (name === undefined ? undefined : snapshot.values[name]);
  const status = read(mapping.status?.attribute);
  const start = read(mapping.startDate);
  const end = read(mapping.endDate);

  const onLeave = mapping.status
    ? isOneOf(status?.value, mapping.status.onLeave)
    : typeof start?.value === 'string' && start.value.trim() !== '';
  if (!onLeave) return { onLeave: false };

  // Without a start date attribute (or with it empty), the leave began when the status said so.
  const startDate = parseDate(mapping.startDate, start?.value, 'start') ?? status!.at;
  const endDate = parseDate(mapping.endDate, end?.value, 'end') ?? null;
  if (endDate !== null && Date.parse(endDate) <= Date.parse(startDate)) {
    throw new UnreadableAbsenceError(
      `${mapping.endDate} (${JSON.stringify(end?.value)}) is not after the start (${startDate})`,
    );
  }
  return { onLeave: true, startDate: new Date(startDate).toISOString(), endDate };
}

function isOneOf(value: AttributeValue | undefined, accepted: readonly string[]): boolean {
  if (typeof value !== 'string' && typeof value !== 'boolean') return false;
  const text = String(value).trim().toLowerCase();
  return accepted.some((a) => a.trim().toLowerCase() === text);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An attribute value as a UTC instant: a date alone is a whole UTC day (a start is its first moment,
 * an end the first moment after it); a date-time without a zone is read as UTC. Empty/unset → undefined.
 */
function parseDate(
  name: string | undefined,
  value: AttributeValue | undefined,
  edge: 'start' | 'end',
): string | undefined {
  if (name === undefined || value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new UnreadableAbsenceError(`${name} holds ${JSON.stringify(value)}, not a date`);
  }
  const text = value.trim();
  if (text === '') return undefined;
  const day = DATE_ONLY.exec(text);
  if (day) {
    const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
      throw new UnreadableAbsenceError(`${name} holds ${JSON.stringify(text)}, not a date`);
    }
    return new Date(edge === 'end' ? ms + 86_400_000 : ms).toISOString();
  }
  if (DATE_TIME.test(text)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`;
    const ms = Date.parse(zoned);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  throw new UnreadableAbsenceError(
    `${name} holds ${JSON.stringify(text.slice(0, 60))}: expected YYYY-MM-DD or an ISO-8601 date-time`,
  );
}

/** The absence id of an identity's attribute-driven absence (one per identity: its attributes hold one leave). */
export const attributeAbsenceId = (identityId: string) => `isc-attributes-${identityId}`;

/** The absence event (the absence queue's contract, functions/absence-reassignment/event.ts) for a snapshot. */
export function absenceEventOf(
  mapping: AbsenceAttributeMapping,
  snapshot: AttributeSnapshot,
  before: AttributeSnapshot | undefined,
): AbsenceEventInput {
  const derived = deriveAbsence(mapping, snapshot);
  const absenceId = attributeAbsenceId(snapshot.identityId);
  const common = {
    // Zero-padded: the workflow breaks occurredAt ties by eventId, as text.
    eventId: `${absenceId}#v${String(snapshot.version).padStart(10, '0')}`,
    absenceId,
    identityId: snapshot.identityId,
    occurredAt: latestChange(snapshot),
  };
  if (!derived.onLeave) return { ...common, type: 'ABSENCE_CANCELLED' };
  return {
    ...common,
    type: wasOnLeave(mapping, before) ? 'ABSENCE_UPDATED' : 'ABSENCE_STARTED',
    startDate: derived.startDate,
    endDate: derived.endDate,
    delegateId: null,
    configTypes: mapping.configTypes ?? [...CONFIG_TYPES],
  };
}

function wasOnLeave(mapping: AbsenceAttributeMapping, before: AttributeSnapshot | undefined): boolean {
  if (!before) return false;
  try {
    return deriveAbsence(mapping, before).onLeave;
  } catch {
    return true; // it held an absence, if an unreadable one
  }
}

function latestChange(snapshot: AttributeSnapshot): string {
  const times = Object.values(snapshot.values).map((v) => Date.parse(v.at));
  return new Date(Math.max(...times)).toISOString();
}
