import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { settleSqsBatch } from '../../functions/shared/queue/settle-batch';
import {
  PermanentMessageError,
  RetryLaterError,
  outcomeOfError,
} from '../../functions/shared/queue/outcomes';
import { silentLog } from '../../functions/shared/observability';
import { drainQueue, pollOnce, queueDepth } from '../../local/queue-poller';
import { freshQueueWithDlq, localSqsClient } from '../support/emulators';

describe('SQS batch settlement through the local poller', () => {
  const sqs = localSqsClient();

  async function setup(maxReceiveCount = 3) {
    const queues = await freshQueueWithDlq(sqs, maxReceiveCount, 1);
    const handlerFor = (decide: (body: string) => void) => (event: SQSEvent) =>
      settleSqsBatch(
        event,
        async (messages) =>
          new Map(
            messages.map((m) => {
              try {
                decide(m.body);
                return [m.messageId, { status: 'done' as const }];
              } catch (error) {
                return [m.messageId, outcomeOfError(error)];
              }
            }),
          ),
        { sqs, ...queues, deadLetterQueueUrl: queues.dlqUrl, maxReceiveCount, log: silentLog },
      ).then((settled) => settled.response);
    return { ...queues, handlerFor };
  }

  it('deletes successes, dead-letters bad messages with the reason, retries the rest', async () => {
    const { queueUrl, dlqUrl, handlerFor } = await setup();
    for (const body of ['ok', 'bad', 'later']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    let laterCalls = 0;
    const handler = handlerFor((body) => {
      if (body === 'bad') throw new PermanentMessageError('body is not JSON');
      if (body === 'later' && laterCalls++ === 0) throw new RetryLaterError('rate limited', 0);
    });

    const first = await pollOnce({ sqs, queueUrl, handler, batchSize: 10 });
    expect(first).toEqual({ received: 3, failed: 1 });

    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(dead.Messages).toHaveLength(1);
    expect(dead.Messages?.[0]?.Body).toBe('bad');
    expect(dead.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toBe('body is not JSON');

    // The retried message became visible again at once (delay 0) and now succeeds.
    const rest = await drainQueue({ sqs, queueUrl, handler, timeoutMs: 5_000 });
    expect(rest.received).toBe(1);
    expect(await queueDepth(sqs, queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('turns a retry on the last allowed receive into a dead letter that says why', async () => {
    const { queueUrl, dlqUrl, handlerFor } = await setup(2);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'flaky' }));
    const handler = handlerFor(() => {
      throw new RetryLaterError('SailPoint answered 503', 0);
    });
    await drainQueue({ sqs, queueUrl, handler, timeoutMs: 5_000 });
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(dead.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toBe(
      'gave up after 2 attempts: SailPoint answered 503',
    );
  });

  it('delays retried messages with one ChangeMessageVisibilityBatch per 10 messages', async () => {
    const { queueUrl } = await setup();
    const commands: { name: string; entries: number }[] = [];
    const counting = localSqsClient();
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        const entries = (args.input as { Entries?: unknown[] }).Entries;
        if (context.commandName?.startsWith('ChangeMessageVisibility')) {
          commands.push({ name: context.commandName, entries: entries?.length ?? 1 });
        }
        return next(args);
      },
      { step: 'initialize', name: 'countVisibilityChanges' },
    );
    for (let i = 0; i < 23; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: Math.min(10, 23 - i) }, (_, n) => ({
            Id: String(n),
            MessageBody: `m${i + n}`,
          })),
        }),
      );
    }
    const handler = (event: SQSEvent) =>
      settleSqsBatch(
        event,
        async (messages) =>
          new Map(messages.map((m) => [m.messageId, outcomeOfError(new RetryLaterError('later', 120))])),
        { sqs: counting, queueUrl, deadLetterQueueUrl: 'unused', maxReceiveCount: 3, log: silentLog },
      ).then((settled) => settled.response);

    expect(await pollOnce({ sqs, queueUrl, handler, batchSize: 23 })).toEqual({ received: 23, failed: 23 });
    expect(commands).toEqual([
      { name: 'ChangeMessageVisibilityBatchCommand', entries: 10 },
      { name: 'ChangeMessageVisibilityBatchCommand', entries: 10 },
      { name: 'ChangeMessageVisibilityBatchCommand', entries: 3 },
    ]);
    // Each is invisible for its 120 s now, not only for the queue's 1 s visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await queueDepth(sqs, queueUrl)).toEqual({ visible: 0, inFlight: 23, delayed: 0 });
  });

  it('retries every message of a batch whose processing threw', async () => {
    const { queueUrl, handlerFor } = await setup();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const boom = handlerFor(() => {
      throw new Error('DynamoDB unavailable');
    });
    expect(await pollOnce({ sqs, queueUrl, handler: boom })).toEqual({ received: 1, failed: 1 });
  });

  it('treats a crashed or timed-out invocation as Lambda does: nothing deleted, all messages reappear', async () => {
    const { queueUrl } = await setup();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const crash = async () => {
      throw new Error('instance died');
    };
    expect(await pollOnce({ sqs, queueUrl, handler: crash })).toEqual({
      received: 1,
      failed: 1,
      invocationError: 'crashed',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the queue's 1 s visibility timeout
    const remaining: number[] = [];
    const hang = (_event: SQSEvent, context: { getRemainingTimeInMillis(): number }) => {
      remaining.push(context.getRemainingTimeInMillis());
      return new Promise<void>(() => undefined);
    };
    expect(await pollOnce({ sqs, queueUrl, handler: hang, functionTimeoutMs: 200 })).toEqual({
      received: 1,
      failed: 1,
      invocationError: 'timed-out',
    });
    expect(remaining[0]).toBeLessThanOrEqual(200);
    expect(await queueDepth(sqs, queueUrl)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
  });
});
