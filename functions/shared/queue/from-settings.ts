/**
 * What an SQS handler needs to settle its batches (settleSqsBatch, less the log), built from the
 * shared `queueSettings` every queue-fed function declares.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type * as z from 'zod';
import { createSqsClient } from '../aws';
import type { queueSettings } from '../config';
import type { SettleDeps } from './settle-batch';

export type QueueSettings = z.infer<typeof queueSettings>;

export type QueueDeps = Omit<SettleDeps, 'log'>;

export function queueDepsFromSettings(
  settings: QueueSettings,
  sqs: SQSClient = createSqsClient(),
): QueueDeps {
  return {
    sqs,
    queueUrl: settings.QUEUE_URL,
    deadLetterQueueUrl: settings.DEAD_LETTER_QUEUE_URL,
    maxReceiveCount: settings.MAX_RECEIVE_COUNT,
  };
}
