/**
 * The GRANT/REVOKE rule with ISC's access event triggers (slot-policy.ts statusFromEvents, the wait
 * without a status read) and the SailPoint state an outcome shows (outcomes.ts unitRequestStates).
 */
import {
  decideSlot,
  latestChangeOf,
  statusFromEvents,
  type RequestEventFact,
  type SlotRecord,
} from '../../../functions/access-provisioning/slot-policy';
import {
  unitRequestStates,
  unitStateKey,
  type UnitEventRecord,
} from '../../../functions/access-provisioning/outcomes';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const policy = { statusSettleMs: 60_000, conflictRetrySeconds: 300, eventWaitMs: HOUR };
const ctx = { ownMessageIds: new Set(['m-revoke']), now: NOW, policy };
const revoke = { requestType: 'REVOKE_ACCESS' as const };

/** A GRANT submitted 10 minutes ago, as the REVOKE finds it. */
const grantSlot = (overrides: Partial<SlotRecord> = {}): SlotRecord => ({
  operation: 'GRANT_ACCESS',
  state: 'submitted',
  claimToken: 't',
  messageId: 'm-grant',
  claimedAt: NOW - 10 * MINUTE,
  attemptSince: NOW - 10 * MINUTE,
  submittedAt: NOW - 10 * MINUTE,
  dedupUntil: NOW + HOUR,
  accessRequestIds: ['ar-1'],
  version: 3,
  ...overrides,
});
const fact = (overrides: Partial<RequestEventFact>): RequestEventFact => ({
  accessRequestId: 'ar-1',
  operation: 'GRANT_ACCESS',
  kind: 'decision',
  result: 'APPROVED',
  at: NOW - 5 * MINUTE,
  ...overrides,
});

describe('the GRANT/REVOKE rule with access events', () => {
  it('waits without a status read while no event came, within ACCESS_EVENTS_WAIT_SECONDS', () => {
    expect(decideSlot(grantSlot(), revoke, ctx)).toMatchObject({
      kind: 'wait',
      reason: expect.stringContaining('no decision event yet'),
    });
  });

  it('reads the status once the wait has passed, or when no events are configured', () => {
    const old = grantSlot({ submittedAt: NOW - 2 * HOUR, attemptSince: NOW - 2 * HOUR });
    expect(decideSlot(old, revoke, ctx)).toMatchObject({ kind: 'needs-opposite-status' });
    expect(decideSlot(grantSlot(), revoke, { ...ctx, policy: { ...policy, eventWaitMs: 0 } })).toMatchObject({
      kind: 'needs-opposite-status',
    });
  });

  it('reads the status at once for a dead claim of the opposite type: it may never have reached SailPoint', () => {
    const dead = grantSlot({
      state: 'claimed',
      submittedAt: undefined,
      leaseExpiresAt: NOW - MINUTE,
      attemptUntil: NOW - 5 * MINUTE,
    });
    expect(decideSlot(dead, revoke, ctx)).toMatchObject({ kind: 'needs-opposite-status' });
  });

  it('keeps waiting, reading nothing, while the request is approved but not provisioned', () => {
    const approved = grantSlot({ requestEvents: [fact({})] });
    expect(statusFromEvents(approved, 'GRANT_ACCESS', approved.attemptSince)).toEqual({
      found: true,
      pending: true,
      state: 'EXECUTING',
    });
    expect(decideSlot(approved, revoke, ctx)).toMatchObject({
      kind: 'wait',
      reason: expect.stringContaining('still EXECUTING'),
    });
  });

  it('goes once the request is provisioned or rejected, in whatever order the events came', () => {
    const provisioned = [fact({ kind: 'provisioning', result: 'SUCCESS', at: NOW - MINUTE }), fact({})];
    for (const requestEvents of [provisioned, [...provisioned].reverse()]) {
      const slot = grantSlot({ requestEvents });
      expect(decideSlot(slot, revoke, ctx)).toMatchObject({ kind: 'claim' });
      expect(latestChangeOf(slot, 'REVOKE_ACCESS')).toEqual({ kind: 'at', at: NOW - MINUTE });
    }
    const rejected = grantSlot({ requestEvents: [fact({ result: 'REJECTED' })] });
    expect(decideSlot(rejected, revoke, ctx)).toMatchObject({ kind: 'claim' });
    expect(latestChangeOf(rejected, 'REVOKE_ACCESS')).toEqual({ kind: 'none' });
  });

  it("ignores events of another request: not the slot's id, not ours, or of the other type", () => {
    const others = [
      fact({ accessRequestId: 'ar-other', kind: 'provisioning', result: 'SUCCESS' }),
      fact({ ours: false, kind: 'provisioning', result: 'SUCCESS' }),
      fact({ operation: 'REVOKE_ACCESS', kind: 'provisioning', result: 'SUCCESS' }),
    ];
    expect(
      statusFromEvents(grantSlot({ requestEvents: others }), 'GRANT_ACCESS', NOW - HOUR),
    ).toBeUndefined();
    // Without ids (the beta page's empty 202): matched by time, an older request's events are not this one's.
    const noIds = grantSlot({
      accessRequestIds: undefined,
      requestEvents: [fact({ accessRequestId: 'ar-old', result: 'REJECTED', at: NOW - 3 * HOUR })],
    });
    expect(statusFromEvents(noIds, 'GRANT_ACCESS', noIds.attemptSince)).toBeUndefined();
  });
});

describe('the SailPoint state an outcome shows', () => {
  const unit = { identityId: 'i1', itemType: 'ROLE', itemId: 'r1', requestType: 'GRANT_ACCESS' };
  const event = (overrides: Partial<UnitEventRecord>): UnitEventRecord => ({
    identityId: 'i1',
    itemType: 'ROLE',
    itemId: 'r1',
    operation: 'GRANT_ACCESS',
    accessRequestId: 'ar-1',
    kind: 'decision',
    result: 'APPROVED',
    at: NOW,
    ...overrides,
  });

  it('is approved, then provisioned or failed; a final word is never undone by a late decision', () => {
    expect(unitRequestStates([event({ approver: 'Amelia' })]).get(unitStateKey(unit))).toMatchObject({
      state: 'approved',
      approver: 'Amelia',
    });
    const done = event({ kind: 'provisioning', result: 'SUCCESS', at: NOW + MINUTE });
    expect(unitRequestStates([done, event({})]).get(unitStateKey(unit))?.state).toBe('provisioned');
    expect(unitRequestStates([event({}), done]).get(unitStateKey(unit))?.state).toBe('provisioned');
    const failed = event({ kind: 'provisioning', result: 'FAILED', errors: ['connector down'] });
    expect(unitRequestStates([failed, event({})]).get(unitStateKey(unit))).toMatchObject({
      state: 'failed',
      errors: ['connector down'],
    });
  });

  it("is rejected with the approver's comment", () => {
    const rejected = event({ result: 'REJECTED', comment: 'not for contractors', approver: 'Amelia' });
    expect(unitRequestStates([rejected]).get(unitStateKey(unit))).toMatchObject({
      state: 'rejected',
      comment: 'not for contractors',
    });
  });
});
