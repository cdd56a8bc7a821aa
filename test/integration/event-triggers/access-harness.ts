/**
 * Access events over the wire: the access-provisioning harness (sandbox tenant, dynalite, fauxqs, the
 * real access handler) plus the sandbox's Access Request Decision and Provisioning Completed
 * subscriptions (made by `iga triggers subscribe`'s code), the local EventBridge with the stack's
 * rules, a trigger queue with its DLQ, and the real event-triggers handler writing to the same
 * accessRequests table and a findings table.
 */
import type { EventTriggerCounts } from '../../../functions/event-triggers/handler';
import { createEventTriggersHandler } from '../../../functions/event-triggers/handler';
import type { EventBridgeEnvelope } from '../../../functions/event-triggers/payloads';
import type { TriggerSources } from '../../../functions/event-triggers/triggers';
import type { AccessReconciliationSummary } from '../../../functions/event-triggers/access-reconciliation';
import { RECONCILE_TASK } from '../../../functions/event-triggers/access-reconciliation';
import { FindingsStore } from '../../../functions/shared/findings';
import { SailPointClient } from '../../../functions/shared/sailpoint/client';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { silentLog, type LogSink } from '../../../functions/shared/observability';
import { subscribeTriggers } from '../../../cli/commands/triggers';
import { settleAccessRequests } from '../../../sandbox/sailpoint/access-requests';
import { drainQueue } from '../../../local/queue-poller';
import { LocalEventBridge, sqsTarget } from '../../../sandbox/events/router';
import { freshQueueWithDlq, freshTable, receiveAll } from '../../support/emulators';
import { startHarness, type HarnessOptions } from '../access-provisioning/harness';
import { PAT_CLIENT } from '../sandbox/helpers';
import { AWS } from './harness';

export const HOUR = 3_600_000;

/** What the sandbox's request log calls a status read (any API version). */
export const STATUS_READS = { method: 'GET', path: /\/access-request-status$/ } as const;

export async function accessEventsHarness(
  options: HarnessOptions & {
    eventWaitMs?: number;
    /** The reconciliation's ACCESS_RECONCILE_GRACE_SECONDS / ACCESS_RECONCILE_MAX_MESSAGES. */
    reconcileGraceSeconds?: number;
    reconcileMaxMessages?: number;
    /** The event-triggers handler's clock (the reconciliation's "now"). */
    now?: () => Date;
  } = {},
) {
  const h = await startHarness({
    ...options,
    // Event triggers configured: a GRANT/REVOKE waits for their word before reading the status.
    settings: { eventWaitMs: options.eventWaitMs ?? HOUR, ...options.settings },
  });
  // With the recommended filters: decisions on items carrying our marker, provisioning we requested.
  const requesterId = (await h.client.tokenInfo()).identityId;
  const subscribed = await subscribeTriggers(h.client, {
    ...AWS,
    triggers: ['accessRequestDecision', 'provisioningCompleted'],
    ...(requesterId ? { requesterId } : {}),
  });
  const sources: TriggerSources = Object.fromEntries(subscribed.map((r) => [r.trigger, r.source!]));
  const maxReceiveCount = 3;
  const triggerQueue = await freshQueueWithDlq(h.sqs, maxReceiveCount, 1);
  const findings = await freshTable('findings');

  const eventBridge = new LocalEventBridge().addTriggerSources(
    sources,
    sqsTarget(h.sqs, triggerQueue.queueUrl),
  );
  /** Every envelope the sandbox emitted, in order. */
  const emitted: EventBridgeEnvelope[] = [];
  /** Held back instead of delivered while set (to deliver them later, in any order). */
  let holding: EventBridgeEnvelope[] | undefined;
  h.sandbox.state.triggers.deliver = async (envelope) => {
    emitted.push(envelope);
    if (holding) holding.push(envelope);
    else await eventBridge.put(envelope);
  };

  const counts: EventTriggerCounts[] = [];
  const log: LogSink = {
    ...silentLog,
    info: (message, extra) => {
      if (message === 'trigger batch processed') counts.push(extra as EventTriggerCounts);
    },
  };
  const notifier = new RecordingNotifier();
  // The reconciliation's own SailPoint client (the access workflow's credential), as its Lambda
  // instance would have: retries a 429 after its Retry-After.
  const reconcileClient = new SailPointClient({
    apiUrl: h.sandbox.url,
    ...PAT_CLIENT,
    retry: { maxAttempts: 4, maxRetryAfterSeconds: 20, maxElapsedMs: 60_000 },
  });
  const summaries: AccessReconciliationSummary[] = [];
  const triggerHandler = createEventTriggersHandler({
    sailpoint: async () => reconcileClient,
    ...(options.reconcileGraceSeconds === undefined
      ? {}
      : { reconcileGraceSeconds: options.reconcileGraceSeconds }),
    ...(options.reconcileMaxMessages === undefined
      ? {}
      : { reconcileMaxMessages: options.reconcileMaxMessages }),
    ...(options.now ? { now: options.now } : {}),
    sources,
    doc: h.doc,
    absencesTable: 'unused-absences', // no absence trigger is consumed here
    findingsTable: findings.tableName,
    accessRequestsTable: h.tableName,
    notifier,
    sqs: h.sqs,
    queueUrl: triggerQueue.queueUrl,
    deadLetterQueueUrl: triggerQueue.dlqUrl,
    maxReceiveCount,
    log,
  });

  return {
    ...h,
    sources,
    notifier,
    emitted,
    findings: new FindingsStore({ doc: findings.doc, tableName: findings.tableName }),
    /** Status reads the sandbox answered (GET …/access-request-status). */
    statusReads: () => h.sandbox.requestLog.count(STATUS_READS),
    /** Waits for the sandbox's deliveries, then runs the event-triggers handler until its queue is empty. */
    async deliverEvents() {
      await h.sandbox.state.triggers.settled();
      await drainQueue({
        sqs: h.sqs,
        queueUrl: triggerQueue.queueUrl,
        handler: triggerHandler,
        timeoutMs: 15_000,
      });
    },
    /** One scheduled run of the reconciliation of lost access events (the function's second entry point). */
    async reconcile(): Promise<AccessReconciliationSummary> {
      const summary = await triggerHandler({ task: RECONCILE_TASK, trigger: 'schedule' }, {
        awsRequestId: `run-${summaries.length + 1}`,
      } as never);
      summaries.push(summary);
      return summary;
    },
    /** Holds the sandbox's events back until `release` (which puts them on the local EventBridge). */
    hold() {
      holding = [];
    },
    async release(order: (held: EventBridgeEnvelope[]) => EventBridgeEnvelope[] = (e) => e) {
      const held = holding ?? [];
      holding = undefined;
      for (const envelope of order(held)) await eventBridge.put(envelope);
    },
    /** Delivers an envelope again (at-least-once), as EventBridge or ISC may. */
    redeliver: (envelope: EventBridgeEnvelope) => eventBridge.put(envelope),
    putRaw: (body: string) =>
      sqsTarget(h.sqs, triggerQueue.queueUrl)(JSON.parse(body) as EventBridgeEnvelope),
    async triggerDeadLetters() {
      return (await receiveAll(h.sqs, triggerQueue.dlqUrl)).map((m) => ({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.reason?.StringValue,
      }));
    },
    total(name: keyof EventTriggerCounts) {
      return counts.reduce((sum, c) => sum + c[name], 0);
    },
  };
}

export type AccessEventsHarness = Awaited<ReturnType<typeof accessEventsHarness>>;

/** The sandbox's envelopes of a trigger, by detail-type. */
export const ofTrigger = (envelopes: readonly EventBridgeEnvelope[], detailType: string) =>
  envelopes.filter((e) => e['detail-type'] === detailType);

/**
 * A harness whose clocks the test moves: the sandbox's (approvals take `approvalMinutes`) and the
 * event-triggers function's (real time plus what `later` added: the reconciliation's grace period).
 */
export async function withApprovals(
  approvalMinutes: number,
  options: Parameters<typeof accessEventsHarness>[0] = {},
) {
  let sandboxNow = Date.now();
  let functionOffset = 0;
  const harness = await accessEventsHarness({
    ...options,
    sandbox: { ...options.sandbox, now: () => new Date(sandboxNow) },
    now: () => new Date(Date.now() + functionOffset),
  });
  harness.sandbox.state.accessRequests.approvalDelayMs = approvalMinutes * 60_000;
  return {
    harness,
    /** The approver decides: the sandbox clock moves on and due requests are decided (events emitted). */
    decide() {
      sandboxNow += (approvalMinutes + 1) * 60_000;
      settleAccessRequests(harness.sandbox.state, new Date(sandboxNow));
    },
    /** Time passes for the event-triggers function. */
    later(ms: number) {
      functionOffset += ms;
    },
  };
}
