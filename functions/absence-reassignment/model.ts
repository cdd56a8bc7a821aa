/**
 * The state kept per absence (one DynamoDB item, see absence-store.ts) and the shapes the
 * workflow's pure decisions work on.
 */
import type { ConfigType } from '../shared/sailpoint';
import type { AbsenceEvent } from './event';

export interface AbsenceWindow {
  /** ISO date-time (UTC). */
  readonly startDate: string;
  /** ISO date-time (UTC), or null: until further notice. */
  readonly endDate: string | null;
}

/** One candidate examined while looking for a delegate, and why it was passed over (if it was). */
export interface TrailStep {
  identityId: string;
  /** How the candidate was reached: 'explicit delegate', 'manager of …', "delegate of …'s absence". */
  via: string;
  skipped?: string;
}

/** A configuration as SailPoint holds it for this absence (after the last reconciliation). */
export interface AppliedConfiguration {
  reassignedToId: string;
  startDate: string;
  endDate: string | null;
  /** Where SailPoint's evaluate said work sent to the delegate lands (when not the delegate). */
  landsOn?: string;
}

export type ConfigurationsByType = Partial<Record<ConfigType, AppliedConfiguration>>;

export interface IgnoredEvent {
  eventId: string;
  type: AbsenceEvent['type'];
  occurredAt: string;
  reason: string;
  /** When we ignored it. */
  at: string;
  /** Who sent it (see AbsenceRecord.lastEventProducer), when SQS said. */
  producer?: string | null;
}

/**
 * Someone passed over while choosing this absence's delegate because of their own state. When that
 * changes (their absence is updated or cancelled) or ends (`until`), this absence is re-planned:
 * they may be able to cover again, or the cover they pointed to may have changed.
 */
export interface Dependency {
  /** The person passed over. */
  identityId: string;
  /** Their absence that made them unavailable; null when it was SailPoint's routing, not an absence of ours. */
  absenceId: string | null;
  /**
   * 'absent': away over (part of) the window, on our records; 'loop': SailPoint's evaluate shows
   * their work routed back to the absent person; 'refused': SailPoint refused a configuration to them
   * ("would create a loop in the reassignment chain"), which evaluate could not foresee.
   */
  why: 'absent' | 'loop' | 'refused';
  /** When the reason ends by itself (the end of that absence); null: only a change ends it. */
  until: string | null;
  /** What SailPoint said, for 'refused'. */
  detail?: string;
}

/**
 * An operator notice decided together with the absence's state, published after the
 * reconciliation and removed once SNS took it: at-least-once, never lost to a failed publish.
 */
export interface PendingNotice {
  /** `<identityId>/<absenceId>/v<version>/<kind>`: the same on every retry (subscribers drop duplicates). */
  key: string;
  kind: string;
  subject: string;
  detail: Record<string, unknown>;
  /** When it was decided. */
  at: string;
}

export interface AbsenceRecord {
  identityId: string;
  absenceId: string;
  /** CANCELLED also covers a cancellation that arrived before its start (a tombstone). */
  status: 'ACTIVE' | 'CANCELLED';
  /** null only for a cancellation that arrived first and carried no dates. */
  startDate: string | null;
  /** The end the configurations get: HR's end, or the maximum length when HR's is later or missing (`endCapped`). */
  endDate: string | null;
  /** The end HR asked for (null: until further notice); differs from endDate when capped. Absent on older items: endDate. */
  requestedEndDate?: string | null;
  /** endDate is the maximum absence length (MAX_ABSENCE_DAYS), not HR's end: a later event extends it. */
  endCapped?: boolean;
  configTypes: ConfigType[];
  /** The delegate HR named (null: the manager). */
  requestedDelegateId: string | null;
  /** The delegate we resolved and configure (null until one was needed). */
  delegateId: string | null;
  delegateTrail: TrailStep[];
  /** Per work type, where SailPoint forwarded the delegate's work when we resolved them (if elsewhere). */
  landsOn: Partial<Record<ConfigType, string>>;
  /** Every delegate ever resolved for this absence: recognises configurations we created. */
  delegateHistory: string[];
  /** occurredAt|eventId of the last applied event (see eventOrderKey). */
  lastEventKey: string;
  lastEventId: string;
  lastEventType: AbsenceEvent['type'];
  lastOccurredAt: string;
  /**
   * Who sent the last applied event: the SQS message's SenderId (the producer's IAM user id, or
   * role id:session name), null when SQS did not say (absent on items written before it was kept).
   */
  lastEventProducer?: string | null;
  /** Every event id seen for this absence (applied and ignored): idempotency on eventId. */
  processedEventIds: string[];
  /** Events older than the last applied one, kept for the record (the latest 20). */
  ignoredEvents: IgnoredEvent[];
  /** What the last applied event decided, in words (e.g. 'window already over: nothing to configure'). */
  decision: string;
  /** Configurations SailPoint holds for this absence, as of the last reconciliation. */
  configurations: ConfigurationsByType;
  /** Set when the absence wants a work type another absence of the same person holds in SailPoint. */
  deferred: string | null;
  /**
   * With `deferred`: when the first slot it waits for frees up (the holder's end; OPEN_ENDED_HOLD when
   * every holder is open-ended), the key of the re-check's index. null when not deferred.
   */
  deferredUntil: string | null;
  /** People passed over for this absence because of their own state: re-planned when that changes or ends. */
  dependsOn: Dependency[];
  /** The earliest `until` among `dependsOn` (or a time another decision marked it due): the re-check re-plans it then. */
  replanAt: string | null;
  /** Notices not yet published, by id (`v<version>-<kind>`). */
  notices: Record<string, PendingNotice>;
  /** Bumped by every decision; reconciliation records leave it alone. */
  version: number;
  /** `version` whose decision SailPoint reflects; behind `version` after a crash mid-way. */
  reconciledVersion: number;
  createdAt: string;
  updatedAt: string;
}
