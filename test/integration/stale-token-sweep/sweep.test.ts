/**
 * The stale-token sweep over the wire: the SailPoint client against the sandbox tenant, findings in
 * dynalite. Each test plants tokens with exact timestamps and drives a controllable clock.
 */
import { FINDINGS_SOURCE } from '../../../functions/stale-token-sweep/sweep';
import type { TokenDirectory } from '../../../functions/stale-token-sweep/token-directory';
import { DAY_MS, OTHER_OWNER, T0, defaultPolicy, exemptions, sweepHarness, type Harness } from './harness';

const HOUR_MS = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let h: Harness;
afterEach(async () => h?.stop());

describe('stale-token sweep: thresholds and fetching', () => {
  it('flags and warns exactly at the one-day-tolerant boundaries, with two filtered calls', async () => {
    h = await sweepHarness();
    h.plant(
      { id: 'stale-91d', lastUsedAgoMs: 91 * DAY_MS },
      { id: 'warn-90d23h', lastUsedAgoMs: 91 * DAY_MS - 1 },
      { id: 'warn-90d', lastUsedAgoMs: 90 * DAY_MS },
      { id: 'warn-76d', lastUsedAgoMs: 76 * DAY_MS },
      { id: 'ok-75d23h', lastUsedAgoMs: 76 * DAY_MS - 1 },
      { id: 'ok-1d', lastUsedAgoMs: DAY_MS },
      { id: 'never-31d', lastUsedAgoMs: null, createdAgoMs: 31 * DAY_MS },
      { id: 'never-30d23h', lastUsedAgoMs: null, createdAgoMs: 31 * DAY_MS - 1 },
    );

    const summary = await h.run();

    expect(summary.status).toBe('succeeded');
    expect(await h.findings()).toEqual({
      'stale-91d': 'FLAGGED',
      'warn-90d23h': 'WARNED',
      'warn-90d': 'WARNED',
      'warn-76d': 'WARNED',
      'never-31d': 'FLAGGED',
    });
    expect(await h.finding('never-31d')).toMatchObject({ reason: 'never-used', facts: { lastUsed: null } });
    expect(await h.finding('stale-91d')).toMatchObject({
      reason: 'stale',
      owner: { id: '2c9180aa000000000000000000000004', name: 'Owner Four' },
      firstFlaggedAt: iso(T0),
      lastSeenAt: iso(T0),
      facts: { lastUsed: iso(T0 - 91 * DAY_MS), tokenName: 'token stale-91d' },
    });
    expect(summary.counts).toMatchObject({
      tokensFetched: 6,
      warned: 3,
      flagged: 2,
      newFindings: 5,
      notified: 5,
    });

    // The API's own filters, once each; never an unfiltered download.
    expect(h.listCalls().map((c) => c.query)).toEqual([
      { filters: `lastUsed le ${iso(T0 - 76 * DAY_MS)}` },
      { filters: 'lastUsed isnull' },
    ]);
  });

  it('escalates a warning to a flag when the token crosses the stale threshold, notifying again', async () => {
    h = await sweepHarness();
    h.plant({ id: 'ageing', lastUsedAgoMs: 90 * DAY_MS });
    await h.run();
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['stale-token.warned']);

    h.clock.nowMs += DAY_MS - 1;
    const sameDay = await h.run();
    expect(sameDay.counts).toMatchObject({ escalated: 0, findingWrites: 0 });

    h.clock.nowMs += 1;
    const summary = await h.run();
    expect(summary.counts).toMatchObject({ escalated: 1, notified: 1 });
    expect(await h.finding('ageing')).toMatchObject({ status: 'FLAGGED', firstFlaggedAt: iso(T0 + DAY_MS) });
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['stale-token.warned', 'stale-token.flagged']);
  });
});

describe('stale-token sweep: managed tokens and exemptions', () => {
  it('leaves managed tokens out unless configured', async () => {
    h = await sweepHarness();
    h.plant({ id: 'managed', lastUsedAgoMs: 200 * DAY_MS, managed: true });

    const excluded = await h.run();
    expect(excluded.counts).toMatchObject({ excludedManaged: 1, flagged: 0, findingWrites: 0 });
    expect(await h.findings()).toEqual({});

    await h.run(defaultPolicy({ includeManaged: true }));
    expect(await h.findings()).toEqual({ managed: 'FLAGGED' });

    // Turned off again: the finding is closed, not left dangling.
    await h.run();
    expect(await h.finding('managed')).toMatchObject({
      status: 'RESOLVED',
      reason: 'managed tokens are excluded',
    });
  });

  it('records exempt tokens as EXEMPT with the reason, notifies nobody, and flags them when the exemption expires', async () => {
    h = await sweepHarness();
    h.plant(
      { id: 'by-token', lastUsedAgoMs: 200 * DAY_MS },
      { id: 'by-owner', lastUsedAgoMs: 200 * DAY_MS, owner: OTHER_OWNER },
      { id: 'by-name', name: 'CI runner 7', lastUsedAgoMs: null, createdAgoMs: 100 * DAY_MS },
    );
    const policy = defaultPolicy({
      exemptions: exemptions(
        { tokenId: 'by-token', reason: 'break-glass, reviewed quarterly', expires: '2025-06-20' },
        { ownerId: OTHER_OWNER.id, reason: 'service account' },
        { namePattern: 'ci runner *', reason: 'pipelines' },
      ),
    });

    const summary = await h.run(policy);
    expect(summary.counts).toMatchObject({ exempt: 3, exempted: 3, newFindings: 0, notified: 0 });
    expect(await h.finding('by-token')).toMatchObject({
      status: 'EXEMPT',
      reason: 'break-glass, reviewed quarterly',
      facts: { verdict: 'stale', exemption: { kind: 'tokenId', value: 'by-token', expires: '2025-06-20' } },
    });
    expect(await h.finding('by-name')).toMatchObject({ status: 'EXEMPT', facts: { verdict: 'never-used' } });

    // The date-only expiry protects through 2025-06-20 UTC; the next morning it no longer does.
    h.clock.nowMs = Date.parse('2025-06-20T23:00:00Z');
    expect((await h.run(policy)).counts.findingWrites).toBe(0);
    h.clock.nowMs = Date.parse('2025-06-21T00:00:00Z');
    const expired = await h.run(policy);
    expect(expired.counts).toMatchObject({ escalated: 1, notified: 1 });
    expect(await h.finding('by-token')).toMatchObject({ status: 'FLAGGED', reason: 'stale' });
    expect(h.notifier.published.map((n) => [n.kind, n.detail.tokenId])).toEqual([
      ['stale-token.flagged', 'by-token'],
    ]);
    expect(h.notifier.published[0]?.subject).toBe(
      'Personal access token "token by-token" (Owner Four) flagged: not used for more than 90 days (last used 2024-11-27); ' +
        'exemption "break-glass, reviewed quarterly" expired 2025-06-20',
    );
  });
});

describe('stale-token sweep: resolution', () => {
  it('resolves a finding when the token is used again, with one owner lookup', async () => {
    h = await sweepHarness();
    h.plant(
      { id: 'comes-back', lastUsedAgoMs: 120 * DAY_MS },
      { id: 'still-stale', lastUsedAgoMs: 120 * DAY_MS },
    );
    await h.run();

    h.clock.nowMs += HOUR_MS;
    h.sandbox.state.personalAccessTokens.get('comes-back')!.lastUsed = iso(h.clock.nowMs);
    h.sandbox.requestLog.clear();
    const summary = await h.run();

    expect(summary.counts).toMatchObject({ resolved: 1, findingWrites: 1 });
    expect(summary.resolved).toEqual([
      expect.objectContaining({ tokenId: 'comes-back', reason: 'used again' }),
    ]);
    expect(await h.finding('comes-back')).toMatchObject({
      status: 'RESOLVED',
      closedAt: iso(h.clock.nowMs),
      facts: { lastUsed: iso(h.clock.nowMs), tokenName: 'token comes-back' },
    });
    expect(await h.finding('still-stale')).toMatchObject({ status: 'FLAGGED' });
    expect(h.listCalls().map((c) => c.query['owner-id'] ?? c.query.filters)).toEqual([
      expect.stringMatching(/^lastUsed le /),
      'lastUsed isnull',
      '2c9180aa000000000000000000000004',
    ]);
  });

  it('resolves a finding when the token is deleted, and reopens if a stale token of that id shows up again', async () => {
    h = await sweepHarness();
    h.plant({ id: 'doomed', lastUsedAgoMs: null, createdAgoMs: 60 * DAY_MS });
    await h.run();
    h.sandbox.state.personalAccessTokens.delete('doomed');

    const summary = await h.run();
    expect(summary.counts.resolved).toBe(1);
    expect(await h.finding('doomed')).toMatchObject({ status: 'RESOLVED', reason: 'deleted', episode: 1 });

    h.plant({ id: 'doomed', lastUsedAgoMs: null, createdAgoMs: 60 * DAY_MS });
    await h.run();
    expect(await h.finding('doomed')).toMatchObject({ status: 'FLAGGED', episode: 2 });
    expect(h.notifier.published.map((n) => n.key)).toEqual([
      'stale-token/doomed/v1',
      'stale-token/doomed/v4', // v2 resolved, v3 recorded as sent
    ]);
  });
});

describe('stale-token sweep: writes and notifications across runs', () => {
  it('a second run over the unchanged seeded tenant writes nothing and notifies nobody', async () => {
    h = await sweepHarness({ keepSeedTokens: true });
    const first = await h.run();
    expect(first.status).toBe('succeeded');
    expect(first.counts.newFindings).toBeGreaterThan(10);
    expect(first.counts.notified).toBe(first.counts.warned + first.counts.flagged);
    expect(h.dynamo.writes()).toBe(first.counts.findingWrites);

    h.dynamo.reset();
    h.clock.nowMs += 5 * 60_000;
    const second = await h.run();
    expect(second.counts).toMatchObject({ newFindings: 0, notified: 0, resolved: 0, findingWrites: 0 });
    expect(h.dynamo.writes()).toBe(0);
    expect(h.dynamo.calls).toEqual({ QueryCommand: 1 });
    expect(h.notifier.published).toHaveLength(first.counts.notified);
  });

  it('two concurrent sweeps record each finding once and notify once', async () => {
    h = await sweepHarness({ keepSeedTokens: true });
    const [a, b] = await Promise.all([
      h.run(defaultPolicy(), { store: h.newStore(), runId: 'run-a' }),
      h.run(defaultPolicy(), { store: h.newStore(), runId: 'run-b' }),
    ]);
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    const open = (await h.store.list(FINDINGS_SOURCE)).filter((f) => f.status !== 'EXEMPT');
    expect(a.counts.newFindings + b.counts.newFindings).toBe(open.length);
    expect(h.notifier.published).toHaveLength(open.length);
    expect(new Set(h.notifier.published.map((n) => n.key)).size).toBe(open.length);
  });
});

describe('stale-token sweep: revocation', () => {
  const revoking = defaultPolicy({ revocation: { enabled: true, graceDays: 14 } });

  it('revokes only after the grace period since first flagged; the delete is notified once', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking);

    h.clock.nowMs = T0 + 14 * DAY_MS - 1;
    const early = await h.run(revoking);
    expect(early.counts).toMatchObject({ revoked: 0, awaitingGrace: 1, findingWrites: 0 });
    expect(h.sandbox.requestLog.count({ method: 'DELETE' })).toBe(0);

    h.clock.nowMs = T0 + 14 * DAY_MS;
    const due = await h.run(revoking);
    expect(due.counts).toMatchObject({ revoked: 1, notified: 1 });
    expect(due.revoked).toEqual([expect.objectContaining({ tokenId: 'old', firstFlaggedAt: iso(T0) })]);
    expect(h.sandbox.requestLog.filter({ method: 'DELETE' }).map((e) => [e.path, e.status])).toEqual([
      ['/beta/personal-access-tokens/old', 204],
    ]);
    expect(h.sandbox.state.personalAccessTokens.has('old')).toBe(false);
    expect(await h.finding('old')).toMatchObject({
      status: 'REVOKED',
      actionClaims: { revoke: iso(T0 + 14 * DAY_MS) },
    });
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['stale-token.flagged', 'stale-token.revoked']);
    expect(h.notifier.published[0]?.subject).toContain('it will be revoked from 2025-06-29');

    const after = await h.run(revoking);
    expect(after.counts).toMatchObject({ revoked: 0, findingWrites: 0, notified: 0 });
  });

  it('a dry run (the default) reports what it would revoke and deletes and writes nothing', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', name: 'Old audit export', lastUsedAgoMs: 200 * DAY_MS });
    await h.run();

    h.clock.nowMs = T0 + 30 * DAY_MS;
    h.dynamo.reset();
    const dry = await h.run();
    expect(dry.mode).toBe('dry-run');
    expect(dry.wouldRevoke).toEqual([
      expect.objectContaining({ tokenId: 'old', name: 'Old audit export', firstFlaggedAt: iso(T0) }),
    ]);
    expect(dry.counts).toMatchObject({ wouldRevoke: 1, revoked: 0 });
    expect(h.dynamo.writes()).toBe(0);
    expect(h.sandbox.requestLog.count({ method: 'DELETE' })).toBe(0);
    expect(h.sandbox.state.personalAccessTokens.has('old')).toBe(true);
  });

  it('two concurrent revoking sweeps delete the token once and notify the revocation once', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 15 * DAY_MS;

    const runs = await Promise.all([
      h.run(revoking, { store: h.newStore(), runId: 'run-a' }),
      h.run(revoking, { store: h.newStore(), runId: 'run-b' }),
    ]);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs[0]!.counts.revoked + runs[1]!.counts.revoked).toBe(1);
    expect(h.sandbox.requestLog.count({ method: 'DELETE' })).toBe(1);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['stale-token.flagged', 'stale-token.revoked']);
  });

  it('a crash between deleting and recording: the next run confirms the revocation from the claim', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 15 * DAY_MS;
    h.dynamo.failNext(
      (op, input) => op === 'PutItemCommand' && (input.Item as { status?: string }).status === 'REVOKED',
      new Error('process died'),
    );
    const crashed = await h.run(revoking);
    expect(crashed.status).toBe('failed');
    expect(h.sandbox.state.personalAccessTokens.has('old')).toBe(false);
    expect(await h.finding('old')).toMatchObject({
      status: 'FLAGGED',
      actionClaims: { revoke: iso(h.clock.nowMs) },
    });

    h.clock.nowMs += DAY_MS;
    const next = await h.run(revoking);
    expect(next.status).toBe('succeeded');
    expect(next.counts.revoked).toBe(1);
    expect(next.revoked).toEqual([expect.objectContaining({ tokenId: 'old', status: 'REVOKED' })]);
    expect(await h.finding('old')).toMatchObject({
      status: 'REVOKED',
      facts: { revocation: 'confirmed-next-run' },
    });
    expect(h.sandbox.requestLog.count({ method: 'DELETE' })).toBe(1);
  });

  it('a revocation that fails with 5xx is reported, kept FLAGGED, and retried by a later run', async () => {
    h = await sweepHarness();
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    await h.run(revoking);
    h.clock.nowMs = T0 + 15 * DAY_MS;
    h.sandbox.faults.inject({ method: 'DELETE', status: 503, times: 3 });

    const failed = await h.run(revoking);
    expect(failed.status).toBe('failed');
    expect(failed.errors).toEqual([expect.stringMatching(/^revoking token old failed: .*HTTP 503/)]);
    expect(await h.finding('old')).toMatchObject({ status: 'FLAGGED' });

    h.clock.nowMs += DAY_MS; // past the claim lease
    const retried = await h.run(revoking);
    expect(retried.counts.revoked).toBe(1);
    expect(await h.finding('old')).toMatchObject({ status: 'REVOKED' });
  });
});

describe('stale-token sweep: SailPoint failures', () => {
  it('waits out a 429 as Retry-After says, then succeeds', async () => {
    const sleeps: number[] = [];
    h = await sweepHarness({ sleeps });
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    h.sandbox.faults.inject({
      method: 'GET',
      path: '/beta/personal-access-tokens',
      status: 429,
      retryAfterSeconds: 2,
    });

    const summary = await h.run();
    expect(summary.status).toBe('succeeded');
    expect(await h.findings()).toEqual({ old: 'FLAGGED' });
    expect(h.listCalls().map((c) => c.status)).toEqual([429, 200, 200]);
    expect(sleeps).toEqual([2000]);
  });

  it('5xx until retries are exhausted: the run fails, and findings already written are kept', async () => {
    h = await sweepHarness({ maxAttempts: 2 });
    h.plant(
      { id: 'stale', lastUsedAgoMs: 200 * DAY_MS },
      { id: 'never', lastUsedAgoMs: null, createdAgoMs: 60 * DAY_MS },
    );
    await h.run();
    const before = await h.store.list(FINDINGS_SOURCE);

    h.sandbox.faults.inject({
      method: 'GET',
      path: '/beta/personal-access-tokens',
      status: 502,
      times: Infinity,
    });
    h.clock.nowMs += DAY_MS;
    const summary = await h.run();

    expect(summary.status).toBe('failed');
    expect(summary.errors).toEqual([
      expect.stringMatching(/^listing idle tokens failed: .*HTTP 502/),
      expect.stringMatching(/^listing never-used tokens failed: .*HTTP 502/),
    ]);
    expect(summary.counts).toMatchObject({ resolved: 0, findingWrites: 0 });
    expect(await h.store.list(FINDINGS_SOURCE)).toEqual(before);
  });

  it('when only the second list fails, the first list is recorded and nothing unseen is resolved', async () => {
    h = await sweepHarness({ maxAttempts: 2 });
    h.plant({ id: 'never', lastUsedAgoMs: null, createdAgoMs: 60 * DAY_MS });
    await h.run();
    h.plant({ id: 'stale', lastUsedAgoMs: 200 * DAY_MS });

    // The tenant starts failing right after the first call of the run.
    const failingAfterFirst: TokenDirectory = {
      list: async (query) => {
        const result = await h.tokens.list(query);
        h.sandbox.faults.inject({
          method: 'GET',
          path: '/beta/personal-access-tokens',
          status: 500,
          times: Infinity,
        });
        return result;
      },
      delete: (id) => h.tokens.delete(id),
    };
    const summary = await h.run(defaultPolicy(), { tokens: failingAfterFirst });

    expect(summary.status).toBe('failed');
    expect(summary.errors).toEqual([expect.stringMatching(/^listing never-used tokens failed: .*HTTP 500/)]);
    expect(await h.findings()).toEqual({ never: 'FLAGGED', stale: 'FLAGGED' });
  });

  it('wrong credentials: a clear error, one token request, nothing written', async () => {
    h = await sweepHarness({ clientSecret: 'not-the-secret' });
    h.plant({ id: 'old', lastUsedAgoMs: 200 * DAY_MS });
    const summary = await h.run();

    expect(summary.status).toBe('failed');
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatch(
      /^SailPoint refused the sweep's credentials: .*HTTP 401.* — check SAILPOINT_CLIENT_ID\/SECRET/,
    );
    expect(summary.errors[0]).not.toContain('not-the-secret');
    expect(summary.counts.findingWrites).toBe(0);
    expect(h.listCalls()).toHaveLength(0);
  });

  it('a client without user context gets 403 and the same hint', async () => {
    h = await sweepHarness({ clientId: 'sandbox-api-client', clientSecret: 'sandbox-api-secret' });
    const summary = await h.run();
    expect(summary.errors[0]).toMatch(
      /^SailPoint refused the sweep's credentials: .*HTTP 403.* — the client needs user context/,
    );
  });
});
