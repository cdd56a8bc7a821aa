import {
  decideSlot,
  latestChangeOf,
  latestSubmissionAt,
  type SlotRecord,
} from '../../../functions/access-provisioning/slot-policy';
import { findRequests, oppositeCutoff, statusOf } from '../../../functions/access-provisioning/reconcile';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const HOUR = 3_600_000;
const policy = { statusSettleMs: 60_000, conflictRetrySeconds: 300 };
const ctx = (own: string[] = ['m-new']) => ({ ownMessageIds: new Set(own), now: NOW, policy });
const grant = { requestType: 'GRANT_ACCESS' as const };
const revoke = { requestType: 'REVOKE_ACCESS' as const };

function record(overrides: Partial<SlotRecord>): SlotRecord {
  return {
    operation: 'GRANT_ACCESS',
    state: 'submitted',
    claimToken: 't1',
    messageId: 'm-old',
    claimedAt: NOW - HOUR,
    attemptSince: NOW - HOUR,
    submittedAt: NOW - HOUR,
    dedupUntil: NOW + 167 * HOUR,
    version: 2,
    ...overrides,
  };
}

describe('slot decisions', () => {
  it('claims a slot nobody holds', () => {
    expect(decideSlot(undefined, grant, ctx())).toEqual({ kind: 'claim', expect: { kind: 'absent' } });
  });

  it('suppresses a duplicate submitted within the window, and reports a redelivery of the submitter as submitted', () => {
    const submitted = record({ requestId: 'req-1' });
    expect(decideSlot(submitted, grant, ctx())).toMatchObject({
      kind: 'duplicate',
      reason: expect.stringContaining(
        'already submitted at 2030-01-01T11:00:00.000Z by message m-old (request req-1)',
      ),
    });
    expect(decideSlot(submitted, grant, ctx(['m-old']))).toMatchObject({ kind: 'already-submitted' });
  });

  it('claims again once the window has passed, re-checking the expiry in the write condition', () => {
    const old = record({ dedupUntil: NOW - 1 });
    expect(decideSlot(old, grant, ctx())).toEqual({
      kind: 'claim',
      expect: { kind: 'unchanged', version: 2, expired: { field: 'dedupUntil', now: NOW } },
    });
  });

  it('treats a live claim of another message as in flight, and takes over an expired one with reconciliation', () => {
    const live = record({
      state: 'claimed',
      leaseExpiresAt: NOW + 1000,
      submittedAt: undefined,
      dedupUntil: undefined,
    });
    // Not acknowledged as a duplicate: the holder may still give the unit up.
    expect(decideSlot(live, grant, ctx())).toMatchObject({
      kind: 'in-flight',
      reason: expect.stringContaining('in flight'),
    });
    const dead = { ...live, leaseExpiresAt: NOW - 1 };
    expect(decideSlot(dead, grant, ctx())).toEqual({
      kind: 'claim',
      expect: { kind: 'unchanged', version: 2, expired: { field: 'leaseExpiresAt', now: NOW } },
      reconcileSince: NOW - HOUR,
    });
  });

  it('lets a redelivery of the claiming message take over at once, reconciling first', () => {
    const live = record({ state: 'claimed', leaseExpiresAt: NOW + 1000, messageId: 'm-1' });
    expect(decideSlot(live, grant, ctx(['m-1']))).toEqual({
      kind: 'claim',
      expect: { kind: 'unchanged', version: 2 },
      reconcileSince: NOW - HOUR,
    });
  });

  it('keeps a concurrent delivery of the claiming message off while its holder may still send the POST', () => {
    const running = record({
      state: 'claimed',
      messageId: 'm-1',
      attemptSince: NOW - 5000,
      attemptUntil: NOW + 1000,
    });
    expect(decideSlot(running, grant, ctx(['m-1']))).toMatchObject({
      kind: 'in-flight',
      reason: expect.stringContaining('another delivery of this message'),
    });
    const over = { ...running, attemptUntil: NOW - 1 };
    expect(decideSlot(over, grant, ctx(['m-1']))).toMatchObject({
      kind: 'claim',
      reconcileSince: NOW - 5000,
    });
  });

  it('reports a unit its own message submitted as submitted, before the window and whoever holds the slot now', () => {
    const expired = record({ messageId: 'm-1', dedupUntil: NOW - 1 });
    expect(decideSlot(expired, grant, ctx(['m-1']))).toMatchObject({
      kind: 'already-submitted',
      messageId: 'm-1',
    });
    const revokedSince = record({
      operation: 'REVOKE_ACCESS',
      messageId: 'm-2',
      submissions: [{ operation: 'GRANT_ACCESS', messageId: 'm-1', at: NOW - 2 * HOUR }],
    });
    expect(decideSlot(revokedSince, grant, ctx(['m-1']))).toMatchObject({
      kind: 'already-submitted',
      submittedAt: NOW - 2 * HOUR,
    });
    const free = record({
      state: 'free',
      submissions: [{ operation: 'GRANT_ACCESS', messageId: 'm-1', at: NOW }],
    });
    expect(decideSlot(free, grant, ctx(['m-1']))).toMatchObject({ kind: 'already-submitted' });
    expect(decideSlot(free, grant, ctx(['m-3']))).toEqual({
      kind: 'claim',
      expect: { kind: 'unchanged', version: 2 },
    });
  });

  it('retries an in-flight unit until the holder is done, within the conflict retry delay', () => {
    const running = record({ state: 'claimed', leaseExpiresAt: NOW + 900_000, attemptUntil: NOW + 30_000 });
    expect(decideSlot(running, grant, ctx())).toMatchObject({ kind: 'in-flight', delaySeconds: 90 });
    const kept = { ...running, attemptUntil: NOW - 1 }; // holder's invocation over, claim kept (unknown outcome)
    expect(decideSlot(kept, grant, ctx())).toMatchObject({ kind: 'in-flight', delaySeconds: 300 });
  });

  describe('GRANT/REVOKE race', () => {
    it('reconciles a dead opposite claim first, and keeps it as a submission when SailPoint lists it', () => {
      const dead = record({
        state: 'claimed',
        messageId: 'm-g',
        leaseExpiresAt: NOW - 1,
        attemptSince: NOW - HOUR,
        attemptUntil: NOW - HOUR + 60_000,
      });
      expect(decideSlot(dead, revoke, ctx())).toMatchObject({ kind: 'needs-opposite-status' });
      expect(
        decideSlot(dead, revoke, ctx(), { found: true, pending: false, state: 'REQUEST_COMPLETED' }),
      ).toEqual({
        kind: 'claim',
        expect: { kind: 'unchanged', version: 2, expired: { field: 'leaseExpiresAt', now: NOW } },
        recordOpposite: { operation: 'GRANT_ACCESS', messageId: 'm-g', at: NOW - HOUR },
      });
      // Not listed: only proof of absence once the listing lag has passed since the attempt could last post.
      const recent = { ...dead, attemptUntil: NOW - 10_000 };
      expect(decideSlot(recent, revoke, ctx(), { found: false, pending: false })).toMatchObject({
        kind: 'wait',
      });
    });

    it('waits while the opposite request type is being submitted', () => {
      const claimed = record({ state: 'claimed', leaseExpiresAt: NOW + 1000 });
      expect(decideSlot(claimed, revoke, ctx())).toMatchObject({ kind: 'wait', delaySeconds: 300 });
    });

    it('asks SailPoint about a submitted opposite request, waits while it is pending, goes once it is final', () => {
      const submitted = record({});
      expect(decideSlot(submitted, revoke, ctx())).toEqual({
        kind: 'needs-opposite-status',
        since: NOW - HOUR,
        opposite: 'GRANT_ACCESS',
      });
      expect(
        decideSlot(submitted, revoke, ctx(), { found: true, pending: true, state: 'EXECUTING' }),
      ).toMatchObject({
        kind: 'wait',
        reason: expect.stringContaining('still EXECUTING in SailPoint'),
      });
      expect(
        decideSlot(submitted, revoke, ctx(), { found: true, pending: false, state: 'REQUEST_COMPLETED' }),
      ).toEqual({
        kind: 'claim',
        expect: { kind: 'unchanged', version: 2 },
      });
    });

    it('does not trust an empty status list until SailPoint had time to list the request', () => {
      const fresh = record({ attemptSince: NOW - 10_000, submittedAt: NOW - 10_000 });
      expect(decideSlot(fresh, revoke, ctx(), { found: false, pending: false })).toMatchObject({
        kind: 'wait',
      });
      const settled = record({ attemptSince: NOW - 61_000 });
      expect(decideSlot(settled, revoke, ctx(), { found: false, pending: false })).toMatchObject({
        kind: 'claim',
      });
    });

    it('asks SailPoint about an opposite submission even when it is older than the window', () => {
      const old = record({ dedupUntil: NOW - 1 });
      expect(decideSlot(old, revoke, ctx())).toMatchObject({ kind: 'needs-opposite-status' });
      expect(
        decideSlot(old, revoke, ctx(), { found: true, pending: true, state: 'EXECUTING' }),
      ).toMatchObject({
        kind: 'wait',
      });
      expect(
        decideSlot(old, revoke, ctx(), { found: true, pending: false, state: 'REQUEST_COMPLETED' }),
      ).toMatchObject({ kind: 'claim' });
    });
  });
});

describe('matching access request status entries', () => {
  const unit = {
    requestType: 'GRANT_ACCESS' as const,
    identityId: 'id1',
    itemType: 'ROLE' as const,
    itemId: 'r1',
  };
  const entry = {
    requestType: 'GRANT_ACCESS',
    itemType: 'ROLE',
    id: 'ar-1',
    marker: 'ROLE:r1',
    requestedForId: 'id1',
    created: NOW,
    state: 'EXECUTING',
    accessRequestId: 'ar-1',
  };

  it('matches by our item marker, identity, type and time; not another item, type or an older request', () => {
    expect(findRequests([entry], unit, NOW)).toHaveLength(1);
    expect(findRequests([{ ...entry, marker: 'ROLE:r2' }], unit, NOW)).toHaveLength(0);
    expect(findRequests([{ ...entry, requestType: 'REVOKE_ACCESS' }], unit, NOW)).toHaveLength(0);
    expect(findRequests([{ ...entry, requestedForId: 'id2' }], unit, NOW)).toHaveLength(0);
    expect(findRequests([{ ...entry, created: NOW - 6 * 60_000 }], unit, NOW)).toHaveLength(0);
    // Within the clock-skew allowance.
    expect(findRequests([{ ...entry, created: NOW - 60_000 }], unit, NOW)).toHaveLength(1);
    // Older API versions: no marker, the entry id is the item id.
    expect(findRequests([{ ...entry, marker: undefined, id: 'r1' }], unit, NOW)).toHaveLength(1);
  });

  it('treats unknown states as pending and final ones as finished', () => {
    expect(statusOf([entry], unit, NOW)).toEqual({ found: true, pending: true, state: 'EXECUTING' });
    expect(statusOf([{ ...entry, state: 'REJECTED' }], unit, NOW)).toEqual({
      found: true,
      pending: false,
      state: 'REJECTED',
    });
    expect(statusOf([{ ...entry, state: 'SOMETHING_NEW' }], unit, NOW).pending).toBe(true);
    expect(statusOf([], unit, NOW)).toEqual({ found: false, pending: false });
  });

  it("never takes a request older than the slot's latest opposite request for this one (issue #10, defect 1)", () => {
    const older = {
      ...entry,
      id: 'ar-A',
      accessRequestId: 'ar-A',
      created: NOW - 3 * 60_000,
      state: 'REQUEST_COMPLETED',
    };
    const revokeB = {
      ...entry,
      requestType: 'REVOKE_ACCESS',
      id: 'ar-B',
      created: NOW - 2 * 60_000,
      state: 'REQUEST_COMPLETED',
    };
    const entries = [older, revokeB];
    // Our record of B says when we saw its 202 (a little after SailPoint created it).
    const after = oppositeCutoff(entries, unit, NOW - 2 * 60_000 + 500);
    expect(after).toBe(revokeB.created);
    expect(findRequests(entries, unit, NOW)).toHaveLength(1); // the clock-skew allowance alone lets A in
    expect(findRequests(entries, unit, NOW, after)).toHaveLength(0);
    expect(findRequests([...entries, { ...entry, created: NOW }], unit, NOW, after)).toHaveLength(1);
    // SailPoint does not list B (it ignored it): our own record of it is the cutoff.
    expect(oppositeCutoff([older], unit, NOW - 60_000)).toBe(NOW - 60_000);
    // The slot never had the opposite type: no cutoff.
    expect(oppositeCutoff(entries, unit, undefined)).toBeUndefined();
  });

  it('does not take an old finished request for a pending opposite one that SailPoint does not list yet', () => {
    const revoke = { ...unit, requestType: 'REVOKE_ACCESS' as const };
    const oldRevoke = {
      ...entry,
      requestType: 'REVOKE_ACCESS',
      created: NOW - 4 * 60_000,
      state: 'REQUEST_COMPLETED',
    };
    const grantA = { ...entry, created: NOW - 3 * 60_000, state: 'REQUEST_COMPLETED' };
    const after = oppositeCutoff([oldRevoke, grantA], revoke, NOW - 3 * 60_000);
    expect(statusOf([oldRevoke, grantA], revoke, NOW - 60_000)).toMatchObject({
      found: true,
      pending: false,
    });
    expect(statusOf([oldRevoke, grantA], revoke, NOW - 60_000, after)).toEqual({
      found: false,
      pending: false,
    });
  });

  it('knows when the slot last had a submission of each request type', () => {
    const slot = record({
      operation: 'REVOKE_ACCESS',
      state: 'submitted',
      submittedAt: NOW - HOUR,
      submissions: [
        { operation: 'GRANT_ACCESS', messageId: 'a', at: NOW - 3 * HOUR },
        { operation: 'GRANT_ACCESS', messageId: 'c', at: NOW - 2 * HOUR },
      ],
    });
    expect(latestSubmissionAt(slot, 'GRANT_ACCESS')).toBe(NOW - 2 * HOUR);
    expect(latestSubmissionAt(slot, 'REVOKE_ACCESS')).toBe(NOW - HOUR);
    expect(latestSubmissionAt(record({ state: 'claimed', submissions: [] }), 'GRANT_ACCESS')).toBeUndefined();
    expect(latestSubmissionAt(undefined, 'GRANT_ACCESS')).toBeUndefined();
  });
});

describe('what a Search document must show before a skip relies on it', () => {
  const completed = { found: true, pending: false, state: 'REQUEST_COMPLETED', finishedAt: NOW - 60_000 };

  it('needs the completion of the opposite request this deployment saw finish', () => {
    const granted = record({ operation: 'GRANT_ACCESS', state: 'submitted', submittedAt: NOW - HOUR });
    expect(latestChangeOf(granted, 'REVOKE_ACCESS', completed)).toEqual({ kind: 'at', at: NOW - 60_000 });
    // Rejected, cancelled or never listed: it changed nothing.
    expect(latestChangeOf(granted, 'REVOKE_ACCESS', { ...completed, state: 'REJECTED' })).toEqual({
      kind: 'none',
    });
    expect(latestChangeOf(granted, 'REVOKE_ACCESS', { found: false, pending: false })).toEqual({
      kind: 'none',
    });
    // A final state that may have changed part of it, or no completion time: not known.
    expect(
      latestChangeOf(granted, 'REVOKE_ACCESS', { ...completed, state: 'NOT_ALL_ITEMS_PROVISIONED' }),
    ).toMatchObject({
      kind: 'unknown',
    });
    expect(
      latestChangeOf(granted, 'REVOKE_ACCESS', { found: true, pending: false, state: 'REQUEST_COMPLETED' }),
    ).toMatchObject({
      kind: 'unknown',
    });
  });

  it('trusts the document when the latest change was of the same type, or when nothing was recorded', () => {
    expect(latestChangeOf(undefined, 'REVOKE_ACCESS')).toEqual({ kind: 'none' });
    const revoked = record({
      operation: 'REVOKE_ACCESS',
      submittedAt: NOW - HOUR,
      submissions: [{ operation: 'GRANT_ACCESS', messageId: 'g', at: NOW - 2 * HOUR }],
    });
    expect(latestChangeOf(revoked, 'REVOKE_ACCESS')).toEqual({ kind: 'none' });
  });

  it('does not know when an opposite submission it did not ask SailPoint about finished', () => {
    const taken = record({
      state: 'claimed',
      operation: 'REVOKE_ACCESS',
      submissions: [{ operation: 'GRANT_ACCESS', messageId: 'g', at: NOW - HOUR }],
    });
    expect(latestChangeOf(taken, 'REVOKE_ACCESS')).toEqual({ kind: 'unknown', since: NOW - HOUR });
  });
});

describe('a free slot keeps the race rule', () => {
  const free = record({
    state: 'free',
    operation: 'GRANT_ACCESS',
    submissions: [{ operation: 'GRANT_ACCESS', messageId: 'g', at: NOW - HOUR }],
  });

  it('asks SailPoint whether its latest opposite submission has finished before claiming', () => {
    expect(decideSlot(free, revoke, ctx())).toEqual({
      kind: 'needs-opposite-status',
      since: NOW - HOUR,
      opposite: 'GRANT_ACCESS',
    });
    expect(decideSlot(free, revoke, ctx(), { found: true, pending: true, state: 'EXECUTING' })).toMatchObject(
      {
        kind: 'wait',
      },
    );
    expect(
      decideSlot(free, revoke, ctx(), { found: true, pending: false, state: 'REQUEST_COMPLETED' }),
    ).toEqual({
      kind: 'claim',
      expect: { kind: 'unchanged', version: 2 },
    });
    // Same type as its latest submission: claimed at once.
    expect(decideSlot(free, grant, ctx())).toMatchObject({ kind: 'claim' });
  });
});
