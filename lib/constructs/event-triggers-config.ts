/**
 * The stack settings of ISC event triggers (`igaAutopilot.eventTriggers`, docs/event-triggers.md).
 * Opt-in: nothing is deployed until a trigger's partner event source is named.
 *
 *   "eventTriggers": {
 *     "sources": {
 *       "identityAttributesChanged": "aws.partner/sailpoint.com/<subscription id>/idn/identity-attributes-changed",
 *       "identityDeleted": "aws.partner/sailpoint.com/<subscription id>/idn/identity-deleted"
 *     },
 *     "absenceMapping": { "status": { "attribute": "leaveStatus", "onLeave": ["LOA"] },
 *                         "startDate": "leaveStart", "endDate": "leaveEnd" }
 *   }
 *
 * Each source gets a partner event bus of its name (associating the source ISC created), unless
 * `eventBus` names an existing bus the events already reach; one rule per trigger sends the events to
 * the trigger queue.
 */
import * as z from 'zod';
import { AbsenceAttributeMappingSchema } from '../../functions/event-triggers/absence-mapping';
import {
  duplicateSources,
  HANDLED_TRIGGERS,
  partnerSourceProblem,
  TRIGGERS,
  type TriggerKey,
} from '../../functions/event-triggers/triggers';
import { integer, scheduleExpression } from '../setting-values';

const source = (trigger: TriggerKey) =>
  z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = HANDLED_TRIGGERS.includes(trigger)
        ? partnerSourceProblem(trigger, value)
        : `${TRIGGERS[trigger].id} is not handled by this version yet (docs/event-triggers.md)`;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional();

/** A JSON object in cdk.json, or its JSON text on the command line (-c key='{"…"}'). */
const jsonObject = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  }, schema);

export const eventTriggersConfigSchema = z
  .object({
    /** Partner event source per trigger; unset: that trigger is not consumed. */
    sources: z
      .object({
        accessRequestDecision: source('accessRequestDecision'),
        provisioningCompleted: source('provisioningCompleted'),
        identityAttributesChanged: source('identityAttributesChanged'),
        identityDeleted: source('identityDeleted'),
      })
      .strict()
      .prefault({}),
    /**
     * An existing event bus (name or ARN) that the events already reach: the rules go there and no
     * partner event bus is created. Unset: one partner event bus per source.
     */
    eventBus: z
      .string()
      .trim()
      .regex(/^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._/-]{1,256}$/, {
        error: 'must be an event bus name or ARN',
      })
      .optional(),
    /** Which identity attributes carry absences; required with identityAttributesChanged. */
    absenceMapping: jsonObject(AbsenceAttributeMappingSchema).optional(),
    /**
     * With the access triggers: how long a GRANT/REVOKE waits for the events of the opposite request
     * of the same access before reading SailPoint's status (the fallback for an event that never
     * came). Sets the access function's ACCESS_EVENTS_WAIT_SECONDS.
     */
    accessEventWaitSeconds: integer(3600, 60, 14 * 86_400),
    /**
     * With the access triggers: when the reconciliation of lost access events runs (an EventBridge
     * Scheduler expression, UTC), how long an outcome waits for its events before SailPoint's status is
     * read (ACCESS_RECONCILE_GRACE_SECONDS), and how many outcomes one run takes at most
     * (ACCESS_RECONCILE_MAX_MESSAGES).
     */
    accessReconcileSchedule: scheduleExpression('rate(1 hour)'),
    accessReconcileGraceSeconds: integer(3600, 60, 14 * 86_400),
    accessReconcileMaxMessages: integer(100, 1, 1000),
    /** Instances working the trigger queue at once (SQS allows 2-1000). */
    maxConcurrency: integer(2, 2, 1000),
    timeoutSeconds: integer(60, 10, 900),
    /** Events per invocation (more than 10 needs a batching window). */
    batchSize: integer(10, 1, 10_000),
    maxBatchingWindowSeconds: integer(0, 0, 300),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.sources.identityAttributesChanged !== undefined && s.absenceMapping === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['absenceMapping'],
        message:
          'is required when sources.identityAttributesChanged is set: name the attributes that carry absences ' +
          '(docs/event-triggers.md, "Absences from identity attributes")',
      });
    }
    // A decision without its provisioning (or the reverse) cannot tell when a request has finished.
    const access = [s.sources.accessRequestDecision, s.sources.provisioningCompleted];
    if (access.filter((v) => v !== undefined).length === 1) {
      ctx.addIssue({
        code: 'custom',
        path: [
          'sources',
          s.sources.accessRequestDecision === undefined ? 'accessRequestDecision' : 'provisioningCompleted',
        ],
        message:
          'is required with the other access trigger: accessRequestDecision and provisioningCompleted go together ' +
          '(a request has finished when it is rejected or provisioned)',
      });
    }
    const configured = Object.entries(s.sources).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    for (const [trigger, other] of duplicateSources(configured)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sources', trigger],
        message: `is also the source of ${other}`,
      });
    }
    if (s.batchSize > 10 && s.maxBatchingWindowSeconds === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['batchSize'],
        message: `${s.batchSize} needs a batching window: set maxBatchingWindowSeconds to at least 1, or lower batchSize to 10`,
      });
    }
  })
  .prefault({});

export type EventTriggersConfig = z.infer<typeof eventTriggersConfigSchema>;

/** The configured triggers and their sources. */
export function configuredSources(config: EventTriggersConfig): Partial<Record<TriggerKey, string>> {
  return Object.fromEntries(Object.entries(config.sources).filter(([, v]) => v !== undefined));
}

/** Whether the access triggers are consumed (both are, or neither). */
export function accessEventsEnabled(config: EventTriggersConfig): boolean {
  return (
    config.sources.accessRequestDecision !== undefined && config.sources.provisioningCompleted !== undefined
  );
}

export function eventTriggersEnabled(config: EventTriggersConfig): boolean {
  return Object.keys(configuredSources(config)).length > 0;
}
