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
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '../shared/aws';
import { FindingsStore } from '../shared/findings';
import { handlerTools, lambdaEntryPoint, type HandlerTools } from '../shared/lambda';
import { connectNotifier, LogNotifier, type Notifier } from '../shared/notifier';
import { addCountMetrics, type LogSink } from '../shared/observability';
import { outcomeOfError, type MessageOutcome } from '../shared/queue/outcomes';
import { queueDepsFromSettings } from '../shared/queue/from-settings';
import { settleSqsBatch, type QueueMessage } from '../shared/queue/settle-batch';
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

export type EventTriggersHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

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

  const access = deps.accessRequestsTable
    ? new AccessEvents({
        store: new DynamoAccessEventStore(deps.doc, deps.accessRequestsTable, now),
        findings,
        notifier: deps.notifier ?? new LogNotifier(deps.log),
        now,
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
        let next = 0;
        const worker = async () => {
          while (next < messages.length) {
            const message = messages[next++]!;
            outcomes.set(message.messageId, await handleMessage(message, counts));
          }
        };
        await Promise.all(Array.from({ length: Math.min(CONCURRENCY, messages.length) }, worker));
        return outcomes;
      },
      { ...deps, log: deps.log },
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

  return handle;
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
    ...(settings.ACCESS_REQUESTS_TABLE ? { accessRequestsTable: settings.ACCESS_REQUESTS_TABLE } : {}),
    notifier: await connectNotifier(settings, log),
    ...queueDepsFromSettings(settings, sqs),
    log,
    metrics: tools.metrics,
  });
}

/** The Lambda entry point: the settings are checked at init, so a bad one fails the cold start naming it. */
export const handler = lambdaEntryPoint({
  service: SERVICE_NAME,
  init: (_tools, env) => ({ env, settings: loadEventTriggersSettings(env) }),
  start: ({ env, settings }, tools) => createEventTriggersHandlerFromEnv(env, settings, tools),
}) as EventTriggersHandler;
