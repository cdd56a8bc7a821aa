/**
 * Event triggers over the wire: the sandbox tenant (rate limit on, Search lag on) with EVENTBRIDGE
 * subscriptions made by `iga triggers subscribe`'s code, its deliveries put on the local EventBridge
 * (partner event buses and one rule per trigger, built from the same definitions as the stack) whose
 * rules send to a fresh trigger queue on fauxqs; the real event-triggers handler drains it into a FIFO
 * absence queue, which the real absence handler drains into SailPoint configurations. Tables on dynalite.
 */
import { CreateQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AbsenceAttributeMapping } from '../../../functions/event-triggers/absence-mapping';
import { SqsAbsenceQueue } from '../../../functions/event-triggers/absence-queue';
import {
  createEventTriggersHandler,
  type EventTriggerCounts,
} from '../../../functions/event-triggers/handler';
import type { EventBridgeEnvelope } from '../../../functions/event-triggers/payloads';
import type { TriggerKey, TriggerSources } from '../../../functions/event-triggers/triggers';
import { DynamoAbsenceStore } from '../../../functions/absence-reassignment/absence-store';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { FindingsStore } from '../../../functions/shared/findings';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { silentLog, type LogSink } from '../../../functions/shared/observability';
import { SailPointClient } from '../../../functions/shared/sailpoint';
import { drainQueue } from '../../../local/queue-poller';
import { subscribeTriggers } from '../../../cli/commands/triggers';
import { LocalEventBridge, sqsTarget } from '../../../sandbox/events/router';
import { startSandbox } from '../../../sandbox/server';
import {
  freshQueueWithDlq,
  freshTable,
  localSqsClient,
  receiveAll,
  uniqueName,
} from '../../support/emulators';
import { PAT_CLIENT, manualClock } from '../sandbox/helpers';
import { heldConfigurations } from '../absence-reassignment/harness';

export const NOW = '2030-06-01T12:00:00.000Z';
export const FARID = '2c9180aa000000000000000000000006'; // manager: Dev
export const DEV = '2c9180aa000000000000000000000004';
export const AWS = { awsAccount: '123456789012', awsRegion: 'eu-central-1' } as const;

export const MAPPING: AbsenceAttributeMapping = {
  status: { attribute: 'leaveStatus', onLeave: ['LOA'] },
  startDate: 'leaveStart',
  endDate: 'leaveEnd',
};

async function freshFifoQueueWithDlq(sqs: SQSClient, maxReceiveCount: number) {
  const dlqName = `${uniqueName('absence-dlq')}.fifo`;
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: dlqName, Attributes: { FifoQueue: 'true' } }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${uniqueName('absence')}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${dlqName}`,
          maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

export interface TriggerHarnessOptions {
  readonly triggers?: readonly TriggerKey[];
  readonly mapping?: AbsenceAttributeMapping;
  /** Subscribe without the recommended filter (to show what it keeps away). */
  readonly withoutFilter?: boolean;
  readonly log?: LogSink;
}

export async function triggerHarness(options: TriggerHarnessOptions = {}) {
  const clock = manualClock(NOW);
  const sandbox = await startSandbox({ now: clock.now });
  const client = new SailPointClient({
    apiUrl: sandbox.url,
    ...PAT_CLIENT,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterSeconds: 1 },
  });
  const mapping = options.mapping ?? MAPPING;
  const triggers = options.triggers ?? ['identityAttributesChanged', 'identityDeleted'];

  // `iga triggers subscribe`'s code against the sandbox: the subscriptions and their partner event sources.
  const subscribed = await subscribeTriggers(client, { ...AWS, triggers, absenceMapping: mapping });
  // As if subscribed without the recommended filter (to show what the filter keeps away).
  if (options.withoutFilter) {
    for (const s of sandbox.state.triggers.subscriptions.values()) delete s.filter;
  }
  const sources: TriggerSources = Object.fromEntries(subscribed.map((r) => [r.trigger, r.source!]));

  const sqs = localSqsClient();
  const maxReceiveCount = 3;
  const triggerQueue = await freshQueueWithDlq(sqs, maxReceiveCount, 1);
  const absenceQueue = await freshFifoQueueWithDlq(sqs, maxReceiveCount);
  const absences = await freshTable('absences');
  const findings = await freshTable('findings');

  // The local EventBridge: a partner event bus per source, the stack's rule on each.
  const eventBridge = new LocalEventBridge().addTriggerSources(
    sources,
    sqsTarget(sqs, triggerQueue.queueUrl),
  );
  sandbox.state.triggers.deliver = (envelope) => eventBridge.put(envelope);

  const counts: EventTriggerCounts[] = [];
  const log = options.log ?? silentLog;
  const countingLog: LogSink = {
    ...log,
    info: (message, extra) => {
      if (message === 'trigger batch processed') counts.push(extra as EventTriggerCounts);
      log.info(message, extra);
    },
  };
  const triggerHandler = createEventTriggersHandler({
    sources,
    doc: absences.doc,
    absencesTable: absences.tableName,
    findingsTable: findings.tableName,
    absenceMapping: mapping,
    absenceQueue: new SqsAbsenceQueue(sqs, absenceQueue.queueUrl),
    sqs,
    queueUrl: triggerQueue.queueUrl,
    deadLetterQueueUrl: triggerQueue.dlqUrl,
    maxReceiveCount,
    log: countingLog,
    now: clock.now,
  });
  const absenceHandler = createAbsenceReassignmentHandler({
    sailpoint: client,
    doc: absences.doc,
    tableName: absences.tableName,
    sqs,
    queueUrl: absenceQueue.queueUrl,
    deadLetterQueueUrl: absenceQueue.dlqUrl,
    maxReceiveCount,
    notifier: new RecordingNotifier(),
    log: silentLog,
    now: clock.now,
  });

  const drainTriggers = () =>
    drainQueue({ sqs, queueUrl: triggerQueue.queueUrl, handler: triggerHandler, timeoutMs: 15_000 });
  const drainAbsences = () =>
    drainQueue({ sqs, queueUrl: absenceQueue.queueUrl, handler: absenceHandler, timeoutMs: 15_000 });

  return {
    clock,
    sandbox,
    client,
    sqs,
    sources,
    subscribed,
    eventBridge,
    counts,
    absenceStore: new DynamoAbsenceStore(absences.doc, absences.tableName, 400),
    findings: new FindingsStore({ doc: findings.doc, tableName: findings.tableName }),
    /** Waits for the sandbox's deliveries, then runs both handlers until their queues are empty. */
    async settle() {
      await sandbox.state.triggers.settled();
      await drainTriggers();
      await drainAbsences();
    },
    /** Delivers an envelope again (at-least-once), as EventBridge or ISC may. */
    redeliver: (envelope: EventBridgeEnvelope) => eventBridge.put(envelope),
    /** Puts any text on the trigger queue (what someone with SendMessage could). */
    putRaw: (body: string) =>
      sqs.send(new SendMessageCommand({ QueueUrl: triggerQueue.queueUrl, MessageBody: body })),
    async triggerDeadLetters() {
      return (await receiveAll(sqs, triggerQueue.dlqUrl)).map((m) => ({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.reason?.StringValue,
      }));
    },
    async absenceDeadLetters() {
      return (await receiveAll(sqs, absenceQueue.dlqUrl)).map(
        (m) => m.MessageAttributes?.reason?.StringValue,
      );
    },
    async absenceMessages() {
      return receiveAll(sqs, absenceQueue.queueUrl);
    },
    configurations: (identityId: string) => heldConfigurations(sandbox, identityId),
    /** The absence function's scheduled re-check (deferred absences, re-plans), run now. */
    recheck: () =>
      absenceHandler({ task: 'recheck-deferred' }, { getRemainingTimeInMillis: () => 60_000 } as never),
    total(name: keyof EventTriggerCounts) {
      return counts.reduce((sum, c) => sum + c[name], 0);
    },
    stop: () => sandbox.stop(),
  };
}
