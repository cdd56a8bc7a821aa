/**
 * `npm run bench:access` — the access-provisioning pipeline on this machine (fauxqs queue → local
 * pollers → handler → dynalite + sandbox tenant), under the tenant's real constraints by default:
 *   - the sandbox gateway's rate limit ON (100 requests / 10 s per client id and API version);
 *   - the credential's budget (sailPoint.requestsPer10s) shared by every instance through the
 *     RateBudget table, each chunk's POSTs in one block, as a default deployment runs
 *     (bench/lib/stack-defaults.ts); the stack's concurrency, batch size, function timeout,
 *     visibility timeout and receive count;
 *   - dynalite in a process of its own (DynamoDB does not run on a Lambda's CPU);
 *   - Search indexing lag ON (the sandbox default).
 * It prints the drain time next to the rate-limit lower bound of the same workload (per API version
 * the fewest calls it needs ÷ 10 per second; the bound is the larger), POSTs against the coalescing
 * bound, calls per API version, 429s, dead letters, and — counted from the POST bodies SailPoint
 * answered 202 — units POSTed twice and units missing.
 *
 *   npm run bench:access                  rate limit on (the default)
 *   npm run bench:access -- --limit-off   no gateway limit and no client budget: pipeline overhead only
 *   npm run bench:access -- --faults      the fault run (bench/lib/fault-run.ts); also npm run bench:faults
 *   npm run bench:access -- --events      v3 calls with ISC's access event triggers off vs on (bench/lib/events-comparison.ts)
 *
 * Knobs (environment): BENCH_MESSAGES (10000), BENCH_DUPLICATE_RATIO (0.3), BENCH_IDENTITIES (2000),
 * BENCH_SEED (1), BENCH_BATCH_SIZE (stack: 3000), BENCH_CONCURRENCY (stack: 2; --limit-off: 4),
 * BENCH_BUDGET_PER_10S (stack: 95, the credential's shared budget), BENCH_SEARCH_PAGE_SIZE (250, for
 * the bound), BENCH_FUNCTION_TIMEOUT_SECONDS (stack: 120), BENCH_TIMEOUT_MINUTES (90: then it stops and
 * reports what is left on the queue), BENCH_DYNAMO_IN_PROCESS (1: dynalite on the instances' event loop).
 */
import { visibilityTimeoutSeconds } from '../lib/constructs/work-queue';
import { intEnv, print, ratioEnv } from './lib/env';
import { buildWorkload } from './lib/workload';
import { runEventsComparison } from './lib/events-comparison';
import { runFaultRun } from './lib/fault-run';
import { accessRequestPosts, callsPerVersion, percentile, rateLimitBound, unitCounts } from './lib/measure';
import { startPipeline } from './lib/pipeline';
import { prng } from './lib/random';
import { STACK_DEFAULTS } from './lib/stack-defaults';

async function benchmark(limitOff: boolean) {
  const stack = STACK_DEFAULTS;
  const config = {
    messages: intEnv('BENCH_MESSAGES', 10_000),
    duplicateRatio: ratioEnv('BENCH_DUPLICATE_RATIO', 0.3),
    identities: intEnv('BENCH_IDENTITIES', 2_000),
    seed: intEnv('BENCH_SEED', 1),
    batchSize: intEnv('BENCH_BATCH_SIZE', stack.batchSize),
    // Limit off keeps the earlier benchmark's shape (4 pollers), so its figure stays comparable.
    concurrency: intEnv('BENCH_CONCURRENCY', limitOff ? 4 : stack.maxConcurrency),
    // The credential's budget, shared through the RateBudget table by every instance (the stack's shape).
    budget: intEnv('BENCH_BUDGET_PER_10S', stack.requestsPer10s),
    pageSize: intEnv('BENCH_SEARCH_PAGE_SIZE', 250),
    timeoutMinutes: intEnv('BENCH_TIMEOUT_MINUTES', 90),
    functionTimeoutSeconds: intEnv('BENCH_FUNCTION_TIMEOUT_SECONDS', stack.timeoutSeconds),
  };
  const workload = buildWorkload(config);
  const bound = rateLimitBound(workload.units, config.pageSize);
  const pipeline = await startPipeline({
    seed: workload.seed,
    gatewayLimit: !limitOff,
    clientBudgetPer10s: false,
    ...(limitOff ? {} : { sharedBudgetPer10s: config.budget }),
    concurrency: config.concurrency,
    batchSize: config.batchSize,
    functionTimeoutMs: config.functionTimeoutSeconds * 1000,
    visibilityTimeoutSeconds: limitOff
      ? 60
      : visibilityTimeoutSeconds(config.functionTimeoutSeconds, stack.maxBatchingWindowSeconds),
    maxReceiveCount: stack.maxReceiveCount,
    // Limit off keeps the earlier benchmark's immediate retries (pipeline overhead, not waiting).
    ...(limitOff
      ? { settings: { transientRetrySeconds: 0, conflictRetrySeconds: 0, statusSettleMs: 0 } }
      : {}),
    random: prng(config.seed),
  });
  try {
    const lagSeconds = pipeline.sandbox.state.search.lagMs / 1000;
    print(
      limitOff
        ? `bench:access --limit-off — PIPELINE OVERHEAD: no gateway rate limit, no client budget; Search lag ${lagSeconds} s`
        : `bench:access — rate limit ON: sandbox gateway 100 / 10 s per client id and API version; ` +
            `shared budget ${config.budget} / 10 s per API version for the credential (sailPoint.requestsPer10s), drawn on by ` +
            `${config.concurrency} instances (stack defaults; ` +
            `${stack.sailPointCallers} SailPoint callers share it, each guaranteed ${stack.perInstanceBudget}); Search lag ${lagSeconds} s`,
    );
    print(
      `workload: ${config.messages} messages (${workload.unique.length} unique, ${config.messages - workload.unique.length} duplicates), ` +
        `${workload.units.length} unique units, ${bound.identities} of ${config.identities} identities; batch size ${config.batchSize}, ` +
        `${config.concurrency} pollers, function timeout ${config.functionTimeoutSeconds} s, workflow settings: ` +
        `${limitOff ? 'defaults with retry delays 0 (as before)' : 'stack defaults'}`,
    );
    await pipeline.send(workload.bodies);
    print('queued; processing…');
    const drainStartedAt = Date.now();
    const drained = await pipeline.drain(config.timeoutMinutes * 60_000);
    const depth = await pipeline.depth();
    const deadLetters = await pipeline.deadLetters();
    const log = pipeline.sandbox.requestLog;
    const versions = callsPerVersion(log);
    const posts = accessRequestPosts(log);
    const units = unitCounts(
      log,
      workload.units.map((u) => u.key),
    );
    const rateLimited = [...versions.values()].reduce((n, v) => n + v.rateLimited, 0);
    const allCalls = [...versions.values()].reduce((n, v) => n + v.calls, 0);
    // The budget counts each API version apart, like the gateway: the slower version decides.
    const budgetBound = Math.max(bound.posts, bound.searches) / (config.budget / 10);
    const { counters } = pipeline;
    const left = depth.visible + depth.inFlight;

    print();
    print(
      `drain time          ${drained.seconds.toFixed(1)} s (${(config.messages / drained.seconds).toFixed(0)} messages/s)` +
        (left > 0 ? ` — STOPPED after ${config.timeoutMinutes} min with ${left} messages left` : ''),
    );
    print(
      `rate-limit bound    ${bound.seconds.toFixed(1)} s = max(beta ${bound.posts} POSTs ÷ 10/s = ${bound.betaSeconds.toFixed(1)} s, ` +
        `v3 ${bound.searches} bulk reads of ${bound.identities} identities at ${config.pageSize} per page ÷ 10/s = ${bound.v3Seconds.toFixed(1)} s); ` +
        `drain / bound = ${(drained.seconds / bound.seconds).toFixed(2)}`,
    );
    if (!limitOff) {
      print(
        `client-budget bound ${budgetBound.toFixed(1)} s (the same calls at the credential's ${config.budget} / 10 s per ` +
          `API version); drain / that = ${(drained.seconds / budgetBound).toFixed(2)}`,
      );
    }
    print(
      `POSTs               ${posts.sent} sent (${posts.accepted} accepted) vs coalescing bound ${bound.posts} ` +
        `(${(posts.sent / bound.posts).toFixed(2)}×); one per unique message would be ${workload.unique.length}`,
    );
    if (posts.first !== undefined && posts.last !== undefined) {
      const span = (posts.last - posts.first) / 1000;
      print(
        `POST timeline       first at ${((posts.first - drainStartedAt) / 1000).toFixed(1)} s, last at ` +
          `${((posts.last - drainStartedAt) / 1000).toFixed(1)} s: ${(posts.sent / Math.max(span, 0.001)).toFixed(2)} POSTs/s ` +
          `in between${limitOff ? '' : ` (the budget: ${(config.budget / 10).toFixed(1)}/s)`}`,
      );
    }
    print(
      `calls per version   ${[...versions].map(([v, c]) => `${v} ${c.calls}`).join(', ')} (the fewest: beta ${bound.posts}, v3 ${bound.searches})`,
    );
    print(
      `429s received       ${rateLimited} (${((100 * rateLimited) / Math.max(1, allCalls)).toFixed(2)} % of ${allCalls} calls)`,
    );
    print(
      `dead-lettered       ${new Set(deadLetters.map((d) => d.sourceMessageId)).size} messages (all valid in this workload)` +
        (deadLetters.length > 0 ? `; first reason: ${deadLetters[0]!.reason.slice(0, 160)}` : ''),
    );
    print(
      `units               ${units.accepted.size} accepted by SailPoint; POSTed twice ${units.postedTwice}; missing ${units.missing}` +
        (units.unexpected.length > 0 ? `; not in the workload ${units.unexpected.length}` : ''),
    );
    print(
      `invocations         ${counters.invocations} (timed out ${drained.timedOut}), ${drained.receives} receives, ` +
        `mean ${(counters.batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, counters.batchSizes.length)).toFixed(1)} messages/batch, ` +
        `latency p50 ${percentile(counters.latenciesMs, 50).toFixed(0)} ms, p99 ${percentile(counters.latenciesMs, 99).toFixed(0)} ms`,
    );
    print(
      `DynamoDB            ${(counters.dynamoWrites / config.messages).toFixed(2)} writes per message ` +
        `(${counters.dynamoWrites} writes, ${counters.conditionalFailures} lost conditional writes, ${counters.dynamoReads} reads)`,
    );
    print(
      `  by kind           ${[...counters.writesByKind]
        .sort((a, b) => b[1] - a[1])
        .map(([kind, n]) => `${kind} ${n} (${(n / config.messages).toFixed(2)}/msg)`)
        .join(', ')}`,
    );
    print(`queue left          ${left}`);
    if (units.missing > 0 || units.postedTwice > 0 || deadLetters.length > 0 || left > 0)
      process.exitCode = 1;
  } finally {
    await pipeline.stop();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--limit-off', '--faults', '--events'].includes(a));
  if (unknown.length > 0)
    throw new Error(`unknown option(s) ${unknown.join(' ')}: use --limit-off, --faults or --events`);
  if (args.includes('--faults')) await runFaultRun();
  else if (args.includes('--events')) await runEventsComparison();
  else await benchmark(args.includes('--limit-off'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:access failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
