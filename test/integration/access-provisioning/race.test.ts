/**
 * GRANT/REVOKE of the same access: the later one waits until the earlier one has finished in
 * SailPoint (not merely been submitted), then the current-access check sees its result.
 */
import { grant, person, revoke, role, startHarness, type Harness } from './harness';

const MINUTE = 60_000;

describe('access provisioning: GRANT/REVOKE race rule', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('runs a GRANT and a REVOKE of the same access from one batch one after the other, in sending order', async () => {
    h = await startHarness();
    const [grantId, revokeId] = await h
      .send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]))
      .then(async ([g]) => [g, ...(await h.send(revoke(person(1), [{ type: 'ROLE', id: role(1) }])))]);
    await h.drain();

    const posts = h.sandbox.state.accessRequests.records.map((r) => r.requestType);
    expect(posts).toEqual(['GRANT_ACCESS', 'REVOKE_ACCESS']);
    expect(h.accessOf(person(1))).not.toContain(role(1));
    expect((await h.outcome(grantId!))?.status).toBe('submitted');
    const revoked = await h.outcome(revokeId!);
    expect(revoked?.status).toBe('submitted');
    // Its history shows it waited for the GRANT first.
    expect(revoked?.history[0]).toMatchObject({
      status: 'retrying',
      reason: expect.stringContaining('waiting'),
    });
  });

  it('keeps a REVOKE waiting while the GRANT awaits approval, and submits it once the GRANT is approved', async () => {
    let sandboxNow = Date.now();
    h = await startHarness({ sandbox: { now: () => new Date(sandboxNow) } });
    h.sandbox.state.accessRequests.approvalDelayMs = 10 * MINUTE;
    await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    await h.drain();
    expect(h.acceptedPosts()).toBe(1);

    const [revokeId] = await h.send(revoke(person(2), [{ type: 'ROLE', id: role(2) }]));
    for (let i = 0; i < 2; i++) await h.pollOnce();
    // Still pending in SailPoint: no REVOKE was sent, the message is waiting on the queue.
    expect(h.acceptedPosts()).toBe(1);
    const waiting = await h.outcome(revokeId!);
    expect(waiting?.status).toBe('retrying');
    expect(waiting?.reason).toContain('is still EXECUTING in SailPoint');

    sandboxNow += 11 * MINUTE; // the approver decides
    await h.drain();
    expect(h.sandbox.state.accessRequests.records.map((r) => [r.requestType, r.state])).toEqual([
      ['GRANT_ACCESS', 'REQUEST_COMPLETED'],
      ['REVOKE_ACCESS', 'EXECUTING'],
    ]);
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
  });

  it('skips the REVOKE as not held when the GRANT it waited for was rejected', async () => {
    h = await startHarness();
    h.sandbox.state.accessRequests.decide = () => 'REJECTED';
    await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));
    await h.drain();
    const [revokeId] = await h.send(revoke(person(3), [{ type: 'ROLE', id: role(3) }]));
    await h.drain();

    expect(h.acceptedPosts()).toBe(1);
    expect((await h.outcome(revokeId!))?.status).toBe('not-held');
  });

  it('lets a GRANT through again after a REVOKE of it finished, even within the dedup window', async () => {
    h = await startHarness();
    const item = [{ type: 'ROLE' as const, id: role(4) }];
    await h.send(grant([person(4)], item));
    await h.drain();
    await h.send(revoke(person(4), item));
    await h.drain();
    const [again] = await h.send(grant([person(4)], item));
    await h.drain();

    expect(h.sandbox.state.accessRequests.records.map((r) => r.requestType)).toEqual([
      'GRANT_ACCESS',
      'REVOKE_ACCESS',
      'GRANT_ACCESS',
    ]);
    expect((await h.outcome(again!))?.status).toBe('submitted');
    expect(h.accessOf(person(4))).toContain(role(4));
  });

  it('gives a GRANT and a REVOKE delivered to two concurrent invocations the same one-at-a-time order', async () => {
    h = await startHarness();
    const item = [{ type: 'ROLE' as const, id: role(5) }];
    await h.send(grant([person(5)], item), revoke(person(5), item));
    const one = h.newInstance();
    const two = h.newInstance();
    await Promise.all([h.pollOnce(one.handler, 1), h.pollOnce(two.handler, 1)]);
    // At most one of them reached SailPoint in that round: the other waits for it.
    expect(h.acceptedPosts()).toBeLessThanOrEqual(1);
    await h.drain();
    const records = h.sandbox.state.accessRequests.records;
    expect(records).toHaveLength(2);
    // The second was created only after the first had finished.
    expect(records[0]!.state).toBe('REQUEST_COMPLETED');
    expect(records[1]!.created.getTime()).toBeGreaterThanOrEqual(records[0]!.modified.getTime());
  });

  it('keeps a REVOKE waiting for a pending GRANT even when a later claim of the slot was given back', async () => {
    let now = Date.now();
    let sandboxNow = now;
    h = await startHarness({
      clock: () => now,
      settings: { dedupWindowMs: 60 * MINUTE },
      sandbox: { now: () => new Date(sandboxNow) },
    });
    h.sandbox.state.accessRequests.approvalDelayMs = 3 * 60 * MINUTE; // a slow approval chain
    const item = [{ type: 'ROLE' as const, id: role(6) }];
    await h.send(grant([person(6)], item));
    await h.drain();

    now += 61 * MINUTE; // past the dedup window: a new GRANT claims the slot, is rate limited, gives it back
    h.sandbox.faults.inject({
      method: 'POST',
      path: '/beta/access-requests',
      status: 429,
      retryAfterSeconds: 1,
    });
    const [again] = await h.send(grant([person(6)], item));
    await h.pollOnce();
    expect((await h.outcome(again!))?.status).toBe('retrying');

    const [revokeId] = await h.send(revoke(person(6), item));
    await h.pollOnce(h.handler, 1);
    await h.pollOnce(h.handler, 1);
    const waiting = await h.outcome(revokeId!);
    expect(waiting?.status).toBe('retrying');
    expect(waiting?.reason).toContain('is still EXECUTING in SailPoint');

    sandboxNow += 3 * 60 * MINUTE + 1000; // approved
    await h.skipRetryDelays();
    await h.drain();
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
    sandboxNow += 3 * 60 * MINUTE + 1000;
    expect(h.accessOf(person(6))).not.toContain(role(6)); // the later intent wins
  });
});
