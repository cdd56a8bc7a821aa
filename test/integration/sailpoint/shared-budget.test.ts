/**
 * The shared SailPoint rate budget (functions/shared/sailpoint/shared-budget.ts): its schedule in
 * dynalite, and several instances' clients drawing on it against the sandbox gateway's limit.
 */
import {
  SailPointClient,
  searchIdentityAccess,
  type SailPointClientOptions,
} from '../../../functions/shared/sailpoint';
import {
  DynamoScheduleStore,
  SharedRateBudget,
  type ScheduleStore,
} from '../../../functions/shared/sailpoint/shared-budget';
import { DEFAULT_SEED_IDS } from '../../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../../sandbox/server';
import { freshTable } from '../../support/emulators';
import { PAT_CLIENT } from '../sandbox/helpers';

describe('the shared schedule in DynamoDB', () => {
  it('starts an idle schedule now, queues a busy one behind the send times already given, idles again', async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    const store = new DynamoScheduleStore(doc, tableName);
    expect(await store.reserve('client v3', 3, 100, 1_000, Infinity)).toBe(1_000);
    expect(await store.reserve('client v3', 2, 100, 1_050, Infinity)).toBe(1_300);
    // Another API version (or client id) has a schedule of its own.
    expect(await store.reserve('client beta', 1, 100, 1_050, Infinity)).toBe(1_050);
    // Once its send times have passed, the schedule is idle: the next block starts at its caller's now.
    expect(await store.reserve('client v3', 1, 100, 5_000, Infinity)).toBe(5_000);
  });

  it('gives concurrent instances disjoint send times, evenly spaced, with no gap and no overlap', async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    // Two instances (each with its own view of the schedule), ten reservations each at the same time.
    const instances = [new DynamoScheduleStore(doc, tableName), new DynamoScheduleStore(doc, tableName)];
    const starts = await Promise.all(
      instances.flatMap((store) =>
        Array.from({ length: 10 }, () => store.reserve('client beta', 1, 100, 10_000, Infinity)),
      ),
    );
    expect([...starts].sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: 20 }, (_, i) => 10_000 + i * 100),
    );
  });

  it("refuses a block that would start after the caller's latest start, and leaves the schedule as it was", async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    const store = new DynamoScheduleStore(doc, tableName);
    expect(await store.reserve('client beta', 10, 100, 0, Infinity)).toBe(0); // busy until 1,000
    expect(await store.reserve('client beta', 1, 100, 0, 500)).toBeUndefined();
    expect(
      await new DynamoScheduleStore(doc, tableName).reserve('client beta', 1, 100, 0, 500),
    ).toBeUndefined();
    expect(await store.reserve('client beta', 1, 100, 0, 1_000)).toBe(1_000);
  });
});

describe('blocks of send times set aside for a chunk of calls', () => {
  it("two instances' announced chunks go out one after the other, not interleaved", async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    // 1,000 / 10 s: a send time every 10 ms, so the test takes a fraction of a second.
    const budget = () =>
      new SharedRateBudget(new DynamoScheduleStore(doc, tableName), { requestsPer10s: 1_000 });
    const [first, second] = [budget(), budget()];
    await first.reserve('client beta', 10);
    await second.reserve('client beta', 10);
    const order: string[] = [];
    // Both instances' calls are waiting at once, the second's queued first.
    await Promise.all([
      ...Array.from({ length: 10 }, () => second.wait('client beta').then(() => order.push('second'))),
      ...Array.from({ length: 10 }, () => first.wait('client beta').then(() => order.push('first'))),
    ]);
    expect(order).toEqual([...Array(10).fill('first'), ...Array(10).fill('second')]);
    // Two reservations in all (one per block): no write per call.
    expect(first.reservations + second.reservations).toBe(2);
  });

  it('a block is at most maxReserveMs of the budget; calls beyond it wait for send times one by one', async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    const reserved: number[] = [];
    const store = new DynamoScheduleStore(doc, tableName);
    const counting: ScheduleStore = {
      reserve: (key, count, spacing, now, latest) => {
        reserved.push(count);
        return store.reserve(key, count, spacing, now, latest);
      },
    };
    const budget = new SharedRateBudget(counting, { requestsPer10s: 1_000, maxReserveMs: 50 });
    await budget.reserve('client beta', 8);
    await Promise.all(Array.from({ length: 8 }, () => budget.wait('client beta')));
    expect(reserved[0]).toBe(5); // 50 ms at 10 ms apart
    expect(reserved.slice(1).reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('SharedRateBudget (one instance, a scripted store)', () => {
  it('hands send times to waiting calls in order and says no to those whose latest start comes first', async () => {
    const clock = 0;
    const asked: number[] = [];
    const store: ScheduleStore = {
      reserve: async (_key, count, spacing, now) => {
        asked.push(count);
        return now + 5_000 * spacing; // the schedule is 5,000 send times deep
      },
    };
    const budget = new SharedRateBudget(store, { requestsPer10s: 100, now: () => clock });
    const early = budget.wait('k', 100); // cannot wait 500 s
    await expect(early).resolves.toBe(false);
    expect(asked).toEqual([1]);
  });

  it('lets calls go when the store fails, and counts it (the gateway still answers 429 with Retry-After)', async () => {
    const errors: unknown[] = [];
    const store: ScheduleStore = {
      reserve: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const budget = new SharedRateBudget(store, { requestsPer10s: 100, onStoreError: (e) => errors.push(e) });
    await expect(Promise.all([budget.wait('k'), budget.wait('k')])).resolves.toEqual([true, true]);
    expect(budget.storeErrors).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBe(budget.storeErrors);
  });
});

describe('instances sharing one credential against the sandbox gateway (100 / 10 s as 20 / 2 s)', () => {
  let sandbox: Sandbox;
  afterEach(() => sandbox.stop());
  const ids = Object.values(DEFAULT_SEED_IDS.identities);

  /** 45 single-identity Search reads spread over three instances' clients, all at once. */
  async function readFromThreeInstances(clients: SailPointClient[]) {
    await Promise.all(
      Array.from({ length: 45 }, (_, i) => searchIdentityAccess(clients[i % 3]!, [ids[i % ids.length]!])),
    );
    return {
      calls: sandbox.requestLog.count({ method: 'POST', path: '/v3/search' }),
      rateLimited: sandbox.requestLog.count({ method: 'POST', path: '/v3/search', status: 429 }),
    };
  }

  /** Three instances' clients, each with `budget` (its own limiter, or a gate on the shared schedule). */
  async function threeInstances(budget: () => Pick<SailPointClientOptions, 'rateLimit' | 'rateGate'>) {
    sandbox = await startSandbox({ rateLimit: { limit: 20, windowMs: 2_000 } });
    return Array.from(
      { length: 3 },
      () => new SailPointClient({ apiUrl: sandbox.url, ...PAT_CLIENT, ...budget() }),
    );
  }

  it('the shared budget keeps three busy instances under the gateway limit: no 429', async () => {
    const { doc, tableName } = await freshTable('rateBudget');
    // 90 / 10 s: a send every 111 ms for all three together.
    const clients = await threeInstances(() => ({
      rateGate: new SharedRateBudget(new DynamoScheduleStore(doc, tableName), { requestsPer10s: 90 }),
    }));
    expect(await readFromThreeInstances(clients)).toEqual({ calls: 45, rateLimited: 0 });
  });

  it('without it, three instances each keeping the same budget on their own are refused by the gateway', async () => {
    const clients = await threeInstances(() => ({ rateLimit: { maxRequests: 90, perMs: 10_000 } }));
    const { rateLimited } = await readFromThreeInstances(clients);
    expect(rateLimited).toBeGreaterThan(0);
  });
});
