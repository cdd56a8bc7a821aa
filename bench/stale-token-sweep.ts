/**
 * `npm run bench:sweep` — the stale-token sweep's first run over a large tenant, on this machine:
 * BENCH_TOKENS personal access tokens (default 50,000) planted in the sandbox tenant (its rate limit
 * on, as the real tenant's), findings in dynalite, notices published to an SNS topic on fauxqs with
 * BENCH_PUBLISH_LATENCY_MS (default 20 ms) added to every SNS call, as a real Publish/PublishBatch
 * round trip takes. Every token is a new finding, so the first run writes and notifies each one —
 * the worst day the sweep has. Prints:
 *   - the first run's wall time, against the Lambda timeout (600 s by default);
 *   - SNS calls made and the lower bound for publishing alone (ceil(n / 10) calls, 8 in flight);
 *   - what one-at-a-time publishing would have cost for the same notices (n × latency);
 *   - owners named through SailPoint Search (BENCH_OWNERS identities, 250 per POST /v3/search): owners
 *     asked, Search calls made (from the sandbox's request log) and their wall time;
 *   - DynamoDB writes, and the second run over the unchanged tenant (it must write, publish and look up
 *     nothing).
 *
 * Knobs (environment): BENCH_TOKENS (50000), BENCH_OWNERS (2000: the tokens' owners, identities
 * planted in the sandbox), BENCH_PUBLISH_LATENCY_MS (20), BENCH_DYNAMO_LATENCY_MS (0: dynalite's own
 * cost only), BENCH_PUBLISH_CONCURRENCY (8).
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FindingsStore, sailPointOwnerDirectory, type OwnerDirectory } from '../functions/shared/findings';
import { DEFAULT_PUBLISH_CONCURRENCY, SNS_BATCH_LIMIT, SnsNotifier } from '../functions/shared/notifier';
import { DEFAULT_SEARCH_PAGE_SIZE } from '../functions/shared/sailpoint';
import { SailPointClient } from '../functions/shared/sailpoint/client';
import { TABLES } from '../functions/shared/tables';
import { DAY_MS, type StaleTokenPolicy } from '../functions/stale-token-sweep/policy';
import { runStaleTokenSweep, type SweepSummary } from '../functions/stale-token-sweep/sweep';
import { sailPointTokenDirectory } from '../functions/stale-token-sweep/token-directory';
import { createTable, LOCAL_AWS_ENV, localDynamoClient, startDynamo, startQueues } from '../local/emulators';
import { startSandbox } from '../sandbox/server';

const config = {
  tokens: intEnv('BENCH_TOKENS', 50_000),
  owners: intEnv('BENCH_OWNERS', 2_000),
  publishLatencyMs: intEnv('BENCH_PUBLISH_LATENCY_MS', 20, 0),
  dynamoLatencyMs: intEnv('BENCH_DYNAMO_LATENCY_MS', 0, 0),
  publishConcurrency: intEnv('BENCH_PUBLISH_CONCURRENCY', DEFAULT_PUBLISH_CONCURRENCY),
};
const LAMBDA_TIMEOUT_S = 600; // lib/stack-config.ts: staleTokenSweep.timeoutSeconds default
const NOW = Date.parse('2025-06-15T06:00:00.000Z');

function intEnv(name: string, fallback: number, min = 1): number {
  const text = process.env[name] ?? String(fallback);
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
  return Number(text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Adds `ms` to every call a client sends (a real AWS round trip instead of loopback). */
function withLatency<C extends { middlewareStack: { add: SNSClient['middlewareStack']['add'] } }>(
  client: C,
  ms: number,
): C {
  if (ms > 0) {
    client.middlewareStack.add(
      (next) => async (args) => {
        await sleep(ms);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'benchLatency' },
    );
  }
  return client;
}

async function main(): Promise<void> {
  const [dynamo, queues] = await Promise.all([startDynamo(), startQueues()]);
  const sandbox = await startSandbox({ now: () => new Date(NOW) }); // the real rate limit: on
  try {
    Object.assign(process.env, LOCAL_AWS_ENV);
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const dynamoClient = withLatency(localDynamoClient(dynamo.endpoint), config.dynamoLatencyMs);
    await createTable(dynamoClient, TABLES.findings, 'bench-findings');
    const doc = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const sns = new SNSClient({ endpoint: queues.endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials });
    const topic = await sns.send(new CreateTopicCommand({ Name: 'bench-findings' }));
    const snsCalls: Record<string, number> = {};
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName);
        snsCalls[name] = (snsCalls[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    withLatency(sns, config.publishLatencyMs);

    const ownerIds = plantOwners(sandbox.state.identities, config.owners);
    plantTokens(sandbox.state.personalAccessTokens, config.tokens, ownerIds, sandbox.state.identities);
    const client = new SailPointClient({
      apiUrl: sandbox.url,
      clientId: 'sandbox-pat-client',
      clientSecret: 'sandbox-pat-secret',
    });
    const policy: StaleTokenPolicy = {
      staleAfterDays: 90,
      warnAfterDays: 75,
      neverUsedAfterDays: 30,
      includeManaged: false,
      exemptions: [],
      revocation: { enabled: true, graceDays: 14 },
    };
    const findings = new TimedFindingsStore({ doc, tableName: 'bench-findings' });
    const notifier = new SnsNotifier(sns, topic.TopicArn!);
    const owners = new TimedOwnerDirectory(sailPointOwnerDirectory(client));
    const searchCalls = () => sandbox.requestLog.entries.filter((e) => e.path === '/v3/search').length;
    const run = async (): Promise<{ summary: SweepSummary; seconds: number; searchCalls: number }> => {
      findings.reset();
      owners.seconds = 0;
      const searchesBefore = searchCalls();
      const started = performance.now();
      const summary = await runStaleTokenSweep({
        tokens: sailPointTokenDirectory(client),
        owners,
        findings,
        notifier,
        policy,
        clock: () => new Date(NOW),
        publishConcurrency: config.publishConcurrency,
      });
      return {
        summary,
        seconds: (performance.now() - started) / 1000,
        searchCalls: searchCalls() - searchesBefore,
      };
    };

    process.stdout.write(
      `stale-token sweep benchmark: ${config.tokens} tokens of ${config.owners} owners, ${config.publishLatencyMs} ms per SNS call, ` +
        `${config.dynamoLatencyMs} ms added per DynamoDB call, ${config.publishConcurrency} PublishBatch calls in flight, ` +
        `sandbox rate limit on\n`,
    );
    const first = await run();
    const c = first.summary.counts;
    const publishCalls = snsCalls.PublishBatchCommand ?? 0;
    const boundSeconds =
      (Math.ceil(c.notified / SNS_BATCH_LIMIT) / config.publishConcurrency) *
      (config.publishLatencyMs / 1000);
    const oneAtATimeSeconds = (c.notified * config.publishLatencyMs) / 1000;
    process.stdout.write(
      [
        `first run: ${first.seconds.toFixed(1)} s (${first.summary.status}) — Lambda timeout ${LAMBDA_TIMEOUT_S} s`,
        `  ${c.tokensFetched} tokens fetched in ${c.sailPointCalls} SailPoint calls; ${c.newFindings} new findings, ${c.notified} notified`,
        `  SNS: ${publishCalls} PublishBatch + ${snsCalls.PublishCommand ?? 0} Publish calls; publishing alone needs at least ${boundSeconds.toFixed(1)} s ` +
          `(${Math.ceil(c.notified / SNS_BATCH_LIMIT)} calls / ${config.publishConcurrency} in flight × ${config.publishLatencyMs} ms); ` +
          `one Publish at a time would take ${oneAtATimeSeconds.toFixed(0)} s`,
        `  owners named: ${c.ownerLookups} looked up in ${first.searchCalls} Search calls (${Math.ceil(c.ownerLookups / DEFAULT_SEARCH_PAGE_SIZE)} at least: ` +
          `${DEFAULT_SEARCH_PAGE_SIZE} per call), ${owners.seconds.toFixed(1)} s; ${c.ownerLookupFailures} failed`,
        `  DynamoDB writes: ${c.findingWrites} (${(c.findingWrites / Math.max(1, c.newFindings)).toFixed(1)} per finding: the finding with its pending notice, then "sent")`,
        `  where the time went: recording findings ${findings.seconds.reconcile.toFixed(1)} s (dynalite), ` +
          `delivering notices ${findings.seconds.deliver.toFixed(1)} s (PublishBatch + "sent" writes), ` +
          `owner lookups ${owners.seconds.toFixed(1)} s, ` +
          `the rest (fetching ${c.tokensFetched} tokens over HTTP, assessing, loading) ${(first.seconds - findings.seconds.reconcile - findings.seconds.deliver - owners.seconds).toFixed(1)} s`,
      ].join('\n') + '\n',
    );
    const second = await run();
    process.stdout.write(
      `second run over the unchanged tenant: ${second.seconds.toFixed(1)} s, ${second.summary.counts.findingWrites} writes, ` +
        `${second.summary.counts.notified} notified, ${second.summary.counts.ownerLookups} owners looked up ` +
        `(${second.searchCalls} Search calls) (${second.summary.status})\n`,
    );
    if (
      first.summary.status !== 'succeeded' ||
      c.notified !== c.newFindings ||
      c.ownerLookupFailures ||
      second.summary.counts.findingWrites ||
      second.summary.counts.ownerLookups
    ) {
      throw new Error(
        `unexpected result: ${JSON.stringify({ first: first.summary.errors, second: second.summary.counts })}`,
      );
    }
  } finally {
    await Promise.allSettled([sandbox.stop(), queues.stop(), dynamo.stop()]);
  }
}

/** The findings store, timing its two phases (wall time; each runs its writes 8 at a time). */
class TimedFindingsStore extends FindingsStore {
  seconds = { reconcile: 0, deliver: 0 };
  reset(): void {
    this.seconds = { reconcile: 0, deliver: 0 };
  }
  override reconcile(...args: Parameters<FindingsStore['reconcile']>) {
    return this.timed('reconcile', () => super.reconcile(...args));
  }
  override deliverNotifications(...args: Parameters<FindingsStore['deliverNotifications']>) {
    return this.timed('deliver', () => super.deliverNotifications(...args));
  }
  private async timed<T>(phase: keyof TimedFindingsStore['seconds'], work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.seconds[phase] += (performance.now() - started) / 1000;
    }
  }
}

/** The owner directory, timing its lookups (wall time). */
class TimedOwnerDirectory implements OwnerDirectory {
  seconds = 0;
  constructor(private readonly inner: OwnerDirectory) {}
  async describe(ids: readonly string[]) {
    const started = performance.now();
    try {
      return await this.inner.describe(ids);
    } finally {
      this.seconds += (performance.now() - started) / 1000;
    }
  }
}

type SandboxState = Awaited<ReturnType<typeof startSandbox>>['state'];

/**
 * `count` identities to own the tokens: the seed's, then copies of the first with their own id, name
 * and e-mail, created long ago (so Search has indexed them: no indexing lag in the way).
 */
function plantOwners(identities: SandboxState['identities'], count: number): string[] {
  const seed = [...identities.values()];
  const ids = seed.slice(0, count).map((i) => i.id);
  for (let n = ids.length; n < count; n++) {
    const id = `2c9180bb${n.toString(16).padStart(24, '0')}`;
    identities.set(id, {
      ...seed[0]!,
      id,
      name: `bench.owner${n}`,
      displayName: `Bench Owner ${n}`,
      firstName: 'Bench',
      lastName: `Owner ${n}`,
      email: `bench.owner${n}@example.com`,
      created: new Date(NOW - 1000 * DAY_MS).toISOString(),
      attributes: {},
      access: [],
    });
    ids.push(id);
  }
  return ids;
}

/**
 * `count` tokens over the owners: 60 % stale (91–400 days), 25 % idle (76–90 days: warned),
 * 10 % never used and older than 30 days, 5 % used in the last days (not returned by the filters).
 */
function plantTokens(
  tokens: SandboxState['personalAccessTokens'],
  count: number,
  ownerIds: readonly string[],
  identities: SandboxState['identities'],
): void {
  tokens.clear();
  for (let i = 0; i < count; i++) {
    const slot = i % 20;
    const owner = ownerIds[i % ownerIds.length]!;
    const daysAgo = slot < 12 ? 91 + (i % 310) : slot < 17 ? 76 + (i % 15) : slot < 19 ? null : 1 + (i % 5);
    const id = `7a70${i.toString(16).padStart(28, '0')}`;
    tokens.set(id, {
      id,
      name: `token ${i}`,
      scope: ['sp:scopes:all'],
      owner: { type: 'IDENTITY', id: owner, name: identities.get(owner)!.displayName },
      created: new Date(NOW - 500 * DAY_MS).toISOString(),
      lastUsed: daysAgo === null ? null : new Date(NOW - daysAgo * DAY_MS).toISOString(),
      managed: false,
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench:sweep failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
