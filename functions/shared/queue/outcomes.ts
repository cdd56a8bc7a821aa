/**
 * What became of one SQS message. Workflows decide; functions/shared/queue/settle-batch.ts acts:
 * - done: deleted from the queue (reported as a success to the event source mapping);
 * - dead-letter: never retried — sent to the DLQ with the reason attached, then deleted;
 * - retry: left on the queue (reported as a batch item failure), visible again after delaySeconds
 *   when given (e.g. SailPoint's Retry-After), else after the queue's visibility timeout.
 * Which errors become which outcome is the shared failure policy (../failure-policy.ts).
 */
export type MessageOutcome =
  | { status: 'done'; detail?: string }
  | { status: 'dead-letter'; reason: string }
  | { status: 'retry'; reason: string; delaySeconds?: number };

export { outcomeOfError, PermanentMessageError, RetryLaterError } from '../failure-policy';
