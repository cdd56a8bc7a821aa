/**
 * Issue #10, defect 2: a producer's re-send of a request already processed is a duplicate of that
 * request, whatever happened since (requestId dedup for the outcome retention period). Without a
 * requestId, today's rule stays: a GRANT after a finished REVOKE is a new intent.
 */
import { grant, person, revoke, role, startHarness, type Harness } from './harness';

const grantsPosted = (h: Harness) =>
  h.sandbox.state.accessRequests.records.filter((r) => r.requestType === 'GRANT_ACCESS').length;

describe('access provisioning: requestId dedup', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('does not POST a re-sent request again after the opposite request has finished', async () => {
    h = await startHarness();
    const item = [{ type: 'ROLE' as const, id: role(1) }];
    const body = grant([person(1)], item, { requestId: 'HR-2001' });
    const [first] = await h.send(body);
    await h.drain();
    await h.send(revoke(person(1), item, { requestId: 'HR-2002' }));
    await h.drain();
    expect(h.accessOf(person(1))).not.toContain(role(1));

    const [resent] = await h.send(body); // the producer re-sends: same body, same requestId, new message
    await h.drain();

    expect(grantsPosted(h)).toBe(1);
    expect(h.accessOf(person(1))).not.toContain(role(1)); // the revoke stands
    const outcome = await h.outcome(resent!);
    expect(outcome?.status).toBe('duplicate');
    expect(outcome?.reason).toContain(`request HR-2001 was already processed as message ${first}`);
    expect(outcome?.units.map((u) => [u.itemId, u.outcome])).toEqual([[role(1), 'duplicate']]);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('dead-letters a different request that reuses a processed requestId, naming both', async () => {
    h = await startHarness();
    const [first] = await h.send(
      grant([person(2)], [{ type: 'ROLE', id: role(2) }], { requestId: 'HR-3001' }),
    );
    await h.drain();
    const [other] = await h.send(
      grant([person(2)], [{ type: 'ROLE', id: role(3) }], { requestId: 'HR-3001' }),
    );
    await h.drain();

    expect(h.acceptedPosts()).toBe(1);
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([other]);
    expect(dead[0]!.reason).toBe(
      `invalid message: requestId HR-3001 was already used by message ${first} for a different request`,
    );
  });

  it('lets a re-send through when the first message was dead-lettered (it was not processed)', async () => {
    h = await startHarness({ maxReceiveCount: 1 });
    h.sandbox.faults.inject({ method: 'POST', path: '/v3/search', status: 503, times: 1 });
    const body = grant([person(3)], [{ type: 'ROLE', id: role(4) }], { requestId: 'HR-4001' });
    const [first] = await h.send(body);
    await h.drain();
    expect((await h.deadLetters()).map((d) => d.sourceMessageId)).toEqual([first]);

    const [resent] = await h.send(body);
    await h.drain();
    expect((await h.outcome(resent!))?.status).toBe('submitted');
    expect(h.accessOf(person(3))).toContain(role(4));
  });

  it('keeps the rule without a requestId: a GRANT after a finished REVOKE is a new intent', async () => {
    h = await startHarness();
    const item = [{ type: 'ROLE' as const, id: role(5) }];
    await h.send(grant([person(4)], item));
    await h.drain();
    await h.send(revoke(person(4), item));
    await h.drain();
    const [again] = await h.send(grant([person(4)], item));
    await h.drain();
    expect((await h.outcome(again!))?.status).toBe('submitted');
    expect(grantsPosted(h)).toBe(2);
  });
});
