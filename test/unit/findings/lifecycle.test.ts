import { canonicalJson, planTransition, type Finding } from '../../../functions/shared/findings';

const T0 = '2025-06-01T00:00:00.000Z';
const T1 = '2025-06-02T00:00:00.000Z';

const open = (overrides: Partial<Finding> = {}): Finding => ({
  source: 'test',
  subjectId: 's1',
  status: 'WARNED',
  reason: 'idle',
  owner: { id: 'o1', name: 'Ada' },
  facts: { lastUsed: '2025-01-01T00:00:00.000Z', name: 'ci' },
  episode: 1,
  firstSeenAt: T0,
  statusSince: T0,
  lastSeenAt: T0,
  version: 1,
  ...overrides,
});

describe('finding lifecycle', () => {
  it('opens a new finding; FLAGGED sets firstFlaggedAt', () => {
    const change = planTransition(
      'test',
      undefined,
      { subjectId: 's1', status: 'FLAGGED', reason: 'stale' },
      T0,
    );
    expect(change).toMatchObject({
      kind: 'opened',
      after: {
        status: 'FLAGGED',
        episode: 1,
        version: 1,
        firstSeenAt: T0,
        firstFlaggedAt: T0,
        lastSeenAt: T0,
      },
    });
  });

  it('an identical observation is no change, whatever the key order of the facts', () => {
    const before = open();
    const same = {
      subjectId: 's1',
      status: 'WARNED' as const,
      reason: 'idle',
      owner: { name: 'Ada', id: 'o1' },
    };
    expect(
      planTransition(
        'test',
        before,
        { ...same, facts: { name: 'ci', lastUsed: '2025-01-01T00:00:00.000Z' } },
        T1,
      ),
    ).toBe(undefined);
  });

  it('escalation keeps the episode and records when it was first flagged', () => {
    const change = planTransition(
      'test',
      open(),
      { subjectId: 's1', status: 'FLAGGED', reason: 'stale' },
      T1,
    );
    expect(change).toMatchObject({
      kind: 'status-changed',
      after: {
        status: 'FLAGGED',
        episode: 1,
        firstSeenAt: T0,
        statusSince: T1,
        firstFlaggedAt: T1,
        version: 2,
      },
    });
  });

  it('a return to FLAGGED after a detour through EXEMPT or WARNED restarts firstFlaggedAt', () => {
    const T2 = '2025-06-03T00:00:00.000Z';
    for (const detour of ['EXEMPT', 'WARNED'] as const) {
      const flagged = open({ status: 'FLAGGED', firstFlaggedAt: T0 });
      const away = planTransition(
        'test',
        flagged,
        { subjectId: 's1', status: detour, reason: 'svc' },
        T1,
      )!.after;
      expect(away.firstFlaggedAt).toBe(T0);
      const back = planTransition(
        'test',
        away,
        { subjectId: 's1', status: 'FLAGGED', reason: 'stale' },
        T2,
      )!.after;
      expect(back.firstFlaggedAt).toBe(T2);
    }
  });

  it('firstFlaggedAt stays while the finding stays FLAGGED', () => {
    const flagged = open({ status: 'FLAGGED', reason: 'stale', firstFlaggedAt: T0 });
    const change = planTransition(
      'test',
      flagged,
      { subjectId: 's1', status: 'FLAGGED', reason: 'never-used', facts: { lastUsed: null } },
      T1,
    );
    expect(change).toMatchObject({ kind: 'updated', after: { firstFlaggedAt: T0, statusSince: T0 } });
  });

  it('a status change drops a pending notification of the old status and keeps a sent one', () => {
    const notification = {
      key: 'k',
      kind: 'test.flagged',
      subject: 's',
      detail: {},
      claimId: 'r',
      claimedAt: T0,
    };
    const pending = open({ status: 'FLAGGED', notification: { ...notification, state: 'PENDING' } });
    const exempt = { subjectId: 's1', status: 'EXEMPT' as const, reason: 'svc' };
    expect(planTransition('test', pending, exempt, T1)?.after.notification).toBeUndefined();

    const sent = open({ status: 'FLAGGED', notification: { ...notification, state: 'SENT', sentAt: T0 } });
    expect(planTransition('test', sent, exempt, T1)?.after.notification).toMatchObject({ state: 'SENT' });

    // Without a status change the pending notification still describes the finding.
    const updated = planTransition('test', pending, { ...exempt, status: 'FLAGGED', reason: 'stale' }, T1);
    expect(updated?.kind).toBe('updated');
    expect(updated?.after.notification).toMatchObject({ state: 'PENDING' });
  });

  it('a status change ends the action claims made in the old status; an update keeps them', () => {
    const claimed = open({ status: 'FLAGGED', firstFlaggedAt: T0, actionClaims: { revoke: T0 } });
    const exempt = planTransition('test', claimed, { subjectId: 's1', status: 'EXEMPT', reason: 'svc' }, T1);
    expect(exempt?.after.actionClaims).toBeUndefined();
    const updated = planTransition(
      'test',
      claimed,
      { subjectId: 's1', status: 'FLAGGED', reason: 'stale', facts: { lastUsed: T0 } },
      T1,
    );
    expect(updated?.after.actionClaims).toEqual({ revoke: T0 });
  });

  it('a changed fact is an update without a status change', () => {
    const change = planTransition(
      'test',
      open(),
      {
        subjectId: 's1',
        status: 'WARNED',
        reason: 'idle',
        owner: { id: 'o1', name: 'Ada' },
        facts: { name: 'renamed' },
      },
      T1,
    );
    expect(change).toMatchObject({
      kind: 'updated',
      after: { statusSince: T0, lastSeenAt: T1, facts: { name: 'renamed' } },
    });
  });

  it('closing merges facts, drops a pending notification and keeps lastSeenAt', () => {
    const before = open({
      notification: {
        key: 'k',
        kind: 'x',
        subject: 's',
        detail: {},
        state: 'PENDING',
        claimId: 'r',
        claimedAt: T0,
      },
    });
    const change = planTransition(
      'test',
      before,
      { subjectId: 's1', status: 'RESOLVED', reason: 'used-again', facts: { lastUsed: T1 } },
      T1,
    );
    expect(change?.kind).toBe('closed');
    expect(change?.after).toMatchObject({
      status: 'RESOLVED',
      closedAt: T1,
      lastSeenAt: T0,
      facts: { name: 'ci', lastUsed: T1 },
    });
    expect(change?.after.notification).toBeUndefined();
  });

  it('closing what is not open is no change', () => {
    expect(
      planTransition('test', undefined, { subjectId: 's1', status: 'RESOLVED', reason: 'x' }, T1),
    ).toBeUndefined();
    const closed = open({ status: 'RESOLVED', closedAt: T0 });
    expect(
      planTransition('test', closed, { subjectId: 's1', status: 'RESOLVED', reason: 'y' }, T1),
    ).toBeUndefined();
  });

  it('reopening starts a new episode and forgets claims', () => {
    const closed = open({
      status: 'REVOKED',
      closedAt: T0,
      version: 4,
      actionClaims: { revoke: T0 },
      firstFlaggedAt: T0,
    });
    const change = planTransition('test', closed, { subjectId: 's1', status: 'WARNED', reason: 'idle' }, T1);
    expect(change).toMatchObject({ kind: 'reopened', after: { episode: 2, version: 5, firstSeenAt: T1 } });
    expect(change?.after.actionClaims).toBeUndefined();
    expect(change?.after.firstFlaggedAt).toBeUndefined();
    expect(change?.after.closedAt).toBeUndefined();
  });

  it('canonical JSON ignores key order, not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
