/**
 * Stage 6 — settle: every message gets a verdict from its units' outcomes (outcomes.ts), an outcome
 * record ("what happened to request X") and a queue outcome; the batch's counts are completed.
 *
 * - A unit submitted for another message of the batch is a duplicate for this one.
 * - An invalid message lists its units too — one it had submitted in an earlier receive as
 *   `submitted` — so the record never hides a request that exists in SailPoint.
 * - On the queue's last allowed receive a retry becomes a dead letter "gave up after N attempts".
 * - A message held back only by units this invocation did not reach is not charged a failed attempt:
 *   it is requeued (`requeue`, done by the handler) and gets no outcome record this time.
 * - An outcome record that cannot be written retries the message (the slots remember the work).
 */
import type { MessageOutcome } from '../shared/queue/outcomes';
import {
  errorText,
  mapLimit,
  writeConcurrency,
  type BatchCounts,
  type StageDeps,
  type UnitResult,
} from './batch';
import {
  verdictOf,
  type MessageStatus,
  type MessageVerdict,
  type UnitOutcome,
  type UnitOutcomeKind,
} from './outcomes';
import type { PlannedMessage, PlannedUnit } from './plan';
import { FINISHING } from './request-dedup';
import type { UnitOutcomeRecord } from './state-store';
import { describeUnit, type Unit } from './units';

export interface BatchReport {
  readonly outcomes: Map<string, MessageOutcome>;
  readonly verdicts: Map<string, MessageVerdict & { requestId?: string; units: UnitOutcomeRecord[] }>;
  /**
   * Messages this invocation did not reach (in part or at all), with the delay their copy should
   * wait: to be put back on the queue uncharged (their `outcomes` entry is the fallback retry).
   */
  readonly requeue: Map<string, number>;
  /** With `deferUncharged`: the messages left for a later settle (their retry was uncharged). */
  readonly deferred: SettledMessage[];
  readonly counts: BatchCounts;
}

/** A message as the batch leaves it. */
export interface SettledMessage {
  readonly planned: PlannedMessage;
  /** Why it is invalid: at planning, or found later (an unknown identity). */
  readonly invalid?: string;
  /** The units of the chunk that processed it; absent: no chunk reached it. */
  readonly units?: ReadonlyMap<string, SettledUnit>;
  /** Units of that chunk found in flight in another attempt (looked at again before a deferred settle). */
  readonly inFlight?: readonly PlannedUnit[];
}

/** A unit as the batch leaves it: its result and the valid messages that asked for it. */
export interface SettledUnit {
  readonly result: UnitResult;
  readonly owners: readonly string[];
}

export async function settleBatch(
  messages: readonly SettledMessage[],
  deps: Pick<StageDeps, 'store' | 'settings' | 'clock' | 'log' | 'counts'>,
  options: {
    /** Set when the batch could not start (e.g. the credential): every message gets this outcome. */
    batchFailure?: UnitOutcome;
    /**
     * Leave messages whose retry would be uncharged (in flight elsewhere, not reached) for a later
     * settle — the end of the batch, when in-flight units have been looked at again.
     */
    deferUncharged?: boolean;
    /** The batch's processed-request writes so far (one map for all settles of an invocation). */
    requests?: RequestWrites;
  } = {},
): Promise<BatchReport> {
  const { batchFailure } = options;
  const deferred: SettledMessage[] = [];
  const { settings, counts } = deps;
  const outcomes = new Map<string, MessageOutcome>();
  const verdicts: BatchReport['verdicts'] = new Map();
  const requeue = new Map<string, number>();
  const at = deps.clock();
  // DynamoDB writes only: more at once than the SailPoint calls of a chunk.
  await mapLimit(messages, writeConcurrency(settings), async (message) => {
    const { planned, invalid, units: reached } = message;
    const units = reached ?? NOT_REACHED;
    const { messageId, receiveCount } = planned.message;
    const records: UnitOutcomeRecord[] = [];
    let verdict: MessageVerdict;
    if (batchFailure) {
      verdict = verdictOf([batchFailure]);
    } else if (planned.decided && !invalid) {
      for (const unit of planned.units) records.push(unitRecord(unit, planned.decided));
      verdict = { ...verdictOf([planned.decided]), reason: planned.decided.detail };
    } else if (invalid) {
      for (const unit of planned.units) {
        const settled = units.get(unit.key);
        if (!settled) continue;
        const submittedByIt =
          settled.result.outcome.kind === 'submitted' && submitterOf(settled) === messageId;
        records.push(
          unitRecord(unit, submittedByIt ? settled.result.outcome : { kind: 'invalid', detail: invalid }),
        );
      }
      verdict = { status: 'invalid', reason: invalid, queue: { status: 'dead-letter', reason: invalid } };
    } else {
      const unitOutcomes = planned.units.map((unit) => {
        const outcome = ownerView(units.get(unit.key) ?? NOT_REACHED_UNIT, messageId);
        records.push(unitRecord(unit, outcome));
        return outcome;
      });
      verdict = verdictOf(unitOutcomes);
    }
    const uncharged = verdict.uncharged === true && verdict.queue.status === 'retry';
    if (uncharged && options.deferUncharged) {
      deferred.push(message);
      return;
    }
    if (uncharged) {
      // Not a failed attempt (not reached, or waiting on another message's attempt): requeued, not
      // charged. A message no chunk reached gets no record this time (nothing new to say).
      requeue.set(messageId, verdict.queue.status === 'retry' ? (verdict.queue.delaySeconds ?? 0) : 0);
      counts.requeuedMessages++;
      if (reached === undefined) {
        outcomes.set(messageId, verdict.queue);
        verdicts.set(messageId, {
          ...verdict,
          ...(planned.requestId ? { requestId: planned.requestId } : {}),
          units: records,
        });
        return;
      }
    }
    if (!uncharged && verdict.queue.status === 'retry' && receiveCount >= settings.maxReceiveCount) {
      const reason = `gave up after ${receiveCount} attempts: ${verdict.queue.reason}`;
      verdict = { status: 'failed', reason, queue: { status: 'dead-letter', reason } };
    }
    if (!batchFailure && !planned.decided && FINISHING.has(verdict.status)) {
      verdict = await recordProcessedRequest(planned, verdict, at, deps, options.requests);
    }
    try {
      await deps.store.recordOutcome({
        messageId,
        ...(planned.requestId ? { requestId: planned.requestId } : {}),
        receiveCount,
        // The attempts charged so far (a requeued copy reads them here); a dead letter starts over
        // when redriven.
        attempts: verdict.queue.status === 'dead-letter' ? 0 : uncharged ? receiveCount - 1 : receiveCount,
        status: verdict.status,
        ...(verdict.reason ? { reason: verdict.reason } : {}),
        units: records,
        at,
        retentionMs: settings.outcomeRetentionMs,
      });
    } catch (error) {
      // The work is remembered in the slots; a redelivery reproduces the outcome and records it. On
      // the last receive a finished message is deleted anyway (its outcome is in this log line): a
      // message whose units were all submitted never ends in the DLQ for want of a record.
      deps.log?.error('outcome record failed', {
        messageId,
        status: verdict.status,
        reason: verdict.reason,
        error: errorText(error),
      });
      const lastReceive = receiveCount >= settings.maxReceiveCount;
      if (verdict.queue.status === 'retry' || (verdict.queue.status === 'done' && !lastReceive)) {
        const reason = `could not record the outcome (${errorText(error)}); retrying records it`;
        verdict = { status: 'retrying', reason, queue: { status: 'retry', reason } };
      }
    }
    outcomes.set(messageId, verdict.queue);
    verdicts.set(messageId, {
      ...verdict,
      ...(planned.requestId ? { requestId: planned.requestId } : {}),
      units: records,
    });
    if (!uncharged) countVerdict(counts, verdict.status);
  });
  return { outcomes, verdicts, requeue, deferred, counts };
}

/** Adds a chunk's units to the batch's counts (once per chunk, when its units are final). */
export function countUnits(counts: BatchCounts, units: ReadonlyMap<string, SettledUnit>): void {
  for (const unit of units.values()) countUnit(counts, unit.result.outcome.kind, unit.owners.length);
}

const NOT_REACHED = new Map<string, SettledUnit>();
const NOT_REACHED_UNIT: SettledUnit = {
  owners: [],
  result: {
    outcome: {
      kind: 'retrying',
      detail: 'the invocation ran out of time before this message was reached; retrying it',
      delaySeconds: 0,
      uncharged: true,
    },
  },
};

/**
 * The processed-request records this invocation has written, by requestId: the message that wrote
 * it, until when it holds the requestId, and whether the write took (false: lost its condition, or
 * failed).
 */
export type RequestWrites = Map<
  string,
  { readonly messageId: string; readonly retainUntil: number; readonly written: Promise<boolean> }
>;

/**
 * A finished message with a requestId owns it for the retention (request-dedup.ts). If that cannot be
 * recorded the message is retried (its units are remembered in the slots) — except on its last
 * receive, where it is done anyway: a finished request never goes to the DLQ.
 *
 * Messages of one batch re-sending the same request (same requestId) all finish together, and only
 * the first write can take: once another message's record of the requestId is written and held past
 * `at`, this message's conditional write (not absent, not its messageId, retainUntil > now) is sure to
 * lose, and a lost write changes nothing (the record stays the first finisher's; the verdict is the
 * same). So it is not sent — one write per requestId per batch, not one per copy.
 */
async function recordProcessedRequest(
  planned: PlannedMessage,
  verdict: MessageVerdict,
  at: number,
  deps: Pick<StageDeps, 'store' | 'settings' | 'log'>,
  writes?: RequestWrites,
): Promise<MessageVerdict> {
  const { requestId, fingerprint } = planned;
  if (!requestId || !fingerprint) return verdict;
  const { messageId } = planned.message;
  const earlier = writes?.get(requestId);
  if (earlier && earlier.messageId !== messageId && earlier.retainUntil > at && (await earlier.written)) {
    return verdict;
  }
  const retainUntil = at + deps.settings.outcomeRetentionMs;
  const write = deps.store.recordProcessedRequest({
    requestId,
    messageId,
    fingerprint,
    processedAt: at,
    retainUntil,
  });
  // Set before the first await, so a copy settled alongside waits for this write instead of racing it.
  writes?.set(requestId, { messageId, retainUntil, written: write.catch(() => false) });
  try {
    await write;
    return verdict;
  } catch (error) {
    deps.log?.error('could not record a processed request', { requestId, error: errorText(error) });
    if (planned.message.receiveCount >= deps.settings.maxReceiveCount) return verdict;
    const reason = `could not record request ${requestId} as processed (${errorText(error)}); retrying records it`;
    return { status: 'retrying', reason, queue: { status: 'retry', reason } };
  }
}

function submitterOf(unit: SettledUnit): string | undefined {
  return unit.result.submitter ?? unit.owners[0];
}

/** The unit's outcome as one message asking for it sees it. */
function ownerView(unit: SettledUnit, messageId: string): UnitOutcome {
  const { outcome } = unit.result;
  const submitter = submitterOf(unit);
  if (outcome.kind === 'submitted' && submitter !== messageId) {
    return { kind: 'duplicate', detail: `duplicate: the same unit was submitted for message ${submitter}` };
  }
  return outcome;
}

function unitRecord(unit: Unit, outcome: UnitOutcome): UnitOutcomeRecord {
  return {
    unit: describeUnit(unit),
    requestType: unit.requestType,
    identityId: unit.identityId,
    itemType: unit.item.type,
    itemId: unit.item.id,
    outcome: outcome.kind,
    detail: outcome.detail,
    ...(outcome.kind === 'submitted' && outcome.accessRequestIds?.length
      ? { accessRequestIds: [...outcome.accessRequestIds] }
      : {}),
  };
}

function countVerdict(counts: BatchCounts, status: MessageStatus) {
  if (status === 'invalid') counts.invalidMessages++;
  else if (status === 'failed') counts.failedMessages++;
  else if (status === 'retrying') counts.retriedMessages++;
}

function countUnit(counts: BatchCounts, kind: UnitOutcomeKind, owners: number) {
  switch (kind) {
    case 'submitted':
      counts.submitted++;
      counts.duplicatesSuppressed += owners - 1;
      break;
    case 'duplicate':
      counts.duplicatesSuppressed += owners;
      break;
    case 'already-held':
      counts.alreadyHeld++;
      break;
    case 'not-held':
      counts.notHeld++;
      break;
    case 'waiting':
      counts.waiting++;
      break;
    default:
      break;
  }
}
