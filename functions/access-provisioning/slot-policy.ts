/**
 * What to do with a unit given the state recorded for its access slot (identity, item type, item id)
 * and, when needed, what SailPoint's /access-request-status says. Pure: plain objects and a clock.
 *
 * The slot record (state-store.ts) holds the latest unit of work for that access: its request type,
 * whether it is `claimed` (someone is working on it; a POST may be on its way), `submitted`, or
 * `free` (a claim was given back), the message that owns it, times, and the messages that submitted
 * it recently (`submissions`, per request type). Every change is a conditional write on the version
 * read here.
 *
 * First, for any state: a message that already submitted this unit (recorded in `submissions`, or
 * as the slot's submitter) is told "already submitted" — a redelivery never POSTs its unit again,
 * however old it is and whatever happened to the slot since.
 *
 * Same request type (dedup):
 * - submitted within the dedup window → duplicate;
 * - claimed by another message whose holder may still run (lease, or its invocation's deadline
 *   `attemptUntil`, not passed) → in flight: retried (not acknowledged) until the holder has either
 *   submitted it (then a duplicate) or given it up (then this message claims it);
 * - claimed by this same message: a concurrent delivery while the holder's invocation may still run
 *   → in flight; once it is over (a redelivery) → take it over and reconcile first;
 * - claimed by another message whose holder is gone → take it over and reconcile first (reconcile.ts);
 * - nothing, a free slot, or a submission older than the window → claim.
 *
 * Opposite request type (the GRANT/REVOKE race rule): the later one waits until the earlier one has
 * *finished* in SailPoint, not merely been submitted — however old the earlier one is (the dedup
 * window says nothing about how long an approval takes). A REVOKE sent while its GRANT awaits
 * approval would find the access not yet held (and be skipped, or refused by SailPoint), and the
 * GRANT would then be approved: the later intent would be lost. So:
 * - opposite claimed and its holder may still run → wait (retry after CONFLICT_RETRY_SECONDS);
 * - opposite submitted (any age), or claimed by a holder that is gone → ask SailPoint: while its
 *   request is pending (EXECUTING …) → wait; not listed before STATUS_SETTLE_SECONDS have passed
 *   since it could last have been sent → wait; final, or not listed after that → claim, and the
 *   current-access check then sees the result of the earlier one. A dead claim found in SailPoint is
 *   kept in `submissions`, so its own redelivery does not POST it again.
 * Within one batch, the earliest-sent message's request type goes first (plan.ts).
 */
import { groupBy } from '../shared/collections';
import type { RequestType } from './contract';
import { CLOCK_SKEW_MS } from './reconcile';

/** A submission of a unit of this slot by a message (kept so that message's redelivery never re-POSTs). */
export interface SubmissionEntry {
  readonly operation: RequestType;
  readonly messageId: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface SlotRecord {
  readonly operation: RequestType;
  /** `free`: the last claim was given back without a submission; only `submissions` matter. */
  readonly state: 'claimed' | 'submitted' | 'free';
  readonly claimToken: string;
  /** SQS message id of the owner. */
  readonly messageId: string;
  readonly requestId?: string;
  /** Epoch ms. */
  readonly claimedAt: number;
  /** Epoch ms; set while claimed. Another message may take over after it. */
  readonly leaseExpiresAt?: number;
  /** Epoch ms: the earliest start of an attempt of this operation that may have reached SailPoint. */
  readonly attemptSince: number;
  /**
   * Epoch ms: the latest moment a POST of the claimed attempt may have been sent — the holder's
   * invocation deadline, narrowed to the end of its POST once that is known. SailPoint's listing lag
   * (STATUS_SETTLE_SECONDS) is counted from here. Absent on records written before it existed.
   */
  readonly attemptUntil?: number;
  readonly submittedAt?: number;
  /** Epoch ms: duplicates are suppressed until then (submittedAt + window). */
  readonly dedupUntil?: number;
  readonly accessRequestIds?: readonly string[];
  /** Set when the submission was found in SailPoint's status list after a crash, not seen as a 202. */
  readonly reconciled?: boolean;
  /** Recent submissions of this slot (both request types), newest last. */
  readonly submissions?: readonly SubmissionEntry[];
  /**
   * What ISC's event triggers said about requests of this slot (Access Request Decision, Provisioning
   * Completed), written by the event-triggers function beside the slot's own fields.
   */
  readonly requestEvents?: readonly RequestEventFact[];
  readonly version: number;
}

/** One event trigger's word on one request of the slot's access (functions/event-triggers/access-events.ts). */
export interface RequestEventFact {
  readonly accessRequestId: string;
  readonly operation: RequestType;
  readonly kind: 'decision' | 'provisioning';
  /** decision: APPROVED | REJECTED; provisioning: SUCCESS | PENDING | FAILED. */
  readonly result: 'APPROVED' | 'REJECTED' | 'SUCCESS' | 'PENDING' | 'FAILED';
  /** Epoch ms of the event. */
  readonly at: number;
  /**
   * Whether the request is this deployment's (the item's marker in the event, or the request id known
   * from the POST's answer); absent: the event could not tell. A request known not to be ours is
   * never taken for the slot's own.
   */
  readonly ours?: boolean;
}

/**
 * What the event triggers say of the slot's latest `operation` request (submitted since `since`), in
 * the shape a status read gives (OppositeStatus); undefined when no event is about it. A request is
 * matched by its access request id when the slot knows it, else by its type and a decision no older
 * than the submission (less the clock skew). Rejected → REJECTED; provisioning failed →
 * PROVISIONING_FAILED; provisioned → REQUEST_COMPLETED at the event's time; approved only, or
 * provisioning still pending → pending. Events arrive in any order and repeat: the facts are a set.
 */
export function statusFromEvents(
  record: SlotRecord,
  operation: RequestType,
  since: number,
): OppositeStatus | undefined {
  const ids = record.operation === operation ? record.accessRequestIds : undefined;
  const facts = (record.requestEvents ?? []).filter(
    (f) =>
      f.operation === operation &&
      f.ours !== false &&
      (ids && ids.length > 0 ? ids.includes(f.accessRequestId) : f.at >= since - CLOCK_SKEW_MS),
  );
  if (facts.length === 0) return undefined;
  const byRequest = groupBy(facts, (f) => f.accessRequestId);
  let newest: { state: string; at: number } | undefined;
  for (const of of byRequest.values()) {
    const state = requestStateOf(of);
    if (state === undefined) return { found: true, pending: true, state: 'EXECUTING' };
    const at = Math.max(...of.map((f) => f.at));
    if (!newest || at >= newest.at) newest = { state, at };
  }
  return { found: true, pending: false, state: newest!.state, finishedAt: newest!.at };
}

/** The final state the facts of one request show, or undefined while it is still pending. */
export function requestStateOf(facts: readonly RequestEventFact[]): string | undefined {
  const has = (kind: RequestEventFact['kind'], result: RequestEventFact['result']) =>
    facts.some((f) => f.kind === kind && f.result === result);
  if (has('decision', 'REJECTED')) return 'REJECTED';
  if (has('provisioning', 'FAILED')) return 'PROVISIONING_FAILED';
  if (has('provisioning', 'SUCCESS') && !has('provisioning', 'PENDING')) return 'REQUEST_COMPLETED';
  return undefined;
}

/** What a conditional write must still find, so a decision taken on a read stays valid. */
export type Expectation =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'unchanged';
      readonly version: number;
      /** Also re-checked in the condition: expiry is decided by us, by time. */
      readonly expired?: { readonly field: 'dedupUntil' | 'leaseExpiresAt'; readonly now: number };
    };

/** What SailPoint says about the opposite request of this slot (status entries already matched). */
export interface OppositeStatus {
  readonly found: boolean;
  /** A matching request is not final yet. */
  readonly pending: boolean;
  /** The state of the pending request, else of the newest one. */
  readonly state?: string;
  /** Epoch ms the newest request finished (its entry's `modified`), when none is pending. */
  readonly finishedAt?: number;
}

/**
 * The latest change of the slot's access that this deployment knows of, as far as a Search document
 * must show it before a skip may rely on it (access-check.ts):
 * - `none`: nothing recorded, or the latest submission is of the unit's own type (our own record
 *   agrees with a skip), or the latest opposite request changed nothing (rejected, cancelled, never
 *   listed);
 * - `at`: the latest opposite request finished changing the access at this time (epoch ms);
 * - `unknown`: the latest opposite request may have changed it at any time until now.
 */
export type LatestChange =
  | { readonly kind: 'none' }
  | { readonly kind: 'at'; readonly at: number }
  | { readonly kind: 'unknown'; readonly since: number };

/** Final states in which the request did not change the access. */
const UNCHANGED_STATES: ReadonlySet<string> = new Set(['REJECTED', 'CANCELLED', 'TERMINATED']);

export function latestChangeOf(
  record: SlotRecord | undefined,
  requestType: RequestType,
  /** What SailPoint said of the slot's latest opposite request, when decideSlot asked in this batch. */
  opposite?: OppositeStatus,
): LatestChange {
  if (!record) return { kind: 'none' };
  const candidates: { operation: RequestType; at: number }[] = [...(record.submissions ?? [])];
  if (record.state === 'submitted' || (record.state === 'claimed' && opposite !== undefined)) {
    candidates.push({ operation: record.operation, at: record.submittedAt ?? record.attemptSince });
  }
  const latest = candidates.reduce<(typeof candidates)[number] | undefined>(
    (a, c) => (!a || c.at >= a.at ? c : a),
    undefined,
  );
  if (!latest || latest.operation === requestType) return { kind: 'none' };
  opposite ??= statusFromEvents(record, latest.operation, latest.at);
  if (!opposite || opposite.pending) return { kind: 'unknown', since: latest.at };
  if (!opposite.found || (opposite.state !== undefined && UNCHANGED_STATES.has(opposite.state))) {
    return { kind: 'none' };
  }
  if (opposite.state === 'REQUEST_COMPLETED' && opposite.finishedAt !== undefined) {
    return { kind: 'at', at: opposite.finishedAt };
  }
  return { kind: 'unknown', since: latest.at };
}

export type SlotDecision =
  | {
      readonly kind: 'claim';
      readonly expect: Expectation;
      /** Take over an unfinished attempt: reconcile it (since this time) before submitting. */
      readonly reconcileSince?: number;
      /** A dead opposite attempt that SailPoint lists: kept in the slot's submissions. */
      readonly recordOpposite?: SubmissionEntry;
    }
  | {
      readonly kind: 'already-submitted';
      readonly record: SlotRecord;
      readonly messageId: string;
      readonly submittedAt: number;
      readonly accessRequestIds?: readonly string[];
    }
  | { readonly kind: 'duplicate'; readonly reason: string; readonly record: SlotRecord }
  /** Someone else's attempt of the same unit may still be running: retry, do not acknowledge. */
  | { readonly kind: 'in-flight'; readonly reason: string; readonly delaySeconds: number }
  | { readonly kind: 'wait'; readonly reason: string; readonly delaySeconds: number }
  | { readonly kind: 'needs-opposite-status'; readonly since: number; readonly opposite: RequestType };

export interface SlotPolicy {
  /** How long SailPoint may take to list a request it accepted; absence before that proves nothing. */
  readonly statusSettleMs: number;
  readonly conflictRetrySeconds: number;
  /** Shortest retry delay of a unit in flight elsewhere (default 0). */
  readonly transientRetrySeconds?: number;
  /**
   * ACCESS_EVENTS_WAIT_SECONDS in ms: with ISC's access event triggers configured, how long after the
   * opposite request was sent the later one waits for their word without reading SailPoint's status
   * (then it reads it: the fallback for an event that never came). 0 or absent: read at once.
   */
  readonly eventWaitMs?: number;
}

/** How long a submission is remembered for its message: longer than SQS keeps a message (14 days). */
export const SUBMISSION_MEMORY_MS = 15 * 86_400_000;
const MAX_SUBMISSIONS = 32;

/** The latest moment a POST of the record's claimed attempt may have been sent. */
export function attemptUntilOf(record: SlotRecord): number {
  return record.attemptUntil ?? record.attemptSince;
}

export function decideSlot(
  record: SlotRecord | undefined,
  unit: { readonly requestType: RequestType },
  ctx: {
    /** The messages of this batch that ask for the unit (a redelivery of the owner is one of them). */
    readonly ownMessageIds: ReadonlySet<string>;
    readonly now: number;
    readonly policy: SlotPolicy;
  },
  opposite?: OppositeStatus,
): SlotDecision {
  const { ownMessageIds, now, policy } = ctx;
  if (!record) return { kind: 'claim', expect: { kind: 'absent' } };
  const unchanged = (expired?: 'dedupUntil' | 'leaseExpiresAt'): Expectation => ({
    kind: 'unchanged',
    version: record.version,
    ...(expired ? { expired: { field: expired, now } } : {}),
  });

  // Checked before anything else: a message that submitted this unit never POSTs it again.
  const own = ownSubmission(record, unit.requestType, ownMessageIds);
  if (own) return { kind: 'already-submitted', record, ...own };
  if (record.state === 'free') {
    // A claim was given back; the submissions it kept still decide the race rule: when the latest
    // is of the opposite type, only SailPoint knows whether that request has finished.
    const latest = [...(record.submissions ?? [])].sort((a, b) => b.at - a.at)[0];
    if (!latest || latest.operation === unit.requestType) return { kind: 'claim', expect: unchanged() };
    if (!opposite) {
      const since = unbrokenSince(record, latest.operation, latest.at);
      const heard = statusFromEvents(record, latest.operation, since);
      if (heard) return decideSlot(record, unit, ctx, heard);
      return (
        awaitEvents(latest.operation, unit.requestType, latest.at, now, policy) ?? {
          kind: 'needs-opposite-status',
          since,
          opposite: latest.operation,
        }
      );
    }
    const waiting = waitForOpposite(
      { operation: latest.operation, messageId: latest.messageId, since: latest.at, lastSent: latest.at },
      unit.requestType,
      opposite,
      now,
      policy,
    );
    return waiting ?? { kind: 'claim', expect: unchanged() };
  }

  const claimed = record.state === 'claimed';
  const attemptUntil = attemptUntilOf(record);
  const holderMayRun = claimed && ((record.leaseExpiresAt ?? 0) > now || attemptUntil > now);
  const windowRunning = record.state === 'submitted' && (record.dedupUntil ?? 0) > now;

  if (record.operation === unit.requestType) {
    if (record.state === 'submitted') {
      if (!windowRunning) return { kind: 'claim', expect: unchanged('dedupUntil') };
      return {
        kind: 'duplicate',
        record,
        reason:
          `already submitted at ${iso(record.submittedAt ?? record.claimedAt)} by message ${record.messageId}` +
          `${record.requestId ? ` (request ${record.requestId})` : ''}; duplicates are suppressed until ` +
          iso(record.dedupUntil!),
      };
    }
    if (ownMessageIds.has(record.messageId)) {
      if (attemptUntil > now) {
        // Another delivery of this very message is still running (SQS may deliver a message twice at once).
        return inFlight(record, now, policy, 'by another delivery of this message');
      }
      // A redelivery of the message that holds the claim: its earlier attempt may have posted.
      return { kind: 'claim', expect: unchanged(), reconcileSince: record.attemptSince };
    }
    if (holderMayRun) return inFlight(record, now, policy, `by message ${record.messageId}`);
    return { kind: 'claim', expect: unchanged('leaseExpiresAt'), reconcileSince: record.attemptSince };
  }

  // The opposite request type holds the slot.
  if (holderMayRun) {
    return {
      kind: 'wait',
      delaySeconds: policy.conflictRetrySeconds,
      reason:
        `waiting: the ${record.operation} of this access by message ${record.messageId} is being submitted; ` +
        `the ${unit.requestType} goes after it`,
    };
  }
  // Submitted (however long ago) or a dead claim: only SailPoint knows whether it has finished —
  // through its event triggers when they are configured, else (or when they are late) its status list.
  if (!opposite) {
    const since = unbrokenSince(record, record.operation, record.attemptSince);
    const heard = statusFromEvents(record, record.operation, since);
    if (heard) return decideSlot(record, unit, ctx, heard);
    // Only a submission is sure to bring events: a dead claim may never have reached SailPoint.
    const waiting = claimed
      ? undefined
      : awaitEvents(
          record.operation,
          unit.requestType,
          record.submittedAt ?? record.attemptSince,
          now,
          policy,
        );
    return (
      waiting ?? {
        kind: 'needs-opposite-status',
        since,
        opposite: record.operation,
      }
    );
  }
  // A 202 was seen at submittedAt; a dead claim may have sent its POST until attemptUntil.
  const lastSent = claimed ? attemptUntil : (record.submittedAt ?? record.attemptSince);
  const waiting = waitForOpposite(
    { operation: record.operation, messageId: record.messageId, since: record.attemptSince, lastSent },
    unit.requestType,
    opposite,
    now,
    policy,
  );
  if (waiting) return waiting;
  return {
    kind: 'claim',
    expect: unchanged(claimed ? 'leaseExpiresAt' : undefined),
    ...(claimed && opposite.found
      ? {
          recordOpposite: {
            operation: record.operation,
            messageId: record.messageId,
            at: record.attemptSince,
          },
        }
      : {}),
  };
}

/**
 * Where to look for the opposite request in SailPoint's status list: from the earliest of its type's
 * submissions since the slot's last submission of the other type. A resubmission of an item still
 * pending is answered as an existing request and creates no status entry: the pending one is older.
 */
function unbrokenSince(record: SlotRecord, operation: RequestType, from: number): number {
  const entries = record.submissions ?? [];
  const other = Math.max(-Infinity, ...entries.filter((e) => e.operation !== operation).map((e) => e.at));
  return Math.min(from, ...entries.filter((e) => e.operation === operation && e.at > other).map((e) => e.at));
}

/**
 * While the opposite request is pending in SailPoint, or not listed yet when SailPoint may not have
 * listed it (less than STATUS_SETTLE_SECONDS since it could last have been sent): wait. Else nothing.
 */
function waitForOpposite(
  earlier: { operation: RequestType; messageId: string; since: number; lastSent: number },
  requestType: RequestType,
  opposite: OppositeStatus,
  now: number,
  policy: SlotPolicy,
): SlotDecision | undefined {
  if (opposite.pending) {
    return {
      kind: 'wait',
      delaySeconds: policy.conflictRetrySeconds,
      reason:
        `waiting: the earlier ${earlier.operation} of this access (message ${earlier.messageId}, ` +
        `${iso(earlier.since)}) is still ${opposite.state ?? 'pending'} in SailPoint; ` +
        `the ${requestType} goes once it has finished`,
    };
  }
  if (!opposite.found && now - earlier.lastSent < policy.statusSettleMs) {
    return {
      kind: 'wait',
      delaySeconds: Math.max(
        policy.conflictRetrySeconds,
        Math.ceil((earlier.lastSent + policy.statusSettleMs - now) / 1000),
      ),
      reason:
        `waiting: the earlier ${earlier.operation} of this access (${iso(earlier.since)}) is not listed by ` +
        'SailPoint yet; its status decides when this one may go',
    };
  }
  return undefined;
}

/**
 * With event triggers configured, a later request waits for the earlier one's events without reading
 * SailPoint's status, for ACCESS_EVENTS_WAIT_SECONDS after the earlier one was sent; then undefined
 * (read the status: the event may never come).
 */
function awaitEvents(
  earlier: RequestType,
  requestType: RequestType,
  sentAt: number,
  now: number,
  policy: SlotPolicy,
): SlotDecision | undefined {
  const waitMs = policy.eventWaitMs ?? 0;
  if (waitMs <= 0 || now - sentAt >= waitMs) return undefined;
  return {
    kind: 'wait',
    delaySeconds: Math.max(
      1,
      Math.min(policy.conflictRetrySeconds, Math.ceil((sentAt + waitMs - now) / 1000)),
    ),
    reason:
      `waiting: no decision event yet for the earlier ${earlier} of this access (sent ${iso(sentAt)}); ` +
      `the ${requestType} goes once SailPoint says it has finished (its status is read from ` +
      `${iso(sentAt + waitMs)} if no event comes)`,
  };
}

/** The submissions a new write of the slot must keep: the record's, its own submission, and `extra`. */
export function carriedSubmissions(
  record: SlotRecord | undefined,
  now: number,
  ...extra: (SubmissionEntry | undefined)[]
): SubmissionEntry[] {
  const all: SubmissionEntry[] = [...(record?.submissions ?? [])];
  if (record?.state === 'submitted') {
    all.push({
      operation: record.operation,
      messageId: record.messageId,
      at: record.submittedAt ?? record.claimedAt,
    });
  }
  for (const entry of extra) if (entry) all.push(entry);
  const byKey = new Map<string, SubmissionEntry>();
  for (const entry of all) {
    if (entry.at < now - SUBMISSION_MEMORY_MS) continue;
    const key = `${entry.operation}\u0000${entry.messageId}`;
    byKey.delete(key);
    byKey.set(key, entry);
  }
  return [...byKey.values()].slice(-MAX_SUBMISSIONS);
}

/** When this deployment last submitted `operation` for the slot (epoch ms), if it did. */
export function latestSubmissionAt(
  record: SlotRecord | undefined,
  operation: RequestType,
): number | undefined {
  const times = (record?.submissions ?? []).filter((e) => e.operation === operation).map((e) => e.at);
  if (record?.state === 'submitted' && record.operation === operation) {
    times.push(record.submittedAt ?? record.claimedAt);
  }
  return times.length > 0 ? Math.max(...times) : undefined;
}

export function oppositeOf(requestType: RequestType): RequestType {
  return requestType === 'GRANT_ACCESS' ? 'REVOKE_ACCESS' : 'GRANT_ACCESS';
}

function ownSubmission(
  record: SlotRecord,
  requestType: RequestType,
  ownMessageIds: ReadonlySet<string>,
): { messageId: string; submittedAt: number; accessRequestIds?: readonly string[] } | undefined {
  if (
    record.state === 'submitted' &&
    record.operation === requestType &&
    ownMessageIds.has(record.messageId)
  ) {
    return {
      messageId: record.messageId,
      submittedAt: record.submittedAt ?? record.claimedAt,
      ...(record.accessRequestIds ? { accessRequestIds: record.accessRequestIds } : {}),
    };
  }
  const entry = [...(record.submissions ?? [])]
    .reverse()
    .find((e) => e.operation === requestType && ownMessageIds.has(e.messageId));
  return entry ? { messageId: entry.messageId, submittedAt: entry.at } : undefined;
}

/**
 * A unit someone else may be submitting right now: retried, never acknowledged, until the holder's
 * outcome is known — by the end of its invocation (plus the listing lag), or else by its lease.
 */
function inFlight(record: SlotRecord, now: number, policy: SlotPolicy, by: string): SlotDecision {
  const attemptUntil = attemptUntilOf(record);
  const knownBy = attemptUntil > now ? attemptUntil + policy.statusSettleMs : (record.leaseExpiresAt ?? now);
  return {
    kind: 'in-flight',
    delaySeconds: Math.max(
      policy.transientRetrySeconds ?? 0,
      Math.min(policy.conflictRetrySeconds, Math.ceil((knownBy - now) / 1000)),
    ),
    reason:
      `in flight: being submitted ${by} since ${iso(record.claimedAt)}; retrying until that attempt ` +
      'has submitted it or given it up',
  };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
