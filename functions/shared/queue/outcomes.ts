/**
 * What became of one SQS message. Workflows decide; functions/shared/queue/settle-batch.ts acts:
 * - done: deleted from the queue (reported as a success to the event source mapping);
 * - dead-letter: never retried — sent to the DLQ with the reason attached, then deleted;
 * - retry: left on the queue (reported as a batch item failure), visible again after delaySeconds
 *   when given (e.g. SailPoint's Retry-After), else after the queue's visibility timeout.
 */
export type MessageOutcome =
  | { status: 'done'; detail?: string }
  | { status: 'dead-letter'; reason: string }
  | { status: 'retry'; reason: string; delaySeconds?: number };

/** Throw from per-message code when the message itself is bad: retrying cannot help. */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}

/** Throw when the message is fine but must wait (e.g. a rate limit with a known reset time). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    message: string,
    readonly delaySeconds?: number,
  ) {
    super(message);
  }
}

/** Maps an error thrown while handling one message to its outcome. Unknown errors retry: never drop. */
export function outcomeOfError(error: unknown): MessageOutcome {
  if (error instanceof PermanentMessageError) return { status: 'dead-letter', reason: error.message };
  if (error instanceof RetryLaterError) {
    return { status: 'retry', reason: error.message, delaySeconds: error.delaySeconds };
  }
  return { status: 'retry', reason: error instanceof Error ? error.message : String(error) };
}
