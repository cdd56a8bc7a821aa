/**
 * The recommended queue is FIFO, grouped by the absent person (docs/absence-reassignment.md):
 * the handler must keep a group's order within a batch and dead-letter into a FIFO DLQ.
 */

import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { drainQueue, fakeContext } from '../../../local/queue-poller';
import { localSqsClient, uniqueName } from '../../support/emulators';
import { PEOPLE, absenceEvent, absenceHarness, type AbsenceHarness } from './harness';

const { FARID, GRACE } = PEOPLE;

function record(body: unknown, messageId: string, groupId: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: groupId,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:absences.fifo',
    awsRegion: 'us-east-1',
  };
}

describe('absence events on a FIFO queue', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('once a message of a group must wait, the later ones of that group wait too; other groups go on', async () => {
    h = await absenceHarness({ maxAttempts: 1 });
    h.sandbox.faults.inject({ method: 'POST', path: /^\/beta\/reassignment-configurations$/, status: 429 });
    const event: SQSEvent = {
      Records: [
        record(absenceEvent({ eventId: 'farid-start' }), 'm1', FARID),
        record(absenceEvent({ eventId: 'farid-cancel', type: 'ABSENCE_CANCELLED' }), 'm2', FARID),
        // Grace's absence is already over: it needs no SailPoint call, so the 429 can only hit Farid's.
        record(
          absenceEvent({
            eventId: 'grace-old',
            identityId: GRACE,
            absenceId: 'g',
            startDate: '2030-05-01T00:00:00Z',
            endDate: '2030-05-02T00:00:00Z',
          }),
          'm3',
          GRACE,
        ),
      ],
    };
    const response = await h.handler(event, fakeContext('absence'));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1', 'm2']);
    // The cancellation was not even looked at: it must not overtake its start.
    expect((await h.store.get(FARID, 'leave-1'))?.processedEventIds).toEqual(['farid-start']);
    expect((await h.store.get(GRACE, 'g'))?.processedEventIds).toEqual(['grace-old']);
  });

  it('when the message ahead gives up on its last receive, the ones it held back are handled, not dead-lettered with it', async () => {
    h = await absenceHarness({ maxAttempts: 1, maxReceiveCount: 3 });
    const sqs = localSqsClient();
    const dlq = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${uniqueName('absence-dlq')}.fifo`,
        Attributes: { FifoQueue: 'true' },
      }),
    );
    const handler = createAbsenceReassignmentHandler({ ...h.deps, deadLetterQueueUrl: dlq.QueueUrl! });
    // Every create fails: the start is retried until its last receive; the cancellation behind it
    // was held back each time (so its receive count went up with the start's).
    h.sandbox.faults.inject({ method: 'POST', path: /^\/beta\/reassignment-configurations$/, status: 503 });
    const event: SQSEvent = {
      Records: [
        record(absenceEvent({ eventId: 'farid-start' }), 'm1', FARID, 3),
        record(absenceEvent({ eventId: 'farid-cancel', type: 'ABSENCE_CANCELLED' }), 'm2', FARID, 3),
      ],
    };
    const response = await handler(event, fakeContext('absence'));

    expect(response.batchItemFailures).toEqual([]);
    // A FIFO queue hides the rest of a group while one of its messages is in flight: take them one by one.
    const dead: { eventId: string; reason: string | undefined }[] = [];
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl!, MessageAttributeNames: ['All'] }),
      );
      const message = got.Messages?.[0];
      if (!message) break;
      dead.push({
        eventId: (JSON.parse(message.Body!) as { eventId: string }).eventId,
        reason: message.MessageAttributes?.reason?.StringValue,
      });
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: dlq.QueueUrl!, ReceiptHandle: message.ReceiptHandle! }),
      );
    }
    expect(dead).toEqual([
      { eventId: 'farid-start', reason: expect.stringMatching(/^gave up after 3 attempts: .*503/) },
    ]);
    // The cancellation was applied: nothing is configured and the absence is recorded cancelled.
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({
      status: 'CANCELLED',
      processedEventIds: ['farid-start', 'farid-cancel'],
    });
    expect(h.configurations(FARID)).toEqual({});
  });

  it('dead-letters into a FIFO dead-letter queue with the reason, and processes the group in order', async () => {
    h = await absenceHarness();
    const sqs = localSqsClient();
    const dlqName = `${uniqueName('absence-dlq')}.fifo`;
    const dlq = await sqs.send(
      new CreateQueueCommand({ QueueName: dlqName, Attributes: { FifoQueue: 'true' } }),
    );
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${uniqueName('absences')}.fifo`,
        Attributes: {
          FifoQueue: 'true',
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${dlqName}`,
            maxReceiveCount: 3,
          }),
        },
      }),
    );
    const handler = createAbsenceReassignmentHandler({
      ...h.deps,
      queueUrl: queue.QueueUrl!,
      deadLetterQueueUrl: dlq.QueueUrl!,
    });
    const start = absenceEvent({ eventId: 'start' });
    const bad = { ...absenceEvent(), type: 'ABSENCE_POSTPONED' };
    const extend = absenceEvent({
      eventId: 'extend',
      type: 'ABSENCE_UPDATED',
      endDate: '2030-07-20T00:00:00.000Z',
    });
    for (const [event, id] of [
      [start, 'start'],
      [bad, 'bad'],
      [extend, 'extend'],
    ] as const) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.QueueUrl!,
          MessageBody: JSON.stringify(event),
          MessageGroupId: FARID,
          MessageDeduplicationId: id,
        }),
      );
    }
    await drainQueue({ sqs, queueUrl: queue.QueueUrl!, handler, timeoutMs: 10_000 });

    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.QueueUrl!,
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 10,
      }),
    );
    expect(dead.Messages?.map((m) => m.MessageAttributes?.reason?.StringValue)).toEqual([
      'invalid absence event: type: must be one of ABSENCE_STARTED, ABSENCE_UPDATED, ABSENCE_CANCELLED',
    ]);
    expect(h.configurations(FARID).ACCESS_REQUESTS?.endDate).toBe('2030-07-20T00:00:00.000Z');
    expect((await h.store.get(FARID, 'leave-1'))?.ignoredEvents).toEqual([]); // arrived in order
  });
});
