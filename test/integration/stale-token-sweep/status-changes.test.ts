/**
 * The sweep when a finding's status changes under it: exemptions added or ending, thresholds or the
 * managed-token setting changed, writes and DynamoDB calls failing midway. Over the wire: the
 * SailPoint client against the sandbox tenant, findings in dynalite.
 */
import type { Notification } from '../../../functions/shared/notifier';
import { DAY_MS, T0, defaultPolicy, exemptions, sweepHarness, type Harness } from './harness';

const iso = (ms: number) => new Date(ms).toISOString();
const revoking = defaultPolicy({ revocation: { enabled: true, graceDays: 14 } });
const throttled = () =>
  Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
  });
const putOf = (ids: readonly string[]) => (op: string, input: Record<string, unknown>) =>
  op === 'PutItemCommand' && ids.includes((input.Item as { sk: string }).sk);
const deletes = (h: Harness) => h.sandbox.requestLog.filter({ method: 'DELETE' }).map((e) => e.path);

/** Makes the harness notifier fail while `down.now` is true. */
function outage(h: Harness) {
  const down = { now: true };
  const publish = h.notifier.publish.bind(h.notifier);
  h.notifier.publish = async (n: Notification) => {
    if (down.now) throw new Error('SNS unavailable');
    return publish(n);
  };
  return down;
}

let h: Harness;
afterEach(async () => h?.stop());

describe('stale-token sweep: revokes only what this run flagged', () => {
  it('does not revoke a token this run exempted, excluded as managed or only warned about, even when recording that fails', async () => {
    h = await sweepHarness();
    h.plant(
      { id: 'exempted', lastUsedAgoMs: 300 * DAY_MS },
      { id: 'managed', lastUsedAgoMs: 300 * DAY_MS, managed: true },
      { id: 'now-warned', lastUsedAgoMs: 100 * DAY_MS },
      { id: 'still-stale', lastUsedAgoMs: 300 * DAY_MS },
    );
    await h.run({ ...revoking, includeManaged: true });
    expect(await h.findings()).toEqual({
      exempted: 'FLAGGED',
      managed: 'FLAGGED',
      'now-warned': 'FLAGGED',
      'still-stale': 'FLAGGED',
    });

    // Past the grace period, the operator exempts one token, excludes managed tokens again and raises
    // the stale threshold; recording each of those three changes fails.
    h.clock.nowMs = T0 + 20 * DAY_MS;
    h.dynamo.failNext(putOf(['exempted', 'managed', 'now-warned']), throttled(), 3);
    const policy = {
      ...revoking,
      staleAfterDays: 200,
      exemptions: exemptions({ tokenId: 'exempted', reason: 'break-glass, reviewed quarterly' }),
    };
    const summary = await h.run(policy);

    expect(summary.status).toBe('failed');
    expect(summary.errors).toHaveLength(3);
    expect(summary.counts).toMatchObject({
      exempt: 1,
      excludedManaged: 1,
      warned: 1,
      flagged: 1,
      revoked: 1,
    });
    expect(deletes(h)).toEqual(['/beta/personal-access-tokens/still-stale']);
    for (const id of ['exempted', 'managed', 'now-warned'])
      expect(h.sandbox.state.personalAccessTokens.has(id)).toBe(true);

    // The next run records what this one could not, and still revokes nothing else.
    h.clock.nowMs += DAY_MS;
    const next = await h.run(policy);
    expect(next.status).toBe('succeeded');
    expect(await h.findings()).toEqual({
      exempted: 'EXEMPT',
      managed: 'RESOLVED',
      'now-warned': 'WARNED',
      'still-stale': 'REVOKED',
    });
    expect(deletes(h)).toHaveLength(1);
  });
});

describe('stale-token sweep: the grace period restarts when a finding returns to FLAGGED', () => {
  it('after an exemption ends: the owner is told a revocation date in the future and it is kept', async () => {
    h = await sweepHarness();
    h.plant({ id: 'tok', lastUsedAgoMs: 100 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + DAY_MS;
    const policy = {
      ...revoking,
      exemptions: exemptions({ tokenId: 'tok', reason: 'migration in progress', expires: '2025-07-15' }),
    };
    await h.run(policy);
    expect(await h.finding('tok')).toMatchObject({ status: 'EXEMPT' });

    const reflaggedAt = Date.parse('2025-07-16T06:00:00.000Z'); // T0 + 31 days
    h.clock.nowMs = reflaggedAt;
    const ended = await h.run(policy);
    expect(ended.counts).toMatchObject({ escalated: 1, notified: 1, revoked: 0, awaitingGrace: 1 });
    expect(deletes(h)).toEqual([]);
    expect(await h.finding('tok')).toMatchObject({ status: 'FLAGGED', firstFlaggedAt: iso(reflaggedAt) });
    const notice = h.notifier.published.at(-1)!;
    expect(notice.kind).toBe('stale-token.flagged');
    expect(notice.subject).toContain('exemption "migration in progress" expired 2025-07-15');
    expect(notice.subject).toContain('it will be revoked from 2025-07-30');
    expect(notice.detail).toMatchObject({ revokeFrom: iso(reflaggedAt + 14 * DAY_MS) });

    h.clock.nowMs = reflaggedAt + 14 * DAY_MS - 1;
    expect((await h.run(policy)).counts).toMatchObject({ revoked: 0, awaitingGrace: 1 });
    h.clock.nowMs = reflaggedAt + 14 * DAY_MS;
    const due = await h.run(policy);
    expect(due.revoked).toEqual([
      expect.objectContaining({ tokenId: 'tok', firstFlaggedAt: iso(reflaggedAt) }),
    ]);
    expect(deletes(h)).toEqual(['/beta/personal-access-tokens/tok']);
    expect(h.notifier.published.at(-1)?.subject).toContain('flagged since 2025-07-16');
  });

  it('after a detour through WARNED when the thresholds changed', async () => {
    h = await sweepHarness();
    h.plant({ id: 'tok', lastUsedAgoMs: 100 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 20 * DAY_MS;
    await h.run({ ...revoking, staleAfterDays: 200 });
    expect(await h.finding('tok')).toMatchObject({ status: 'WARNED' });

    h.clock.nowMs = T0 + 21 * DAY_MS;
    const back = await h.run(revoking);
    expect(back.counts).toMatchObject({ escalated: 1, revoked: 0, awaitingGrace: 1 });
    expect(deletes(h)).toEqual([]);
    expect(await h.finding('tok')).toMatchObject({ status: 'FLAGGED', firstFlaggedAt: iso(h.clock.nowMs) });
    expect(h.notifier.published.map((n) => n.kind)).toEqual([
      'stale-token.flagged',
      'stale-token.warned',
      'stale-token.flagged',
    ]);
    expect(h.notifier.published.at(-1)?.subject).toContain('it will be revoked from 2025-07-20');
  });
});

describe('stale-token sweep: pending notifications and claims follow the status', () => {
  it('an undelivered "flagged" notice is dropped when the token is exempted before it went out', async () => {
    h = await sweepHarness();
    h.plant({ id: 'tok', lastUsedAgoMs: 100 * DAY_MS });
    const down = outage(h);
    const first = await h.run(revoking);
    expect(first.errors).toEqual(['notification stale-token/tok/v1 failed: SNS unavailable']);

    down.now = false;
    h.clock.nowMs = T0 + DAY_MS;
    const exempted = await h.run({
      ...revoking,
      exemptions: exemptions({ tokenId: 'tok', reason: 'break-glass' }),
    });
    expect(exempted.status).toBe('succeeded');
    expect(exempted.counts).toMatchObject({ exempted: 1, notified: 0 });
    expect(h.notifier.published).toEqual([]);
    const finding = await h.finding('tok');
    expect(finding).toMatchObject({ status: 'EXEMPT' });
    expect(finding?.notification).toBeUndefined();
  });

  it('a failed DELETE gives up its claim, so a later deletion by the owner is not reported as a revocation', async () => {
    h = await sweepHarness();
    h.plant({ id: 'tok', lastUsedAgoMs: 100 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 14 * DAY_MS;
    h.sandbox.faults.inject({ method: 'DELETE', status: 403, times: 1 });
    const refused = await h.run(revoking);
    expect(refused.errors).toEqual([expect.stringMatching(/^revoking token tok failed: .*HTTP 403/)]);
    const kept = await h.finding('tok');
    expect(kept).toMatchObject({ status: 'FLAGGED' });
    expect(kept?.actionClaims?.revoke).toBeUndefined();

    const policy = { ...revoking, exemptions: exemptions({ tokenId: 'tok', reason: 'break-glass' }) };
    h.clock.nowMs += DAY_MS;
    await h.run(policy);
    h.clock.nowMs += 5 * DAY_MS;
    h.sandbox.state.personalAccessTokens.delete('tok'); // the owner deletes it
    const published = h.notifier.published.length;
    const gone = await h.run(policy);

    expect(gone.counts).toMatchObject({ revoked: 0, resolved: 1 });
    expect(gone.revoked).toEqual([]);
    expect(await h.finding('tok')).toMatchObject({ status: 'RESOLVED', reason: 'deleted' });
    expect(h.notifier.published.slice(published)).toEqual([]);
  });
});

describe('stale-token sweep: resolution reasons', () => {
  it('turning the warning tier off resolves WARNED findings as below the thresholds, not used again', async () => {
    h = await sweepHarness();
    h.plant({ id: 'idle', lastUsedAgoMs: 80 * DAY_MS });
    await h.run();
    expect(await h.finding('idle')).toMatchObject({ status: 'WARNED' });

    const summary = await h.run(defaultPolicy({ warnAfterDays: undefined }));
    expect(summary.resolved).toEqual([
      expect.objectContaining({ tokenId: 'idle', reason: 'below the thresholds' }),
    ]);
    expect(await h.finding('idle')).toMatchObject({
      status: 'RESOLVED',
      reason: 'below the thresholds',
      facts: { lastUsed: iso(T0 - 80 * DAY_MS) },
    });
  });
});

describe('stale-token sweep: DynamoDB errors after the findings are recorded', () => {
  it('an error taking over one notification fails the run, not the other notifications or revocations', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking); // flagged, told it goes on T0 + 14 days
    // Two tokens warned about while SNS is down: their notices stay pending under that run's claim.
    h.clock.nowMs = T0 + 13 * DAY_MS;
    // Idle 78 days then, 79 the next day: warned both times (stale only after 90).
    h.plant({ id: 'a', lastUsedAgoMs: 65 * DAY_MS }, { id: 'b', lastUsedAgoMs: 65 * DAY_MS });
    const down = outage(h);
    await h.run(revoking);
    down.now = false;

    h.clock.nowMs = T0 + 14 * DAY_MS;
    h.dynamo.failNext(
      (op, input) =>
        op === 'UpdateItemCommand' && String(input.UpdateExpression).includes('notification.claimId'),
      Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }),
    );
    const summary = await h.run(revoking);

    expect(summary.status).toBe('failed');
    expect(summary.errors).toEqual([
      expect.stringMatching(/^notification stale-token\/[ab]\/v1 failed: .*Internal server error/),
    ]);
    // The other warning went out, and the revocation that was due happened.
    expect(summary.counts).toMatchObject({ notified: 2, revoked: 1 });
    expect(h.notifier.published.map((n) => n.kind)).toEqual([
      'stale-token.flagged',
      'stale-token.warned',
      'stale-token.revoked',
    ]);
    expect(deletes(h)).toEqual(['/beta/personal-access-tokens/old']);
  });

  it('findings that cannot be loaded: a failed summary, nothing written, nothing revoked', async () => {
    h = await sweepHarness();
    h.plant({ id: 'a', lastUsedAgoMs: 100 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 14 * DAY_MS;
    h.dynamo.reset();
    h.dynamo.failNext((op) => op === 'QueryCommand', new Error('Internal server error'));
    const summary = await h.run(revoking);
    expect(summary.status).toBe('failed');
    expect(summary.errors).toEqual(['loading the findings failed: Internal server error']);
    expect(h.dynamo.writes()).toBe(0);
    expect(deletes(h)).toEqual([]);
  });

  it('an error claiming one revocation fails the run, not the other revocations', async () => {
    h = await sweepHarness();
    h.plant({ id: 'a', lastUsedAgoMs: 100 * DAY_MS }, { id: 'b', lastUsedAgoMs: 100 * DAY_MS });
    await h.run(revoking);

    h.clock.nowMs = T0 + 14 * DAY_MS;
    h.dynamo.failNext(
      (op, input) => op === 'UpdateItemCommand' && String(input.UpdateExpression).includes('actionClaims'),
      Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }),
    );
    const summary = await h.run(revoking);

    expect(summary.status).toBe('failed');
    expect(summary.errors).toEqual([
      expect.stringMatching(/^revoking token [ab] failed: .*Internal server error/),
    ]);
    expect(summary.counts.revoked).toBe(1);
    expect(deletes(h)).toHaveLength(1);
  });
});
