import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import {
  PermanentMessageError,
  RetryLaterError,
  outcomeOfError,
} from '../../../functions/shared/queue/outcomes';
import { SailPointRateLimitError, SailPointValidationError } from '../../../functions/shared/sailpoint';
import { settleSqsBatch } from '../../../functions/shared/queue/settle-batch';

const event = (count: number): SQSEvent =>
  ({
    Records: Array.from({ length: count }, (_, n) => ({
      messageId: `m${n}`,
      receiptHandle: `rh${n}`,
      body: 'x',
      attributes: { ApproximateReceiveCount: '1' },
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    })),
  }) as unknown as SQSEvent;

function fakeSqs(answer: (input: { Entries: { Id: string; ReceiptHandle: string }[] }) => unknown) {
  const sent: {
    name: string;
    input: { Entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[] };
  }[] = [];
  const sqs = {
    send: async (command: { constructor: { name: string }; input: never }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return answer(command.input);
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

function logSink() {
  const warnings: { msg: string; extra?: object }[] = [];
  return {
    warnings,
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg: string, extra?: object) => warnings.push({ msg, extra }),
      error: () => undefined,
    },
  };
}

describe('settleSqsBatch: delayed retries', () => {
  it('sends the delays as ChangeMessageVisibilityBatch entries (10 per call), rounded up and capped at 12 h', async () => {
    const { sqs, sent } = fakeSqs(() => ({ Successful: [], Failed: [] }));
    const { log } = logSink();
    const delays = [0.2, 50_000, ...Array(10).fill(3)];
    const settled = await settleSqsBatch(
      event(12),
      async (messages) =>
        new Map(
          messages.map((m, n) => [m.messageId, outcomeOfError(new RetryLaterError('later', delays[n]))]),
        ),
      { sqs, queueUrl: 'q', deadLetterQueueUrl: 'dlq', maxReceiveCount: 5, log },
    );
    expect(settled.response.batchItemFailures).toHaveLength(12);
    expect(sent.map((s) => [s.name, s.input.Entries.length])).toEqual([
      ['ChangeMessageVisibilityBatchCommand', 10],
      ['ChangeMessageVisibilityBatchCommand', 2],
    ]);
    expect(sent[0]!.input.Entries.slice(0, 3)).toEqual([
      { Id: '0', ReceiptHandle: 'rh0', VisibilityTimeout: 1 },
      { Id: '1', ReceiptHandle: 'rh1', VisibilityTimeout: 43_200 },
      { Id: '2', ReceiptHandle: 'rh2', VisibilityTimeout: 3 },
    ]);
  });

  it('a failed entry or a failed call only warns: the messages are still retried', async () => {
    let calls = 0;
    const { sqs } = fakeSqs(() => {
      if (calls++ === 0) return { Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] };
      throw new Error('SQS unavailable');
    });
    const { log, warnings } = logSink();
    const settled = await settleSqsBatch(
      event(11),
      async (messages) =>
        new Map(messages.map((m) => [m.messageId, outcomeOfError(new RetryLaterError('x', 5))])),
      { sqs, queueUrl: 'q', deadLetterQueueUrl: 'dlq', maxReceiveCount: 5, log },
    );
    expect(settled.response.batchItemFailures).toHaveLength(11);
    expect(warnings).toEqual([
      { msg: 'could not delay redelivery', extra: { messageId: 'm1', error: 'ReceiptHandleIsInvalid:' } },
      { msg: 'could not delay redelivery', extra: { messageId: 'm10', error: 'SQS unavailable' } },
    ]);
  });
});

describe('settleSqsBatch: a batch that fails as a whole (the shared failure policy)', () => {
  const settle = (error: unknown) => {
    const { sqs, sent } = fakeSqs(() => ({}));
    return settleSqsBatch(
      event(2),
      async () => {
        throw error;
      },
      { sqs, queueUrl: 'q', deadLetterQueueUrl: 'dlq', maxReceiveCount: 5, log: logSink().log },
    ).then((settled) => ({ settled, sent }));
  };

  it('no message is dead-lettered for an error not addressed to it (a 400 of a batch-wide call): all retried', async () => {
    const { settled, sent } = await settle(
      new SailPointValidationError({ operation: 'searchIdentities', status: 400 }),
    );
    expect([...settled.outcomes.values()].map((o) => o.status)).toEqual(['retry', 'retry']);
    expect(sent.filter((s) => s.name === 'SendMessageBatchCommand')).toEqual([]);
  });

  it('a PermanentMessageError says the messages are bad: dead-lettered; a 429 waits its Retry-After', async () => {
    const permanent = await settle(new PermanentMessageError('bad batch'));
    expect([...permanent.settled.outcomes.values()]).toEqual([
      { status: 'dead-letter', reason: 'bad batch' },
      { status: 'dead-letter', reason: 'bad batch' },
    ]);
    const limited = await settle(
      new SailPointRateLimitError({ operation: 'x', status: 429, retryAfterSeconds: 9 }),
    );
    expect([...limited.settled.outcomes.values()].map((o) => 'delaySeconds' in o && o.delaySeconds)).toEqual([
      9, 9,
    ]);
  });
});
