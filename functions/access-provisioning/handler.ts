/**
 * SQS handler (event source mapping with ReportBatchItemFailures): access-request intents →
 * SailPoint access requests, never a duplicate. The work is AccessProvisioner (workflow.ts); this
 * file wires it to the queue: settleSqsBatch deletes done messages, dead-letters invalid or refused
 * ones with the reason, and retries the rest (a 429 after its Retry-After).
 *
 * A credential without user context fails every batch with a message saying so (NoUserContextError):
 * the messages stay on the queue until the credential is fixed, or reach the DLQ with that reason.
 */
import middy from '@middy/core';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/aws';
import { reuseUntilFailure } from '../shared/lambda';
import { notifierFromSettings, type Notifier } from '../shared/notifier';
import { addCountMetrics, createLogger, createMetrics, logSinkOf } from '../shared/observability';
import type { MessageOutcome } from '../shared/queue/outcomes';
import { queueDepsFromSettings } from '../shared/queue/from-settings';
import { settleSqsBatch, type QueueMessage, type SettleDeps } from '../shared/queue/settle-batch';
import type { SailPointTransport, TokenInfo } from '../shared/sailpoint/client';
import { createSailPointClientFromEnv } from '../shared/sailpoint/from-settings';
import { withRightsPreflight, WORKFLOW_OPERATIONS } from '../shared/sailpoint/rights';
import { SailPointAccessRequestGateway, type AccessRequestGateway } from './gateway';
import { logicalMessage, requeueCopies } from './requeue';
import { AccessProvisioner, requireUserContext, type BatchCounts, type ProcessorSettings } from './workflow';
import {
  DEFAULT_PROCESSOR_SETTINGS,
  loadAccessProvisioningSettings,
  perInstanceRequestsPer10s,
  processorSettings,
} from './settings';
import { DynamoProvisioningStore } from './state-store';

export const SERVICE_NAME = 'access-provisioning';

/** The queue (sqs, queueUrl, deadLetterQueueUrl, maxReceiveCount) and log are what settleSqsBatch takes. */
export interface AccessProvisioningHandlerDeps extends SettleDeps {
  /** The SailPoint client (a PAT's credentials); or pass `gateway` directly. */
  readonly sailpoint?: SailPointTransport & { tokenInfo(): Promise<TokenInfo> };
  readonly gateway?: AccessRequestGateway;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly notifier?: Notifier;
  /** Powertools metrics; absent: counts are only logged. */
  readonly metrics?: Metrics;
  /** Epoch ms; injectable for tests. */
  readonly clock?: () => number;
  readonly settings?: Partial<ProcessorSettings>;
}

export type AccessProvisioningHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The batch counts emitted as metrics, and their metric names (the log keeps the count names). */
const METRIC_NAMES = {
  messages: 'Messages',
  submitted: 'Submitted',
  duplicatesSuppressed: 'DuplicatesSuppressed',
  alreadyHeld: 'AlreadyHeld',
  notHeld: 'NotHeld',
  invalidMessages: 'InvalidMessages',
  failedMessages: 'FailedMessages',
  retriedMessages: 'RetriedMessages',
  requeuedMessages: 'RequeuedMessages',
  waiting: 'Waiting',
  reconciled: 'Reconciled',
  requestsPosted: 'RequestsPosted',
} as const satisfies Partial<Record<keyof BatchCounts, string>>;

export function createAccessProvisioningHandler(
  deps: AccessProvisioningHandlerDeps,
): AccessProvisioningHandler {
  const gateway =
    deps.gateway ?? (deps.sailpoint ? new SailPointAccessRequestGateway(deps.sailpoint) : undefined);
  if (!gateway) throw new Error('access provisioning needs a SailPoint client or gateway');
  const settings: ProcessorSettings = {
    ...DEFAULT_PROCESSOR_SETTINGS,
    maxReceiveCount: deps.maxReceiveCount,
    ...deps.settings,
  };
  const provisioner = new AccessProvisioner({
    store: new DynamoProvisioningStore(deps.doc, deps.tableName),
    gateway,
    settings,
    log: deps.log,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  const processBatch = async (
    messages: QueueMessage[],
    context?: Context,
  ): Promise<Map<string, MessageOutcome>> => {
    const remainingMs = context?.getRemainingTimeInMillis();
    const logical = messages.map((m) => ({ queued: m, ...logicalMessage(m.record) }));
    const report = await provisioner.processBatch(
      logical.map(({ queued, messageId, sentAt, requeued }) => ({
        messageId,
        body: queued.body,
        receiveCount: queued.receiveCount,
        sentAt,
        ...(requeued ? { requeued } : {}),
      })),
      remainingMs === undefined ? {} : { remainingMs },
    );
    deps.log.info('access-provisioning batch processed', { ...report.counts });
    for (const [messageId, verdict] of report.verdicts) {
      if (verdict.status === 'submitted' || verdict.status === 'duplicate' || verdict.uncharged) continue;
      deps.log.info('access-provisioning message outcome', {
        messageId,
        requestId: verdict.requestId,
        status: verdict.status,
        reason: verdict.reason,
      });
      if (verdict.status === 'failed' && verdict.queue.status === 'dead-letter' && deps.notifier) {
        await deps.notifier
          .publish({
            kind: 'access-provisioning.failed',
            key: messageId,
            subject: `Access request ${verdict.requestId ?? messageId} was not submitted`,
            detail: { messageId, requestId: verdict.requestId, reason: verdict.reason, units: verdict.units },
          })
          .catch((error: unknown) =>
            deps.log.warn('could not publish notification', { messageId, error: String(error) }),
          );
      }
    }
    if (deps.metrics) addCountMetrics(deps.metrics, report.counts, METRIC_NAMES);

    // Messages not reached go back uncharged, as copies; the rest are settled by their SQS id.
    const copies = logical.flatMap(({ queued, messageId, sentAt }) => {
      const delaySeconds = report.requeue.get(messageId);
      return delaySeconds === undefined ? [] : [{ record: queued.record, messageId, sentAt, delaySeconds }];
    });
    const requeued = copies.length > 0 ? await requeueCopies(copies, deps) : new Set<string>();
    const outcomes = new Map<string, MessageOutcome>();
    for (const { queued, messageId } of logical) {
      const outcome = report.outcomes.get(messageId);
      if (requeued.has(queued.messageId))
        outcomes.set(queued.messageId, { status: 'done', detail: 'requeued uncharged' });
      else if (outcome) outcomes.set(queued.messageId, outcome);
    }
    return outcomes;
  };

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const settled = await settleSqsBatch(event, (messages) => processBatch(messages, context), deps);
    return settled.response;
  };

  const wrapped = middy(handle);
  if (deps.metrics) wrapped.use(logMetrics(deps.metrics));
  return wrapped as unknown as AccessProvisioningHandler;
}

/** Builds the handler's dependencies from the environment (once per Lambda instance). */
export async function createAccessProvisioningHandlerFromEnv(
  env: Record<string, string | undefined> = process.env,
): Promise<AccessProvisioningHandler> {
  const settings = loadAccessProvisioningSettings(env);
  const logger: Logger = createLogger(SERVICE_NAME);
  const log = logSinkOf(logger);
  const perInstance = perInstanceRequestsPer10s(settings);
  // Preflight: every batch first reads the credential's token (the requester check), which names any
  // right the workflow needs that the credential lacks; the messages then wait on the queue, saying so.
  const sailpoint = withRightsPreflight(
    await createSailPointClientFromEnv(env, {
      logger: log,
      rateLimit: perInstance > 0 ? { maxRequests: perInstance, perMs: 10_000 } : false,
    }),
    WORKFLOW_OPERATIONS.accessProvisioning(),
  );
  // Say at start, not only per batch, when the credential cannot request access (no user context).
  void requireUserContext(new SailPointAccessRequestGateway(sailpoint)).catch((error: unknown) =>
    log.error('the SailPoint credential cannot submit access requests', { error: String(error) }),
  );
  return createAccessProvisioningHandler({
    sailpoint,
    doc: createDocumentClient(),
    tableName: settings.ACCESS_REQUESTS_TABLE,
    ...queueDepsFromSettings(settings),
    notifier: notifierFromSettings(settings, log),
    log,
    metrics: createMetrics(SERVICE_NAME),
    settings: processorSettings(settings),
  });
}

// A transient failure while building it (e.g. Secrets Manager) is retried by the next invocation.
const instance = reuseUntilFailure(() => createAccessProvisioningHandlerFromEnv());

/** The Lambda entry point. Bad settings fail the first invocation with a ConfigError naming them. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  (await instance())(event, context);
