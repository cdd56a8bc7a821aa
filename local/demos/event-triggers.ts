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
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createAbsenceReassignmentHandlerFromEnv } from '../../functions/absence-reassignment/handler';
import { createEventTriggersHandlerFromEnv } from '../../functions/event-triggers/handler';
import type { EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import { rulePattern } from '../../functions/event-triggers/triggers';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint/from-settings';
import { subscribeTriggers } from '../../cli/commands/triggers';
import { changeIdentityAttributes } from '../../sandbox/events/emit';
import { LocalEventBridge, sqsTarget } from '../../sandbox/events/router';
import { drainQueue, type SqsHandler } from '../queue-poller';
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
    triggers: ['identityAttributesChanged', 'identityDeleted'],
    absenceMapping: MAPPING,
  });
  print('  ▸ iga triggers subscribe (idempotent; recommended filters)');
  for (const s of subscribed)
    print(`    ${s.status.padEnd(8)} ${s.source}${s.filter ? `\n             filter ${s.filter}` : ''}`);
  const sources = Object.fromEntries(subscribed.map((s) => [s.trigger, s.source!]));

  const triggerQueue = await queuePair(sqs, 'local-trigger-events', false);
  const absenceQueue = await queuePair(sqs, 'local-trigger-absences', true);
  const eventBridge = new LocalEventBridge();
  for (const [trigger, source] of Object.entries(sources)) {
    eventBridge
      .addBus(source)
      .addRule(source, `${trigger}Rule`, rulePattern(source), sqsTarget(sqs, triggerQueue.QUEUE_URL));
  }
  const delivered: EventBridgeEnvelope[] = [];
  sandbox.state.triggers.deliver = (envelope) => {
    delivered.push(envelope);
    return eventBridge.put(envelope);
  };

  const triggerHandler = createEventTriggersHandlerFromEnv({
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
    print(
      `  events the tenant sent: ${delivered.length}; routed by a rule (with the re-delivery): ${eventBridge.stats.matched}`,
    );
  } finally {
    sandbox.state.triggers.deliver = () => undefined;
  }
};
