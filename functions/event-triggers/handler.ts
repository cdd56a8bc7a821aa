/**
 * SQS handler: ISC event triggers (EventBridge partner events, one rule per trigger, all into the
 * trigger queue) → the workflows' state.
 *
 * Per message: parse the envelope, tell the trigger by its `source`, validate `detail` against the
 * trigger's schema (event.ts) — anything that does not fit is dead-lettered with the reason, never
 * dropped — then the trigger's handler: Identity Attributes Changed → the absence mapper (absence
 * events on the absence queue), Identity Deleted → the identity's findings closed, Access Request
 * Decision and Provisioning Completed → the access workflow's slots and outcomes, and a finding when a
 * request of ours is rejected or fails (access-events.ts). Events are
 * at-least-once and unordered; each handler is idempotent and order-independent by itself.
 * Errors: a PermanentMessageError (unreadable HR data) → dead letter; anything else → retry (the last
 * allowed receive dead-letters it with the reason).
 *
 * Second entry point (with the access triggers): `{"task": "reconcile-access-events"}` (EventBridge
 * Scheduler, hourly by default) records what SailPoint's status says of submitted units whose events
 * never arrived (access-reconciliation.ts), through the same path as the events.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoProvisioningStore } from '../access-provisioning/state-store';
import { createDocumentClient, createSqsClient } from '../shared/aws';
import { mapLimit } from '../shared/concurrency';
import { FindingsStore } from '../shared/findings';
import { isSqsEvent } from '../shared/invocation';
import { handlerTools, lambdaEntryPoint, type HandlerTools } from '../shared/lambda';
import { connectNotifier, LogNotifier, type Notifier } from '../shared/notifier';
import { addCountMetrics, type LogSink } from '../shared/observability';
import { PermanentMessageError } from '../shared/failure-policy';
import { outcomeOfError, type MessageOutcome } from '../shared/queue/outcomes';
import { queueDepsFromSettings } from '../shared/queue/from-settings';
import { settleSqsBatch, type QueueMessage } from '../shared/queue/settle-batch';
import type { SailPointTransport } from '../shared/sailpoint/client';
import { createSailPointClientFromEnv, sailPointApiUrlFromSettings } from '../shared/sailpoint/from-settings';
import { withRightsPreflight } from '../shared/sailpoint/rights';
import { parseSettings, sailPointSettings } from '../shared/config';
import {
  AccessRequestStatusSource,
  createAccessReconciliation,
  parseAccessReconciliationEvent,
  type AccessReconciliationEvent,
  type AccessReconciliationSummary,
} from './access-reconciliation';
import type { AbsenceAttributeMapping } from './absence-mapping';
import { AbsenceMapper } from './absence-mapper';
import { SqsAbsenceQueue, type AbsenceQueue } from './absence-queue';
import { DynamoAbsenceStore } from '../absence-reassignment/absence-store';
import { DynamoAttributeSnapshotStore } from './attribute-snapshots';
import { AccessEvents, type AccessEventResult } from './access-events';
import { DynamoAccessEventStore } from './access-event-store';
import { DynamoDelegateAbsences } from './delegate-absences';
import { parseTriggerEvent, type TriggerEvent } from './event';
import { IdentityDeletion } from './identity-deleted';
import { loadEventTriggersSettings, type EventTriggersSettings } from './settings';
import type { TriggerSources } from './triggers';

export const SERVICE_NAME = 'event-triggers';

export interface EventTriggersHandlerDeps {
  readonly sources: TriggerSources;
  readonly doc: DynamoDBDocumentClient;
  readonly absencesTable: string;
  readonly findingsTable: string;
  /** Needed when identityAttributesChanged is consumed. */
  readonly absenceMapping?: AbsenceAttributeMapping;
  /** Needed when identityAttributesChanged or identityDeleted is consumed. */
  readonly absenceQueue?: AbsenceQueue;
  /** The access-provisioning workflow's table; needed when the access triggers are consumed. */
  readonly accessRequestsTable?: string;
  /** Where findings of rejected / failed access requests are announced (default: the log). */
  readonly notifier?: Notifier;
  /**
   * The SailPoint client of the reconciliation of lost access events (the access workflow's
   * credential); made on the first run that reads a status. Needed with the access triggers.
   */
  readonly sailpoint?: () => Promise<SailPointTransport>;
  /** ACCESS_RECONCILE_GRACE_SECONDS (default 3600). */
  readonly reconcileGraceSeconds?: number;
  /** ACCESS_RECONCILE_MAX_MESSAGES (default 100). */
  readonly reconcileMaxMessages?: number;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly maxReceiveCount: number;
  readonly log: LogSink;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
}

/** Counts of one batch, logged and emitted as metrics (PascalCase names). */
const METRIC_NAMES = {
  received: 'TriggerEvents',
  attributeChangesIgnored: 'AttributeChangesIgnored',
  absenceEventsSent: 'AbsenceEventsSent',
  identitiesDeleted: 'IdentitiesDeleted',
  findingsClosed: 'FindingsClosed',
  absencesCancelled: 'AbsencesCancelled',
  absencesReplanned: 'AbsencesReplanned',
  accessDecisions: 'AccessDecisions',
  provisioningResults: 'ProvisioningResults',
  accessUnitsUpdated: 'AccessUnitsUpdated',
  accessFindingsOpened: 'AccessFindingsOpened',
  retried: 'Retried',
  deadLettered: 'DeadLettered',
} as const;
export type EventTriggerCounts = Record<keyof typeof METRIC_NAMES, number>;

/** Events handled at once within a batch (each is a few DynamoDB calls at most). */
const CONCURRENCY = 4;

/** The function's two entry points: SQS batches of trigger events, and the scheduled reconciliation. */
export interface EventTriggersHandler {
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  (event: AccessReconciliationEvent, context: Context): Promise<AccessReconciliationSummary>;
  (
    event: SQSEvent | AccessReconciliationEvent,
    context: Context,
  ): Promise<SQSBatchResponse | AccessReconciliationSummary>;
}

export function createEventTriggersHandler(deps: EventTriggersHandlerDeps): EventTriggersHandler {
  const now = deps.now ?? (() => new Date());
  const snapshots = new DynamoAttributeSnapshotStore(deps.doc, deps.absencesTable);
  const findings = new FindingsStore({ doc: deps.doc, tableName: deps.findingsTable, log: deps.log });
  const mapper =
    deps.absenceMapping && deps.absenceQueue
      ? new AbsenceMapper(deps.absenceMapping, snapshots, deps.absenceQueue)
      : undefined;
  const deletion = new IdentityDeletion({
    findings,
    snapshots,
    // Reads only: the retention (an expiry for writes) plays no part.
    absences: new DynamoAbsenceStore(deps.doc, deps.absencesTable, 0),
    ...(deps.absenceQueue ? { absenceQueue: deps.absenceQueue } : {}),
    delegates: new DynamoDelegateAbsences(deps.doc, deps.absencesTable),
    now,
  });

  const accessStore = deps.accessRequestsTable
    ? new DynamoAccessEventStore(deps.doc, deps.accessRequestsTable, now)
    : undefined;
  const access = accessStore
    ? new AccessEvents({
        store: accessStore,
        findings,
        notifier: deps.notifier ?? new LogNotifier(deps.log),
        now,
      })
    : undefined;
  let statusSource: Promise<AccessRequestStatusSource> | undefined;
  const reconcile =
    access && accessStore && deps.accessRequestsTable && deps.sailpoint
      ? createAccessReconciliation({
          awaited: accessStore,
          outcomes: new DynamoProvisioningStore(deps.doc, deps.accessRequestsTable),
          statuses: () => {
            // One client per instance; a failure to make it is not kept (the next run tries again).
            statusSource ??= deps.sailpoint!().then((c) => new AccessRequestStatusSource(c));
            return statusSource.catch((error: unknown) => {
              statusSource = undefined;
              throw error;
            });
          },
          events: access,
          graceMs: (deps.reconcileGraceSeconds ?? 3600) * 1000,
          maxMessages: deps.reconcileMaxMessages ?? 100,
          now,
          log: deps.log,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
        })
      : undefined;
  const accessOutcome = (result: AccessEventResult, counts: EventTriggerCounts): MessageOutcome => {
    counts.accessUnitsUpdated += result.ours;
    counts.accessFindingsOpened += result.findingsOpened;
    return {
      status: 'done',
      detail: `${result.units} unit(s), ${result.ours} of them ours, ${result.findingsOpened} finding(s) opened`,
    };
  };

  const handleEvent = async (
    event: TriggerEvent,
    counts: EventTriggerCounts,
    runId: string,
  ): Promise<MessageOutcome> => {
    switch (event.trigger) {
      case 'identityAttributesChanged': {
        if (!mapper) return { status: 'dead-letter', reason: 'no absence attribute mapping is configured' };
        const result = await mapper.handle(event.payload, event.envelope.time);
        if (result.outcome === 'ignored') {
          counts.attributeChangesIgnored++;
          return { status: 'done', detail: result.detail };
        }
        counts.absenceEventsSent++;
        deps.log.info('absence event sent', {
          identityId: event.payload.identity.id,
          eventId: result.eventId,
          type: result.type,
        });
        return { status: 'done', detail: result.detail };
      }
      case 'identityDeleted': {
        const result = await deletion.handle(event.payload, event.envelope.time);
        counts.identitiesDeleted++;
        counts.findingsClosed += result.findingsClosed;
        counts.absencesCancelled += result.absencesCancelled;
        counts.absencesReplanned += result.absencesReplanned;
        deps.log.info('identity deleted', { identityId: event.payload.identity.id, ...result });
        return {
          status: 'done',
          detail:
            `${result.findingsClosed} finding(s) closed, ${result.absencesCancelled} absence(s) cancelled, ` +
            `${result.absencesReplanned} absence(s) delegating to it due for a re-plan`,
        };
      }
      case 'accessRequestDecision': {
        if (!access) return { status: 'dead-letter', reason: 'no access requests table is configured' };
        counts.accessDecisions++;
        return accessOutcome(await access.decision(event.payload, event.envelope.time, runId), counts);
      }
      case 'provisioningCompleted': {
        if (!access) return { status: 'dead-letter', reason: 'no access requests table is configured' };
        counts.provisioningResults++;
        return accessOutcome(await access.provisioning(event.payload, event.envelope.time, runId), counts);
      }
    }
  };

  const handleMessage = async (
    message: QueueMessage,
    counts: EventTriggerCounts,
  ): Promise<MessageOutcome> => {
    const parsed = parseTriggerEvent(message.body, deps.sources);
    if (!parsed.ok) return { status: 'dead-letter', reason: parsed.reason };
    try {
      // The run that owns this delivery's notifications: its retry (same SQS message) may publish them.
      return await handleEvent(parsed.event, counts, `${parsed.event.envelope.id}/${message.messageId}`);
    } catch (error) {
      const outcome = outcomeOfError(error);
      deps.log.warn('trigger event not handled', {
        messageId: message.messageId,
        trigger: parsed.event.trigger,
        eventId: parsed.event.envelope.id,
        outcome: outcome.status,
        reason: 'reason' in outcome ? outcome.reason : undefined,
      });
      return outcome;
    }
  };

  const handle = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const counts = Object.fromEntries(Object.keys(METRIC_NAMES).map((k) => [k, 0])) as EventTriggerCounts;
    counts.received = event.Records.length;
    const settled = await settleSqsBatch(
      event,
      async (messages) => {
        const outcomes = new Map<string, MessageOutcome>();
        await mapLimit(messages, CONCURRENCY, async (message) => {
          outcomes.set(message.messageId, await handleMessage(message, counts));
        });
        return outcomes;
      },
      deps,
    );
    for (const outcome of settled.outcomes.values()) {
      if (outcome.status === 'retry') counts.retried++;
      if (outcome.status === 'dead-letter') counts.deadLettered++;
    }
    // One line per batch: ignored attribute changes are counted here, not logged one by one.
    deps.log.info('trigger batch processed', { ...counts });
    if (deps.metrics) addCountMetrics(deps.metrics, counts, METRIC_NAMES);
    return settled.response;
  };

  // An SQS batch, or anything else: the reconciliation, which refuses any payload but its own.
  const dispatch = async (
    event: SQSEvent | AccessReconciliationEvent,
    context: Context,
  ): Promise<SQSBatchResponse | AccessReconciliationSummary> => {
    if (isSqsEvent(event)) return handle(event);
    if (!reconcile) {
      parseAccessReconciliationEvent(event);
      throw new PermanentMessageError(
        'event-triggers: the reconciliation of access events needs the access triggers (ACCESS_REQUESTS_TABLE) and a SailPoint client',
      );
    }
    return reconcile(event, context);
  };
  return dispatch as EventTriggersHandler;
}

/**
 * Builds the handler from validated settings (once per Lambda instance; the entry point rebuilds it
 * after a failure). A notifications topic that does not exist fails here, naming NOTIFICATIONS_TOPIC_ARN.
 */
export async function createEventTriggersHandlerFromEnv(
  env: Record<string, string | undefined> = process.env,
  settings: EventTriggersSettings = loadEventTriggersSettings(env),
  tools: HandlerTools = handlerTools(SERVICE_NAME, env),
): Promise<EventTriggersHandler> {
  const { log } = tools;
  const sqs = createSqsClient();
  return createEventTriggersHandler({
    sources: settings.EVENT_TRIGGER_SOURCES,
    doc: createDocumentClient(),
    absencesTable: settings.ABSENCES_TABLE,
    findingsTable: settings.FINDINGS_TABLE,
    ...(settings.ABSENCE_ATTRIBUTE_MAPPING ? { absenceMapping: settings.ABSENCE_ATTRIBUTE_MAPPING } : {}),
    ...(settings.ABSENCE_QUEUE_URL
      ? { absenceQueue: new SqsAbsenceQueue(sqs, settings.ABSENCE_QUEUE_URL) }
      : {}),
    ...(settings.ACCESS_REQUESTS_TABLE
      ? {
          accessRequestsTable: settings.ACCESS_REQUESTS_TABLE,
          // Read only by the reconciliation, on its first run that needs SailPoint.
          sailpoint: async () =>
            withRightsPreflight(
              await createSailPointClientFromEnv(env, { logger: log }),
              RECONCILIATION_OPERATIONS,
            ),
          reconcileGraceSeconds: settings.ACCESS_RECONCILE_GRACE_SECONDS,
          reconcileMaxMessages: settings.ACCESS_RECONCILE_MAX_MESSAGES,
        }
      : {}),
    notifier: await connectNotifier(settings, log),
    ...queueDepsFromSettings(settings, sqs),
    log,
    metrics: tools.metrics,
  });
}

/** What the reconciliation calls: /access-request-status only (with the access workflow's credential). */
const RECONCILIATION_OPERATIONS = {
  workflow: 'event-triggers (reconciliation of access events)',
  operations: ['listAccessRequestStatus'],
} as const satisfies Parameters<typeof withRightsPreflight>[1];

/**
 * The Lambda entry point: the settings are checked at init, so a bad one fails the cold start naming
 * it; with the access triggers, the SailPoint API host of the reconciliation too.
 */
export const handler = lambdaEntryPoint({
  service: SERVICE_NAME,
  init: (_tools, env) => {
    const settings = loadEventTriggersSettings(env);
    if (settings.ACCESS_REQUESTS_TABLE) sailPointApiUrlFromSettings(parseSettings(sailPointSettings, env));
    return { env, settings };
  },
  start: ({ env, settings }, tools) => createEventTriggersHandlerFromEnv(env, settings, tools),
}) as EventTriggersHandler;
