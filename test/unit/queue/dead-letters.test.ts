import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { deadLetterEntry, readDeadLetter } from '../../../functions/shared/queue/dead-letters';

const record = (overrides: Partial<SQSRecord> = {}): SQSRecord => ({
  messageId: 'm-1',
  receiptHandle: 'rh',
  body: '{"requestId":"HR-1"}',
  attributes: {
    ApproximateReceiveCount: '3',
    SentTimestamp: '1700000000000',
    SenderId: 'producer',
    ApproximateFirstReceiveTimestamp: '1700000001000',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:work',
  awsRegion: 'eu-west-1',
  ...overrides,
});

/** What ReceiveMessage on the DLQ returns for an entry that was sent. */
function received(entry: ReturnType<typeof deadLetterEntry>, system: Record<string, string> = {}): Message {
  return {
    MessageId: 'dlq-1',
    ReceiptHandle: 'dlq-rh',
    Body: entry.MessageBody,
    MessageAttributes: entry.MessageAttributes,
    Attributes: { SentTimestamp: '1700000002000', ...system },
  };
}

describe('dead letters', () => {
  test("carry the producer's attributes (string, number, binary), the source and the attempts, within SQS's 10 attributes", () => {
    const entry = deadLetterEntry(
      record({
        messageAttributes: {
          producer: { dataType: 'String', stringValue: 'hr', stringListValues: [], binaryListValues: [] },
          batch: { dataType: 'Number', stringValue: '7', stringListValues: [], binaryListValues: [] },
          blob: {
            dataType: 'Binary',
            binaryValue: Buffer.from([1, 2, 3]).toString('base64'),
            stringListValues: [],
            binaryListValues: [],
          },
        },
      }),
      'invalid message: no',
      '0',
      new Date('2024-01-01T00:00:00Z'),
    );
    expect(Object.keys(entry.MessageAttributes!).length).toBeLessThanOrEqual(10);
    const dead = readDeadLetter(received(entry));
    expect(dead).toMatchObject({
      body: '{"requestId":"HR-1"}',
      reason: 'invalid message: no',
      sourceMessageId: 'm-1',
      sourceQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:work',
      firstReceivedAt: new Date(1700000001000).toISOString(),
      deadLetteredAt: '2024-01-01T00:00:00.000Z',
      receiveCount: 3,
      sourceSenderId: 'producer',
      origin: 'function',
    });
    expect(dead.originalAttributes).toEqual({
      producer: { DataType: 'String', StringValue: 'hr' },
      batch: { DataType: 'Number', StringValue: '7' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
    });
  });

  test('a FIFO message keeps its group and is deduplicated on its source message id', () => {
    const entry = deadLetterEntry(
      record({ attributes: { ...record().attributes, MessageGroupId: 'person-1' } }),
      'r',
      '0',
    );
    expect(entry).toMatchObject({ MessageGroupId: 'person-1', MessageDeduplicationId: 'm-1' });
    expect(entry.MessageAttributes!.originalAttributes).toBeUndefined();
  });

  test('a message SQS moved by its redrive policy keeps its own attributes and says it has no reason', () => {
    const dead = readDeadLetter({
      MessageId: 'dlq-2',
      ReceiptHandle: 'rh',
      Body: 'x',
      MessageAttributes: { producer: { DataType: 'String', StringValue: 'hr' } },
      Attributes: { SentTimestamp: '1', DeadLetterQueueSourceArn: 'arn:aws:sqs:eu-west-1:1:work' },
    });
    expect(dead).toMatchObject({
      origin: 'redrive-policy',
      reason: expect.stringMatching(/redrive policy/),
      sourceQueueArn: 'arn:aws:sqs:eu-west-1:1:work',
      originalAttributes: { producer: { DataType: 'String', StringValue: 'hr' } },
    });
  });
});
