import { RecordingNotifier, type Notification, type Notifier } from '../../../functions/shared/notifier';
import {
  FindingsStore,
  type FindingChange,
  type NotificationContent,
  type Observation,
} from '../../../functions/shared/findings';
import { freshTable } from '../../support/emulators';
import { countDynamoCalls } from './dynamo-call-counter';

const SOURCE = 'test-audit';
const T0 = new Date('2025-06-01T00:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

const notifyOnOpenOrEscalate = (change: FindingChange): NotificationContent | undefined =>
  (change.after.status === 'FLAGGED' || change.after.status === 'WARNED') &&
  change.before?.status !== change.after.status
    ? {
        kind: `test.${change.after.status.toLowerCase()}`,
        subject: `${change.after.subjectId} ${change.after.status}`,
        detail: {},
      }
    : undefined;

const flagged = (subjectId: string, facts: Record<string, unknown> = {}): Observation => ({
  subjectId,
  status: 'FLAGGED',
  reason: 'stale',
  owner: { id: 'owner-1' },
  facts,
});

async function setup() {
  const table = await freshTable('findings');
  const counter = countDynamoCalls(table.client);
  const newStore = () => new FindingsStore({ doc: table.doc, tableName: table.tableName });
  return { ...table, counter, store: newStore(), newStore };
}

describe('findings store over dynalite', () => {
  it('writes only what changed: a second identical reconcile writes nothing', async () => {
    const { store, counter } = await setup();
    const observed = [flagged('a', { lastUsed: '2025-01-01' }), flagged('b')];

    const first = await store.reconcile(SOURCE, observed, { now: T0, runId: 'run-1' });
    expect(first.changes.map((c) => [c.kind, c.after.subjectId])).toEqual([
      ['opened', 'a'],
      ['opened', 'b'],
    ]);
    expect(counter.writes()).toBe(2);

    counter.reset();
    const second = await store.reconcile(SOURCE, observed, { now: minutes(60), runId: 'run-2' });
    expect(second.changes).toEqual([]);
    expect(counter.writes()).toBe(0);
    expect(counter.calls).toEqual({ QueryCommand: 1 });

    counter.reset();
    const third = await store.reconcile(SOURCE, [flagged('a', { lastUsed: '2025-02-01' }), flagged('b')], {
      now: minutes(120),
      runId: 'run-3',
    });
    expect(third.changes.map((c) => c.kind)).toEqual(['updated']);
    expect(counter.writes()).toBe(1);
    expect(third.findings.get('a')).toMatchObject({
      lastSeenAt: minutes(120).toISOString(),
      firstSeenAt: T0.toISOString(),
    });
  });

  it('closes unobserved open findings only when asked to', async () => {
    const { store } = await setup();
    await store.reconcile(SOURCE, [flagged('a'), flagged('b')], { now: T0, runId: 'r1' });

    const kept = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(1), runId: 'r2' });
    expect(kept.changes).toEqual([]);

    const closed = await store.reconcile(SOURCE, [flagged('a')], {
      now: minutes(2),
      runId: 'r3',
      unobserved: { status: 'RESOLVED', reason: 'gone' },
    });
    expect(closed.changes.map((c) => [c.kind, c.after.subjectId, c.after.status])).toEqual([
      ['closed', 'b', 'RESOLVED'],
    ]);
    expect((await store.get(SOURCE, 'b'))?.closedAt).toBe(minutes(2).toISOString());
  });

  it('publishes each change once and records it; the next run publishes nothing', async () => {
    const { store } = await setup();
    const notifier = new RecordingNotifier();
    const result = await store.reconcile(SOURCE, [flagged('a'), flagged('b')], {
      now: T0,
      runId: 'run-1',
      notificationFor: notifyOnOpenOrEscalate,
    });
    const delivery = await store.deliverNotifications(result.undelivered, notifier, {
      now: T0,
      runId: 'run-1',
    });
    expect(delivery.sent.map((s) => s.key)).toEqual(['test-audit/a/v1', 'test-audit/b/v1']);
    expect((await store.get(SOURCE, 'a'))?.notification).toMatchObject({
      state: 'SENT',
      sentAt: T0.toISOString(),
    });

    const again = await store.reconcile(SOURCE, [flagged('a'), flagged('b')], {
      now: minutes(60),
      runId: 'run-2',
      notificationFor: notifyOnOpenOrEscalate,
    });
    expect(again.undelivered).toEqual([]);
    expect(notifier.published).toHaveLength(2);
  });

  it('two concurrent runs over the same observations write each change once and notify once', async () => {
    const { newStore } = await setup();
    const notifier = new RecordingNotifier();
    const observed = Array.from({ length: 20 }, (_, i) => flagged(`s${i}`));

    const runs = await Promise.all(
      ['run-a', 'run-b'].map(async (runId) => {
        const store = newStore();
        // Both runs loaded the (empty) table before either wrote: every write races.
        const result = await store.reconcile(SOURCE, observed, {
          now: T0,
          runId,
          existing: [],
          notificationFor: notifyOnOpenOrEscalate,
        });
        await store.deliverNotifications(result.undelivered, notifier, { now: T0, runId });
        return { result, stats: store.stats };
      }),
    );

    const changesPerRun = runs.map((r) => r.result.changes.length);
    expect(changesPerRun[0]! + changesPerRun[1]!).toBe(20);
    expect(runs[0]!.stats.conflicts + runs[1]!.stats.conflicts).toBeGreaterThanOrEqual(20);
    expect(notifier.published).toHaveLength(20);
    expect(new Set(notifier.published.map((n) => n.key)).size).toBe(20);
  });

  it('a run that crashed after claiming: its notification waits out the lease, then another run sends it', async () => {
    const { newStore } = await setup();
    const crashed = newStore();
    await crashed.reconcile(SOURCE, [flagged('a')], {
      now: T0,
      runId: 'crashed',
      notificationFor: notifyOnOpenOrEscalate,
    });
    // …and never delivered.

    const notifier = new RecordingNotifier();
    const store = newStore();
    const soon = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(5), runId: 'r2' });
    expect(soon.undelivered).toEqual([]);

    const later = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(16), runId: 'r3' });
    expect(later.undelivered.map((f) => f.subjectId)).toEqual(['a']);
    const delivery = await store.deliverNotifications(later.undelivered, notifier, {
      now: minutes(16),
      runId: 'r3',
    });
    expect(delivery.sent.map((s) => s.key)).toEqual(['test-audit/a/v1']);
    expect(notifier.published).toHaveLength(1);
    expect((await store.get(SOURCE, 'a'))?.notification).toMatchObject({ state: 'SENT', claimId: 'r3' });
  });

  it('a crash between publishing and recording re-publishes once, with the same key', async () => {
    const { store, counter } = await setup();
    const notifier = new RecordingNotifier();
    const first = await store.reconcile(SOURCE, [flagged('a')], {
      now: T0,
      runId: 'r1',
      notificationFor: notifyOnOpenOrEscalate,
    });

    counter.failNext((op) => op === 'UpdateItemCommand', new Error('process died'));
    const crashed = await store.deliverNotifications(first.undelivered, notifier, { now: T0, runId: 'r1' });
    expect(crashed.sent).toHaveLength(1);
    expect(crashed.failed[0]?.error).toMatch(/published, but recording that failed/);

    const next = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(20), runId: 'r2' });
    await store.deliverNotifications(next.undelivered, notifier, { now: minutes(20), runId: 'r2' });
    expect(notifier.published.map((n) => n.key)).toEqual(['test-audit/a/v1', 'test-audit/a/v1']);

    const third = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(40), runId: 'r3' });
    expect(third.undelivered).toEqual([]);
  });

  it('a failed publish stays pending and is retried after the lease', async () => {
    const { store } = await setup();
    const failing: Notifier = {
      publish: () => Promise.reject(new Error('SNS is down')),
    };
    const first = await store.reconcile(SOURCE, [flagged('a')], {
      now: T0,
      runId: 'r1',
      notificationFor: notifyOnOpenOrEscalate,
    });
    const delivery = await store.deliverNotifications(first.undelivered, failing, { now: T0, runId: 'r1' });
    expect(delivery).toMatchObject({ sent: [], failed: [{ subjectId: 'a', error: 'SNS is down' }] });

    const published: Notification[] = [];
    const next = await store.reconcile(SOURCE, [flagged('a')], { now: minutes(30), runId: 'r2' });
    await store.deliverNotifications(
      next.undelivered,
      { publish: async (n) => void published.push(n) },
      {
        now: minutes(30),
        runId: 'r2',
      },
    );
    expect(published.map((n) => n.key)).toEqual(['test-audit/a/v1']);
  });

  it('a newer notifiable change replaces a pending notification; closing drops it', async () => {
    const { store } = await setup();
    const warned: Observation = { subjectId: 'a', status: 'WARNED', reason: 'idle' };
    await store.reconcile(SOURCE, [warned], {
      now: T0,
      runId: 'r1',
      notificationFor: notifyOnOpenOrEscalate,
    });
    const escalated = await store.reconcile(SOURCE, [flagged('a')], {
      now: minutes(1),
      runId: 'r2',
      notificationFor: notifyOnOpenOrEscalate,
    });
    expect(escalated.findings.get('a')?.notification).toMatchObject({
      key: 'test-audit/a/v2',
      kind: 'test.flagged',
    });

    const closed = await store.reconcile(SOURCE, [{ subjectId: 'a', status: 'RESOLVED', reason: 'used' }], {
      now: minutes(2),
      runId: 'r3',
    });
    expect(closed.findings.get('a')?.notification).toBeUndefined();
    expect(closed.undelivered).toEqual([]);
  });

  it('claimAction lets exactly one of two concurrent runs act', async () => {
    const { store, newStore } = await setup();
    const result = await store.reconcile(SOURCE, [flagged('a')], { now: T0, runId: 'r1' });
    const finding = result.findings.get('a')!;

    const claims = await Promise.all([
      newStore().claimAction(finding, 'revoke', T0),
      newStore().claimAction(finding, 'revoke', T0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await store.get(SOURCE, 'a'))?.actionClaims).toEqual({ revoke: T0.toISOString() });
    expect(store.claimIsLive(T0.toISOString(), minutes(14))).toBe(true);
    expect(store.claimIsLive(T0.toISOString(), minutes(15))).toBe(false);
  });

  it('releaseAction gives a claim up, so another run can act; a changed finding is left alone', async () => {
    const { store } = await setup();
    const result = await store.reconcile(SOURCE, [flagged('a')], { now: T0, runId: 'r1' });
    const claimed = (await store.claimAction(result.findings.get('a')!, 'revoke', T0))!;

    const released = await store.releaseAction(claimed, 'revoke');
    expect(released?.actionClaims?.revoke).toBeUndefined();
    expect((await store.get(SOURCE, 'a'))?.actionClaims?.revoke).toBeUndefined();
    expect(await store.claimAction(released!, 'revoke', minutes(1))).toBeDefined();
    expect(await store.releaseAction(claimed, 'revoke')).toBeUndefined(); // stale version
    expect((await store.get(SOURCE, 'a'))?.actionClaims).toEqual({ revoke: minutes(1).toISOString() });
  });

  it('an error taking over one notification is reported and the others are still delivered', async () => {
    const { store, counter } = await setup();
    const first = await store.reconcile(SOURCE, [flagged('a'), flagged('b')], {
      now: T0,
      runId: 'r1',
      notificationFor: notifyOnOpenOrEscalate,
    });
    expect(first.undelivered).toHaveLength(2); // r1 crashes before delivering

    counter.failNext(
      (op, input) =>
        op === 'UpdateItemCommand' && String(input.UpdateExpression).includes('notification.claimId'),
      Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }),
    );
    const notifier = new RecordingNotifier();
    const next = await store.reconcile(SOURCE, [flagged('a'), flagged('b')], {
      now: minutes(30),
      runId: 'r2',
    });
    const delivery = await store.deliverNotifications(next.undelivered, notifier, {
      now: minutes(30),
      runId: 'r2',
    });
    expect(delivery.failed).toEqual([
      { key: 'test-audit/a/v1', subjectId: 'a', error: expect.stringContaining('Internal server error') },
    ]);
    expect(delivery.sent.map((s) => s.subjectId)).toEqual(['b']);
    expect(notifier.published.map((n) => n.key)).toEqual(['test-audit/b/v1']);
    expect((await store.get(SOURCE, 'a'))?.notification).toMatchObject({ state: 'PENDING', claimId: 'r1' });
  });

  it('refuses the same subject twice in one reconcile', async () => {
    const { store } = await setup();
    await expect(
      store.reconcile(SOURCE, [flagged('a'), flagged('a')], { now: T0, runId: 'r' }),
    ).rejects.toThrow('a observed twice');
  });

  it('reports a write that failed and keeps the others', async () => {
    const { store, counter } = await setup();
    counter.failNext(
      (op, input) => op === 'PutItemCommand' && (input.Item as { sk: string }).sk === 'b',
      new Error('throttled'),
    );
    const result = await store.reconcile(SOURCE, [flagged('a'), flagged('b'), flagged('c')], {
      now: T0,
      runId: 'r',
    });
    expect(result.failed).toEqual([{ subjectId: 'b', error: 'throttled' }]);
    expect((await store.list(SOURCE)).map((f) => f.subjectId).sort()).toEqual(['a', 'c']);
  });

  it('publishes in PublishBatch calls of 10, records each as sent, and stops between waves when asked', async () => {
    const { store } = await setup();
    const ids = Array.from({ length: 45 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    const first = await store.reconcile(
      SOURCE,
      ids.map((id) => flagged(id)),
      {
        now: T0,
        runId: 'r1',
        notificationFor: notifyOnOpenOrEscalate,
      },
    );
    const notifier = new RecordingNotifier();
    // Waves of 2 batches x 10; the run is told to stop after the first wave.
    let waves = 0;
    const cut = await store.deliverNotifications(first.undelivered, notifier, {
      now: T0,
      runId: 'r1',
      concurrency: 2,
      shouldStop: () => waves++ >= 1,
    });
    expect(notifier.batches).toBe(2);
    expect(cut.sent).toHaveLength(20);
    expect(cut.leftForNextRun).toBe(25);
    expect(cut.failed).toEqual([]);
    // The 25 left over were given back: the next run (a minute later, well within the lease) takes them.
    const next = await store.reconcile(
      SOURCE,
      ids.map((id) => flagged(id)),
      { now: minutes(1), runId: 'r2' },
    );
    expect(next.changes).toEqual([]);
    expect(next.undelivered).toHaveLength(25);
    const resumed = await store.deliverNotifications(next.undelivered, notifier, {
      now: minutes(1),
      runId: 'r2',
    });
    expect(resumed).toMatchObject({ leftToOtherRun: 0, leftForNextRun: 0, failed: [] });
    expect(resumed.sent).toHaveLength(25);
    // Each change published exactly once over the two runs.
    expect(notifier.published.map((n) => n.key).sort()).toEqual(ids.map((id) => `test-audit/${id}/v1`));
    expect((await store.list(SOURCE)).every((f) => f.notification?.state === 'SENT')).toBe(true);
  });
});
