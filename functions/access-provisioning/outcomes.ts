/**
 * Outcomes per unit and per message, and how a message's outcome follows from its units'.
 *
 * A message is settled on the queue as:
 * - dead letter: it is invalid (bad JSON, schema or rule violation, unknown identity, a REVOKE for
 *   the credential's own identity) or SailPoint refused one of its requests with a 4xx;
 * - retry: any unit must wait (GRANT/REVOKE race) or failed transiently (429 with Retry-After, 5xx,
 *   timeout, DynamoDB error) — units already done are remembered in the slot state, so the retry
 *   only redoes the rest;
 * - done: every unit was submitted, suppressed as a duplicate, or skipped (already held / not held).
 */
import { groupBy } from '../shared/collections';
import type { MessageOutcome } from '../shared/queue/outcomes';

export type UnitOutcomeKind =
  'submitted' | 'duplicate' | 'already-held' | 'not-held' | 'waiting' | 'retrying' | 'failed' | 'invalid';

export type UnitOutcome =
  | { kind: 'submitted'; detail: string; accessRequestIds?: readonly string[] }
  | { kind: 'duplicate' | 'already-held' | 'not-held' | 'invalid' | 'failed'; detail: string }
  | {
      kind: 'waiting' | 'retrying';
      detail: string;
      delaySeconds?: number;
      /**
       * Not a failed attempt: nothing was attempted for the unit in this invocation (out of time, or
       * the deadline stopped its call before it was sent), or it waits on another message's attempt
       * (in flight). A message held back only by such units is requeued without being charged a
       * failed attempt (workflow.ts).
       */
      uncharged?: true;
    };

/**
 * What SailPoint's event triggers (Access Request Decision, Provisioning Completed) said of a submitted
 * unit's access request, as the outcome shows it: approved (provisioning not reported yet, or pending),
 * rejected (with the approver's comment), provisioned, or failed (provisioning). Events are recorded
 * beside the outcome as they come (functions/event-triggers/access-events.ts) and merged when it is read.
 */
export interface UnitRequestState {
  readonly state: 'approved' | 'rejected' | 'provisioned' | 'failed';
  readonly accessRequestId: string;
  /** ISO time of the event that decided the state. */
  readonly at: string;
  readonly approver?: string;
  readonly comment?: string;
  readonly errors?: readonly string[];
}

/** One event's word on one unit, as recorded under the unit's message. */
export interface UnitEventRecord {
  readonly identityId: string;
  readonly itemType: string;
  readonly itemId: string;
  readonly operation: string;
  readonly accessRequestId: string;
  readonly kind: 'decision' | 'provisioning';
  readonly result: 'APPROVED' | 'REJECTED' | 'SUCCESS' | 'PENDING' | 'FAILED';
  /** Epoch ms of the event. */
  readonly at: number;
  readonly approver?: string;
  readonly comment?: string;
  readonly errors?: readonly string[];
}

const unitEventKey = (u: { identityId: string; itemType: string; itemId: string; operation: string }) =>
  `${u.identityId}\u0000${u.itemType}\u0000${u.itemId}\u0000${u.operation}`;

/**
 * The state of each unit (key: identity, item type, item id, request type) from its events, in any
 * order and however often each came: a final word (rejected, failed, provisioned) wins over
 * "approved"; of the unit's access requests, the one with the latest event counts.
 */
export function unitRequestStates(events: readonly UnitEventRecord[]): Map<string, UnitRequestState> {
  const byRequest = groupBy(events, (e) => `${unitEventKey(e)}\u0000${e.accessRequestId}`);
  const states = new Map<string, UnitRequestState & { atMs: number }>();
  for (const group of byRequest.values()) {
    const first = group[0]!;
    const decision = group.find((e) => e.kind === 'decision');
    const provisioning = group.filter((e) => e.kind === 'provisioning');
    const failed = provisioning.find((e) => e.result === 'FAILED');
    const done = provisioning.find((e) => e.result === 'SUCCESS');
    const pending = provisioning.some((e) => e.result === 'PENDING');
    const state: UnitRequestState['state'] =
      decision?.result === 'REJECTED'
        ? 'rejected'
        : failed
          ? 'failed'
          : done && !pending
            ? 'provisioned'
            : 'approved';
    const decisive =
      state === 'rejected'
        ? decision!
        : state === 'failed'
          ? failed!
          : state === 'provisioned'
            ? done!
            : (decision ?? first);
    const atMs = Math.max(...group.map((e) => e.at));
    const entry = {
      state,
      accessRequestId: first.accessRequestId,
      at: new Date(decisive.at).toISOString(),
      atMs,
      ...(decision?.approver ? { approver: decision.approver } : {}),
      ...(decision?.comment ? { comment: decision.comment } : {}),
      ...(failed?.errors?.length ? { errors: failed.errors } : {}),
    };
    const key = unitEventKey(first);
    const current = states.get(key);
    if (!current || atMs >= current.atMs) states.set(key, entry);
  }
  return new Map([...states].map(([key, { atMs: _atMs, ...state }]) => [key, state]));
}

/** The key unitRequestStates uses for a unit of an outcome record. */
export function unitStateKey(unit: {
  identityId: string;
  itemType: string;
  itemId: string;
  requestType: string;
}): string {
  return unitEventKey({ ...unit, operation: unit.requestType });
}

/** The message-level status stored in the outcome record. */
export type MessageStatus =
  'submitted' | 'duplicate' | 'already-held' | 'not-held' | 'invalid' | 'failed' | 'retrying';

export interface MessageVerdict {
  readonly status: MessageStatus;
  readonly queue: MessageOutcome;
  readonly reason?: string;
  /** A retry caused only by uncharged units (not reached, or in flight elsewhere): not a failed attempt. */
  readonly uncharged?: true;
}

/** Most significant first: one failing unit fails the message; one retry retries it. */
const PRECEDENCE: readonly UnitOutcomeKind[] = [
  'invalid',
  'failed',
  'retrying',
  'waiting',
  'submitted',
  'already-held',
  'not-held',
  'duplicate',
];

export function verdictOf(units: readonly UnitOutcome[]): MessageVerdict {
  const worst = [...units].sort((a, b) => PRECEDENCE.indexOf(a.kind) - PRECEDENCE.indexOf(b.kind))[0];
  if (!worst)
    return { status: 'invalid', queue: { status: 'dead-letter', reason: 'the message has no units' } };
  switch (worst.kind) {
    case 'invalid':
    case 'failed': {
      const reason = distinct(units.filter((u) => u.kind === worst.kind).map((u) => u.detail)).join('; ');
      return { status: worst.kind, reason, queue: { status: 'dead-letter', reason } };
    }
    case 'retrying':
    case 'waiting': {
      const retrying = units.filter((u) => u.kind === 'retrying' || u.kind === 'waiting');
      const reason = distinct(retrying.map((u) => u.detail)).join('; ');
      const delays = retrying
        .map((u) => ('delaySeconds' in u ? u.delaySeconds : undefined))
        .filter((d): d is number => d !== undefined);
      const uncharged = retrying.every((u) => 'uncharged' in u && u.uncharged);
      return {
        status: 'retrying',
        reason,
        queue: {
          status: 'retry',
          reason,
          ...(delays.length > 0 ? { delaySeconds: Math.max(...delays) } : {}),
        },
        ...(uncharged ? { uncharged: true as const } : {}),
      };
    }
    default: {
      const counts = new Map<UnitOutcomeKind, number>();
      for (const u of units) counts.set(u.kind, (counts.get(u.kind) ?? 0) + 1);
      const detail = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
      return { status: worst.kind, queue: { status: 'done', detail } };
    }
  }
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
