/**
 * Putting a message back on the queue without charging it a failed attempt.
 *
 * SQS counts every receive, and its redrive policy moves a message to the DLQ after
 * `maxReceiveCount` of them — also receives in which the function never got to the message (a large
 * batch under a rate budget). So a message an invocation did not reach is sent again as a *copy* — the
 * same body and message attributes, plus the id of the message it continues and when that was first
 * sent — and the original is deleted. The copy is the same message to the workflow: its outcome
 * record, its slots' submissions and its send order carry over, and the attempts it was charged
 * before are read from its outcome record (workflow.ts), so a copy has no more receives than the
 * original had left.
 *
 * Where the queue does not allow it — a FIFO queue (a copy would lose its place in the group), a
 * message with more than 8 attributes of its own (SQS allows 10), a failed send — the message is
 * retried the ordinary way (charged).
 */
import { SendMessageBatchCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LogSink } from '../shared/observability';

/** The id of the message a copy continues. */
export const MESSAGE_ID_ATTRIBUTE = 'igaAutopilotMessageId';
/** When that message was first sent (epoch ms). */
export const SENT_AT_ATTRIBUTE = 'igaAutopilotSentAt';

const MAX_ATTRIBUTES = 10;
/** SQS's longest DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

/** The message an SQS record is to the workflow: itself, or the one a requeued copy continues. */
export function logicalMessage(record: SQSRecord): { messageId: string; sentAt: number; requeued: boolean } {
  const continues = record.messageAttributes?.[MESSAGE_ID_ATTRIBUTE]?.stringValue;
  const sentAttr = Number(record.messageAttributes?.[SENT_AT_ATTRIBUTE]?.stringValue);
  const sent = Number(record.attributes?.SentTimestamp);
  const sentAt = continues && Number.isFinite(sentAttr) ? sentAttr : Number.isFinite(sent) ? sent : 0;
  return continues
    ? { messageId: continues, sentAt, requeued: true }
    : { messageId: record.messageId, sentAt, requeued: false };
}

export interface RequeueDeps {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly log: LogSink;
}

/**
 * Sends a copy of each record (after `delaySeconds`); returns the SQS ids of the records whose copy
 * the queue accepted — those may be deleted.
 */
export async function requeueCopies(
  copies: readonly { record: SQSRecord; messageId: string; sentAt: number; delaySeconds: number }[],
  deps: RequeueDeps,
): Promise<Set<string>> {
  const accepted = new Set<string>();
  const sendable = copies.filter(({ record }) => {
    if (record.attributes?.MessageGroupId) return false;
    const own = Object.keys(record.messageAttributes ?? {}).filter(
      (name) => name !== MESSAGE_ID_ATTRIBUTE && name !== SENT_AT_ATTRIBUTE,
    );
    return own.length <= MAX_ATTRIBUTES - 2;
  });
  for (let i = 0; i < sendable.length; i += 10) {
    const chunk = sendable.slice(i, i + 10);
    try {
      const result = await deps.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: deps.queueUrl,
          Entries: chunk.map(({ record, messageId, sentAt, delaySeconds }, index) => ({
            Id: String(index),
            MessageBody: record.body,
            DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
            MessageAttributes: {
              ...producerAttributes(record),
              [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: messageId },
              [SENT_AT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(sentAt) },
            },
          })),
        }),
      );
      for (const ok of result.Successful ?? []) accepted.add(chunk[Number(ok.Id)]!.record.messageId);
      for (const failed of result.Failed ?? []) {
        deps.log.warn('could not requeue a message; it is retried instead', {
          messageId: chunk[Number(failed.Id)]?.record.messageId,
          error: failed.Message,
        });
      }
    } catch (error) {
      deps.log.warn('could not requeue messages; they are retried instead', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return accepted;
}

function producerAttributes(record: SQSRecord): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (name === MESSAGE_ID_ATTRIBUTE || name === SENT_AT_ATTRIBUTE) continue;
    out[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  return out;
}
