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
