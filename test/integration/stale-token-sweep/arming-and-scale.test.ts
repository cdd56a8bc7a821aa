/**
 * Issue #11 over the wire (sandbox tenant, dynalite, fauxqs SNS): revocation switched on after
 * dry-run days notifies a date before anything is deleted; notices go out with PublishBatch; a run
 * cut short near its timeout gives back what it did not finish, and the next invocation resumes.
 */
import { SnsNotifier } from '../../../functions/shared/notifier';
import { runStaleTokenSweep } from '../../../functions/stale-token-sweep/sweep';
import { freshTopic } from '../../support/emulators';
import { DAY_MS, T0, defaultPolicy, sweepHarness, type Harness } from './harness';

const iso = (ms: number) => new Date(ms).toISOString();
const dryRun = defaultPolicy();
const revoking = defaultPolicy({ revocation: { enabled: true, graceDays: 14 } });
const deletes = (h: Harness) => h.sandbox.requestLog.count({ method: 'DELETE' });

let h: Harness;
afterEach(async () => h?.stop());

describe('arming revocation after dry-run days', () => {
  it('a token flagged in dry-run mode is told its revocation date first; the grace runs from that notice', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', name: 'Old export', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(dryRun);
    expect(h.notifier.published).toHaveLength(1);
    expect(h.notifier.published[0]!.subject).not.toContain('revoked');

    // 30 days of dry runs later, revocation is switched on.
    h.clock.nowMs = T0 + 30 * DAY_MS;
    const armed = await h.run(revoking);
    expect(deletes(h)).toBe(0);
    expect(armed.counts).toMatchObject({ revoked: 0, notified: 1, awaitingGrace: 1 });
    const notice = h.notifier.published[1]!;
    const revokeFrom = iso(T0 + 44 * DAY_MS);
    expect(notice).toMatchObject({
      kind: 'stale-token.flagged',
      detail: expect.objectContaining({ tokenId: 'old', revokeFrom }),
    });
    expect(notice.subject).toContain(`it will be revoked from ${revokeFrom.slice(0, 10)}`);
    expect(await h.finding('old')).toMatchObject({
      status: 'FLAGGED',
      firstFlaggedAt: iso(T0),
      facts: expect.objectContaining({ revokeFrom }),
      notification: { state: 'SENT', detail: expect.objectContaining({ revokeFrom }) },
    });

    // A day before the date: nothing. On the date: revoked, and the deletion notified.
    h.clock.nowMs = T0 + 44 * DAY_MS - 1;
    expect((await h.run(revoking)).counts).toMatchObject({ revoked: 0, awaitingGrace: 1, findingWrites: 0 });
    expect(deletes(h)).toBe(0);
    h.clock.nowMs = T0 + 44 * DAY_MS;
    expect((await h.run(revoking)).counts).toMatchObject({ revoked: 1 });
    expect(h.notifier.published.map((n) => n.kind)).toEqual([
      'stale-token.flagged',
      'stale-token.flagged',
      'stale-token.revoked',
    ]);
  });

  it('no revocation while the dated notice is undelivered', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(dryRun);
    h.clock.nowMs = T0 + 30 * DAY_MS;
    const publish = h.notifier.publish.bind(h.notifier);
    h.notifier.publish = async () => {
      throw new Error('SNS unavailable');
    };
    const armed = await h.run(revoking);
    expect(armed.status).toBe('failed');
    // Long past the first date, the owner has still not heard: nothing is deleted.
    h.clock.nowMs = T0 + 60 * DAY_MS;
    await h.run(revoking);
    expect(deletes(h)).toBe(0);
    // The notice that finally goes out carries a date a full grace period after it.
    h.notifier.publish = publish;
    h.clock.nowMs = T0 + 61 * DAY_MS;
    await h.run(revoking);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['stale-token.flagged', 'stale-token.flagged']);
    expect(h.notifier.published[1]!.detail).toMatchObject({ revokeFrom: iso(T0 + 75 * DAY_MS) });
    expect(deletes(h)).toBe(0);
    h.clock.nowMs = T0 + 75 * DAY_MS - 1;
    await h.run(revoking);
    expect(deletes(h)).toBe(0);
    h.clock.nowMs = T0 + 75 * DAY_MS;
    await h.run(revoking);
    expect(deletes(h)).toBe(1);
  });

  it('a token flagged while revocation is on keeps the date of its first notice; no re-notice on later runs', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking);
    expect(h.notifier.published[0]!.detail).toMatchObject({ revokeFrom: iso(T0 + 14 * DAY_MS) });
    // Switched off and on again: the date already announced stands, nothing is re-sent or rewritten.
    h.clock.nowMs = T0 + 5 * DAY_MS;
    expect((await h.run(dryRun)).counts).toMatchObject({ findingWrites: 0, notified: 0 });
    h.clock.nowMs = T0 + 6 * DAY_MS;
    expect((await h.run(revoking)).counts).toMatchObject({ findingWrites: 0, notified: 0 });
    h.clock.nowMs = T0 + 14 * DAY_MS;
    expect((await h.run(revoking)).counts).toMatchObject({ revoked: 1 });
  });
});

describe('notices at scale', () => {
  it('go out in SNS PublishBatch calls of 10, each delivered once', async () => {
    h = await sweepHarness();
    const topic = await freshTopic();
    h.plant(...Array.from({ length: 25 }, (_, i) => ({ id: `tok-${i}`, lastUsedAgoMs: 200 * DAY_MS })));
    const summary = await runStaleTokenSweep({
      tokens: h.tokens,
      findings: h.store,
      notifier: new SnsNotifier(topic.sns, topic.topicArn),
      policy: dryRun,
      clock: () => new Date(h.clock.nowMs),
    });
    expect(summary.counts).toMatchObject({ newFindings: 25, notified: 25 });
    expect(topic.commands).toEqual(['PublishBatchCommand', 'PublishBatchCommand', 'PublishBatchCommand']);
    const delivered = await topic.delivered();
    expect(new Set(delivered.map((m) => m.key)).size).toBe(25);
    expect(delivered).toHaveLength(25);
  });

  it('a run cut short near its timeout gives back the rest; the next invocation resumes, nothing twice', async () => {
    h = await sweepHarness();
    h.plant(...Array.from({ length: 200 }, (_, i) => ({ id: `tok-${i}`, lastUsedAgoMs: 200 * DAY_MS })));
    // The invocation has plenty of time until the first notices went out, then 10 s (under the reserve).
    const remaining = () => (h.notifier.published.length > 0 ? 10_000 : 300_000);
    const cut = await runStaleTokenSweep({
      tokens: h.tokens,
      findings: h.store,
      notifier: h.notifier,
      policy: revoking,
      clock: () => new Date(h.clock.nowMs),
      remainingTimeMs: remaining,
    });
    expect(cut.status).toBe('failed');
    expect(cut.errors).toEqual([
      expect.stringMatching(/stopped .* before the invocation's timeout.*next run/),
    ]);
    expect(cut.counts.notified).toBeGreaterThan(0);
    expect(cut.counts.notified).toBeLessThan(200);
    expect(cut.counts.leftForNextRun).toBe(200 - cut.counts.notified);

    // The next invocation, a minute later (within the 15-minute claim lease of the first).
    h.clock.nowMs += 60_000;
    const resumed = await h.run(revoking);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.counts).toMatchObject({
      notified: 200 - cut.counts.notified,
      newFindings: 0,
      leftForNextRun: 0,
    });
    const keys = h.notifier.published.map((n) => n.key);
    expect(keys).toHaveLength(200);
    expect(new Set(keys).size).toBe(200);
    expect((await h.store.list('stale-token')).every((f) => f.notification?.state === 'SENT')).toBe(true);
  });
});
