import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { RetryLaterError, outcomeOfError } from '../../../functions/shared/queue/outcomes';
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
