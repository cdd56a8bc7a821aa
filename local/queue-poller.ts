/**
 * Drives a Lambda SQS handler from an emulated queue the way the AWS event source mapping does:
 * receive up to `batchSize` messages, invoke the handler with an SQSEvent, delete every message
 * not named in `batchItemFailures`, and leave the failed ones to reappear after their visibility
 * timeout. An invocation that throws (a crash) or outlives the function timeout is an invocation
 * error, as in Lambda: nothing of its batch is deleted, every message reappears after its visibility
 * timeout. (In-process the timed-out handler cannot be killed: it runs on, but its answer is ignored.)
 * Redrive to the DLQ after maxReceiveCount is done by the emulator itself, as by SQS.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsHandler;
  /** Same meaning as the event source mapping's BatchSize (SQS receives at most 10 per call). */
  readonly batchSize?: number;
  readonly waitTimeSeconds?: number;
  readonly functionName?: string;
  /** The function timeout: what the handler's context reports as remaining time, and when the
   *  invocation is given up as timed out. Default 60 s. */
  readonly functionTimeoutMs?: number;
}

export interface PollResult {
  readonly received: number;
  readonly failed: number;
  /** The invocation threw (crashed) or outlived the function timeout: nothing was deleted. */
  readonly invocationError?: 'crashed' | 'timed-out';
}

const TIMED_OUT = Symbol('timed out');
/** SQS calls in flight at once while gathering a large batch or deleting what it finished. */
const RECEIVES_AT_ONCE = 10;

export async function pollOnce(options: PollerOptions): Promise<PollResult> {
  const { sqs, queueUrl } = options;
  const batchSize = options.batchSize ?? 10;
  const messages: Message[] = [];
  const receive = async (max: number, waitTimeSeconds: number) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      )
    ).Messages ?? [];
  // Like the event source mapping, gather up to batchSize with several receives when above 10 —
  // several at once, as its pollers do, so a large batch is not gathered 10 messages at a time.
  messages.push(...(await receive(Math.min(10, batchSize), options.waitTimeSeconds ?? 0)));
  while (messages.length > 0 && messages.length < batchSize) {
    const wanted = batchSize - messages.length;
    const calls = Array.from({ length: Math.min(RECEIVES_AT_ONCE, Math.ceil(wanted / 10)) }, (_, i) =>
      receive(Math.min(10, wanted - i * 10), 0),
    );
    const got = (await Promise.all(calls)).flat();
    messages.push(...got);
    if (got.length === 0) break; // the queue has no more for now
  }
  if (messages.length === 0) return { received: 0, failed: 0 };

  const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueUrl)) };
  const timeoutMs = options.functionTimeoutMs ?? 60_000;
  let failedIds: Set<string>;
  let invocationError: PollResult['invocationError'];
  let timer: NodeJS.Timeout | undefined;
  try {
    const response = await Promise.race([
      options.handler(event, fakeContext(options.functionName ?? 'local', timeoutMs)),
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
      }),
    ]);
    if (response === TIMED_OUT) {
      invocationError = 'timed-out';
      failedIds = new Set(messages.map((m) => m.MessageId!));
    } else {
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    }
  } catch {
    invocationError = 'crashed';
    failedIds = new Set(messages.map((m) => m.MessageId!));
  } finally {
    clearTimeout(timer);
  }

  const succeeded = messages.filter((m) => !failedIds.has(m.MessageId!));
  const deletes: Message[][] = [];
  for (let i = 0; i < succeeded.length; i += 10) deletes.push(succeeded.slice(i, i + 10));
  for (let i = 0; i < deletes.length; i += RECEIVES_AT_ONCE) {
    await Promise.all(
      deletes.slice(i, i + RECEIVES_AT_ONCE).map((group) =>
        sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: group.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle! })),
          }),
        ),
      ),
    );
  }
  return {
    received: messages.length,
    failed: failedIds.size,
    ...(invocationError ? { invocationError } : {}),
  };
}

/**
 * Polls until the queue has been empty (nothing visible, nothing in flight) for one receive, or
 * until `timeoutMs`. Messages waiting out a visibility timeout count as in flight, so a retried
 * message is picked up again before the drain ends.
 */
export async function drainQueue(
  options: PollerOptions & { timeoutMs?: number },
): Promise<{ batches: number; received: number; failed: number; crashed: number; timedOut: number }> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const totals = { batches: 0, received: 0, failed: 0, crashed: 0, timedOut: 0 };
  while (Date.now() < deadline) {
    const result = await pollOnce({ ...options, waitTimeSeconds: options.waitTimeSeconds ?? 0 });
    if (result.received > 0) {
      totals.batches += 1;
      totals.received += result.received;
      totals.failed += result.failed;
      if (result.invocationError === 'crashed') totals.crashed += 1;
      if (result.invocationError === 'timed-out') totals.timedOut += 1;
      continue;
    }
    // Delayed messages count too: a retry or a requeued copy (access provisioning) is still work.
    const { visible, inFlight, delayed } = await queueDepth(options.sqs, options.queueUrl);
    if (visible === 0 && inFlight === 0 && delayed === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return totals;
}

/**
 * Every message now on the queue, with its message attributes; each is hidden for
 * `visibilityTimeoutSeconds` once read, so the loop ends when the queue shows nothing more.
 */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  visibilityTimeoutSeconds: number,
): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: visibilityTimeoutSeconds,
      }),
    );
    if (!got.Messages?.length) return all;
    all.push(...got.Messages);
  }
}

export async function queueDepth(sqs: SQSClient, queueUrl: string) {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

function toRecord(message: Message, queueUrl: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const name = queueUrl.split('/').pop() ?? 'queue';
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [
        key,
        {
          stringValue: value.StringValue,
          dataType: value.DataType ?? 'String',
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    awsRegion: 'us-east-1',
  };
}

export function fakeContext(functionName: string, timeoutMs = 60_000): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
