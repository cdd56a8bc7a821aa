/**
 * Invalid messages go to the DLQ with their reason (never retried, never dropped, counted as
 * invalid in their outcome record); valid ones are coalesced into as few API-legal requests as
 * the limits allow.
 */
import {
  entitlement,
  grant,
  person,
  REQUESTER_ID,
  revoke,
  role,
  startHarness,
  testSeed,
  type Harness,
} from './harness';

describe('access provisioning: invalid input', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  const cases: [string, unknown, string][] = [
    [
      'a body that is not JSON',
      '{"requestedFor": [',
      'invalid message: the body is not JSON (starts with "{\\"requestedFor\\": [")',
    ],
    [
      'a schema violation',
      { requestedFor: 'abc', requestedItems: [{ type: 'ROLE', id: role(1) }] },
      'invalid message: requestedFor: must be an array of identity ids',
    ],
    [
      'a REVOKE for two identities',
      { ...revoke(person(1), [{ type: 'ROLE', id: role(1) }]), requestedFor: [person(1), person(2)] },
      'invalid message: requestedFor: REVOKE_ACCESS must name exactly one identity (got 2)',
    ],
    [
      'a REVOKE item without a comment',
      {
        requestType: 'REVOKE_ACCESS',
        requestedFor: [person(1)],
        requestedItems: [{ type: 'ROLE', id: role(1) }],
      },
      'invalid message: requestedItems[0].comment: required for REVOKE_ACCESS',
    ],
    [
      'a removeDate in the past',
      grant([person(1)], [{ type: 'ROLE', id: role(1), removeDate: '2020-01-01T00:00:00Z' } as never]),
      'invalid message: requestedItems[0].removeDate: must be in the future (got 2020-01-01T00:00:00Z)',
    ],
    [
      'an unknown identity',
      grant(['2c9180aa0000000000000000000000ff'], [{ type: 'ROLE', id: role(1) }]),
      'invalid message: unknown identity 2c9180aa0000000000000000000000ff (SailPoint Search has no such identity)',
    ],
    [
      "a REVOKE for the credential's own identity",
      revoke(REQUESTER_ID, [{ type: 'ROLE', id: role(1) }]),
      `invalid message: REVOKE_ACCESS for ${REQUESTER_ID}, the identity behind the SailPoint credential: ` +
        'SailPoint does not support revoking your own access (a manager or ORG_ADMIN must request it)',
    ],
  ];

  it.each(cases)('dead-letters %s with the reason and records it as invalid', async (_name, body, reason) => {
    h = await startHarness();
    const [id] = await h.send(body);
    await h.drain();

    expect(await h.deadLetters()).toEqual([
      { body: typeof body === 'string' ? body : JSON.stringify(body), reason, sourceMessageId: id },
    ]);
    expect(h.allPosts()).toBe(0);
    const outcome = await h.outcome(id!);
    expect(outcome).toMatchObject({ status: 'invalid', reason, receiveCount: 1 });
  });

  it('fails only the message naming an unknown identity, not the valid message next to it', async () => {
    h = await startHarness();
    const [bad, good] = await h.send(
      grant([person(1), '00000000000000000000000000000bad'], [{ type: 'ROLE', id: role(1) }]),
      grant([person(2)], [{ type: 'ROLE', id: role(1) }]),
    );
    await h.drain();
    expect((await h.deadLetters()).map((d) => d.sourceMessageId)).toEqual([bad]);
    expect((await h.outcome(good!))?.status).toBe('submitted');
    // Nothing of the invalid message was submitted, not even its valid identity's unit.
    expect(h.sandbox.state.accessRequests.records.map((r) => r.requestedFor.id)).toEqual([person(2)]);
  });
});

describe('access provisioning: coalescing over the wire', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('submits 26 items for one identity (two messages, one batch) as 2 requests', async () => {
    h = await startHarness();
    const items = Array.from({ length: 26 }, (_, i) => ({ type: 'ROLE' as const, id: role(i + 1) }));
    await h.send(grant([person(1)], items.slice(0, 25)), grant([person(1)], items.slice(25)));
    await h.drain();

    expect(h.acceptedPosts()).toBe(2);
    expect(h.postedBodies.map((b) => [b.requestedFor, b.requestedItems.length])).toEqual([
      [[person(1)], 25],
      [[person(1)], 1],
    ]);
    expect(h.sandbox.state.accessRequests.records).toHaveLength(26);
    expect(h.accessOf(person(1))).toEqual(expect.arrayContaining(items.map((i) => i.id)));
  });

  it('accepts what the current spec allows: 30 roles in one message, 26 entitlements, a removeDate on an entitlement', async () => {
    h = await startHarness({ sandbox: { seed: testSeed(12, 30, 26) } });
    const roles = Array.from({ length: 30 }, (_, i) => ({ type: 'ROLE' as const, id: role(i + 1) }));
    const entitlements = Array.from({ length: 26 }, (_, i) => ({
      type: 'ENTITLEMENT' as const,
      id: entitlement(i + 1),
      ...(i === 0 ? { removeDate: '2099-01-01T00:00:00Z' } : {}),
    }));
    const [a, b] = await h.send(grant([person(1)], roles), grant([person(2)], entitlements));
    await h.drain();

    expect((await h.outcome(a!))?.status).toBe('submitted');
    expect((await h.outcome(b!))?.status).toBe('submitted');
    expect(await h.deadLetters()).toEqual([]);
    // Each request within the spec's limits: at most 25 entitlements (and our 25 items per request).
    for (const body of h.postedBodies) {
      expect(body.requestedItems.filter((i) => i.type === 'ENTITLEMENT').length).toBeLessThanOrEqual(25);
    }
    expect(h.acceptedPosts()).toBe(h.postedBodies.length);
    expect(h.accessOf(person(2))).toEqual(expect.arrayContaining(entitlements.map((e) => e.id)));
  });

  it('submits an entitlement for 11 recipients as 2 requests (10 + 1)', async () => {
    h = await startHarness();
    const people = Array.from({ length: 11 }, (_, i) => person(i + 1));
    await h.send(grant(people, [{ type: 'ENTITLEMENT', id: entitlement(1) }]));
    await h.drain();

    expect(h.acceptedPosts()).toBe(2);
    expect(h.sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests', status: 400 })).toBe(
      0,
    );
    expect(h.postedBodies.map((b) => b.requestedFor.length)).toEqual([10, 1]);
    for (const p of people) expect(h.accessOf(p)).toContain(entitlement(1));
  });

  it('coalesces one-identity messages for the same item into one multi-recipient request', async () => {
    h = await startHarness();
    const people = [1, 2, 3, 4, 5].map(person);
    await h.send(
      ...people.map((p) =>
        grant(
          [p],
          [
            { type: 'ROLE', id: role(9) },
            { type: 'ROLE', id: role(10) },
          ],
        ),
      ),
    );
    await h.drain();

    expect(h.acceptedPosts()).toBe(1);
    expect(h.postedBodies).toHaveLength(1);
    expect([...h.postedBodies[0]!.requestedFor].sort()).toEqual([...people].sort());
    expect(h.postedBodies[0]!.requestedItems.map((i) => i.id)).toEqual([role(9), role(10)]);
  });

  it('sends each REVOKE alone per identity, with at most one entitlement', async () => {
    h = await startHarness();
    for (const n of [1, 2]) {
      h.sandbox.state.identities
        .get(person(1))!
        .access.push({ id: entitlement(n), type: 'ENTITLEMENT', name: `e${n}` });
    }
    h.sandbox.state.identities
      .get(person(2))!
      .access.push({ id: entitlement(1), type: 'ENTITLEMENT', name: 'e1' });
    await h.send(
      revoke(person(1), [
        { type: 'ENTITLEMENT', id: entitlement(1) },
        { type: 'ENTITLEMENT', id: entitlement(2) },
      ]),
      revoke(person(2), [{ type: 'ENTITLEMENT', id: entitlement(1) }]),
    );
    await h.drain();
    expect(h.acceptedPosts()).toBe(3);
    expect(
      h.postedBodies.map((b) => [b.requestType, b.requestedFor, b.requestedItems.map((i) => i.id)]),
    ).toEqual(
      expect.arrayContaining([
        ['REVOKE_ACCESS', [person(1)], [entitlement(1)]],
        ['REVOKE_ACCESS', [person(1)], [entitlement(2)]],
        ['REVOKE_ACCESS', [person(2)], [entitlement(1)]],
      ]),
    );
    expect(h.accessOf(person(1))).toEqual([]);
    expect(h.accessOf(person(2))).toEqual([]);
  });
});
