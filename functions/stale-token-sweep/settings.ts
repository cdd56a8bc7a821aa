/**
 * Every environment variable of the stale-token sweep function, with its default. The CDK stack
 * sets these on the function; `npm start` sets them locally. A bad value stops the function at
 * start with a ConfigError naming the setting.
 */
import * as z from 'zod';
import { parseSettings, sailPointSettings, setting, type Env } from '../shared/config';
import { topicArnSetting } from '../shared/notifier';
import { DEFAULT_REPORT_PREFIX } from '../shared/report/files';
import { TABLES } from '../shared/tables';
import { compileExemption, exemptionsSchema } from './exemptions';
import type { StaleTokenPolicy } from './policy';

/** The sweep's settings its governance report follows; `iga report` reads them from the sweep too. */
export const REPORT_POLICY_SETTINGS = {
  STALE_TOKEN_REVOKE: setting.boolean(false),
  STALE_TOKEN_REVOKE_GRACE_DAYS: setting.integer(14, { min: 0, max: 365 }),
  REPORT_PERIOD_DAYS: setting.integer(30, { min: 1, max: 366 }),
};

/** The revocation policy these settings describe. */
export function revocationOf(settings: {
  STALE_TOKEN_REVOKE: boolean;
  STALE_TOKEN_REVOKE_GRACE_DAYS: number;
}): { enabled: boolean; graceDays: number } {
  return { enabled: settings.STALE_TOKEN_REVOKE, graceDays: settings.STALE_TOKEN_REVOKE_GRACE_DAYS };
}

export const staleTokenSweepSettings = sailPointSettings
  .extend({
    [TABLES.findings.envVar]: z.string({ error: 'the findings table name is required' }).min(1),
    /** SNS topic for new findings (warned, flagged, revoked). */
    NOTIFICATIONS_TOPIC_ARN: topicArnSetting(),
    /** N: a token unused for more than N whole days is flagged (stale). */
    STALE_TOKEN_STALE_AFTER_DAYS: setting.integer(90, { min: 1, max: 3650 }),
    /** W: a token unused for more than W whole days is warned about first. 0: no warning tier. */
    STALE_TOKEN_WARN_AFTER_DAYS: setting.integer(75, { min: 0, max: 3650 }),
    /** M: a never-used token created more than M whole days ago is flagged. */
    STALE_TOKEN_NEVER_USED_AFTER_DAYS: setting.integer(30, { min: 0, max: 3650 }),
    /** Include platform-managed tokens (e.g. created by Workflows). */
    STALE_TOKEN_INCLUDE_MANAGED: setting.boolean(false),
    /** JSON array of exemptions; see exemptions.ts and docs/stale-token-sweep.md. */
    STALE_TOKEN_EXEMPTIONS: setting.json(exemptionsSchema, []),
    /** Actually delete tokens. false (default): dry run, the summary lists what would be revoked. */
    STALE_TOKEN_REVOKE: REPORT_POLICY_SETTINGS.STALE_TOKEN_REVOKE,
    /** Whole days between first flagging a token and revoking it. */
    STALE_TOKEN_REVOKE_GRACE_DAYS: REPORT_POLICY_SETTINGS.STALE_TOKEN_REVOKE_GRACE_DAYS,
    /** S3 bucket for the governance report, written at the end of every run; unset: no report. */
    REPORT_BUCKET: z.string().trim().min(3).optional(),
    /** Key prefix of the report objects (folders per day and latest/). */
    REPORT_PREFIX: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+\/)+$/, { error: 'must be folder names ending with "/", e.g. reports/' })
      .default(DEFAULT_REPORT_PREFIX),
    /** "In the period" of the report (revoked, resolved, access requests): the last N days. */
    REPORT_PERIOD_DAYS: REPORT_POLICY_SETTINGS.REPORT_PERIOD_DAYS,
    /** The report also reads these tables (the stack sets them with REPORT_BUCKET). */
    [TABLES.accessRequests.envVar]: z.string().min(1).optional(),
    [TABLES.absences.envVar]: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.REPORT_BUCKET) {
      for (const table of [TABLES.accessRequests.envVar, TABLES.absences.envVar] as const) {
        if (!s[table]) {
          ctx.addIssue({
            code: 'custom',
            path: [table],
            message: 'is required when REPORT_BUCKET is set (the report reads that table)',
          });
        }
      }
    }
    if (
      s.STALE_TOKEN_WARN_AFTER_DAYS !== 0 &&
      s.STALE_TOKEN_WARN_AFTER_DAYS >= s.STALE_TOKEN_STALE_AFTER_DAYS
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['STALE_TOKEN_WARN_AFTER_DAYS'],
        message: `must be less than STALE_TOKEN_STALE_AFTER_DAYS (${s.STALE_TOKEN_STALE_AFTER_DAYS}), or 0 for no warning tier`,
      });
    }
  });

export type StaleTokenSweepSettings = z.infer<typeof staleTokenSweepSettings>;

export function parseStaleTokenSweepSettings(env: Env = process.env): StaleTokenSweepSettings {
  return parseSettings(staleTokenSweepSettings, env);
}

export function policyFromSettings(settings: StaleTokenSweepSettings): StaleTokenPolicy {
  return {
    staleAfterDays: settings.STALE_TOKEN_STALE_AFTER_DAYS,
    warnAfterDays:
      settings.STALE_TOKEN_WARN_AFTER_DAYS === 0 ? undefined : settings.STALE_TOKEN_WARN_AFTER_DAYS,
    neverUsedAfterDays: settings.STALE_TOKEN_NEVER_USED_AFTER_DAYS,
    includeManaged: settings.STALE_TOKEN_INCLUDE_MANAGED,
    exemptions: settings.STALE_TOKEN_EXEMPTIONS.map(compileExemption),
    revocation: revocationOf(settings),
  };
}
