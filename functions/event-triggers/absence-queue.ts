/**
 * Sends absence events to the absence queue, in its contract (functions/absence-reassignment/event.ts).
 * On the FIFO queue the group is the identity (one person's events in order) and the deduplication id
 * the eventId (a re-sent event within SQS's five minutes is dropped there; later, by the workflow).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AbsenceEventInput } from '../absence-reassignment/event';

export interface AbsenceQueue {
  send(event: AbsenceEventInput): Promise<void>;
}

export class SqsAbsenceQueue implements AbsenceQueue {
  private readonly fifo: boolean;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
  }

  async send(event: AbsenceEventInput): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(event),
        ...(this.fifo
          ? {
              MessageGroupId: event.identityId,
              // SQS allows 128 characters of [A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~].
              MessageDeduplicationId: event.eventId.slice(0, 128),
            }
          : {}),
      }),
    );
  }
}
