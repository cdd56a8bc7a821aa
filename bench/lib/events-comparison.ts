/**
 * `npm run bench:access -- --events`: SailPoint calls with ISC's access event triggers off vs on.
 *
 * The same workload twice, each on fresh emulators and a fresh sandbox tenant (gateway rate limit ON,
 * Search lag ON, as by default): PAIRS identities each get a GRANT of one role, which awaits approval
 * for APPROVAL seconds, and then a REVOKE of the same role — the REVOKE must wait until the GRANT has
 * finished (the GRANT/REVOKE rule). The approver decides on time (the loop applies due decisions, as
 * ISC would on its own).
 *   - events off: the REVOKE reads /v3/access-request-status at each look until the GRANT has finished;
 *   - events on: Access Request Decision + Provisioning Completed go through the local EventBridge
 *     (the stack's rules) to the real event-triggers handler; the REVOKE decides from what it recorded
 *     (ACCESS_EVENTS_WAIT_SECONDS 3600: no status read while waiting).
 * Both runs use CONFLICT_RETRY_SECONDS = BENCH_EVENTS_RETRY_SECONDS (5; the stack's 300 would make the
 * run last minutes for the same count), the other workflow settings at their defaults, one instance
 * without a client-side budget (the gateway's 429s and Retry-After pace it).
 *
 * Knobs: BENCH_EVENTS_PAIRS (50), BENCH_EVENTS_APPROVAL_SECONDS (20), BENCH_EVENTS_RETRY_SECONDS (5).
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAccessProvisioningHandler } from '../../functions/access-provisioning/handler';
import { createEventTriggersHandler } from '../../functions/event-triggers/handler';
import { rulePattern, type TriggerSources } from '../../functions/event-triggers/triggers';
import { RecordingNotifier } from '../../functions/shared/notifier';
import { silentLog } from '../../functions/shared/observability';
import { SailPointClient } from '../../functions/shared/sailpoint/client';
import { TABLES } from '../../functions/shared/tables';
import { subscribeTriggers } from '../../cli/commands/triggers';
import {
  createTable,
  LOCAL_AWS_ENV,
  localDynamoClient,
  startDynamo,
  startQueues,
} from '../../local/emulators';
import { drainQueue, pollOnce, queueDepth } from '../../local/queue-poller';
import { LocalEventBridge, sqsTarget } from '../../sandbox/events/router';
import { settleAccessRequests } from '../../sandbox/sailpoint/access-requests';
import { loadDefaultSeed } from '../../sandbox/seed';
import { startSandbox } from '../../sandbox/server';
import { intEnv, print } from './env';
import { callsPerVersion } from './measure';
import { REQUESTER } from './workload';

const ROLE = 'be17e0000000000000000000000e0001';
const person = (n: number) => `be000000000000000000000000e${String(n).padStart(5, '0')}`;

export interface EventsRun {
  readonly events: boolean;
  readonly seconds: number;
  readonly statusReads: number;
  readonly v3Calls: number;
  readonly betaCalls: number;
  readonly rateLimited: number;
  readonly revokesAccepted: number;
  /** Identities still holding the role at the end (should be 0: every REVOKE went after its GRANT). */
  readonly stillHeld: number;
  readonly left: number;
}

async function queue(sqs: SQSClient, name: string, visibility: number) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
          maxReceiveCount: 100,
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

export async function runEventsWorkload(options: {
  readonly events: boolean;
  readonly pairs: number;
  readonly approvalSeconds: number;
  readonly retrySeconds: number;
  readonly timeoutMs?: number;
}): Promise<EventsRun> {
  const seed = loadDefaultSeed();
  seed.accessItems.push({
    id: ROLE,
    type: 'ROLE',
    name: 'Bench events role',
    description: null,
    privileged: false,
    requestable: true,
  });
  for (let n = 1; n <= options.pairs; n++) {
    seed.identities.push({
      id: person(n),
      name: `bench.events.${n}`,
      firstName: 'Bench',
      lastName: String(n),
      displayName: `Bench events ${n}`,
      email: null,
      managerId: REQUESTER,
      inactive: false,
      createdDaysAgo: 30,
      attributes: {},
      access: [],
    });
  }
  const [dynamo, queues, sandbox] = await Promise.all([startDynamo(), startQueues(), startSandbox({ seed })]);
  try {
    Object.assign(process.env, LOCAL_AWS_ENV);
    sandbox.state.accessRequests.approvalDelayMs = options.approvalSeconds * 1000;
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    const doc = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const suffix = randomUUID().slice(0, 8);
    const accessTable = `bench-events-access-${suffix}`;
    const findingsTable = `bench-events-findings-${suffix}`;
    await createTable(dynamoClient, TABLES.accessRequests, accessTable);
    await createTable(dynamoClient, TABLES.findings, findingsTable);
    const sqs = new SQSClient({
      endpoint: queues.endpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const intake = await queue(sqs, `bench-events-intake-${suffix}`, 120);
    const client = new SailPointClient({
      apiUrl: sandbox.url,
      clientId: 'sandbox-pat-client',
      clientSecret: 'sandbox-pat-secret',
    });
    const handler = createAccessProvisioningHandler({
      sailpoint: client,
      doc,
      tableName: accessTable,
      sqs,
      queueUrl: intake.queueUrl,
      deadLetterQueueUrl: intake.dlqUrl,
      maxReceiveCount: 100,
      log: silentLog,
      settings: {
        conflictRetrySeconds: options.retrySeconds,
        ...(options.events ? { eventWaitMs: 3_600_000 } : {}),
      },
    });

    // Events on: the subscriptions, the local EventBridge with the stack's rules, the real handler.
    let deliverEvents = async () => undefined as unknown;
    if (options.events) {
      const subscribed = await subscribeTriggers(client, {
        awsAccount: '123456789012',
        awsRegion: 'eu-central-1',
        triggers: ['accessRequestDecision', 'provisioningCompleted'],
      });
      const sources: TriggerSources = Object.fromEntries(subscribed.map((s) => [s.trigger, s.source!]));
      const triggers = await queue(sqs, `bench-events-triggers-${suffix}`, 30);
      const bridge = new LocalEventBridge();
      for (const [trigger, source] of Object.entries(sources)) {
        bridge
          .addBus(source)
          .addRule(source, trigger, rulePattern(source), sqsTarget(sqs, triggers.queueUrl));
      }
      sandbox.state.triggers.deliver = (envelope) => bridge.put(envelope);
      const triggerHandler = createEventTriggersHandler({
        sources,
        doc,
        absencesTable: 'unused',
        findingsTable,
        accessRequestsTable: accessTable,
        notifier: new RecordingNotifier(),
        sqs,
        queueUrl: triggers.queueUrl,
        deadLetterQueueUrl: triggers.dlqUrl,
        maxReceiveCount: 100,
        log: silentLog,
      });
      deliverEvents = async () => {
        await sandbox.state.triggers.settled();
        return drainQueue({ sqs, queueUrl: triggers.queueUrl, handler: triggerHandler, timeoutMs: 60_000 });
      };
    }

    const send = async (bodies: object[]) => {
      for (let i = 0; i < bodies.length; i += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: intake.queueUrl,
            Entries: bodies
              .slice(i, i + 10)
              .map((body, n) => ({ Id: String(n), MessageBody: JSON.stringify(body) })),
          }),
        );
      }
    };
    const ids = Array.from({ length: options.pairs }, (_, i) => person(i + 1));
    const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
    const started = performance.now();
    /** Runs the queue (and the approver, and the events) until it is empty. */
    const run = async () => {
      while (Date.now() < deadline) {
        settleAccessRequests(sandbox.state, new Date()); // the approver decides what is due
        await deliverEvents();
        const polled = await pollOnce({ sqs, queueUrl: intake.queueUrl, handler, batchSize: 10 });
        if (polled.received > 0) continue;
        const depth = await queueDepth(sqs, intake.queueUrl);
        if (depth.visible + depth.inFlight + depth.delayed === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await send(
      ids.map((id) => ({
        requestedFor: [id],
        requestType: 'GRANT_ACCESS',
        requestedItems: [{ type: 'ROLE', id: ROLE }],
      })),
    );
    await run();
    await send(
      ids.map((id) => ({
        requestedFor: [id],
        requestType: 'REVOKE_ACCESS',
        requestedItems: [{ type: 'ROLE', id: ROLE, comment: 'bench: offer withdrawn' }],
      })),
    );
    await run();
    // The last REVOKEs' own approval, so the end state can be checked.
    await new Promise((resolve) => setTimeout(resolve, options.approvalSeconds * 1000));
    settleAccessRequests(sandbox.state, new Date());
    await deliverEvents();
    const seconds = (performance.now() - started) / 1000;

    const log = sandbox.requestLog;
    const versions = callsPerVersion(log);
    const depth = await queueDepth(sqs, intake.queueUrl);
    return {
      events: options.events,
      seconds,
      statusReads: log.count({ method: 'GET', path: /\/access-request-status$/ }),
      v3Calls: versions.get('v3')?.calls ?? 0,
      betaCalls: versions.get('beta')?.calls ?? 0,
      rateLimited: [...versions.values()].reduce((n, v) => n + v.rateLimited, 0),
      revokesAccepted: sandbox.state.accessRequests.records.filter((r) => r.requestType === 'REVOKE_ACCESS')
        .length,
      stillHeld: ids.filter((id) => sandbox.state.identities.get(id)?.access.some((a) => a.id === ROLE))
        .length,
      left: depth.visible + depth.inFlight + depth.delayed,
    };
  } finally {
    await Promise.allSettled([sandbox.stop(), dynamo.stop(), queues.stop()]);
  }
}

export async function runEventsComparison(): Promise<void> {
  const pairs = intEnv('BENCH_EVENTS_PAIRS', 50);
  const approvalSeconds = intEnv('BENCH_EVENTS_APPROVAL_SECONDS', 20);
  const retrySeconds = intEnv('BENCH_EVENTS_RETRY_SECONDS', 5);
  print(
    `bench:access --events — ${pairs} GRANT → REVOKE pairs of the same access, approvals take ${approvalSeconds} s, ` +
      `REVOKEs look again every ${retrySeconds} s; gateway rate limit ON, Search lag ON`,
  );
  const runs: EventsRun[] = [];
  for (const events of [false, true]) {
    runs.push(await runEventsWorkload({ events, pairs, approvalSeconds, retrySeconds }));
  }
  print();
  print(
    'events  v3 calls  of them status reads  beta calls  429s  REVOKEs accepted  still held  left  seconds',
  );
  for (const r of runs) {
    print(
      `${(r.events ? 'on' : 'off').padEnd(7)} ${String(r.v3Calls).padStart(8)}  ${String(r.statusReads).padStart(20)}  ` +
        `${String(r.betaCalls).padStart(10)}  ${String(r.rateLimited).padStart(4)}  ${String(r.revokesAccepted).padStart(16)}  ` +
        `${String(r.stillHeld).padStart(10)}  ${String(r.left).padStart(4)}  ${r.seconds.toFixed(1).padStart(7)}`,
    );
  }
  const [off, on] = runs;
  print(
    `v3 calls saved by the events: ${off!.v3Calls - on!.v3Calls} (${off!.statusReads} status reads → ${on!.statusReads}); ` +
      'the rest of v3 is the Search pre-check, the same in both',
  );
  if (runs.some((r) => r.stillHeld > 0 || r.left > 0 || r.revokesAccepted !== pairs)) process.exitCode = 1;
}
