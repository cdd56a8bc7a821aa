/**
 * `npm run bench:faults` (or `npm run bench:access -- --faults`): ≥ 5,000 messages of every shape a
 * producer sends (bench/lib/fault-workload.ts) through the real pipeline while everything that can go
 * wrong does: the gateway's rate limit and injected 429s, 5xx and dropped connections before the
 * request reaches SailPoint, 5xx and dropped connections AFTER SailPoint accepted a POST, instances
 * crashing after a POST and after a DynamoDB write, concurrent redeliveries of a batch, and Search's
 * indexing lag. Then it counts, from the POST bodies SailPoint answered 202 (never from the sandbox's
 * records): units POSTed twice, units missing, valid messages dead-lettered, units of invalid messages
 * submitted, messages left on the queue — each should be 0.
 *
 * Reproducible with a seed (FAULT_SEED): the workload and the fault rates are fixed by it; which request
 * a fault hits also depends on timing (concurrent instances), so figures can vary a little between runs.
 *
 * Knobs (environment; defaults chosen so the run ends in minutes on a shared 2-core machine, and so the
 * faults, not the rate budget, are what it exercises): FAULT_MESSAGES (5000), FAULT_SEED (1),
 * FAULT_IDENTITIES (600), FAULT_CONCURRENCY (4 instances), FAULT_SHARED_BUDGET_PER_10S (the stack's
 * sailPoint.requestsPer10s, drawn on by every instance through the RateBudget table, as deployed; 0:
 * per-instance budgets instead), FAULT_BUDGET_PER_10S (45 per instance, only with the shared budget 0:
 * together just under the gateway's 100 per API version × 2), FAULT_BATCH_SIZE (10),
 * FAULT_FUNCTION_TIMEOUT_SECONDS (30), FAULT_VISIBILITY_SECONDS (60), FAULT_PHASE_MINUTES (45: a phase
 * not drained by then is reported as messages left), and the fault rates FAULT_P_429 (0.03),
 * FAULT_P_5XX (0.03), FAULT_P_DROP (0.02), FAULT_P_5XX_AFTER (0.03), FAULT_P_DROP_AFTER (0.03),
 * FAULT_P_CRASH_POST (0.02), FAULT_P_CRASH_WRITE (0.002), FAULT_P_REDELIVERY (0.05).
 * Workflow settings: the stack defaults. Search lag: the sandbox default.
 */
import { intEnv, print, ratioEnv } from './env';
import { buildFaultWorkload, laterPhases, type MessageKind } from './fault-workload';
import { callsPerVersion, percentile, unitCounts } from './measure';
import { startPipeline, type Pipeline } from './pipeline';
import { prng } from './random';
import { STACK_DEFAULTS } from './stack-defaults';

const SAILPOINT_API = /^\/(beta|v3)\//;
const ACCESS_REQUESTS = /^\/(beta|v3)\/access-requests$/;

function injectFaults(pipeline: Pipeline, p: Record<string, number>): void {
  const { faults } = pipeline.sandbox;
  const always = { times: Infinity };
  // Before the request reaches SailPoint: it did not act.
  faults.inject({
    ...always,
    path: SAILPOINT_API,
    status: 429,
    retryAfterSeconds: 2,
    probability: p.rateLimit,
  });
  faults.inject({ ...always, path: SAILPOINT_API, status: 503, probability: p.serverError });
  faults.inject({ ...always, path: SAILPOINT_API, dropConnection: true, probability: p.drop });
  // After SailPoint accepted the access request: the client never hears it.
  faults.inject({
    ...always,
    method: 'POST',
    path: ACCESS_REQUESTS,
    status: 502,
    afterRoute: true,
    probability: p.serverErrorAfter,
  });
  faults.inject({
    ...always,
    method: 'POST',
    path: ACCESS_REQUESTS,
    dropConnection: true,
    afterRoute: true,
    probability: p.dropAfter,
  });
}

export async function runFaultRun(): Promise<void> {
  const config = {
    messages: intEnv('FAULT_MESSAGES', 5_000),
    seed: intEnv('FAULT_SEED', 1),
    identities: intEnv('FAULT_IDENTITIES', 600),
    concurrency: intEnv('FAULT_CONCURRENCY', 4),
    // The stack's shape: every instance draws on the credential's shared budget (RateBudget table).
    // 0: each instance keeps FAULT_BUDGET_PER_10S on its own instead (4 × 45 > the gateway: 429s).
    sharedBudget: intEnv('FAULT_SHARED_BUDGET_PER_10S', STACK_DEFAULTS.requestsPer10s),
    budget: intEnv('FAULT_BUDGET_PER_10S', 45),
    batchSize: intEnv('FAULT_BATCH_SIZE', 10),
    functionTimeoutSeconds: intEnv('FAULT_FUNCTION_TIMEOUT_SECONDS', 30),
    visibilitySeconds: intEnv('FAULT_VISIBILITY_SECONDS', 60),
    phaseMinutes: intEnv('FAULT_PHASE_MINUTES', 45),
  };
  const p = {
    rateLimit: ratioEnv('FAULT_P_429', 0.03),
    serverError: ratioEnv('FAULT_P_5XX', 0.03),
    drop: ratioEnv('FAULT_P_DROP', 0.02),
    serverErrorAfter: ratioEnv('FAULT_P_5XX_AFTER', 0.03),
    dropAfter: ratioEnv('FAULT_P_DROP_AFTER', 0.03),
    crashAfterPost: ratioEnv('FAULT_P_CRASH_POST', 0.02),
    crashAfterWrite: ratioEnv('FAULT_P_CRASH_WRITE', 0.002),
    redelivery: ratioEnv('FAULT_P_REDELIVERY', 0.05),
  };
  const workload = buildFaultWorkload(config);
  const pipeline = await startPipeline({
    seed: workload.seed,
    gatewayLimit: true,
    clientBudgetPer10s: config.sharedBudget > 0 ? false : config.budget,
    ...(config.sharedBudget > 0 ? { sharedBudgetPer10s: config.sharedBudget } : {}),
    concurrency: config.concurrency,
    batchSize: config.batchSize,
    functionTimeoutMs: config.functionTimeoutSeconds * 1000,
    visibilityTimeoutSeconds: config.visibilitySeconds,
    maxReceiveCount: STACK_DEFAULTS.maxReceiveCount,
    crashes: { afterPost: p.crashAfterPost, afterWrite: p.crashAfterWrite, redelivery: p.redelivery },
    random: prng(config.seed * 7919),
  });
  try {
    injectFaults(pipeline, p);
    print(
      `bench:faults — seed ${config.seed}; ${config.identities} identities; ${config.concurrency} instances ` +
        (config.sharedBudget > 0
          ? `sharing ${config.sharedBudget} requests / 10 s per API version (the credential's shared budget)`
          : `× ${config.budget} requests / 10 s each`) +
        `, batch size ${config.batchSize}, function timeout ${config.functionTimeoutSeconds} s, ` +
        `visibility ${config.visibilitySeconds} s, maxReceiveCount ${STACK_DEFAULTS.maxReceiveCount}; workflow settings: stack defaults`,
    );
    print(
      `faults: gateway limit 100 / 10 s; injected on every SailPoint call 429 ${p.rateLimit}, 503 ${p.serverError}, ` +
        `drop ${p.drop}; after SailPoint accepted a POST: 502 ${p.serverErrorAfter}, drop ${p.dropAfter}; ` +
        `crash after a POST ${p.crashAfterPost}, after a DynamoDB write ${p.crashAfterWrite}; concurrent redelivery of a batch ` +
        `${p.redelivery}; Search lag ${pipeline.sandbox.state.search.lagMs / 1000} s`,
    );

    let left = 0;
    const runPhase = async (name: string, bodies: string[]) => {
      await pipeline.send(bodies);
      const drained = await pipeline.drain(config.phaseMinutes * 60_000);
      const depth = await pipeline.depth();
      left = depth.visible + depth.inFlight;
      print(
        `phase ${name}: ${bodies.length} messages drained in ${drained.seconds.toFixed(0)} s ` +
          `(${drained.receives} receives, ${drained.crashed} invocations crashed, ${drained.timedOut} timed out` +
          `${left > 0 ? `; ${left} LEFT after ${config.phaseMinutes} min` : ''})`,
      );
    };
    await runPhase('A (grants, revokes, re-sends, invalid)', workload.phaseA);
    const afterA = unitCounts(pipeline.sandbox.requestLog, workload.expectedA).accepted;
    const { phaseB, phaseC, expectedB } = laterPhases(workload, afterA, config.messages);
    const pairGrants = [...expectedB].map((k) => k.replace(/^REVOKE_ACCESS\|/, 'GRANT_ACCESS|'));
    await runPhase('B (revokes of access granted in A)', phaseB);
    await runPhase('C (producer re-sends of revoked GRANTs)', phaseC);
    const total = workload.phaseA.length + phaseB.length + phaseC.length;
    print(
      `workload: ${total} messages — ${Object.entries(workload.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );

    const log = pipeline.sandbox.requestLog;
    const expected = new Set([...workload.expectedA, ...expectedB]);
    const units = unitCounts(log, expected);
    const invalidUnits = units.unexpected.filter((key) => workload.invalidIdentities.has(key.split('|')[1]!));
    const otherUnexpected = units.unexpected.length - invalidUnits.length;
    const deadLetters = await pipeline.deadLetters();
    const byKind = new Map<MessageKind | 'unknown', Set<string>>();
    const reasons = new Map<string, string>();
    /** Invalid messages' dead-letter reasons, ids and numbers masked, with how many messages had each. */
    const invalidReasons = new Map<string, Set<string>>();
    for (const d of deadLetters) {
      const kind = workload.kinds.get(d.body) ?? 'unknown';
      byKind.set(kind, (byKind.get(kind) ?? new Set()).add(d.sourceMessageId));
      if (kind === 'valid') reasons.set(d.sourceMessageId, d.reason);
      else {
        const masked = d.reason
          .replace(/[0-9a-f]{32}/g, '<id>')
          .replace(/"[^"]*"/g, '"…"')
          .replace(/\d+/g, 'N')
          .slice(0, 150);
        invalidReasons.set(masked, (invalidReasons.get(masked) ?? new Set()).add(d.sourceMessageId));
      }
    }
    const invalidSent = (workload.counts.malformed ?? 0) + (workload.counts['rule-breaking'] ?? 0);
    const invalidDead = (byKind.get('malformed')?.size ?? 0) + (byKind.get('rule-breaking')?.size ?? 0);
    const versions = callsPerVersion(log);
    const { counters } = pipeline;

    print();
    print('RESULTS — counted from the POST bodies SailPoint answered 202');
    print(`  units POSTed twice                   ${units.postedTwice}`);
    print(`  units missing                        ${units.missing} (of ${expected.size} expected)`);
    print(`  valid messages dead-lettered         ${byKind.get('valid')?.size ?? 0}`);
    print(`  units of invalid messages submitted  ${invalidUnits.length}`);
    print(`  messages left on the queue           ${left}`);
    print();
    print(
      `also: ${units.accepted.size} units accepted; ${otherUnexpected} accepted units outside the workload; ` +
        `invalid messages dead-lettered ${invalidDead} of ${invalidSent} (${deadLetters.length} dead letters in all, ` +
        `for ${new Set(deadLetters.map((d) => d.sourceMessageId)).size} distinct messages); ` +
        `${[...versions].map(([v, c]) => `${v} ${c.calls} calls (${c.rateLimited} gateway 429s, ${c.faulted} faulted)`).join(', ')}; ` +
        `${counters.invocations} invocations (latency p50 ${percentile(counters.latenciesMs, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(counters.latenciesMs, 99).toFixed(0)} ms), ${counters.crashesAfterPost} crashes after a POST, ` +
        `${counters.crashesAfterWrite} after a DynamoDB write, ${counters.redeliveries} concurrent redeliveries`,
    );
    const show = (title: string, keys: string[]) => {
      if (keys.length > 0) print(`  ${title}: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ' …' : ''}`);
    };
    const twice = [...units.accepted].filter(([, n]) => n > 1).map(([k]) => k);
    const resent = new Set(pairGrants);
    const revoked = new Set([...expectedB]);
    print(
      `  of the units POSTed twice, ${twice.filter((k) => resent.has(k)).length} are GRANTs the producer re-sent ` +
        `after their REVOKE (phase C); of the units missing, ${[...expected].filter((k) => !units.accepted.has(k) && revoked.has(k)).length} ` +
        `are REVOKEs of access granted in phase A (phase B)`,
    );
    show(
      'posted twice',
      [...units.accepted].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`),
    );
    show(
      'missing',
      [...expected].filter((k) => !units.accepted.has(k)),
    );
    print('  invalid messages dead-lettered, by reason (ids and numbers masked):');
    for (const [reason, ids] of [...invalidReasons].sort((a, b) => b[1].size - a[1].size)) {
      print(`    ${String(ids.size).padStart(4)} × ${reason}`);
    }
    show(
      'valid dead letters',
      [...reasons.values()].map((r) => r.slice(0, 140)),
    );
    if (
      units.postedTwice + units.missing + (byKind.get('valid')?.size ?? 0) + invalidUnits.length + left >
      0
    ) {
      process.exitCode = 1;
    }
  } finally {
    await pipeline.stop();
  }
}
