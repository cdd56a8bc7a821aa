/**
 * Decisions: what an absence becomes after an HR event, or after a re-plan. Pure apart from the
 * directory's look-ups (people and SailPoint's routing through the port, absences from our table);
 * the workflow commits what these return with a conditional write.
 *
 *   decide   an HR event applied to the absence as recorded (or to nothing): new window, status,
 *            work types; for a window still to cover, the delegate (delegate-chain.ts, within the
 *            delegate policy). A window without an end, or longer than the maximum, ends at the
 *            maximum (a notice says so; a later event extends it). A person who does not exist, or
 *            an absence nobody can cover, is refused (PermanentMessageError) and nothing is recorded.
 *   replan   the same absence, its delegate chosen again because the world around it changed:
 *            someone it passed over changed or ended their absence, SailPoint refused the delegate
 *            (a loop it saw), or a decision committed at the same moment made this one stale. Never
 *            refused: an absence nobody can cover any more is recorded as uncovered, with a notice.
 */
import { CONFIG_TYPES } from '../shared/sailpoint';
import { PermanentMessageError } from '../shared/queue/outcomes';
import {
  describeTrail,
  resolveDelegate,
  type DelegateDirectory,
  type DelegateResolution,
} from './delegate-chain';
import { eventOrderKey, type AbsenceEvent } from './event';
import type { DelegatePolicy } from './delegate-policy';
import type { AbsenceRecord, AbsenceWindow, Dependency } from './model';
import { NOTICE_KINDS, withNotice } from './notices';
import { describeWindow, windowEnded } from './policy';

export interface DecisionContext {
  readonly directory: DelegateDirectory;
  readonly now: Date;
  readonly maxHops: number;
  /** Who may cover (default: anyone). */
  readonly policy?: DelegatePolicy;
  /** The longest a configuration may last, in days from when it takes effect (default: unlimited). */
  readonly maxAbsenceDays?: number;
}

/** Where an event came from, as SQS tells it. */
export interface EventSource {
  /** The SQS message's SenderId; null when SQS did not say. */
  readonly producer: string | null;
}

const DAY_MS = 86_400_000;

/**
 * The end the configurations get: HR's end, unless it is missing or later than `maxDays` after the
 * window takes effect (its start, or now once it has begun); then that maximum.
 */
export function cappedEnd(
  window: AbsenceWindow,
  now: Date,
  maxDays: number | undefined,
): { endDate: string | null; capped: boolean } {
  if (maxDays === undefined) return { endDate: window.endDate, capped: false };
  const limit = Math.max(Date.parse(window.startDate), now.getTime()) + maxDays * DAY_MS;
  if (window.endDate !== null && Date.parse(window.endDate) <= limit) {
    return { endDate: window.endDate, capped: false };
  }
  return { endDate: new Date(limit).toISOString(), capped: true };
}

/** The record of an absence before its first event. */
function blankRecord(event: AbsenceEvent, at: string): AbsenceRecord {
  return {
    identityId: event.identityId,
    absenceId: event.absenceId,
    status: 'ACTIVE',
    startDate: null,
    endDate: null,
    configTypes: [...CONFIG_TYPES],
    requestedDelegateId: null,
    delegateId: null,
    delegateTrail: [],
    landsOn: {},
    delegateHistory: [],
    dependsOn: [],
    replanAt: null,
    notices: {},
    lastEventKey: '',
    lastEventId: '',
    lastEventType: event.type,
    lastOccurredAt: '',
    lastEventProducer: null,
    processedEventIds: [],
    ignoredEvents: [],
    decision: '',
    configurations: {},
    deferred: null,
    deferredUntil: null,
    version: 0,
    reconciledVersion: 0,
    createdAt: at,
    updatedAt: at,
  };
}

export interface Decision {
  readonly record: AbsenceRecord;
  /** The delegate was chosen by this decision (not kept from before, not moot). */
  readonly resolved: boolean;
}

/** The absence's next state after `event`. Throws PermanentMessageError when it cannot be applied. */
export async function decide(
  current: AbsenceRecord | undefined,
  event: AbsenceEvent,
  ctx: DecisionContext,
  source: EventSource = { producer: null },
): Promise<Decision> {
  const at = ctx.now.toISOString();
  const base = current ?? blankRecord(event, at);
  const applied: AbsenceRecord = {
    ...base,
    lastEventKey: eventOrderKey(event),
    lastEventId: event.eventId,
    lastEventType: event.type,
    lastOccurredAt: event.occurredAt,
    lastEventProducer: source.producer,
    processedEventIds: [...base.processedEventIds, event.eventId],
    version: base.version + 1,
    updatedAt: at,
  };
  const removesOnly = event.type === 'ABSENCE_CANCELLED' || windowEnded({ endDate: event.endDate }, ctx.now);
  // Whoever is absent must exist, whether a delegate is named or not. Only an absence already on
  // record may be cancelled or cut short without asking: that removes what we made for it.
  if (!(current && removesOnly)) {
    const person = await ctx.directory.identity(event.identityId);
    if (!person.exists) {
      throw new PermanentMessageError(
        `absence ${event.absenceId} of ${event.identityId}: the absent identity ${event.identityId} does not exist in SailPoint`,
      );
    }
  }

  if (event.type === 'ABSENCE_CANCELLED') {
    return kept({
      ...applied,
      status: 'CANCELLED',
      startDate: base.startDate ?? event.startDate ?? null,
      endDate: base.startDate !== null ? base.endDate : (event.endDate ?? null),
      dependsOn: [],
      replanAt: null,
      decision: current
        ? 'cancelled'
        : 'cancelled before its start arrived (a later, older start will be ignored)',
    });
  }

  const requested: AbsenceWindow = { startDate: event.startDate, endDate: event.endDate };
  const end = windowEnded(requested, ctx.now)
    ? { endDate: requested.endDate, capped: false }
    : cappedEnd(requested, ctx.now, ctx.maxAbsenceDays);
  const window: AbsenceWindow = { startDate: event.startDate, endDate: end.endDate };
  const next: AbsenceRecord = {
    ...applied,
    status: 'ACTIVE',
    ...window,
    requestedEndDate: event.endDate,
    endCapped: end.capped,
    configTypes: event.configTypes,
    requestedDelegateId: event.delegateId,
  };
  const verb = event.type === 'ABSENCE_STARTED' ? 'started' : 'updated';
  if (windowEnded(window, ctx.now)) {
    return kept({
      ...next,
      dependsOn: [],
      replanAt: null,
      decision: `window already over (${describeWindow(window)}): nothing to configure`,
    });
  }
  if (current && sameRequest(current, next)) return kept({ ...next, decision: `${verb}: unchanged` });

  // A new request: SailPoint's earlier refusals were about the old one.
  const resolution = await resolve(next, [], ctx);
  if (!resolution.ok) {
    throw new PermanentMessageError(
      `no delegate for absence ${event.absenceId} of ${event.identityId}: ${resolution.reason}`,
    );
  }
  const decided = covered(next, resolution, `${verb}: delegate ${resolution.delegateId}`, at);
  return { record: end.capped ? announceCap(decided, ctx.maxAbsenceDays!, at) : decided, resolved: true };
}

/** The notice that the configurations end at the maximum length, not at HR's end (or never). */
function announceCap(record: AbsenceRecord, maxDays: number, at: string): AbsenceRecord {
  const asked = record.requestedEndDate ?? null;
  return withNotice(
    { ...record, decision: `${record.decision}; ends ${record.endDate} (at most ${maxDays} days)` },
    NOTICE_KINDS.capped,
    `Absence ${record.absenceId} of ${record.identityId}: reassignment ends ${record.endDate} ` +
      `(${asked === null ? 'no end date given' : `HR's end ${asked} is later`}; at most ${maxDays} days) — ` +
      'send an update to extend it',
    { requestedEndDate: asked, endDate: record.endDate, maxAbsenceDays: maxDays },
    at,
  );
}

const kept = (record: AbsenceRecord): Decision => ({ record, resolved: false });

/**
 * The absence with its delegate chosen again (version + 1), for the reason given in `trigger`.
 * `refuse`: a candidate SailPoint has just refused (kept with the absence, so later re-plans pass
 * them over too); `forgive`: a person whose earlier refusal no longer holds (their absence changed).
 */
export async function replan(
  record: AbsenceRecord,
  ctx: DecisionContext,
  trigger: string,
  options: { readonly refuse?: Dependency; readonly forgive?: string } = {},
): Promise<AbsenceRecord> {
  const at = ctx.now.toISOString();
  const base: AbsenceRecord = { ...record, version: record.version + 1, updatedAt: at };
  if (record.status !== 'ACTIVE' || record.startDate === null || windowEnded(record, ctx.now)) {
    return {
      ...base,
      dependsOn: [],
      replanAt: null,
      decision: `re-planned (${trigger}): nothing left to cover`,
    };
  }
  const refused = [
    ...record.dependsOn.filter(
      (d) =>
        d.why === 'refused' &&
        d.identityId !== options.forgive &&
        d.identityId !== options.refuse?.identityId,
    ),
    ...(options.refuse ? [options.refuse] : []),
  ];
  const resolution = await resolve(record, refused, ctx);
  if (resolution.ok) {
    const stands = resolution.delegateId === record.delegateId;
    const next = covered(
      base,
      resolution,
      `re-planned (${trigger}): delegate ${resolution.delegateId}${stands ? ' stands' : ''}`,
      at,
      false,
    );
    if (stands) return next;
    return withNotice(
      next,
      NOTICE_KINDS.changed,
      `Absence ${record.absenceId} of ${record.identityId}: work now goes to ${resolution.delegateId} (${trigger})`,
      { previousDelegateId: record.delegateId, trail: describeTrail(resolution.trail), reason: trigger },
      at,
    );
  }
  const uncovered: AbsenceRecord = {
    ...base,
    delegateId: null,
    delegateTrail: resolution.trail,
    landsOn: {},
    dependsOn: resolution.dependsOn,
    replanAt: replanAtOf(resolution.dependsOn),
    decision: `re-planned (${trigger}): nobody can cover it: ${resolution.reason}`,
  };
  if (record.delegateId === null) return uncovered;
  return withNotice(
    uncovered,
    NOTICE_KINDS.uncovered,
    `Absence ${record.absenceId} of ${record.identityId} has nobody to cover it (${trigger})`,
    { previousDelegateId: record.delegateId, reason: resolution.reason },
    at,
  );
}

/** The same cover: delegate and the people it depends on (a re-plan that changes neither need not be saved). */
export function sameCover(a: AbsenceRecord, b: AbsenceRecord): boolean {
  const deps = (r: AbsenceRecord) =>
    r.dependsOn
      .map((d) => `${d.identityId}/${d.absenceId ?? ''}/${d.why}`)
      .sort()
      .join();
  return a.delegateId === b.delegateId && deps(a) === deps(b);
}

/**
 * Same window (as asked and as capped), work types and requested delegate as already applied: the
 * resolved delegate stands. A capped absence's later event caps from a later now: not the same, so it
 * extends the end.
 */
function sameRequest(current: AbsenceRecord, next: AbsenceRecord): boolean {
  const requestedEnd = (r: AbsenceRecord) =>
    r.requestedEndDate === undefined ? r.endDate : r.requestedEndDate;
  return (
    current.status === 'ACTIVE' &&
    current.delegateId !== null &&
    current.startDate === next.startDate &&
    current.endDate === next.endDate &&
    requestedEnd(current) === requestedEnd(next) &&
    current.requestedDelegateId === next.requestedDelegateId &&
    current.configTypes.join() === next.configTypes.join()
  );
}

function resolve(
  record: AbsenceRecord,
  refused: readonly Dependency[],
  ctx: DecisionContext,
): Promise<DelegateResolution> {
  // Only what is still to cover counts: a delegate away last week can cover from today.
  const start = Math.max(Date.parse(record.startDate!), ctx.now.getTime());
  return resolveDelegate(
    {
      absentId: record.identityId,
      requestedDelegateId: record.requestedDelegateId,
      window: { startDate: new Date(start).toISOString(), endDate: record.endDate },
      configTypes: record.configTypes,
      maxHops: ctx.maxHops,
      refused,
      ...(ctx.policy ? { policy: ctx.policy } : {}),
    },
    ctx.directory,
  );
}

/** The record covered by the resolution's delegate; a substituted one is announced (`announce`). */
function covered(
  record: AbsenceRecord,
  resolution: Extract<DelegateResolution, { ok: true }>,
  decision: string,
  at: string,
  announce = true,
): AbsenceRecord {
  const next: AbsenceRecord = {
    ...record,
    delegateId: resolution.delegateId,
    delegateTrail: resolution.trail,
    landsOn: resolution.landsOn,
    dependsOn: resolution.dependsOn,
    replanAt: replanAtOf(resolution.dependsOn),
    delegateHistory: [...new Set([...record.delegateHistory, resolution.delegateId])],
    decision,
  };
  const substituted = resolution.trail.some((step) => step.skipped !== undefined);
  if (!announce || !substituted) return next;
  return withNotice(
    next,
    NOTICE_KINDS.substituted,
    `Absence ${record.absenceId} of ${record.identityId}: work goes to ${resolution.delegateId}`,
    { trail: describeTrail(resolution.trail) },
    at,
  );
}

/** When the first person passed over is back (the earliest end among their absences), or null. */
function replanAtOf(dependsOn: readonly Dependency[]): string | null {
  const ends = dependsOn.map((d) => d.until).filter((u): u is string => u !== null);
  return ends.length ? ends.sort()[0]! : null;
}
