/**
 * SQS handler (event source mapping with ReportBatchItemFailures): access-request intents →
 * SailPoint access requests, never a duplicate. The work is AccessProvisioner (workflow.ts); this
 * file wires it to the queue: settleSqsBatch deletes done messages, dead-letters invalid or refused
 * ones with the reason, and retries the rest (a 429 after its Retry-After).
 *
 * Exported through the shared entry point (functions/shared/lambda.ts, docs/handlers.md): Lambda
 * context on every log line, metrics flushed per invocation, optional tracing; errors are classified
 * by the shared failure policy (failure-policy.ts here adds the access rules).
 *
 * A refused credential (401, 403, no user context, a failed rights preflight: the policy's fail-run)
 * fails the run, not the messages: the batch's SailPoint calls stop after the first refusal, every
 * message not done waits on the queue with the reason — which names the rights the refused call
 * needs — until the credential is fixed or its receives run out (then it is dead-lettered with it),
 * and the batch logs an error and counts CredentialRefused.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/aws';
import { decideFailure } from '../shared/failure-policy';
import type { Env } from '../shared/config';
import { handlerTools, lambdaEntryPoint, type EntryPoint, type HandlerTools } from '../shared/lambda';
import { notifierFromSettings, type Notifier } from '../shared/notifier';
import { addCountMetrics } from '../shared/observability';
import type { MessageOutcome } from '../shared/queue/outcomes';
import { queueDepsFromSettings } from '../shared/queue/from-settings';
import { settleSqsBatch, type QueueMessage, type SettleDeps } from '../shared/queue/settle-batch';
import type { SailPointCaller, SailPointTransport } from '../shared/sailpoint/client';
import { SailPointAuthError } from '../shared/sailpoint/errors';
import { createSailPointClientFromEnv, sailPointApiUrlFromSettings } from '../shared/sailpoint/from-settings';
import { withRightsPreflight, WORKFLOW_OPERATIONS } from '../shared/sailpoint/rights';
import { SailPointAccessRequestGateway, type AccessRequestGateway } from './gateway';
import { logicalMessage, requeueCopies } from './requeue';
import { AccessProvisioner, requireUserContext, type BatchCounts, type ProcessorSettings } from './workflow';
import {
  DEFAULT_PROCESSOR_SETTINGS,
  loadAccessProvisioningSettings,
  perInstanceRequestsPer10s,
  processorSettings,
  type AccessProvisioningSettings,
} from './settings';
import { DynamoProvisioningStore } from './state-store';

export const SERVICE_NAME = 'access-provisioning';

/** The queue (sqs, queueUrl, deadLetterQueueUrl, maxReceiveCount) and log are what settleSqsBatch takes. */
export interface AccessProvisioningHandlerDeps extends SettleDeps {
  /** The SailPoint client (a PAT's credentials); or pass `gateway` directly. */
  readonly sailpoint?: SailPointCaller;
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

/**
 * Stops a batch's SailPoint calls after the first that the shared failure policy says fails the run
 * (401, 403, a refused credential or a failed preflight): each later call of the batch throws at once,
 * unsent, naming that refusal — a credential without a right costs one refused call per batch, not one
 * per coalesced request or identity read. `reset` starts the next batch with the credential trusted
 * again (it may have been fixed). Unsent means nothing to reconcile: the error is a SailPointAuthError
 * whose outcome is known (nothing reached SailPoint).
 */
class CredentialRefusals {
  private first: unknown;

  /** The refusal that stopped this batch's calls, if any. */
  get refusal(): unknown {
    return this.first;
  }

  reset(): void {
    this.first = undefined;
  }

  private async noted<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (decideFailure(error).action === 'fail-run') this.first ??= error;
      throw error;
    }
  }

  guard(client: SailPointCaller): SailPointCaller {
    const send: SailPointTransport['send'] = async (request) => {
      if (this.first !== undefined) {
        throw new SailPointAuthError({
          operation: request.operation,
          request: `${request.method} ${request.path}`,
          detail: `not sent, this batch's SailPoint calls stopped after a refusal: ${decideFailure(this.first).reason}`,
        });
      }
      return this.noted(() => client.send(request));
    };
    return {
      send,
      // Not stopped (the batch's requester check reads it first), but a refusal here is noted too:
      // the token endpoint refusing the client, or the rights preflight naming a missing right.
      tokenInfo: () => this.noted(() => client.tokenInfo()),
      ...(client.reserveCalls
        ? { reserveCalls: (path: string, count: number) => client.reserveCalls!(path, count) }
        : {}),
      ...(client.withDeadline
        ? { withDeadline: (deadline: number) => this.guard(client.withDeadline!(deadline)) }
        : {}),
    };
  }
}

export function createAccessProvisioningHandler(
  deps: AccessProvisioningHandlerDeps,
): AccessProvisioningHandler {
  const refusals = new CredentialRefusals();
  const gateway =
    deps.gateway ??
    (deps.sailpoint ? new SailPointAccessRequestGateway(refusals.guard(deps.sailpoint)) : undefined);
  if (!gateway) throw new Error('access provisioning needs a SailPoint client or gateway');
  const settings: ProcessorSettings = {
    ...DEFAULT_PROCESSOR_SETTINGS,
    maxReceiveCount: deps.maxReceiveCount,
    ...deps.settings,
  };
  const provisioner = new AccessProvisioner({
    // With event triggers, outcomes of submitted units are listed for the reconciliation of lost events.
    store: new DynamoProvisioningStore(deps.doc, deps.tableName, {
      awaitEvents: (settings.eventWaitMs ?? 0) > 0,
    }),
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
    if (refusals.refusal !== undefined) {
      // Fail-run, loudly: the credential, not the messages (they wait on the queue, saying why).
      deps.log.error("the SailPoint credential was refused: this batch's SailPoint calls stopped", {
        reason: decideFailure(refusals.refusal).reason,
        retriedMessages: report.counts.retriedMessages,
      });
      deps.metrics?.addMetric('CredentialRefused', MetricUnit.Count, 1);
    }

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

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    refusals.reset();
    const settled = await settleSqsBatch(event, (messages) => processBatch(messages, context), deps);
    return settled.response;
  };
}

/** Builds the handler from validated settings (once per Lambda instance: reads the credential). */
export async function createAccessProvisioningHandlerFromEnv(
  env: Record<string, string | undefined> = process.env,
  settings: AccessProvisioningSettings = loadAccessProvisioningSettings(env),
  tools: HandlerTools = handlerTools(SERVICE_NAME, env),
): Promise<AccessProvisioningHandler> {
  const { log } = tools;
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
    metrics: tools.metrics,
    settings: processorSettings(settings),
  });
}

/**
 * What the entry point runs: the settings (the SailPoint API host included) are checked at init, so a
 * bad one fails the cold start naming it; the credential is read on the first invocation. Exported
 * so that tests build the Lambda handler with their own environment (`lambdaEntryPoint(entry, env)`).
 */
export const ACCESS_PROVISIONING_ENTRY = {
  service: SERVICE_NAME,
  init: (_tools: HandlerTools, env: Env) => {
    const settings = loadAccessProvisioningSettings(env);
    sailPointApiUrlFromSettings(settings);
    return { env, settings };
  },
  start: ({ env, settings }: { env: Env; settings: AccessProvisioningSettings }, tools: HandlerTools) =>
    createAccessProvisioningHandlerFromEnv(env, settings, tools),
} satisfies EntryPoint<{ env: Env; settings: AccessProvisioningSettings }, SQSEvent, SQSBatchResponse>;

/** The Lambda entry point. */
export const handler = lambdaEntryPoint(ACCESS_PROVISIONING_ENTRY);
