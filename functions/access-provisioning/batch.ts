/**
 * What the stages of one batch share: the settings, the messages as the queue hands them over, the
 * counters, what a stage decides for a unit, and the ports a stage may use. Plain types only.
 */
import type { LogSink } from '../shared/observability';
import type { AccessRequestGateway } from './gateway';
import type { UnitOutcome } from './outcomes';
import type { ProvisioningStore } from './state-store';

export interface ProcessorSettings {
  /** Duplicates of a submitted unit are suppressed for this long. */
  readonly dedupWindowMs: number;
  /** How long a claim keeps other messages off a unit; must exceed the function timeout. */
  readonly claimLeaseMs: number;
  /** How long SailPoint may take to list an accepted request in /access-request-status. */
  readonly statusSettleMs: number;
  /** Retry delay while the opposite request type of the same access is pending. */
  readonly conflictRetrySeconds: number;
  /** ACCESS_EVENTS_WAIT_SECONDS in ms (slot-policy.ts `eventWaitMs`); 0 or absent: no event triggers. */
  readonly eventWaitMs?: number;
  /** How soon a unit in flight in another message's attempt is looked at again (uncharged). */
  readonly inFlightRetrySeconds: number;
  /** Retry delay after a 5xx, timeout or other transient failure (0: visible again at once). */
  readonly transientRetrySeconds: number;
  /** Upper bound for a Retry-After honoured as the message's retry delay (SQS allows 12 h). */
  readonly maxRetryAfterSeconds: number;
  /** Recipients of a GRANT without entitlements (with entitlements the API allows 10). */
  readonly maxRecipients: number;
  /** Items per request (entitlements: at most 25 whatever this says). */
  readonly maxItems: number;
  /** Units one message may ask for (MAX_UNITS_PER_MESSAGE); a larger one is invalid. */
  readonly maxUnitsPerMessage: number;
  /** How long after it was sent a message naming an identity Search does not know is retried. */
  readonly unknownIdentityWindowMs: number;
  readonly outcomeRetentionMs: number;
  /** The queue's maxReceiveCount: on the last receive a retry is recorded as failed. */
  readonly maxReceiveCount: number;
  /** Parallel SailPoint calls and DynamoDB writes within one batch. */
  readonly concurrency: number;
  /** Identities read per Search call (SEARCH_IDENTITIES_PER_CALL). */
  readonly identitiesPerSearch: number;
  /**
   * No SailPoint call is started when less than this is left of the invocation: the rest of the batch
   * is retried instead of being cut off by the function timeout (which would retry it all, later).
   */
  readonly timeReserveMs: number;
  /**
   * The instance's client-side SailPoint budget (requests per 10 s; 0: none). Chunks are sized so
   * that the budget can carry each out before the invocation's deadline.
   */
  readonly requestsPer10s: number;
}

/**
 * Time kept back per message of the batch, on top of TIME_RESERVE_SECONDS, for settling it after the
 * last SailPoint call: its outcome record, a dead letter or a requeued copy, the queue's answer.
 */
export const SETTLE_MS_PER_MESSAGE = 5;

/** Time kept back per message no chunk reached yet: putting its copy back on the queue. */
export const REQUEUE_MS_PER_MESSAGE = 1;

export interface BatchMessage {
  /** The message's id: its SQS id, or, for a requeued copy, the id of the message it continues. */
  readonly messageId: string;
  readonly body: string;
  /** Receives charged to the message, this one included (for a requeued copy: read from its record). */
  readonly receiveCount: number;
  /** Epoch ms the message was first sent (SQS SentTimestamp of the original): decides order. */
  readonly sentAt: number;
  /** A copy the workflow put back on the queue uncharged (its attempts so far are in its record). */
  readonly requeued?: boolean;
}

export interface BatchCounts {
  messages: number;
  units: number;
  submitted: number;
  duplicatesSuppressed: number;
  alreadyHeld: number;
  notHeld: number;
  invalidMessages: number;
  failedMessages: number;
  retriedMessages: number;
  /** Messages this invocation did not reach, put back on the queue uncharged. */
  requeuedMessages: number;
  waiting: number;
  reconciled: number;
  requestsPosted: number;
  statusLookups: number;
  identityLookups: number;
  /** Chunks the batch was worked in. */
  chunks: number;
  /** Milliseconds from the end of the last chunk to the batch's outcomes (the settle time to reserve). */
  settleMs: number;
}

export function emptyCounts(messages: number): BatchCounts {
  return {
    messages,
    units: 0,
    submitted: 0,
    duplicatesSuppressed: 0,
    alreadyHeld: 0,
    notHeld: 0,
    invalidMessages: 0,
    failedMessages: 0,
    retriedMessages: 0,
    requeuedMessages: 0,
    waiting: 0,
    reconciled: 0,
    requestsPosted: 0,
    statusLookups: 0,
    identityLookups: 0,
    chunks: 0,
    settleMs: 0,
  };
}

/** What a stage decided for a unit; the unit takes no further part in the batch. */
export interface UnitResult {
  readonly outcome: UnitOutcome;
  /** The message credited with a submission (the others asking for the unit see a duplicate). */
  readonly submitter?: string;
}

/** Unit key → its result. */
export type UnitResults = Map<string, UnitResult>;

/** The ports and limits every stage of one batch works with. */
export interface StageDeps {
  readonly store: ProvisioningStore;
  readonly gateway: AccessRequestGateway;
  readonly settings: ProcessorSettings;
  readonly clock: () => number;
  readonly log?: LogSink;
  readonly counts: BatchCounts;
  /**
   * No POST is sent after this moment: the invocation's deadline (or the claim lease when unknown).
   * Claims record it as their attempt's end (attemptUntil).
   */
  readonly attemptDeadline: number;
  /**
   * No SailPoint call starts, nor waits, after this moment (the gateway carries it as the client's
   * deadline): the invocation's deadline less the time kept to settle the batch.
   */
  readonly callDeadline: number;
}

/** Parallel DynamoDB writes where no SailPoint call is involved (claims, releases, records). */
export function writeConcurrency(settings: Pick<ProcessorSettings, 'concurrency'>): number {
  return settings.concurrency * 4;
}

/** True when no further SailPoint call should start in this invocation. */
export function outOfTime(deps: Pick<StageDeps, 'clock' | 'callDeadline'>): boolean {
  return deps.clock() >= deps.callDeadline;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export { mapLimit } from '../shared/concurrency';
