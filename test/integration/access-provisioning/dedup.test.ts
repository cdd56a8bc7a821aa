/**
 * Duplicates cost no SailPoint call: exact duplicates in one batch, across batches, and across two
 * concurrent invocations; access already held / not held is skipped; outcomes can be looked up.
 */
import { grant, person, revoke, role, startHarness, type Harness } from './harness';

describe('access provisioning: duplicates and current access', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('submits an exact duplicate in the same batch once and records both outcomes', async () => {
    h = await startHarness();
    const body = grant([person(1)], [{ type: 'ROLE', id: role(1) }], { requestId: 'REQ-1' });
    const [first, second] = await h.send(body, body);
    await h.drain();

    expect(h.acceptedPosts()).toBe(1);
    expect(h.allPosts()).toBe(1);
    expect(h.accessOf(person(1))).toContain(role(1)); // approved by the sandbox
    const outcomes = await h.store.outcomesOfRequest('REQ-1');
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'submitted']);
    const submitted = outcomes.find((o) => o.status === 'submitted')!;
    expect([first, second]).toContain(submitted.messageId);
    expect(submitted.units).toEqual([
      expect.objectContaining({
        outcome: 'submitted',
        identityId: person(1),
        itemId: role(1),
        accessRequestIds: [expect.stringMatching(/^[0-9a-f]{32}$/)],
      }),
    ]);
    const duplicate = outcomes.find((o) => o.status === 'duplicate')!;
    expect(duplicate.units[0]!.detail).toContain(`submitted for message ${submitted.messageId}`);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('suppresses a duplicate that arrives in a later batch, within the window', async () => {
    h = await startHarness();
    const body = grant([person(1)], [{ type: 'ROLE', id: role(1) }]);
    const [first] = await h.send(body);
    await h.drain();
    const [second] = await h.send(body);
    const callsBefore = h.sandbox.requestLog.count({ path: /^\/(beta|v3)\// });
    await h.drain();

    expect(h.acceptedPosts()).toBe(1);
    // The duplicate cost no SailPoint call at all (not even a Search or status read).
    expect(h.sandbox.requestLog.count({ path: /^\/(beta|v3)\// })).toBe(callsBefore);
    expect((await h.outcome(first!))?.status).toBe('submitted');
    const dup = await h.outcome(second!);
    expect(dup?.status).toBe('duplicate');
    expect(dup?.units[0]!.detail).toMatch(
      new RegExp(`already submitted at .* by message ${first}; duplicates are suppressed until`),
    );
  });

  it('lets the same GRANT through the dedup window once it has passed (expiry decided by time, not TTL)', async () => {
    let now = Date.now();
    h = await startHarness({ clock: () => now, settings: { dedupWindowMs: 3_600_000 } });
    const body = grant([person(6)], [{ type: 'ROLE', id: role(6) }]);
    await h.send(body);
    await h.drain();
    expect(h.accessOf(person(6))).toContain(role(6)); // approved
    h.sandbox.state.identities.get(person(6))!.access = []; // and removed outside this workflow meanwhile

    now += 3_599_000;
    const [within] = await h.send(body);
    await h.drain();
    expect((await h.outcome(within!))?.status).toBe('duplicate');

    now += 2_000; // the window is over; the item is still in the table (dynalite never deletes by TTL)
    const [after] = await h.send(body);
    await h.drain();
    expect((await h.outcome(after!))?.status).toBe('submitted');
    expect(h.acceptedPosts()).toBe(2);
  });

  it('submits once when two invocations get the same unit at the same time', async () => {
    // A barrier on the state read: the first two reads (one per invocation) are held until both have
    // arrived, so both invocations see "nothing claimed" and both try to claim.
    let conditionalFailures = 0;
    let reads = 0;
    let releaseReads!: () => void;
    const bothRead = new Promise<void>((resolve) => (releaseReads = resolve));
    h = await startHarness({
      wrapDoc: (doc) => {
        doc.middlewareStack.add(
          (next, context) => async (args) => {
            if (/^BatchGet(Item)?Command$/.test(context.commandName ?? '') && ++reads <= 2) {
              if (reads === 2) releaseReads();
              await Promise.race([bothRead, new Promise((r) => setTimeout(r, 5_000))]);
            }
            try {
              return await next(args);
            } catch (error) {
              if ((error as Error).name === 'ConditionalCheckFailedException') conditionalFailures++;
              throw error;
            }
          },
          { step: 'initialize' },
        );
        return doc;
      },
    });
    const body = grant([person(2)], [{ type: 'ROLE', id: role(2) }]);
    const [a, b] = await h.send(body, body);
    const one = h.newInstance();
    const two = h.newInstance();
    const results = await Promise.all([h.pollOnce(one.handler, 1), h.pollOnce(two.handler, 1)]);

    expect(results.map((r) => r.received)).toEqual([1, 1]); // really one message each
    expect(reads).toBeGreaterThanOrEqual(3); // both read before either wrote; the loser read again
    expect(conditionalFailures).toBe(1); // the race happened and exactly one lost it
    expect(h.acceptedPosts()).toBe(1);
    // The loser found the unit in flight: not acknowledged while the winner's outcome is unknown —
    // retried, or, if the winner had submitted by the time the loser looked again, a duplicate.
    const statuses = [(await h.outcome(a!))?.status, (await h.outcome(b!))?.status].sort();
    expect([
      ['retrying', 'submitted'],
      ['duplicate', 'submitted'],
    ]).toContainEqual(statuses);
    await h.drain();
    expect(h.acceptedPosts()).toBe(1);
    const settled = [(await h.outcome(a!))?.status, (await h.outcome(b!))?.status].sort();
    expect(settled).toEqual(['duplicate', 'submitted']);
  });

  it('skips a GRANT of access already held, recording why', async () => {
    h = await startHarness();
    h.sandbox.state.identities
      .get(person(3))!
      .access.push({ id: role(3), type: 'ROLE', name: 'Test Role 3' });
    const [id] = await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));
    await h.drain();

    expect(h.allPosts()).toBe(0);
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('already-held');
    expect(outcome?.units[0]!.detail).toBe(`skipped: identity ${person(3)} already holds ROLE ${role(3)}`);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('skips a REVOKE of access not held, and lets a later GRANT of it through', async () => {
    h = await startHarness();
    const [id] = await h.send(revoke(person(4), [{ type: 'ROLE', id: role(4) }]));
    await h.drain();
    expect(h.allPosts()).toBe(0);
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('not-held');
    expect(outcome?.units[0]!.detail).toBe(`skipped: identity ${person(4)} does not hold ROLE ${role(4)}`);

    // A skipped unit does not hold the dedup window.
    await h.send(grant([person(4)], [{ type: 'ROLE', id: role(4) }]));
    await h.drain();
    expect(h.acceptedPosts()).toBe(1);
  });

  it('handles a message whose units end differently: submitted, already held and duplicate', async () => {
    h = await startHarness();
    h.sandbox.state.identities
      .get(person(5))!
      .access.push({ id: role(6), type: 'ROLE', name: 'Test Role 6' });
    const [first] = await h.send(grant([person(5)], [{ type: 'ROLE', id: role(5) }]));
    await h.drain();
    const [mixed] = await h.send(
      grant(
        [person(5)],
        [
          { type: 'ROLE', id: role(5) },
          { type: 'ROLE', id: role(6) },
          { type: 'ROLE', id: role(7) },
        ],
      ),
    );
    await h.drain();

    expect(h.acceptedPosts()).toBe(2);
    const outcome = await h.outcome(mixed!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units.map((u) => [u.itemId, u.outcome])).toEqual([
      [role(5), 'duplicate'],
      [role(6), 'already-held'],
      [role(7), 'submitted'],
    ]);
    expect(first).toBeDefined();
  });
});
