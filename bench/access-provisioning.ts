/**
 * `npm run bench:access` — pushes 10,000 access-request messages, 30 % of them duplicates, through the
 * real pipeline on this machine (fauxqs queue → local poller → handler → dynalite + sandbox tenant
 * with its rate limit off) and prints:
 *   - messages/s end to end;
 *   - SailPoint POSTs made vs the lower bound (every unique unit coalesced at once) and vs one per
 *     unique message;
 *   - DynamoDB writes per message;
 *   - p50 / p99 latency of one handler invocation (one batch);
 * then checks that every unique unit reached SailPoint exactly once and nothing was dead-lettered.
 *
 * Knobs (environment): BENCH_MESSAGES (10000), BENCH_DUPLICATE_RATIO (0.3), BENCH_BATCH_SIZE (100),
 * BENCH_CONCURRENCY (4 concurrent pollers = Lambda instances), BENCH_IDENTITIES (2000), BENCH_SEED (1).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, Context } from 'aws-lambda';
import { coalesce } from '../functions/access-provisioning/coalesce';
import { parseAccessRequestMessage } from '../functions/access-provisioning/contract';
import { createAccessProvisioningHandler } from '../functions/access-provisioning/handler';
import { DEFAULT_PROCESSOR_SETTINGS } from '../functions/access-provisioning/settings';
import { unitsOf, type Unit } from '../functions/access-provisioning/units';
import { silentLog } from '../functions/shared/observability';
import { SailPointClient } from '../functions/shared/sailpoint/client';
import { TABLES } from '../functions/shared/tables';
import { createTable, LOCAL_AWS_ENV, localDynamoClient, startDynamo, startQueues } from '../local/emulators';
import { drainQueue, queueDepth } from '../local/queue-poller';
import { loadDefaultSeed, type SandboxSeed } from '../sandbox/seed';
import { startSandbox } from '../sandbox/server';

const config = {
  messages: intEnv('BENCH_MESSAGES', 10_000),
  duplicateRatio: Number(process.env.BENCH_DUPLICATE_RATIO ?? 0.3),
  batchSize: intEnv('BENCH_BATCH_SIZE', 100),
  concurrency: intEnv('BENCH_CONCURRENCY', 4),
  identities: intEnv('BENCH_IDENTITIES', 2_000),
  seed: intEnv('BENCH_SEED', 1),
};
const REQUESTER = '2c9180aa000000000000000000000014';
const ITEM_TYPES = [
  ...Array(24).fill('ROLE'),
  ...Array(8).fill('ACCESS_PROFILE'),
  ...Array(8).fill('ENTITLEMENT'),
] as const;

function intEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
}

/** A small deterministic PRNG (mulberry32), so runs are comparable. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const identityId = (n: number) => `be000000000000000000000000${String(n).padStart(6, '0')}`;
const itemId = (n: number) => `be17e000000000000000000000${String(n).padStart(6, '0')}`;

function buildWorkload() {
  const random = prng(config.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  // Popular items are requested far more often (Zipf-like), which is what makes coalescing pay.
  const popularItem = () => Math.min(ITEM_TYPES.length - 1, Math.floor(ITEM_TYPES.length * random() ** 2.5));

  const seed = loadDefaultSeed();
  ITEM_TYPES.forEach((type, n) =>
    seed.accessItems.push({
      id: itemId(n),
      type,
      name: `Bench ${type.toLowerCase()} ${n}`,
      description: null,
      privileged: false,
      requestable: true,
      ...(type === 'ENTITLEMENT' ? { attribute: 'memberOf', value: `CN=Bench ${n}` } : {}),
    }),
  );
  const held = new Map<string, Set<number>>();
  for (let n = 0; n < config.identities; n++) {
    const access = new Set([
      Math.floor(random() * ITEM_TYPES.length),
      Math.floor(random() * ITEM_TYPES.length),
    ]);
    held.set(identityId(n), access);
    seed.identities.push({
      id: identityId(n),
      name: `bench.${n}`,
      firstName: 'Bench',
      lastName: String(n),
      displayName: `Bench ${n}`,
      email: null,
      managerId: REQUESTER,
      inactive: false,
      createdDaysAgo: 30,
      attributes: {},
      access: [...access].map(itemId),
    });
  }

  const uniqueCount = Math.round(config.messages * (1 - config.duplicateRatio));
  const used = new Set<string>();
  const unique: string[] = [];
  while (unique.length < uniqueCount) {
    const identity = identityId(Math.floor(random() * config.identities));
    const holds = held.get(identity)!;
    if (random() < 0.1) {
      const item = pick([...holds]);
      const key = `${identity}|${item}`;
      if (used.has(key)) continue;
      used.add(key);
      unique.push(
        JSON.stringify({
          requestId: `BENCH-${unique.length}`,
          requestedFor: [identity],
          requestType: 'REVOKE_ACCESS',
          requestedItems: [{ type: ITEM_TYPES[item], id: itemId(item), comment: 'bench revoke' }],
        }),
      );
      continue;
    }
    const size = random() < 0.7 ? 1 : random() < 0.6 ? 2 : 3;
    const items = new Set<number>();
    for (let tries = 0; items.size < size && tries < 20; tries++) {
      const item = popularItem();
      if (!holds.has(item) && !used.has(`${identity}|${item}`)) items.add(item);
    }
    if (items.size === 0) continue;
    for (const item of items) used.add(`${identity}|${item}`);
    unique.push(
      JSON.stringify({
        requestId: `BENCH-${unique.length}`,
        requestedFor: [identity],
        requestType: 'GRANT_ACCESS',
        requestedItems: [...items].map((item) => ({ type: ITEM_TYPES[item], id: itemId(item) })),
      }),
    );
  }
  const bodies = [...unique];
  while (bodies.length < config.messages) bodies.push(pick(unique));
  for (let i = bodies.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  const units: Unit[] = unique.flatMap((body) => {
    const parsed = parseAccessRequestMessage(body, Date.now());
    if (!parsed.ok) throw new Error(`bench generated an invalid message: ${parsed.reason}`);
    return unitsOf(parsed.message);
  });
  return { seed: seed as SandboxSeed, bodies, unique, units };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const print = (line = '') => process.stdout.write(`${line}\n`);
  const workload = buildWorkload();
  print(
    `bench:access — ${config.messages} messages (${workload.unique.length} unique, ` +
      `${config.messages - workload.unique.length} duplicates), ${workload.units.length} unique units, ` +
      `${config.identities} identities, batch size ${config.batchSize}, ${config.concurrency} concurrent pollers`,
  );

  const [dynamo, queues, sandbox] = await Promise.all([
    startDynamo(),
    startQueues(),
    startSandbox({ seed: workload.seed, rateLimit: false }),
  ]);
  try {
    Object.assign(process.env, LOCAL_AWS_ENV);
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    const tableName = `bench-${randomUUID().slice(0, 8)}`;
    await createTable(dynamoClient, TABLES.accessRequests, tableName);
    const doc = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const dynamoCalls = { writes: 0, conditionalFailures: 0, reads: 0 };
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '';
        if (/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(name)) dynamoCalls.writes++;
        else dynamoCalls.reads++;
        try {
          return await next(args);
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') dynamoCalls.conditionalFailures++;
          throw error;
        }
      },
      { step: 'initialize', name: 'benchCounter' },
    );

    const sqs = new SQSClient({
      endpoint: queues.endpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { CreateQueueCommand } = await import('@aws-sdk/client-sqs');
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-access-dlq' }));
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'bench-access',
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:bench-access-dlq',
            maxReceiveCount: 6,
          }),
        },
      }),
    );
    const queueUrl = queue.QueueUrl!;

    const latencies: number[] = [];
    const batchSizes: number[] = [];
    const instances = Array.from({ length: config.concurrency }, () => {
      const handler = createAccessProvisioningHandler({
        sailpoint: new SailPointClient({
          apiUrl: sandbox.url,
          clientId: 'sandbox-pat-client',
          clientSecret: 'sandbox-pat-secret',
          rateLimit: false,
        }),
        doc,
        tableName,
        sqs,
        queueUrl,
        deadLetterQueueUrl: dlq.QueueUrl!,
        maxReceiveCount: 5,
        log: silentLog,
        settings: { transientRetrySeconds: 0, conflictRetrySeconds: 0, statusSettleMs: 0 },
      });
      return async (event: SQSEvent, context: Context) => {
        const started = performance.now();
        try {
          return await handler(event, context);
        } finally {
          latencies.push(performance.now() - started);
          batchSizes.push(event.Records.length);
        }
      };
    });

    const sendStarted = performance.now();
    const chunks: string[][] = [];
    for (let i = 0; i < workload.bodies.length; i += 10) chunks.push(workload.bodies.slice(i, i + 10));
    for (let i = 0; i < chunks.length; i += 20) {
      await Promise.all(
        chunks.slice(i, i + 20).map((chunk) =>
          sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((body, index) => ({ Id: String(index), MessageBody: body })),
            }),
          ),
        ),
      );
    }
    print(`queued in ${((performance.now() - sendStarted) / 1000).toFixed(1)} s; processing…`);

    const started = performance.now();
    const drained = await Promise.all(
      instances.map((handler) =>
        drainQueue({ sqs, queueUrl, handler, batchSize: config.batchSize, timeoutMs: 30 * 60_000 }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const depth = await queueDepth(sqs, queueUrl);
    const dlqDepth = await queueDepth(sqs, dlq.QueueUrl!);

    const posts = sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests' });
    const accepted = sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests', status: 202 });
    const lowerBound = coalesce(workload.units, {
      maxRecipients: DEFAULT_PROCESSOR_SETTINGS.maxRecipients,
    }).length;
    const v3Calls = sandbox.requestLog.count({ apiVersion: 'v3' });
    const perUnit = new Map<string, number>();
    for (const r of sandbox.state.accessRequests.records) {
      const key = `${r.requestType}|${r.requestedFor.id}|${r.item.type}|${r.item.id}`;
      perUnit.set(key, (perUnit.get(key) ?? 0) + 1);
    }
    const submittedTwice = [...perUnit.values()].filter((n) => n > 1).length;
    const missing = workload.units.filter((u) => !perUnit.has(u.key)).length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const received = drained.reduce((n, d) => n + d.received, 0);

    print();
    print(
      `throughput         ${(config.messages / seconds).toFixed(0)} messages/s (${seconds.toFixed(1)} s for ${config.messages})`,
    );
    print(
      `SailPoint POSTs    ${posts} made (${accepted} accepted) vs lower bound ${lowerBound} ` +
        `(all ${workload.units.length} unique units coalesced at once); one per unique message would be ${workload.unique.length}`,
    );
    print(`other SailPoint    ${v3Calls} v3 calls (Search identity documents, access-request-status)`);
    print(
      `DynamoDB writes    ${(dynamoCalls.writes / config.messages).toFixed(2)} per message ` +
        `(${dynamoCalls.writes} writes, ${dynamoCalls.conditionalFailures} lost conditional writes, ${dynamoCalls.reads} reads)`,
    );
    print(
      `batch latency      p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms ` +
        `over ${latencies.length} batches (mean ${(batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length)).toFixed(1)} messages/batch; ${received} receives)`,
    );
    print(
      `correctness        ${perUnit.size} units in SailPoint, ${missing} missing, ${submittedTwice} submitted twice; ` +
        `queue left ${depth.visible + depth.inFlight}, DLQ ${dlqDepth.visible + dlqDepth.inFlight}`,
    );
    if (missing > 0 || submittedTwice > 0 || dlqDepth.visible + dlqDepth.inFlight > 0) process.exitCode = 1;
  } finally {
    await Promise.allSettled([sandbox.stop(), queues.stop(), dynamo.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:access failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
