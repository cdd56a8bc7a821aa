/**
 * Every environment variable of the absence-reassignment function (the CDK stack sets them; see
 * docs/absence-reassignment.md). SailPoint connection settings come from the shared schema.
 */
import { z } from 'zod';
import { parseSettings, sailPointSettings, setting, type Env } from '../shared/config';

/**
 * An SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>. Checked by shape, not with
 * z.url()/WHATWG URL: those refuse the emulator's http://sqs.us-east-1.127.0.0.1:<port>/… form.
 */
const queueUrl = (what: string) =>
  z
    .string({ error: `must be the URL of ${what}` })
    .regex(/^https?:\/\/[^\s/]+\/\S+$/, { error: `must be the URL of ${what}` });

export const absenceReassignmentSettings = sailPointSettings.extend({
  /** The absences table (functions/shared/tables.ts). */
  ABSENCES_TABLE: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  /** The absence queue (its URL is needed to delay a rate-limited message by Retry-After). */
  QUEUE_URL: queueUrl('the absence queue'),
  /** Where invalid and undeliverable events go, with the reason. */
  DEAD_LETTER_QUEUE_URL: queueUrl('the dead-letter queue'),
  /** The queue's redrive maxReceiveCount: the last retry becomes a dead letter that says why. */
  MAX_RECEIVE_COUNT: setting.integer(5, { min: 1, max: 1000 }),
  /** SNS topic for operator notices (delegate substituted, absence waiting for a slot); unset: log only. */
  NOTIFICATIONS_TOPIC_ARN: z.string().min(1).optional(),
  /** Candidates examined when looking for a delegate before giving up (SailPoint follows chains to depth 5). */
  DELEGATE_MAX_HOPS: setting.integer(5, { min: 1, max: 20 }),
  /** Days an absence record is kept after its window ends or it is cancelled (DynamoDB TTL). */
  ABSENCE_RETENTION_DAYS: setting.integer(400, { min: 1, max: 3650 }),
});

export type AbsenceReassignmentSettings = z.infer<typeof absenceReassignmentSettings>;

export function loadAbsenceReassignmentSettings(env: Env = process.env): AbsenceReassignmentSettings {
  return parseSettings(absenceReassignmentSettings, env);
}
