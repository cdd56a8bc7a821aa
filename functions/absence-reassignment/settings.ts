/**
 * Every environment variable of the absence-reassignment function (the CDK stack sets them; see
 * docs/absence-reassignment.md). SailPoint connection settings come from the shared schema.
 */
import * as z from 'zod';
import { parseSettings, queueSettings, sailPointSettings, setting, type Env } from '../shared/config';
import { topicArnSetting } from '../shared/notifier';
import { SAILPOINT_ID_PATTERN } from '../shared/sailpoint/ids';
import { DELEGATE_POLICIES, delegatePolicyOf, type DelegatePolicy } from './delegate-policy';

/** Ids an allow-list may hold: 80 ids with their commas take 2.6 KB of the 4 KB Lambda allows a function's whole environment. */
export const MAX_ALLOW_LIST_IDS = 80;

export const absenceReassignmentSettings = sailPointSettings
  .extend(queueSettings.shape)
  .extend({
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
    /** Who may receive the work (delegate-policy.ts): chain-or-peers, allow-list or any. */
    DELEGATE_POLICY: z
      .enum(DELEGATE_POLICIES, { error: `must be one of ${DELEGATE_POLICIES.join(', ')}` })
      .default('chain-or-peers'),
    /** With DELEGATE_POLICY=allow-list: the SailPoint identity ids that may cover, comma-separated. */
    DELEGATE_ALLOW_LIST: setting
      .list()
      .pipe(
        z
          .array(
            z
              .string()
              .regex(SAILPOINT_ID_PATTERN, 'each entry must be a SailPoint id (32 hexadecimal characters)'),
          )
          .max(MAX_ALLOW_LIST_IDS, `must list at most ${MAX_ALLOW_LIST_IDS} ids`),
      )
      .transform((ids) => ids.map((id) => id.toLowerCase())),
    /** Configurations end at most this many days after they take effect (an absence without an end, or a longer one). */
    MAX_ABSENCE_DAYS: setting.integer(180, { min: 1, max: 3650 }),
  })
  .superRefine((s, ctx) => {
    if (s.DELEGATE_POLICY === 'allow-list' && s.DELEGATE_ALLOW_LIST.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['DELEGATE_ALLOW_LIST'],
        message:
          'is required with DELEGATE_POLICY=allow-list: the SailPoint ids that may cover, comma-separated',
      });
    }
  });

export type AbsenceReassignmentSettings = z.infer<typeof absenceReassignmentSettings>;

export function loadAbsenceReassignmentSettings(env: Env = process.env): AbsenceReassignmentSettings {
  return parseSettings(absenceReassignmentSettings, env);
}

export function delegatePolicyFromSettings(settings: AbsenceReassignmentSettings): DelegatePolicy {
  return delegatePolicyOf(settings.DELEGATE_POLICY, settings.DELEGATE_ALLOW_LIST);
}
