/**
 * Every environment variable of the event-triggers function (the CDK stack sets them from
 * `igaAutopilot.eventTriggers`; see docs/event-triggers.md).
 */
import * as z from 'zod';
import { parseSettings, queueSettings, setting, type Env } from '../shared/config';
import { AbsenceAttributeMappingSchema } from './absence-mapping';
import { duplicateSources, partnerSourceProblem, TRIGGER_KEYS, TRIGGERS, type TriggerKey } from './triggers';

/** Trigger → its partner event source (the rules' `source`): how an event is told apart. */
export const TriggerSourcesSchema = z
  .partialRecord(z.enum(TRIGGER_KEYS as [TriggerKey, ...TriggerKey[]]), z.string().trim())
  .superRefine((sources, ctx) => {
    const entries = Object.entries(sources) as [TriggerKey, string][];
    const duplicates = duplicateSources(entries);
    for (const [trigger, source] of entries) {
      const problem = partnerSourceProblem(trigger, source);
      if (problem) ctx.addIssue({ code: 'custom', path: [trigger], message: problem });
      const other = duplicates.get(trigger);
      if (other) ctx.addIssue({ code: 'custom', path: [trigger], message: `is also the source of ${other}` });
    }
  });

const required = () => z.string({ error: 'is required' }).min(1, { error: 'is required' });

export const eventTriggersSettings = queueSettings
  .extend({
    /** JSON {"<trigger>": "<partner event source>"}: the triggers this deployment consumes. */
    EVENT_TRIGGER_SOURCES: setting.json(TriggerSourcesSchema, {}),
    /** JSON: which identity attributes carry absences (docs/event-triggers.md); needed for identityAttributesChanged. */
    ABSENCE_ATTRIBUTE_MAPPING: setting.json(AbsenceAttributeMappingSchema.optional(), undefined),
    /** The absence queue (the absence-reassignment function's): the mapper's events, cancellations of deleted identities. */
    ABSENCE_QUEUE_URL: z.string().min(1).optional(),
    /** The absences table: the mapper's attribute snapshots live beside the absences. */
    ABSENCES_TABLE: required(),
    /** The findings table: Identity Deleted closes the identity's open findings; rejected requests open one. */
    FINDINGS_TABLE: required(),
    /** The access-provisioning table (slots, outcomes); needed for the access triggers. */
    ACCESS_REQUESTS_TABLE: z.string().min(1).optional(),
    /** SNS topic for findings of rejected / failed access requests; unset: the log. */
    NOTIFICATIONS_TOPIC_ARN: z.string().min(1).optional(),
    /**
     * The reconciliation of lost access events (access-reconciliation.ts): how long an outcome with
     * submitted units waits for their events before SailPoint's status is read (and between reads
     * while SailPoint has not finished).
     */
    ACCESS_RECONCILE_GRACE_SECONDS: setting.integer(3600, { min: 60, max: 14 * 86_400 }),
    /** Outcomes one reconciliation run looks at, at most (the rest wait for the next run). */
    ACCESS_RECONCILE_MAX_MESSAGES: setting.integer(100, { min: 1, max: 1000 }),
  })
  .superRefine((s, ctx) => {
    const required: [keyof typeof s, TriggerKey][] = [
      ['ABSENCE_ATTRIBUTE_MAPPING', 'identityAttributesChanged'],
      ['ABSENCE_QUEUE_URL', 'identityAttributesChanged'],
      ['ABSENCE_QUEUE_URL', 'identityDeleted'],
      ['ACCESS_REQUESTS_TABLE', 'accessRequestDecision'],
      ['ACCESS_REQUESTS_TABLE', 'provisioningCompleted'],
    ];
    for (const [key, trigger] of required) {
      if (s.EVENT_TRIGGER_SOURCES[trigger] === undefined || s[key] !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `is required when ${TRIGGERS[trigger].id} is consumed (EVENT_TRIGGER_SOURCES)`,
      });
    }
  });

export type EventTriggersSettings = z.infer<typeof eventTriggersSettings>;

export function loadEventTriggersSettings(env: Env = process.env): EventTriggersSettings {
  return parseSettings(eventTriggersSettings, env);
}
