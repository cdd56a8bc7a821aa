/**
 * `npm start -- triggers`: SailPoint event triggers end to end on the sandbox tenant.
 *
 *   1. `iga triggers subscribe`'s code creates the EVENTBRIDGE subscriptions (with the recommended filter)
 *   2. a local EventBridge gets a partner event bus per subscription's source and the stack's rule on it,
 *      targeting the trigger queue; the real event-triggers handler drains it into the absence queue,
 *      whose real handler makes the reassignment configurations
 *   3. HR puts Carla on leave next month (identity attributes) → an absence → configurations to Amelia
 *   4. the same trigger delivered again → a duplicate: nothing sent to SailPoint
 *   5. his department changes → the subscription's filter keeps it from being sent at all
 *   6. HR takes the leave back → the absence is cancelled, the configurations deleted
 *   7. access events: Lena's GRANT awaits approval and a REVOKE of the same access waits behind it,
 *      reading no /access-request-status; the approver approves → Access Request Decision +
 *      Provisioning Completed → the GRANT's outcome says "provisioned" and the REVOKE goes; a privileged
 *      GRANT rejected → its outcome carries the approver's comment, one finding, notified once
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createAbsenceReassignmentHandlerFromEnv } from '../../functions/absence-reassignment/handler';
import { createEventTriggersHandlerFromEnv } from '../../functions/event-triggers/handler';
import type { EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import { HANDLED_TRIGGERS } from '../../functions/event-triggers/triggers';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint/from-settings';
import { subscribeTriggers } from '../../cli/commands/triggers';
import { changeIdentityAttributes } from '../../sandbox/events/emit';
import { rejectPrivileged, settleAccessRequests } from '../../sandbox/sailpoint/access-requests';
import { createAccessProvisioningHandlerFromEnv } from '../../functions/access-provisioning/handler';
import { DynamoProvisioningStore } from '../../functions/access-provisioning/state-store';
import { ACCESS_FINDINGS_SOURCE } from '../../functions/event-triggers/access-events';
import { createDocumentClient } from '../../functions/shared/aws';
import { FindingsStore } from '../../functions/shared/findings';
import { LocalEventBridge, sqsTarget } from '../../sandbox/events/router';
import { drainQueue, pollOnce, type SqsHandler } from '../queue-poller';
import type { LocalDemo } from '../environment';

// Carla (manager: Amelia): nobody the absence demo sends away, so the two demos do not share a person.
const CARLA = '2c9180aa000000000000000000000003';
const MAPPING = {
  status: { attribute: 'leaveStatus', onLeave: ['LOA'] },
  startDate: 'leaveStart',
  endDate: 'leaveEnd',
};

async function queuePair(sqs: SQSClient, name: string, fifo: boolean) {
  const suffix = fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: fifoAttributes }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: '2',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
      },
    }),
  );
  return { QUEUE_URL: queue.QueueUrl!, DEAD_LETTER_QUEUE_URL: dlq.QueueUrl!, MAX_RECEIVE_COUNT: '3' };
}

export const eventTriggersDemo: LocalDemo = async (local) => {
  const { print, sqs, sandbox } = local;
  const client = await createSailPointClientFromEnv(local.env);

  const subscribed = await subscribeTriggers(client, {
    awsAccount: '123456789012',
    awsRegion: 'eu-central-1',
    triggers: HANDLED_TRIGGERS,
    absenceMapping: MAPPING,
    // The access workflow's identity (the local credential): Provisioning Completed of what it requested.
    ...(await client.tokenInfo().then((t) => (t.identityId ? { requesterId: t.identityId } : {}))),
  });
  print('  ▸ iga triggers subscribe (idempotent; recommended filters)');
  for (const s of subscribed)
    print(`    ${s.status.padEnd(8)} ${s.source}${s.filter ? `\n             filter ${s.filter}` : ''}`);
  const sources = Object.fromEntries(subscribed.map((s) => [s.trigger, s.source!]));

  const triggerQueue = await queuePair(sqs, 'local-trigger-events', false);
  const absenceQueue = await queuePair(sqs, 'local-trigger-absences', true);
  const eventBridge = new LocalEventBridge().addTriggerSources(
    sources,
    sqsTarget(sqs, triggerQueue.QUEUE_URL),
  );
  const delivered: EventBridgeEnvelope[] = [];
  sandbox.state.triggers.deliver = (envelope) => {
    delivered.push(envelope);
    return eventBridge.put(envelope);
  };

  const triggerHandler = await createEventTriggersHandlerFromEnv({
    ...local.env,
    ...triggerQueue,
    EVENT_TRIGGER_SOURCES: JSON.stringify(sources),
    ABSENCE_ATTRIBUTE_MAPPING: JSON.stringify(MAPPING),
    ABSENCE_QUEUE_URL: absenceQueue.QUEUE_URL,
  });
  const absenceHandler = await createAbsenceReassignmentHandlerFromEnv({ ...local.env, ...absenceQueue });
  const settle = async () => {
    await sandbox.state.triggers.settled();
    await drainQueue({ sqs, queueUrl: triggerQueue.QUEUE_URL, handler: triggerHandler, timeoutMs: 20_000 });
    await drainQueue({
      sqs,
      queueUrl: absenceQueue.QUEUE_URL,
      handler: absenceHandler as unknown as SqsHandler,
      timeoutMs: 20_000,
    });
  };
  const configurations = () => {
    const held = sandbox.state.reassignments.get(CARLA);
    const names = (id: string) => sandbox.state.identities.get(id)?.displayName ?? id;
    if (!held?.size) return 'none';
    return [...held.values()]
      .map(
        (c) =>
          `${c.configType} → ${names(c.targetId)} ${c.startDate.slice(0, 10)}..${c.endDate?.slice(0, 10) ?? 'open'}`,
      )
      .join('; ');
  };
  const writes = () =>
    sandbox.requestLog.count({ method: 'POST', path: /^\/beta\/reassignment-configurations$/ }) +
    sandbox.requestLog.count({ method: 'PUT', path: /^\/beta\/reassignment-configurations\// }) +
    sandbox.requestLog.count({ method: 'DELETE', path: /^\/beta\/reassignment-configurations\// });

  const month = new Date();
  const first = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))
    .toISOString()
    .slice(0, 10);
  const fourteenth = `${first.slice(0, 8)}14`;
  try {
    print(`  ▸ HR: Carla on leave ${first}..${fourteenth} (leaveStatus=LOA, leaveStart, leaveEnd)`);
    const [start] = changeIdentityAttributes(
      sandbox.state,
      CARLA,
      { leaveStatus: 'LOA', leaveStart: first, leaveEnd: fourteenth },
      new Date(),
    );
    await settle();
    print(`    configurations: ${configurations()}`);

    const before = writes();
    print('  ▸ the same trigger delivered again (at-least-once)');
    await eventBridge.put(start!);
    await settle();
    print(`    SailPoint writes: ${writes() - before} (a duplicate of the same absence event)`);

    print('  ▸ HR: Carla moves to Finance (department)');
    const sent = changeIdentityAttributes(sandbox.state, CARLA, { department: 'Finance' }, new Date());
    await settle();
    print(
      `    events sent by the tenant: ${sent.length} (the subscription's filter names only the leave attributes)`,
    );

    print('  ▸ HR: the leave is taken back (leaveStatus=ACTIVE)');
    changeIdentityAttributes(sandbox.state, CARLA, { leaveStatus: 'ACTIVE' }, new Date(Date.now() + 1000));
    await settle();
    print(`    configurations: ${configurations()}`);
    await accessEvents(local, {
      triggerHandler,
      settleTriggers: settle,
      redeliver: (e) => eventBridge.put(e),
      delivered,
    });
    print(
      `  events the tenant sent: ${delivered.length}; routed by a rule (with the re-deliveries): ${eventBridge.stats.matched}`,
    );
  } finally {
    sandbox.state.triggers.deliver = () => undefined;
  }
};

const LENA = '2c9180aa000000000000000000000012';
const PAYROLL_VIEWER = 'acce5500000000000000000000000012';
const AWS_ADMINISTRATOR = 'acce5500000000000000000000000005';

/** Step 7: the access workflow with Access Request Decision and Provisioning Completed. */
async function accessEvents(
  local: Parameters<LocalDemo>[0],
  triggers: {
    readonly triggerHandler: SqsHandler;
    readonly settleTriggers: () => Promise<void>;
    readonly redeliver: (envelope: EventBridgeEnvelope) => Promise<void>;
    readonly delivered: readonly EventBridgeEnvelope[];
  },
): Promise<void> {
  const { print, sqs, sandbox } = local;
  const intake = await queuePair(sqs, 'local-trigger-access', false);
  const logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'ERROR'; // the access handler's info lines would drown the printout
  const accessHandler = await createAccessProvisioningHandlerFromEnv({
    ...local.env,
    ...intake,
    // The stack sets this when the access triggers are configured: wait for their word, poll after an hour.
    ACCESS_EVENTS_WAIT_SECONDS: '3600',
    CONFLICT_RETRY_SECONDS: '0',
    TRANSIENT_RETRY_SECONDS: '0',
    STATUS_SETTLE_SECONDS: '0',
  }).finally(() => {
    if (logLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = logLevel;
  });
  const store = new DynamoProvisioningStore(createDocumentClient(), local.tables.accessRequests);
  const findings = new FindingsStore({ doc: createDocumentClient(), tableName: local.tables.findings });
  const requests = sandbox.state.accessRequests;
  const statusReads = () => sandbox.requestLog.count({ method: 'GET', path: /\/access-request-status$/ });
  const send = async (body: object) =>
    (
      await sqs.send(
        new SendMessageCommand({ QueueUrl: intake.QUEUE_URL, MessageBody: JSON.stringify(body) }),
      )
    ).MessageId!;
  const poll = () =>
    pollOnce({ sqs, queueUrl: intake.QUEUE_URL, handler: accessHandler as unknown as SqsHandler });
  const drain = () =>
    drainQueue({
      sqs,
      queueUrl: intake.QUEUE_URL,
      handler: accessHandler as unknown as SqsHandler,
      timeoutMs: 20_000,
    });
  const item = (id: string) => sandbox.state.accessItems.get(id)?.name ?? id;
  const unitState = async (messageId: string) => {
    const unit = (await store.outcomeOfMessage(messageId))?.units[0];
    const sp = unit?.sailpoint;
    return sp
      ? `${sp.state}${sp.comment ? ` ("${sp.comment}")` : ''} (access request ${sp.accessRequestId})`
      : 'no event yet';
  };

  const approval = { delay: requests.approvalDelayMs, decide: requests.decide };
  requests.approvalDelayMs = 60 * 60_000; // the approver takes an hour
  requests.decide = rejectPrivileged(sandbox.state);
  const readsBefore = statusReads();
  try {
    print(`  ▸ access: Lena is granted ${item(PAYROLL_VIEWER)} (awaits approval), then HR withdraws it`);
    const grantId = await send({
      requestedFor: [LENA],
      requestType: 'GRANT_ACCESS',
      requestedItems: [{ type: 'ACCESS_PROFILE', id: PAYROLL_VIEWER }],
    });
    await drain();
    const revokeId = await send({
      requestedFor: [LENA],
      requestType: 'REVOKE_ACCESS',
      requestedItems: [{ type: 'ACCESS_PROFILE', id: PAYROLL_VIEWER, comment: 'offer withdrawn' }],
    });
    await poll();
    print(`    the REVOKE: ${(await store.outcomeOfMessage(revokeId))?.reason ?? '?'}`);

    print('  ▸ the approver approves (an hour later): Access Request Decision, Provisioning Completed');
    settleAccessRequests(sandbox.state, new Date(Date.now() + 61 * 60_000));
    await triggers.settleTriggers();
    print(`    the GRANT's outcome: ${await unitState(grantId)}`);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the REVOKE's 1 s wait
    await drain();
    print(`    the REVOKE: ${(await store.outcomeOfMessage(revokeId))?.status ?? '?'}`);

    print(`  ▸ Lena asks for ${item(AWS_ADMINISTRATOR)} (privileged: the approver rejects it)`);
    const privilegedId = await send({
      requestedFor: [LENA],
      requestType: 'GRANT_ACCESS',
      requestedItems: [{ type: 'ACCESS_PROFILE', id: AWS_ADMINISTRATOR }],
    });
    await drain();
    const sentBefore = triggers.delivered.length;
    settleAccessRequests(sandbox.state, new Date(Date.now() + 122 * 60_000));
    await triggers.settleTriggers();
    const decision = triggers.delivered
      .slice(sentBefore)
      .find((e) => e['detail-type'] === 'idn:access-request-post-approval');
    if (decision) await triggers.redeliver(decision); // at-least-once: the same decision again
    await triggers.settleTriggers();
    print(`    its outcome: ${await unitState(privilegedId)}`);
    const found = (await findings.list(ACCESS_FINDINGS_SOURCE)).filter((f) => f.owner?.id === LENA);
    print(
      `    findings: ${found.length} (${found.map((f) => `${f.status} ${f.reason}, notification ${f.notification?.state ?? 'none'}`).join('; ')}) — the re-delivered decision changed nothing`,
    );
    print(`  /access-request-status reads for all of this: ${statusReads() - readsBefore}`);
  } finally {
    requests.approvalDelayMs = approval.delay;
    requests.decide = approval.decide;
  }
}
