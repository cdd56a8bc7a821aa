/**
 * Pure decisions about windows and SailPoint's configuration slots.
 *
 * SailPoint keeps ONE configuration per identity and work type. When a person has several
 * absences on record (a vacation in July and another in December), the slot of each work type goes
 * to the absence that is current or, when none is, the one starting soonest; the others are
 * deferred and take the slot once it frees up: at the next event for that person, or at the
 * scheduled re-check after the holder's end (recheck.ts), whichever comes first.
 */
import {
  CONFIG_TYPES,
  reassignmentEndDate,
  type ConfigType,
  type ReassignmentConfigDetail,
} from '../shared/sailpoint';
import type { AbsenceRecord, AbsenceWindow } from './model';

const time = (iso: string) => Date.parse(iso);
const endTime = (end: string | null) => (end === null ? Number.POSITIVE_INFINITY : time(end));

/** The window is over: it had an end and that end has passed. */
export function windowEnded(window: { endDate: string | null }, now: Date): boolean {
  return window.endDate !== null && time(window.endDate) <= now.getTime();
}

/** Half-open windows [start, end) share at least one instant. */
export function windowsOverlap(a: AbsenceWindow, b: AbsenceWindow): boolean {
  return time(a.startDate) < endTime(b.endDate) && time(b.startDate) < endTime(a.endDate);
}

export function describeWindow(window: { startDate: string | null; endDate: string | null }): string {
  return `${window.startDate ?? '?'} – ${window.endDate ?? 'until further notice'}`;
}

/** An absence that wants configurations now or later: active, with a delegate, not over. */
export function wantsConfigurations(absence: AbsenceRecord, now: Date): boolean {
  return (
    absence.status === 'ACTIVE' &&
    absence.delegateId !== null &&
    absence.startDate !== null &&
    !windowEnded(absence, now)
  );
}

/** The configuration an absence asks SailPoint for, for one work type. */
export interface DesiredConfiguration {
  readonly absenceId: string;
  readonly reassignedToId: string;
  /** The absence's start; requests send max(start, now) since a start in the past cannot be scheduled. */
  readonly startDate: string;
  readonly endDate: string | null;
}

/** Per work type, the absence that holds SailPoint's slot and what it wants there. */
export function desiredConfigurations(
  absences: readonly AbsenceRecord[],
  now: Date,
): Map<ConfigType, DesiredConfiguration> {
  const eligible = absences
    .filter((a) => wantsConfigurations(a, now))
    .sort((a, b) => time(a.startDate!) - time(b.startDate!) || a.absenceId.localeCompare(b.absenceId));
  const desired = new Map<ConfigType, DesiredConfiguration>();
  for (const type of CONFIG_TYPES) {
    const owner = eligible.find((a) => a.configTypes.includes(type));
    if (!owner) continue;
    desired.set(type, {
      absenceId: owner.absenceId,
      reassignedToId: owner.delegateId!,
      startDate: owner.startDate!,
      endDate: owner.endDate,
    });
  }
  return desired;
}

/** The startDate to send: the absence's own, or now (to the second) once it has begun. */
export function requestStartDate(desired: { startDate: string }, now: Date): string {
  const nowSecond = Math.floor(now.getTime() / 1000) * 1000;
  return new Date(Math.max(time(desired.startDate), nowSecond)).toISOString();
}

/** A SailPoint configuration detail read back, in our terms. */
export interface ActualConfiguration {
  readonly reassignedToId: string | undefined;
  readonly startDate: string | undefined;
  readonly endDate: string | null;
}

export function actualConfiguration(detail: ReassignmentConfigDetail): ActualConfiguration {
  return {
    reassignedToId: detail.targetIdentity?.id,
    startDate: detail.startDate ?? undefined,
    endDate: reassignmentEndDate(detail.endDate),
  };
}

/** Tolerance for a service that stores dates with less precision than we send. */
const SKEW_MS = 1000;

/**
 * SailPoint already holds what we want: same delegate, same end, and a start between the absence's
 * start and the moment we would have sent (a configuration created earlier with start = then).
 */
export function configurationMatches(
  actual: ActualConfiguration,
  desired: DesiredConfiguration,
  now: Date,
): boolean {
  if (actual.reassignedToId !== desired.reassignedToId || actual.startDate === undefined) return false;
  const sameEnd =
    actual.endDate === null || desired.endDate === null
      ? actual.endDate === desired.endDate
      : Math.abs(time(actual.endDate) - time(desired.endDate)) < SKEW_MS;
  const start = time(actual.startDate);
  const earliest = time(desired.startDate);
  const latest = Math.max(earliest, now.getTime());
  return sameEnd && start > earliest - SKEW_MS && start < latest + SKEW_MS;
}

/**
 * A configuration we created for one of this person's absences (its delegate is one we resolved),
 * so ours to delete when no absence wants the slot any more. Anything else was set up by someone
 * else (the person, their manager, an admin) and is left alone.
 */
export function createdByUs(actual: ActualConfiguration, absences: readonly AbsenceRecord[]): boolean {
  return (
    actual.reassignedToId !== undefined &&
    absences.some((absence) => absence.delegateHistory.includes(actual.reassignedToId!))
  );
}

/** deferredUntil of an absence whose slots are held by open-ended absences: only an event frees them. */
export const OPEN_ENDED_HOLD = '9999-12-31T23:59:59.999Z';

/**
 * When the first of the slots an absence waits for frees up: the earliest end among their holders,
 * as a UTC ISO string (sorts as time in DynamoDB), or OPEN_ENDED_HOLD.
 */
export function slotFreesAt(holders: readonly { endDate: string | null }[]): string {
  const ends = holders.map((h) => endTime(h.endDate)).filter(Number.isFinite);
  return ends.length ? new Date(Math.min(...ends)).toISOString() : OPEN_ENDED_HOLD;
}

/** A deferred absence is due for the re-check once the first slot it waits for has freed up. */
export function deferralDue(absence: Pick<AbsenceRecord, 'deferred' | 'deferredUntil'>, now: Date): boolean {
  return (
    absence.deferred !== null &&
    absence.deferredUntil !== null &&
    absence.deferredUntil !== OPEN_ENDED_HOLD &&
    time(absence.deferredUntil) <= now.getTime()
  );
}
