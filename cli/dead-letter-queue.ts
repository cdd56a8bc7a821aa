/**
 * Reading and redriving a workflow's dead-letter queue (the format: functions/shared/queue/dead-letters.ts).
 *
 * Reading receives every message with a visibility timeout, then makes them visible again at once:
 * SQS has no "peek". Redriving sends each matching dead letter to the work queue with its original
 * body, attributes and message group, then deletes it from the DLQ. A crash between the two leaves the
 * message in both queues; running the redrive again, or the copy already sent, is harmless: the
 * workflow's own deduplication decides (access provisioning never POSTs a unit twice, absence events
 * are idempotent on eventId). Only dead letters already in the DLQ when the redrive started are moved,
 * so one that fails again during the redrive is not sent round in circles.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { readDeadLetter, type DeadLetter } from '../functions/shared/queue/dead-letters';
import type { WorkQueueUrls } from '../local/stack';

/** Long enough for a whole listing or redrive: messages held meanwhile are released at the end. */
const HOLD_SECONDS = 300;

/** A dead letter as `iga dlq` shows it. */
export interface DeadLetterView {
  readonly dlqMessageId: string;
  readonly sourceMessageId?: string;
  /** The producer's id: `requestId` (access requests) or `eventId` (absence events), from the body. */
  readonly requestId?: string;
  readonly reason?: string;
  readonly firstAttempt?: string;
  readonly lastAttempt?: string;
  readonly receiveCount?: number;
  readonly messageGroupId?: string;
  readonly origin: DeadLetter['origin'];
  readonly attributes: readonly string[];
  readonly body: string;
}

export function viewOf(dead: DeadLetter): DeadLetterView {
  return {
    dlqMessageId: dead.messageId,
    sourceMessageId: dead.sourceMessageId,
    requestId: producerIdOf(dead.body),
    reason: dead.reason,
    firstAttempt: dead.firstReceivedAt,
    lastAttempt:
      dead.deadLetteredAt ?? (dead.enqueuedAt ? new Date(dead.enqueuedAt).toISOString() : undefined),
    receiveCount: dead.receiveCount,
    messageGroupId: dead.messageGroupId,
    origin: dead.origin,
    attributes: Object.keys(dead.originalAttributes),
    body: dead.body,
  };
}

function producerIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { requestId?: unknown; eventId?: unknown };
    const id = parsed.requestId ?? parsed.eventId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--filter`: `field=value` (equals) or `field~text` (contains, any case) over reason, requestId,
 * messageId (the source message), group and body; a bare text is contained in any of them.
 */
export function parseFilter(expression: string): (view: DeadLetterView) => boolean {
  const fields: Record<string, (v: DeadLetterView) => string | undefined> = {
    reason: (v) => v.reason,
    requestId: (v) => v.requestId,
    messageId: (v) => v.sourceMessageId,
    group: (v) => v.messageGroupId,
    body: (v) => v.body,
  };
  const match = /^(\w+)([=~])(.*)$/s.exec(expression);
  if (match && match[1]! in fields) {
    const [, field, op, wanted] = match as unknown as [string, string, string, string];
    const read = fields[field]!;
    return op === '='
      ? (v) => read(v) === wanted
      : (v) => (read(v) ?? '').toLowerCase().includes(wanted.toLowerCase());
  }
  if (match && /^\w+$/.test(match[1]!)) {
    throw new Error(`unknown filter field "${match[1]}": use ${Object.keys(fields).join(', ')}`);
  }
  const text = expression.toLowerCase();
  return (v) => Object.values(fields).some((read) => (read(v) ?? '').toLowerCase().includes(text));
}

export async function listDeadLetters(sqs: SQSClient, deadLetterQueueUrl: string): Promise<DeadLetterView[]> {
  const messages = await receiveAll(sqs, deadLetterQueueUrl);
  await release(sqs, deadLetterQueueUrl, messages);
  return messages.map((m) => viewOf(readDeadLetter(m)));
}

export interface RedriveResult {
  readonly moved: readonly DeadLetterView[];
  /** Matching dead letters a dry run would move. */
  readonly wouldMove: readonly DeadLetterView[];
  /** Left in the DLQ: not matching the filter, or dead-lettered after the redrive began. */
  readonly left: number;
  readonly failed: readonly { readonly view: DeadLetterView; readonly error: string }[];
}

export async function redriveDeadLetters(
  sqs: SQSClient,
  queues: WorkQueueUrls,
  options: { filter?: (view: DeadLetterView) => boolean; dryRun?: boolean; now?: number } = {},
): Promise<RedriveResult> {
  const startedAt = options.now ?? Date.now();
  const fifo = queues.queueUrl.endsWith('.fifo');
  const held: Message[] = [];
  const moved: DeadLetterView[] = [];
  const wouldMove: DeadLetterView[] = [];
  const failed: { view: DeadLetterView; error: string }[] = [];
  for (;;) {
    const batch = await receive(sqs, queues.deadLetterQueueUrl);
    if (batch.length === 0) break;
    for (const message of batch) {
      const dead = readDeadLetter(message);
      const view = viewOf(dead);
      const candidate = dead.enqueuedAt <= startedAt && (options.filter?.(view) ?? true);
      if (!candidate || options.dryRun) {
        if (candidate) wouldMove.push(view);
        held.push(message);
        continue;
      }
      try {
        const attributes = Object.keys(dead.originalAttributes).length ? dead.originalAttributes : undefined;
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queues.queueUrl,
            MessageBody: dead.body,
            ...(attributes ? { MessageAttributes: attributes } : {}),
            ...(fifo
              ? {
                  MessageGroupId: dead.messageGroupId ?? 'redrive',
                  // Sent again by a second redrive within SQS's 5-minute window: dropped by SQS itself.
                  MessageDeduplicationId: `redrive-${dead.messageId}`,
                }
              : {}),
          }),
        );
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: queues.deadLetterQueueUrl,
            ReceiptHandle: dead.receiptHandle,
          }),
        );
        moved.push(view);
      } catch (error) {
        failed.push({ view, error: error instanceof Error ? error.message : String(error) });
        held.push(message);
      }
    }
  }
  await release(sqs, queues.deadLetterQueueUrl, held);
  return { moved, wouldMove, left: held.length - wouldMove.length, failed };
}

async function receive(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const got = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: HOLD_SECONDS,
      // Long polling asks every SQS server, so a small queue is not reported empty too early.
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return got.Messages ?? [];
}

async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let batch = await receive(sqs, queueUrl); batch.length; batch = await receive(sqs, queueUrl)) {
    all.push(...batch);
  }
  return all;
}

/** Makes held messages visible again at once. */
async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(i, i + 10).map((m, index) => ({
          Id: String(index),
          ReceiptHandle: m.ReceiptHandle!,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}
