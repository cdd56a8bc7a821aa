/**
 * SQS handler: HR absence events → SailPoint reassignment configurations.
 *
 * Per message: parse (an invalid event is dead-lettered with the reason), then AbsenceWorkflow.
 * Messages of one person (FIFO message group, else the event's identityId) run one after another
 * in batch order; different people run concurrently. On a FIFO queue, once a message of a group
 * must be retried, the later messages of that group are retried too, so they never overtake it —
 * except when it is on its last receive: then it is dead-lettered, and the ones behind it go on
 * (holding them back would only dead-letter them with it, untried).
 * Errors → outcomes: the shared failure policy (outcomeOfAbsenceError below). SailPoint's loop
 * refusal is no error here: the reconciliation re-plans the absence without that delegate.
 *
 * Second entry point: `{"task": "recheck-deferred"}` (EventBridge Scheduler, daily by default) runs
 * the re-check of deferred absences whose SailPoint slot has freed up (recheck.ts).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/aws';
import { mapLimit } from '../shared/concurrency';
import { isSqsEvent } from '../shared/invocation';
import { connectNotifier, type Notifier } from '../shared/notifier';
import { outcomeOfError } from '../shared/failure-policy';
import { handlerTools, lambdaEntryPoint, type HandlerTools } from '../shared/lambda';
import { addCountMetrics, type LogSink } from '../shared/observability';
import type { MessageOutcome } from '../shared/queue/outcomes';
import { queueDepsFromSettings } from '../shared/queue/from-settings';
import { settleSqsBatch, type QueueMessage } from '../shared/queue/settle-batch';
import type { SailPointTransport } from '../shared/sailpoint';
import { createSailPointClientFromEnv, sailPointApiUrlFromSettings } from '../shared/sailpoint/from-settings';
import { withRightsPreflight, WORKFLOW_OPERATIONS } from '../shared/sailpoint/rights';
import { DynamoAbsenceStore } from './absence-store';
import { delegatePolicyOf, type DelegatePolicy } from './delegate-policy';
import { parseAbsenceEvent } from './event';
import { createDeferredRecheck, type DeferredRecheckEvent, type DeferredRecheckSummary } from './recheck';
import {
  delegatePolicyFromSettings,
  loadAbsenceReassignmentSettings,
  type AbsenceReassignmentSettings,
} from './settings';
import { SailPointReassignmentGateway, type ReassignmentGateway } from './sailpoint-gateway';
import { AbsenceWorkflow, type EventResult, type RemainingTime } from './workflow';

export const SERVICE_NAME = 'absence-reassignment';

export interface AbsenceReassignmentHandlerDeps {
  readonly sailpoint: SailPointTransport;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly maxReceiveCount: number;
  readonly notifier: Notifier;
  readonly log: LogSink;
  /** Powertools metrics; absent: counts are only logged. */
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  readonly maxDelegateHops?: number;
  readonly retentionDays?: number;
  /** OCCURRED_AT_TOLERANCE_SECONDS (default 300). */
  readonly occurredAtToleranceSeconds?: number;
  /** DELEGATE_POLICY with DELEGATE_ALLOW_LIST (default chain-or-peers). */
  readonly delegatePolicy?: DelegatePolicy;
  /** MAX_ABSENCE_DAYS (default 180). */
  readonly maxAbsenceDays?: number;
  /** The SailPoint port; default: the adapter over `sailpoint` (tests may pass their own). */
  readonly gateway?: ReassignmentGateway;
}

/** The function's two entry points: SQS batches of HR events, and the scheduled re-check (recheck.ts). */
export interface AbsenceReassignmentHandler {
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  (event: DeferredRecheckEvent, context: Context): Promise<DeferredRecheckSummary>;
  (
    event: SQSEvent | DeferredRecheckEvent,
    context: Context,
  ): Promise<SQSBatchResponse | DeferredRecheckSummary>;
}

/** Counts of one batch, logged and emitted as metrics. */
const COUNTERS = [
  'configured',
  'deferred',
  'cancelled',
  'windowOver',
  'duplicatesSuppressed',
  'staleIgnored',
  'delegatesSubstituted',
  'configurationsCreated',
  'configurationsReplaced',
  'configurationsDeleted',
  'retried',
  'deadLettered',
] as const;
type Counts = Record<(typeof COUNTERS)[number], number>;

/** Metric names of the counts (PascalCase, as CloudWatch metrics are; the log keeps the count names). */
const METRIC_NAMES = {
  configured: 'Configured',
  deferred: 'Deferred',
  cancelled: 'Cancelled',
  windowOver: 'WindowOver',
  duplicatesSuppressed: 'DuplicatesSuppressed',
  staleIgnored: 'StaleIgnored',
  delegatesSubstituted: 'DelegatesSubstituted',
  configurationsCreated: 'ConfigurationsCreated',
  configurationsReplaced: 'ConfigurationsReplaced',
  configurationsDeleted: 'ConfigurationsDeleted',
  retried: 'Retried',
  deadLettered: 'DeadLettered',
} as const satisfies Record<keyof Counts, string>;

const OUTCOME_COUNTER = {
  configured: 'configured',
  deferred: 'deferred',
  cancelled: 'cancelled',
  'window-over': 'windowOver',
  duplicate: 'duplicatesSuppressed',
  'stale-ignored': 'staleIgnored',
} as const satisfies Record<EventResult['outcome'], keyof Counts>;

/** People handled at once within a batch (a batch can hold up to 10 000 messages on a standard queue). */
const GROUP_CONCURRENCY = 4;

/**
 * What a failure while handling one event means for its message: the shared failure policy
 * (functions/shared/failure-policy.ts). No delegate, an unknown person, a far-future occurredAt,
 * SailPoint's 400/404 or an unreadable answer → dead letter; 429 → retry after Retry-After; 5xx,
 * timeouts, DynamoDB, anything unknown → retry; refused credentials fail the run, which for a queue
 * message means a retry (the message is not to blame; its last receive dead-letters it with the reason).
 */
export function outcomeOfAbsenceError(error: unknown): MessageOutcome {
  return outcomeOfError(error);
}

export function createAbsenceReassignmentHandler(
  deps: AbsenceReassignmentHandlerDeps,
): AbsenceReassignmentHandler {
  const now = deps.now ?? (() => new Date());
  const store = new DynamoAbsenceStore(deps.doc, deps.tableName, deps.retentionDays ?? 400);
  const workflow = new AbsenceWorkflow({
    sailpoint: deps.gateway ?? new SailPointReassignmentGateway(deps.sailpoint),
    store,
    notifier: deps.notifier,
    now,
    log: deps.log,
    options: {
      maxDelegateHops: deps.maxDelegateHops ?? 5,
      delegatePolicy: deps.delegatePolicy ?? delegatePolicyOf('chain-or-peers', []),
      maxAbsenceDays: deps.maxAbsenceDays ?? 180,
      ...(deps.occurredAtToleranceSeconds === undefined
        ? {}
        : { occurredAtToleranceMs: deps.occurredAtToleranceSeconds * 1000 }),
    },
  });
  const recheck = createDeferredRecheck({ workflow, store, now, log: deps.log, metrics: deps.metrics });

  const processBatch = async (
    messages: QueueMessage[],
    counts: Counts,
    remaining: RemainingTime,
  ): Promise<Map<string, MessageOutcome>> => {
    const outcomes = new Map<string, MessageOutcome>();
    const groups = new Map<string, { message: QueueMessage; fifo: boolean }[]>();
    for (const message of messages) {
      const fifoGroup = message.record.attributes?.MessageGroupId;
      const parsed = parseAbsenceEvent(message.body);
      const key =
        fifoGroup ?? (parsed.ok ? `identity:${parsed.event.identityId}` : `message:${message.messageId}`);
      const group = groups.get(key) ?? [];
      group.push({ message, fifo: fifoGroup !== undefined });
      groups.set(key, group);
    }

    await mapLimit([...groups.values()], GROUP_CONCURRENCY, async (group) => {
      let blockedBy: string | undefined;
      for (const { message, fifo } of group) {
        if (blockedBy) {
          outcomes.set(message.messageId, {
            status: 'retry',
            reason: `waits for message ${blockedBy} of the same FIFO group`,
          });
          continue;
        }
        const outcome = await handleMessage(message, counts, remaining);
        outcomes.set(message.messageId, outcome);
        // On its last receive a retry becomes a dead letter (settleSqsBatch): it no longer holds the group.
        const lastReceive = message.receiveCount >= deps.maxReceiveCount;
        if (fifo && outcome.status === 'retry' && !lastReceive) blockedBy = message.messageId;
      }
    });

    return outcomes;
  };

  const handleMessage = async (
    message: QueueMessage,
    counts: Counts,
    remaining: RemainingTime,
  ): Promise<MessageOutcome> => {
    const parsed = parseAbsenceEvent(message.body);
    if (!parsed.ok) return { status: 'dead-letter', reason: parsed.reason };
    const { event } = parsed;
    // Who sent it (an IAM user id, or role id:session), kept with the absence; SQS may not say.
    const producer = message.record.attributes?.SenderId || null;
    const context = {
      messageId: message.messageId,
      eventId: event.eventId,
      absenceId: event.absenceId,
      type: event.type,
      producer,
    };
    try {
      const result = await workflow.handle(event, remaining, { producer });
      counts[OUTCOME_COUNTER[result.outcome]]++;
      if (result.delegateSubstituted) counts.delegatesSubstituted++;
      counts.configurationsCreated += result.changes.created;
      counts.configurationsReplaced += result.changes.updated;
      counts.configurationsDeleted += result.changes.deleted;
      deps.log.info('absence event handled', { ...context, outcome: result.outcome, detail: result.detail });
      return { status: 'done', detail: result.detail };
    } catch (error) {
      const outcome = outcomeOfAbsenceError(error);
      deps.log.warn('absence event not handled', {
        ...context,
        outcome: outcome.status,
        reason: 'reason' in outcome ? outcome.reason : undefined,
      });
      return outcome;
    }
  };

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const counts = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;
    const remaining = () => context.getRemainingTimeInMillis();
    const settled = await settleSqsBatch(event, (messages) => processBatch(messages, counts, remaining), {
      sqs: deps.sqs,
      queueUrl: deps.queueUrl,
      deadLetterQueueUrl: deps.deadLetterQueueUrl,
      maxReceiveCount: deps.maxReceiveCount,
      log: deps.log,
    });
    // Counted after settling: a retry on the last allowed receive became a dead letter there.
    for (const outcome of settled.outcomes.values()) {
      if (outcome.status === 'retry') counts.retried++;
      if (outcome.status === 'dead-letter') counts.deadLettered++;
    }
    deps.log.info('absence batch processed', { messages: event.Records.length, ...counts });
    if (deps.metrics) addCountMetrics(deps.metrics, counts, METRIC_NAMES);
    return settled.response;
  };

  // An SQS batch, or anything else: the re-check, which refuses any payload but its own.
  const dispatch = async (
    event: SQSEvent | DeferredRecheckEvent,
    context: Context,
  ): Promise<SQSBatchResponse | DeferredRecheckSummary> =>
    isSqsEvent(event) ? handle(event, context) : recheck(event, context);
  return dispatch as AbsenceReassignmentHandler;
}

/** Builds the handler from validated settings (once per Lambda instance: reads the credential, checks the topic). */
export async function createAbsenceReassignmentHandlerFromEnv(
  env: Record<string, string | undefined> = process.env,
  settings: AbsenceReassignmentSettings = loadAbsenceReassignmentSettings(env),
  tools: HandlerTools = handlerTools(SERVICE_NAME, env),
): Promise<AbsenceReassignmentHandler> {
  const { log } = tools;
  // Preflight: a credential without the rights this workflow needs fails every call with an error
  // naming them (the events are retried, then dead-lettered with it); said at start too.
  const sailpoint = withRightsPreflight(
    await createSailPointClientFromEnv(env, { logger: log }),
    WORKFLOW_OPERATIONS.absenceReassignment(),
  );
  void sailpoint
    .tokenInfo()
    .catch((error: unknown) =>
      log.error('the SailPoint credential cannot reassign work', { error: String(error) }),
    );
  return createAbsenceReassignmentHandler({
    sailpoint,
    doc: createDocumentClient(),
    tableName: settings.ABSENCES_TABLE,
    ...queueDepsFromSettings(settings),
    // A topic that does not exist fails here, on the first invocation, naming NOTIFICATIONS_TOPIC_ARN.
    notifier: await connectNotifier(settings, log),
    log,
    metrics: tools.metrics,
    maxDelegateHops: settings.DELEGATE_MAX_HOPS,
    retentionDays: settings.ABSENCE_RETENTION_DAYS,
    occurredAtToleranceSeconds: settings.OCCURRED_AT_TOLERANCE_SECONDS,
    delegatePolicy: delegatePolicyFromSettings(settings),
    maxAbsenceDays: settings.MAX_ABSENCE_DAYS,
  });
}

/**
 * The Lambda entry point: the settings (the SailPoint API host included) are checked at init, so a
 * bad one fails the cold start naming it; the credential and the topic are read on the first invocation.
 */
export const handler = lambdaEntryPoint({
  service: SERVICE_NAME,
  init: (_tools, env) => {
    const settings = loadAbsenceReassignmentSettings(env);
    sailPointApiUrlFromSettings(settings);
    return { env, settings };
  },
  start: ({ env, settings }, tools) => createAbsenceReassignmentHandlerFromEnv(env, settings, tools),
}) as AbsenceReassignmentHandler;
