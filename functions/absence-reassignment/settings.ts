/**
 * Every environment variable of the absence-reassignment function (the CDK stack sets them; see
 * docs/absence-reassignment.md). SailPoint connection settings come from the shared schema.
 */
import * as z from 'zod';
import { parseSettings, queueSettings, sailPointSettings, setting, type Env } from '../shared/config';
import { topicArnSetting } from '../shared/notifier';

export const absenceReassignmentSettings = sailPointSettings.extend(queueSettings.shape).extend({
  /** The absences table (functions/shared/tables.ts). */
  ABSENCES_TABLE: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  /** SNS topic for operator notices (delegate substituted or changed, uncovered, waiting for a slot); unset: log only. */
  NOTIFICATIONS_TOPIC_ARN: topicArnSetting().optional(),
  /** How far ahead of now an event's occurredAt may be before it is refused (HR clocks drift a little). */
  OCCURRED_AT_TOLERANCE_SECONDS: setting.integer(300, { min: 0, max: 86_400 }),
  /** Candidates examined when looking for a delegate before giving up (SailPoint follows chains to depth 5). */
  DELEGATE_MAX_HOPS: setting.integer(5, { min: 1, max: 20 }),
  /** Days an absence record is kept after its window ends or it is cancelled (DynamoDB TTL). */
  ABSENCE_RETENTION_DAYS: setting.integer(400, { min: 1, max: 3650 }),
});

export type AbsenceReassignmentSettings = z.infer<typeof absenceReassignmentSettings>;

export function loadAbsenceReassignmentSettings(env: Env = process.env): AbsenceReassignmentSettings {
  return parseSettings(absenceReassignmentSettings, env);
}
