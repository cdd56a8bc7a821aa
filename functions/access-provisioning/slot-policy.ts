/**
 * What to do with a unit given the state recorded for its access slot (identity, item type, item id)
 * and, when needed, what SailPoint's /access-request-status says. Pure: plain objects and a clock.
 *
 * The slot record (state-store.ts) holds the latest unit of work for that access: its request type,
 * whether it is `claimed` (someone is working on it; a POST may be on its way) or `submitted`, the
 * message that owns it, and times. Every change is a conditional write on the version read here.
 *
 * Same request type (dedup):
 * - submitted within the dedup window → duplicate (or, for the very message that submitted it,
 *   "already submitted": a redelivery after a crash reports the earlier success);
 * - claimed by another message whose lease runs → duplicate (in flight);
 * - claimed by this same message (a redelivery) or by one whose lease ran out → take it over and
 *   reconcile first: that attempt may have reached SailPoint (reconcile.ts);
 * - nothing, or a submission older than the window → claim.
 *
 * Opposite request type (the GRANT/REVOKE race rule): the later one waits until the earlier one has
 * *finished* in SailPoint, not merely been submitted. A REVOKE sent while its GRANT awaits approval
 * would find the access not yet held (and be skipped, or refused by SailPoint), and the GRANT would
 * then be approved: the later intent would be lost. So:
 * - opposite claimed, lease running → wait (retry after CONFLICT_RETRY_SECONDS);
 * - opposite submitted within the window (or its claim holder died) → ask SailPoint: while its
 *   request is still pending (EXECUTING …) → wait; once final, or not listed at all → claim, and the
 *   current-access check then sees the result of the earlier one.
 * Within one batch, the earliest-sent message's request type goes first (processor.ts).
 */
import type { RequestType } from './contract';

export interface SlotRecord {
  readonly operation: RequestType;
  readonly state: 'claimed' | 'submitted';
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
  readonly submittedAt?: number;
  /** Epoch ms: duplicates are suppressed until then (submittedAt + window). */
  readonly dedupUntil?: number;
  readonly accessRequestIds?: readonly string[];
  /** Set when the submission was found in SailPoint's status list after a crash, not seen as a 202. */
  readonly reconciled?: boolean;
  readonly version: number;
}

/** What a conditional write must still find, so a decision taken on a read stays valid. */
export type Expectation =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'unchanged';
      readonly version: number;
      /** Also re-checked in the condition: TTL deletion is lazy, expiry is decided by us. */
      readonly expired?: { readonly field: 'dedupUntil' | 'leaseExpiresAt'; readonly now: number };
    };

/** What SailPoint says about the opposite request of this slot (status entries already matched). */
export interface OppositeStatus {
  readonly found: boolean;
  /** A matching request is not final yet. */
  readonly pending: boolean;
  readonly state?: string;
}

export type SlotDecision =
  | { readonly kind: 'claim'; readonly expect: Expectation; readonly reconcileSince?: number }
  | { readonly kind: 'already-submitted'; readonly record: SlotRecord }
  | { readonly kind: 'duplicate'; readonly reason: string; readonly record: SlotRecord }
  | { readonly kind: 'wait'; readonly reason: string; readonly delaySeconds: number }
  | { readonly kind: 'needs-opposite-status'; readonly since: number; readonly opposite: RequestType };

export interface SlotPolicy {
  /** How long SailPoint may take to list a request it accepted; absence before that proves nothing. */
  readonly statusSettleMs: number;
  readonly conflictRetrySeconds: number;
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
  const leaseRunning = record.state === 'claimed' && (record.leaseExpiresAt ?? 0) > now;
  const windowRunning = record.state === 'submitted' && (record.dedupUntil ?? 0) > now;

  if (record.operation === unit.requestType) {
    if (record.state === 'submitted') {
      if (!windowRunning) return { kind: 'claim', expect: unchanged('dedupUntil') };
      if (ownMessageIds.has(record.messageId)) return { kind: 'already-submitted', record };
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
      // A redelivery of the message that holds the claim: its earlier attempt may have posted.
      return { kind: 'claim', expect: unchanged(), reconcileSince: record.attemptSince };
    }
    if (leaseRunning) {
      return {
        kind: 'duplicate',
        record,
        reason: `in flight: being submitted by message ${record.messageId} since ${iso(record.claimedAt)}`,
      };
    }
    return { kind: 'claim', expect: unchanged('leaseExpiresAt'), reconcileSince: record.attemptSince };
  }

  // The opposite request type holds the slot.
  if (leaseRunning) {
    return {
      kind: 'wait',
      delaySeconds: policy.conflictRetrySeconds,
      reason:
        `waiting: the ${record.operation} of this access by message ${record.messageId} is being submitted; ` +
        `the ${unit.requestType} goes after it`,
    };
  }
  if (record.state === 'submitted' && !windowRunning)
    return { kind: 'claim', expect: unchanged('dedupUntil') };
  if (!opposite)
    return { kind: 'needs-opposite-status', since: record.attemptSince, opposite: record.operation };
  if (opposite.pending) {
    return {
      kind: 'wait',
      delaySeconds: policy.conflictRetrySeconds,
      reason:
        `waiting: the earlier ${record.operation} of this access (message ${record.messageId}, ` +
        `${iso(record.attemptSince)}) is still ${opposite.state ?? 'pending'} in SailPoint; ` +
        `the ${unit.requestType} goes once it has finished`,
    };
  }
  if (!opposite.found && now - record.attemptSince < policy.statusSettleMs) {
    return {
      kind: 'wait',
      delaySeconds: Math.max(
        policy.conflictRetrySeconds,
        Math.ceil((record.attemptSince + policy.statusSettleMs - now) / 1000),
      ),
      reason:
        `waiting: the earlier ${record.operation} of this access (${iso(record.attemptSince)}) is not listed by ` +
        'SailPoint yet; its status decides when this one may go',
    };
  }
  return { kind: 'claim', expect: unchanged(record.state === 'claimed' ? 'leaseExpiresAt' : undefined) };
}

export function oppositeOf(requestType: RequestType): RequestType {
  return requestType === 'GRANT_ACCESS' ? 'REVOKE_ACCESS' : 'GRANT_ACCESS';
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
