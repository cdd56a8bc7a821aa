/**
 * Turns per-message outcomes into SQS actions with the event source mapping's partial-failure
 * contract (ReportBatchItemFailures). A message is only ever deleted once its outcome is known and,
 * for dead letters, once the DLQ has accepted it: nothing is silently dropped.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LogSink } from '../observability';
import { deadLetterEntry } from './dead-letters';
import { decideFailure, messageOutcomeOf, PermanentMessageError } from '../failure-policy';
import type { MessageOutcome } from './outcomes';

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly record: SQSRecord;
}

export interface SettleDeps {
  readonly sqs: SQSClient;
  /** The source queue's URL: needed to change a message's visibility (Retry-After). */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The queue's redrive maxReceiveCount: on the last receive a retry becomes a dead letter with its reason. */
  readonly maxReceiveCount: number;
  readonly log: LogSink;
}

export interface SettledBatch {
  readonly response: SQSBatchResponse;
  readonly outcomes: ReadonlyMap<string, MessageOutcome>;
}

export function toQueueMessages(event: SQSEvent): QueueMessage[] {
  return event.Records.map((record) => ({
    messageId: record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
    record,
  }));
}

/** Runs `process` over the batch and settles every message. A thrown error retries the whole batch. */
export async function settleSqsBatch(
  event: SQSEvent,
  process: (messages: QueueMessage[]) => Promise<ReadonlyMap<string, MessageOutcome>>,
  deps: SettleDeps,
): Promise<SettledBatch> {
  const messages = toQueueMessages(event);
  let decided: ReadonlyMap<string, MessageOutcome>;
  try {
    decided = await process(messages);
  } catch (error) {
    deps.log.error('batch failed before any outcome was decided; every message will be retried', {
      error: error instanceof Error ? error.message : String(error),
    });
    decided = new Map(messages.map((m) => [m.messageId, batchFailureOutcome(error)]));
  }

  const outcomes = new Map<string, MessageOutcome>();
  for (const message of messages) {
    let outcome: MessageOutcome = decided.get(message.messageId) ?? {
      status: 'retry',
      reason: 'no outcome was recorded for this message',
    };
    if (outcome.status === 'retry' && message.receiveCount >= deps.maxReceiveCount) {
      outcome = {
        status: 'dead-letter',
        reason: `gave up after ${message.receiveCount} attempts: ${outcome.reason}`,
      };
    }
    outcomes.set(message.messageId, outcome);
  }

  const failures = new Set<string>();
  await deadLetter(
    messages.filter((m) => outcomes.get(m.messageId)?.status === 'dead-letter'),
    outcomes,
    deps,
    failures,
  );
  const delayed: { message: QueueMessage; delaySeconds: number }[] = [];
  for (const message of messages) {
    const outcome = outcomes.get(message.messageId)!;
    if (outcome.status !== 'retry') continue;
    failures.add(message.messageId);
    if (outcome.delaySeconds !== undefined) delayed.push({ message, delaySeconds: outcome.delaySeconds });
  }
  await delayRedelivery(delayed, deps);

  return {
    response: { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) },
    outcomes,
  };
}

/**
 * The outcome of every message when the batch failed as a whole (the shared failure policy), except
 * that no message is dead-lettered for an error not addressed to it: only a PermanentMessageError
 * says the messages themselves are bad; anything else retries them (their last receive still
 * dead-letters them with the reason).
 */
function batchFailureOutcome(error: unknown): MessageOutcome {
  const decision = decideFailure(error);
  if (decision.action === 'dead-letter' && !(error instanceof PermanentMessageError)) {
    return { status: 'retry', reason: decision.reason };
  }
  return messageOutcomeOf(decision);
}

async function deadLetter(
  messages: QueueMessage[],
  outcomes: Map<string, MessageOutcome>,
  deps: SettleDeps,
  failures: Set<string>,
): Promise<void> {
  // SendMessageBatch takes at most 10 entries.
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    try {
      const result = await deps.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: deps.deadLetterQueueUrl,
          Entries: chunk.map((message, index) => {
            const outcome = outcomes.get(message.messageId) as { reason: string };
            return deadLetterEntry(message.record, outcome.reason, String(index));
          }),
        }),
      );
      for (const failed of result.Failed ?? []) {
        const message = chunk[Number(failed.Id)];
        if (message) failures.add(message.messageId);
      }
    } catch (error) {
      deps.log.error('could not send to the dead-letter queue; the messages will be retried', {
        error: error instanceof Error ? error.message : String(error),
      });
      for (const message of chunk) failures.add(message.messageId);
    }
  }
  for (const message of messages) {
    const outcome = outcomes.get(message.messageId) as { reason: string };
    deps.log.warn('message dead-lettered', { messageId: message.messageId, reason: outcome.reason });
  }
}

/** Sets each retried message's visibility to its delay: one ChangeMessageVisibilityBatch per 10. */
async function delayRedelivery(
  delayed: readonly { message: QueueMessage; delaySeconds: number }[],
  deps: SettleDeps,
): Promise<void> {
  // Not fatal when it fails: the message is still retried, only after the queue's own visibility timeout.
  const warn = (message: QueueMessage, error: string) =>
    deps.log.warn('could not delay redelivery', { messageId: message.messageId, error });
  for (let i = 0; i < delayed.length; i += 10) {
    const chunk = delayed.slice(i, i + 10);
    try {
      const result = await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.queueUrl,
          Entries: chunk.map(({ message, delaySeconds }, index) => ({
            Id: String(index),
            ReceiptHandle: message.record.receiptHandle,
            VisibilityTimeout: Math.min(43_200, Math.max(0, Math.ceil(delaySeconds))),
          })),
        }),
      );
      for (const failed of result.Failed ?? []) {
        const entry = chunk[Number(failed.Id)];
        if (entry) warn(entry.message, `${failed.Code ?? 'error'}: ${failed.Message ?? ''}`.trim());
      }
    } catch (error) {
      for (const { message } of chunk) warn(message, error instanceof Error ? error.message : String(error));
    }
  }
}
