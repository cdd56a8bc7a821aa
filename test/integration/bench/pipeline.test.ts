/** The benchmarks' pipeline machinery: an instance crash is a Lambda crash (nothing deleted, a fresh instance next). */
import { startPipeline, type Pipeline } from '../../../bench/lib/pipeline';
import { accessRequestPosts, callsPerVersion, unitCounts } from '../../../bench/lib/measure';
import { benchIdentity, benchItem, benchTenant, buildWorkload } from '../../../bench/lib/workload';
import { prng } from '../../../bench/lib/random';
import { acceptedAccessRequestUnits } from '../../../sandbox/accepted-units';
import { dynamoEndpoint, sqsEndpoint } from '../../support/emulators';

describe('bench pipeline', () => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => pipeline?.stop());

  it('crashes an instance right after SailPoint accepted its POST; the batch comes back and a fresh instance finishes it', async () => {
    const { seed, held } = benchTenant(prng(1), 3);
    const item = [0, 1, 2, 3].find((n) => !held.get(benchIdentity(0))!.has(n))!;
    const draws = [0]; // the first draw (after the first accepted POST) crashes; then never again
    pipeline = await startPipeline({
      seed,
      gatewayLimit: true,
      clientBudgetPer10s: false,
      concurrency: 1,
      batchSize: 10,
      functionTimeoutMs: 12_000, // the workflow keeps 10 s in reserve: 2 s of work, a short attempt window
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 5,
      searchLagMs: 0, // off: this test is about the crash; the lag has its own tests (search-lag.test.ts)
      settings: { transientRetrySeconds: 0, statusSettleMs: 0 },
      crashes: { afterPost: 1, afterWrite: 0, redelivery: 0 },
      random: () => draws.shift() ?? 0.99,
      emulators: { dynamoEndpoint: dynamoEndpoint(), sqsEndpoint: sqsEndpoint() },
    });
    await pipeline.send([
      JSON.stringify({
        requestedFor: [benchIdentity(0)],
        requestedItems: [{ type: 'ROLE', id: benchItem(item) }],
      }),
    ]);
    const drained = await pipeline.drain(25_000);
    expect(pipeline.counters.crashesAfterPost).toBe(1);
    expect(drained.crashed).toBe(1);
    expect(drained.receives).toBeGreaterThanOrEqual(2); // not deleted after the crash: received again
    expect(await pipeline.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const accepted = acceptedAccessRequestUnits(pipeline.sandbox.requestLog);
    expect(accepted.get(`GRANT_ACCESS|${benchIdentity(0)}|ROLE|${benchItem(item)}`)).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("two instances on the credential's shared budget, gateway limit on: every unit submitted once, no 429, POSTs reserved in blocks", async () => {
    const workload = buildWorkload({ messages: 300, duplicateRatio: 0.3, identities: 60, seed: 3 });
    pipeline = await startPipeline({
      seed: workload.seed,
      gatewayLimit: true,
      clientBudgetPer10s: false,
      sharedBudgetPer10s: 95,
      concurrency: 2,
      batchSize: 100,
      functionTimeoutMs: 40_000,
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 5,
      random: prng(3),
      emulators: { dynamoEndpoint: dynamoEndpoint(), sqsEndpoint: sqsEndpoint() },
    });
    await pipeline.send(workload.bodies);
    await pipeline.drain(60_000);
    const log = pipeline.sandbox.requestLog;
    const units = unitCounts(
      log,
      workload.units.map((u) => u.key),
    );
    expect({ postedTwice: units.postedTwice, missing: units.missing }).toEqual({
      postedTwice: 0,
      missing: 0,
    });
    expect([...callsPerVersion(log).values()].reduce((n, v) => n + v.rateLimited, 0)).toBe(0);
    expect(await pipeline.deadLetters()).toEqual([]);
    // Each chunk's POSTs took their send times in one reservation, not one write per POST.
    const posts = accessRequestPosts(log).sent;
    const reservations = [...pipeline.counters.writesByKind]
      .filter(([kind]) => kind.includes(' RATE'))
      .reduce((n, [, count]) => n + count, 0);
    expect(posts).toBeGreaterThan(10);
    expect(reservations).toBeLessThan(posts / 2);
  });
});
