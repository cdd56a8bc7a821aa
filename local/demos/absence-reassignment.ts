/**
 * `npm start -- absence`: a short HR scenario through a FIFO queue (grouped by person, as
 * recommended) and the real handler, against the sandbox tenant and the local absences table.
 *
 *   1. Farid is away for two weeks from next Monday, no delegate named → his manager Dev covers
 *   2. HR sends that event again (a retry on their side) → suppressed, nothing called twice
 *   3. Farid's absence is extended by a week → the three configurations are replaced (PUT)
 *   4. Grace is away the same weeks and names Farid → he is away too: his delegate Dev covers
 *   5. Hugo books five weeks out and names Elena, who is neither above him nor his peer: outside the
 *      default delegate policy (chain-or-peers), passed over for his manager Dev … then he cancels it
 *      → configurations created, then deleted
 *   6. a malformed event → the dead-letter queue, with the reason
 *   7. Farid books a later absence, covered by Grace → deferred (his first one holds SailPoint's slots);
 *      the daily re-check finds nothing due today, and, run as of the morning after the first absence
 *      ends (the demo moves the function's clock ahead), gives the later absence its configurations
 *   8. Isla and Jonas are away the same week and name each other, both events in one batch (handled at
 *      the same moment): neither can cover the other, nobody ends in the dead-letter queue; when Jonas
 *      cancels, Isla's absence is re-planned to him
 *   9. Lena and Rosa both book "LV-1" (their HR numbers absences per employee); Rosa names Lena, who
 *      is away under her own LV-1: Rosa's work goes to Lena's cover
 *  10. Sam is away from next month with no end date → the configurations end at the maximum absence
 *      length (MAX_ABSENCE_DAYS, 180 days), with a notice saying so
 * Then: the configurations the sandbox holds, and each absence as recorded.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { DynamoAbsenceStore } from '../../functions/absence-reassignment/absence-store';
import type { AbsenceEventInput } from '../../functions/absence-reassignment/event';
import { createAbsenceReassignmentHandler } from '../../functions/absence-reassignment/handler';
import { describeWindow } from '../../functions/absence-reassignment/policy';
import {
  delegatePolicyFromSettings,
  loadAbsenceReassignmentSettings,
} from '../../functions/absence-reassignment/settings';
import { createDocumentClient } from '../../functions/shared/aws';
import { RecordingNotifier } from '../../functions/shared/notifier';
import { silentLog } from '../../functions/shared/observability';
import { listAllReassignmentConfigurations, reassignmentEndDate } from '../../functions/shared/sailpoint';
import { createSailPointClientFromEnv } from '../../functions/shared/sailpoint/from-settings';
import { drainQueue, fakeContext } from '../queue-poller';
import type { LocalDemo } from '../environment';

const FARID = '2c9180aa000000000000000000000006';
const GRACE = '2c9180aa000000000000000000000007';
const HUGO = '2c9180aa000000000000000000000008';
const ELENA = '2c9180aa000000000000000000000005';
const ISLA = '2c9180aa000000000000000000000009';
const JONAS = '2c9180aa000000000000000000000010';
const LENA = '2c9180aa000000000000000000000012';
const MATEO = '2c9180aa000000000000000000000013';
const ROSA = '2c9180aa000000000000000000000019';
const SAM = '2c9180aa000000000000000000000020';
const DAY = 86_400_000;

export const absenceReassignmentDemo: LocalDemo = async (local) => {
  const { print, sqs } = local;
  const names = (id: string) => local.sandbox.state.identities.get(id)?.displayName ?? id;

  // FIFO, one message group per absent person: their events are handled one at a time, in order.
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: 'local-absence-events-dlq.fifo', Attributes: { FifoQueue: 'true' } }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'local-absence-events.fifo',
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '2',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
      },
    }),
  );
  const env = {
    ...local.env,
    QUEUE_URL: queue.QueueUrl!,
    DEAD_LETTER_QUEUE_URL: dlq.QueueUrl!,
    MAX_RECEIVE_COUNT: '3',
  };
  const settings = loadAbsenceReassignmentSettings(env);
  const doc = createDocumentClient();
  const sailpoint = await createSailPointClientFromEnv(env);
  const notifier = new RecordingNotifier((line) => print(`    ${line.trim()}`));
  const handlerDeps = {
    sailpoint,
    doc,
    tableName: settings.ABSENCES_TABLE,
    sqs,
    queueUrl: settings.QUEUE_URL,
    deadLetterQueueUrl: settings.DEAD_LETTER_QUEUE_URL,
    maxReceiveCount: settings.MAX_RECEIVE_COUNT,
    notifier,
    log: silentLog, // the demo prints its own summary
    maxDelegateHops: settings.DELEGATE_MAX_HOPS,
    retentionDays: settings.ABSENCE_RETENTION_DAYS,
    delegatePolicy: delegatePolicyFromSettings(settings),
    maxAbsenceDays: settings.MAX_ABSENCE_DAYS,
  };
  const handler = createAbsenceReassignmentHandler(handlerDeps);
  const store = new DynamoAbsenceStore(doc, settings.ABSENCES_TABLE, settings.ABSENCE_RETENTION_DAYS);

  const monday = nextMonday(new Date());
  const at = (days: number) => new Date(monday.getTime() + days * DAY).toISOString();
  let clock = Date.now() - 3_600_000;
  const occurred = () => new Date((clock += 60_000)).toISOString();

  const send = async (
    title: string,
    event: AbsenceEventInput | string,
    groupId = FARID,
    dedupId?: string,
  ) => {
    print(`  ▸ ${title}`);
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.QueueUrl!,
        MessageBody: body,
        MessageGroupId: typeof event === 'string' ? groupId : event.identityId,
        // HR's retry of the same event reaches us with a new deduplication id (after SQS's 5-minute window).
        MessageDeduplicationId:
          dedupId ?? `${typeof event === 'string' ? 'raw' : event.eventId}-${Math.random()}`,
      }),
    );
    const before = sailpoint.stats.httpRequests;
    await drainQueue({ sqs, queueUrl: queue.QueueUrl!, handler, timeoutMs: 20_000 });
    print(`    SailPoint API requests: ${sailpoint.stats.httpRequests - before}`);
  };

  /** Several events in one receive: different people, so the handler decides them at the same moment. */
  const sendTogether = async (title: string, events: AbsenceEventInput[]) => {
    print(`  ▸ ${title}`);
    for (const event of events) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.QueueUrl!,
          MessageBody: JSON.stringify(event),
          MessageGroupId: event.identityId,
          MessageDeduplicationId: `${event.eventId}-${Math.random()}`,
        }),
      );
    }
    const before = sailpoint.stats.httpRequests;
    await drainQueue({ sqs, queueUrl: queue.QueueUrl!, handler, timeoutMs: 20_000 });
    print(`    SailPoint API requests: ${sailpoint.stats.httpRequests - before}`);
  };
  /** Who covers each absence now, and why. */
  const covers = async (...absences: [string, string][]) => {
    for (const [person, absenceId] of absences) {
      const record = await store.get(person, absenceId);
      const held = local.sandbox.state.reassignments.get(person);
      const targets = [...new Set([...(held?.values() ?? [])].map((c) => names(c.targetId)))];
      print(
        `    ${names(person)} ${absenceId}: delegate ${record?.delegateId ? names(record.delegateId) : '—'}` +
          ` (SailPoint sends their work to ${targets.join(', ') || 'nobody'}); ${record?.decision ?? 'not recorded'}`,
      );
      for (const step of record?.delegateTrail ?? []) {
        if (step.skipped) print(`      passed over ${names(step.identityId)}: ${step.skipped}`);
      }
    }
  };

  const faridStart: AbsenceEventInput = {
    eventId: 'hr-1001',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-2001',
    identityId: FARID,
    startDate: at(0),
    endDate: at(14),
    occurredAt: occurred(),
  };
  await send(`${names(FARID)} away ${day(at(0))} – ${day(at(14))}, no delegate named`, faridStart);
  await send('the same HR event delivered again', faridStart);
  await send(`${names(FARID)}'s absence extended to ${day(at(21))}`, {
    ...faridStart,
    eventId: 'hr-1002',
    type: 'ABSENCE_UPDATED',
    endDate: at(21),
    occurredAt: occurred(),
  });
  await send(`${names(GRACE)} away ${day(at(7))} – ${day(at(14))}, names ${names(FARID)} as delegate`, {
    eventId: 'hr-1003',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-2002',
    identityId: GRACE,
    delegateId: FARID,
    startDate: at(7),
    endDate: at(14),
    occurredAt: occurred(),
  });
  const hugoStart: AbsenceEventInput = {
    eventId: 'hr-1004',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-2003',
    identityId: HUGO,
    delegateId: ELENA,
    startDate: at(35),
    endDate: at(49),
    configTypes: ['ACCESS_REQUESTS', 'CERTIFICATIONS'],
    occurredAt: occurred(),
  };
  await send(
    `${names(HUGO)} books ${day(at(35))} – ${day(at(49))} and names ${names(ELENA)}, neither above him nor his peer`,
    hugoStart,
  );
  await covers([HUGO, 'LV-2003']);
  await send(`${names(HUGO)} cancels it`, {
    eventId: 'hr-1005',
    type: 'ABSENCE_CANCELLED',
    absenceId: 'LV-2003',
    identityId: HUGO,
    occurredAt: occurred(),
  });
  await send(
    'a malformed event (no end date, a misspelt field)',
    JSON.stringify({ ...hugoStart, eventId: 'hr-1006', endDate: undefined, delegate: ELENA }),
    HUGO,
  );

  await send(`${names(FARID)} also books ${day(at(56))} – ${day(at(63))}, covered by ${names(GRACE)}`, {
    eventId: 'hr-1007',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-2004',
    identityId: FARID,
    delegateId: GRACE,
    startDate: at(56),
    endDate: at(63),
    occurredAt: occurred(),
  });
  // The schedule's invocation ({"task": "recheck-deferred"}), with the function's clock set to `asOf`.
  const recheck = async (title: string, asOf: Date) => {
    print(`  ▸ ${title}`);
    const before = sailpoint.stats.httpRequests;
    const run = createAbsenceReassignmentHandler({ ...handlerDeps, now: () => asOf });
    const summary = await run(
      { task: 'recheck-deferred', trigger: 'schedule' },
      fakeContext('absence-reassignment'),
    );
    const taken = summary.slotsTaken.map((s) => `${s.absenceId} (${s.configTypes.join(', ')})`);
    print(`    due: ${summary.due}; slots taken: ${taken.join('; ') || 'none'}`);
    print(`    SailPoint API requests: ${sailpoint.stats.httpRequests - before}`);
  };
  await recheck('the daily re-check, today: LV-2001 still holds the slots', new Date());
  const firstEnded = new Date(Date.parse(at(21)) + 21 * 3_600_000); // 05:00 UTC, the day after
  await recheck(`the daily re-check on ${day(firstEnded.toISOString())}, after LV-2001 ended`, firstEnded);

  const weekOff = { startDate: at(42), endDate: at(47) };
  await sendTogether(
    `${names(ISLA)} and ${names(JONAS)} are both away ${day(weekOff.startDate)} – ${day(weekOff.endDate)} and name each other (one batch)`,
    [
      {
        eventId: 'hr-1008',
        type: 'ABSENCE_STARTED',
        absenceId: 'LV-3001',
        identityId: ISLA,
        delegateId: JONAS,
        ...weekOff,
        occurredAt: occurred(),
      },
      {
        eventId: 'hr-1009',
        type: 'ABSENCE_STARTED',
        absenceId: 'LV-3002',
        identityId: JONAS,
        delegateId: ISLA,
        ...weekOff,
        occurredAt: occurred(),
      },
    ],
  );
  await covers([ISLA, 'LV-3001'], [JONAS, 'LV-3002']);
  await send(
    `${names(JONAS)} cancels: ${names(ISLA)}'s absence is re-planned to him`,
    {
      eventId: 'hr-1010',
      type: 'ABSENCE_CANCELLED',
      absenceId: 'LV-3002',
      identityId: JONAS,
      occurredAt: occurred(),
    },
    JONAS,
  );
  await covers([ISLA, 'LV-3001']);

  const lv1 = { startDate: at(70), endDate: at(77) };
  await send(
    `${names(LENA)} books LV-1 ${day(lv1.startDate)} – ${day(lv1.endDate)}, covered by ${names(MATEO)}`,
    {
      eventId: 'hr-2001',
      type: 'ABSENCE_STARTED',
      absenceId: 'LV-1',
      identityId: LENA,
      delegateId: MATEO,
      ...lv1,
      occurredAt: occurred(),
    },
  );
  await send(`${names(ROSA)} books her own LV-1 the same week and names ${names(LENA)}`, {
    eventId: 'hr-3001',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-1',
    identityId: ROSA,
    delegateId: LENA,
    ...lv1,
    occurredAt: occurred(),
  });
  await covers([ROSA, 'LV-1']);

  await send(
    `${names(SAM)} is away from ${day(at(30))} with no end date`,
    {
      eventId: 'hr-4001',
      type: 'ABSENCE_STARTED',
      absenceId: 'LV-4001',
      identityId: SAM,
      startDate: at(30),
      endDate: null,
      occurredAt: occurred(),
    },
    SAM,
  );

  const dead = await drainDeadLetters(local, dlq.QueueUrl!);
  print(`  dead-letter queue: ${dead.length} message(s)`);
  for (const reason of dead) print(`    reason: ${reason}`);

  print('  configurations the sandbox tenant holds (GET /beta/reassignment-configurations):');
  const held = await listAllReassignmentConfigurations(sailpoint);
  if (held.length === 0) print('    none');
  for (const configuration of held) {
    for (const detail of configuration.configDetails) {
      print(
        `    ${names(configuration.identity.id).padEnd(14)} ${detail.configType.padEnd(16)} → ${names(detail.targetIdentity?.id ?? '?').padEnd(14)}` +
          ` ${day(detail.startDate ?? '')} – ${day(reassignmentEndDate(detail.endDate) ?? '') || 'no end'}`,
      );
    }
  }

  print('  absences as recorded (absences table):');
  for (const person of [FARID, GRACE, HUGO, ISLA, JONAS, LENA, ROSA, SAM]) {
    for (const absence of await store.listForIdentity(person)) {
      print(
        `    ${absence.absenceId} ${names(person).padEnd(14)} ${absence.status.padEnd(9)} ${describeWindow({ startDate: day(absence.startDate ?? ''), endDate: absence.endDate && day(absence.endDate) })}` +
          `  delegate ${absence.delegateId ? names(absence.delegateId) : '—'}; ${Object.keys(absence.configurations).length} configuration(s);` +
          ` events ${absence.processedEventIds.join(', ')}; ${absence.decision}`,
      );
    }
  }
};

async function drainDeadLetters(local: Parameters<LocalDemo>[0], queueUrl: string): Promise<string[]> {
  const reasons: string[] = [];
  for (;;) {
    const got = await local.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!got.Messages?.length) return reasons;
    for (const message of got.Messages) {
      reasons.push(message.MessageAttributes?.reason?.StringValue ?? '(no reason)');
      await local.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }),
      );
    }
  }
}

function nextMonday(now: Date): Date {
  const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 8));
  monday.setUTCDate(monday.getUTCDate() + ((8 - monday.getUTCDay()) % 7 || 7));
  return monday;
}

function day(iso: string): string {
  return iso ? iso.slice(0, 10) : '';
}
