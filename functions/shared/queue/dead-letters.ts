/**
 * The dead-letter format, written by settle-batch.ts and read back by the operator CLI (`iga dlq`).
 *
 * Our functions send dead letters themselves (SendMessageBatch, with the reason), so SQS does not know
 * where they came from: `start-message-move-task` cannot move them back, and the producer's message
 * attributes would be lost. Each dead letter therefore carries what a redrive needs:
 *
 *   body                 the original body, unchanged
 *   MessageGroupId       the original group (FIFO)
 *   reason               why it was dead-lettered
 *   sourceMessageId      the message id on the work queue
 *   sourceQueueArn       the work queue
 *   firstReceivedAt      the first receive on the work queue (ISO)
 *   deadLetteredAt       the last receive, when the function gave up (ISO)
 *   receiveCount         receives on the work queue
 *   sourceSenderId       who sent it to the work queue: its SenderId (IAM user id, or role id:session),
 *                        when SQS said
 *   originalAttributes   the producer's message attributes as JSON (binary values in base64); absent
 *                        when there were none. One attribute, because SQS allows only 10 per message.
 *
 * A message SQS moved by itself (the redrive policy, after a crash on its last receive) has none of
 * these but keeps its own attributes; `readDeadLetter` handles both.
 */
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/** Message attributes this module adds; everything else on a dead letter is the producer's. */
export const DEAD_LETTER_ATTRIBUTES = [
  'reason',
  'sourceMessageId',
  'sourceQueueArn',
  'firstReceivedAt',
  'deadLetteredAt',
  'receiveCount',
  'sourceSenderId',
  'originalAttributes',
] as const;

/** A message attribute in JSON: strings as they are, binary values base64-encoded. */
type StoredAttribute = { DataType: string; StringValue?: string; BinaryValue?: string };

const MAX_REASON_LENGTH = 4000;

/** The SendMessageBatch entry that dead-letters `record` with `reason` (Id: the caller's). */
export function deadLetterEntry(
  record: SQSRecord,
  reason: string,
  id: string,
  now = new Date(),
): SendMessageBatchRequestEntry {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const firstReceived = Number(record.attributes?.ApproximateFirstReceiveTimestamp);
  const original = storedAttributes(record);
  return {
    Id: id,
    MessageBody: record.body || '(empty body)',
    // A FIFO queue's DLQ is FIFO too: keep the message group, dedupe on the source message.
    ...(record.attributes?.MessageGroupId
      ? { MessageGroupId: record.attributes.MessageGroupId, MessageDeduplicationId: record.messageId }
      : {}),
    MessageAttributes: {
      reason: text(reason.slice(0, MAX_REASON_LENGTH)),
      sourceMessageId: text(record.messageId),
      sourceQueueArn: text(record.eventSourceARN || 'unknown'),
      ...(Number.isFinite(firstReceived) && firstReceived > 0
        ? { firstReceivedAt: text(new Date(firstReceived).toISOString()) }
        : {}),
      deadLetteredAt: text(now.toISOString()),
      receiveCount: { DataType: 'Number', StringValue: record.attributes?.ApproximateReceiveCount ?? '1' },
      ...(record.attributes?.SenderId ? { sourceSenderId: text(record.attributes.SenderId) } : {}),
      ...(Object.keys(original).length ? { originalAttributes: text(JSON.stringify(original)) } : {}),
    },
  };
}

function storedAttributes(record: SQSRecord): Record<string, StoredAttribute> {
  const stored: Record<string, StoredAttribute> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    stored[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: value.binaryValue } : {}),
    };
  }
  return stored;
}

/** A dead letter as read from the DLQ (ReceiveMessage with all message and system attributes). */
export interface DeadLetter {
  /** The DLQ's message id and receipt handle (to delete or release it). */
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly reason?: string;
  readonly sourceMessageId?: string;
  readonly sourceQueueArn?: string;
  readonly firstReceivedAt?: string;
  readonly deadLetteredAt?: string;
  readonly receiveCount?: number;
  /** Who sent the original message (its SenderId on the work queue), when known. */
  readonly sourceSenderId?: string;
  readonly messageGroupId?: string;
  /** When it entered the DLQ (SentTimestamp there), epoch ms. */
  readonly enqueuedAt: number;
  /** The producer's attributes, ready to send again. */
  readonly originalAttributes: Record<string, MessageAttributeValue>;
  /** How the dead letter got there: sent by our function with a reason, or moved by SQS's redrive policy. */
  readonly origin: 'function' | 'redrive-policy';
}

export function readDeadLetter(message: Message): DeadLetter {
  const attributes = message.MessageAttributes ?? {};
  const text = (name: string) => attributes[name]?.StringValue;
  const system = message.Attributes ?? {};
  const sentByFunction = text('sourceMessageId') !== undefined;
  let original: Record<string, MessageAttributeValue>;
  if (sentByFunction) {
    const stored = text('originalAttributes');
    original = stored ? fromStored(JSON.parse(stored) as Record<string, StoredAttribute>) : {};
  } else {
    original = { ...attributes };
  }
  const receives = Number(text('receiveCount'));
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    reason: text('reason') ?? (sentByFunction ? undefined : 'moved by the queue redrive policy (no reason)'),
    sourceMessageId: text('sourceMessageId'),
    sourceQueueArn: text('sourceQueueArn') ?? system.DeadLetterQueueSourceArn,
    firstReceivedAt: text('firstReceivedAt'),
    deadLetteredAt: text('deadLetteredAt'),
    ...(Number.isFinite(receives) ? { receiveCount: receives } : {}),
    ...(sentByFunction && text('sourceSenderId') ? { sourceSenderId: text('sourceSenderId') } : {}),
    messageGroupId: system.MessageGroupId,
    enqueuedAt: Number(system.SentTimestamp ?? 0),
    originalAttributes: original,
    origin: sentByFunction ? 'function' : 'redrive-policy',
  };
}

function fromStored(stored: Record<string, StoredAttribute>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(stored)) {
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue, 'base64') } : {}),
    };
  }
  return out;
}
