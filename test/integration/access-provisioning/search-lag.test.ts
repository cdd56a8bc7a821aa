/**
 * Issue #10, "Search is eventually consistent", over the wire with the sandbox's indexing lag (on by
 * default: Search shows every identity as it was 5 minutes ago on the sandbox clock):
 * - a joiner whose document is not indexed yet is retried with backoff, not dead-lettered, and
 *   submitted once Search knows it; an identity still unknown after the window is dead-lettered;
 * - a REVOKE is not skipped as "not held" on a document that predates the GRANT this deployment saw
 *   complete (a leaver keeps no access); a GRANT is not skipped as "already held" on a document that
 *   predates the REVOKE.
 */
import { grant, person, REQUESTER_ID, revoke, role, startHarness, type Harness } from './harness';

const MINUTE = 60_000;
const WINDOW = 20 * MINUTE;

describe('access provisioning: living with Search lag', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  /** One clock for the workflow and the sandbox (SQS keeps real time: messages are sent "now"). */
  function clockedHarness(maxReceiveCount = 5) {
    let now = Date.now();
    return {
      advance: (ms: number) => (now += ms),
      now: () => now,
      start: () =>
        startHarness({
          maxReceiveCount,
          clock: () => now,
          sandbox: { now: () => new Date(now) },
          settings: { unknownIdentityWindowMs: WINDOW },
        }),
    };
  }

  function addJoiner(id: string, createdAt: number) {
    h.sandbox.state.identities.set(id, {
      id,
      name: 'new.joiner',
      displayName: 'New Joiner',
      firstName: 'New',
      lastName: 'Joiner',
      email: 'new.joiner@example.com',
      managerId: REQUESTER_ID,
      inactive: false,
      status: 'ACTIVE',
      created: new Date(createdAt).toISOString(),
      attributes: {},
      access: [],
    });
  }

  it('retries a joiner Search does not show yet with backoff, and submits once it does', async () => {
    const clock = clockedHarness();
    h = await clock.start();
    const joiner = '7e5700000000000000000000000000aa';
    addJoiner(joiner, clock.now()); // in the system of record now, in Search 5 minutes later
    const [id] = await h.send(grant([joiner, person(1)], [{ type: 'ROLE', id: role(1) }]));

    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    expect(h.allPosts()).toBe(0); // nothing of the message, not even the known identity's unit
    const waiting = await h.outcome(id!);
    expect(waiting?.status).toBe('retrying');
    expect(waiting?.reason).toContain(`identity ${joiner} is not in SailPoint Search yet`);
    // Backoff: the 4 receives left span the rest of the 20-minute window (d + 2d + 4d + 8d).
    expect(h.retryDelays).toHaveLength(1);
    expect(h.retryDelays[0]).toBeGreaterThanOrEqual(WINDOW / 15 / 1000);
    expect(h.retryDelays[0]).toBeLessThan(WINDOW / 7 / 1000);
    expect(await h.deadLetters()).toEqual([]);

    clock.advance(6 * MINUTE); // Search has indexed the joiner
    await h.skipRetryDelays();
    await h.drain();
    expect((await h.outcome(id!))?.status).toBe('submitted');
    expect(h.accessOf(joiner)).toContain(role(1));
    expect(h.accessOf(person(1))).toContain(role(1));
  });

  it('dead-letters a message whose identity Search still does not know after the window', async () => {
    const clock = clockedHarness();
    h = await clock.start();
    const [id] = await h.send(grant(['7e5700000000000000000000000000ff'], [{ type: 'ROLE', id: role(2) }]));
    await h.pollOnce();
    expect(await h.deadLetters()).toEqual([]);

    clock.advance(WINDOW + MINUTE);
    await h.skipRetryDelays();
    await h.drain();
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([id]);
    expect(dead[0]!.reason).toMatch(
      /^invalid message: unknown identity 7e5700000000000000000000000000ff \(SailPoint Search has no such identity, 2[01] min after the message was sent\)$/,
    );
    expect(h.allPosts()).toBe(0);
  });

  it('submits a REVOKE that a document predating the GRANT it followed shows as not held', async () => {
    const clock = clockedHarness();
    h = await clock.start();
    const item = [{ type: 'ROLE' as const, id: role(3) }];
    await h.send(grant([person(3)], item));
    await h.drain();
    clock.advance(MINUTE); // approved and provisioned; Search shows it 5 minutes after that
    expect(h.accessOf(person(3))).toContain(role(3));

    const [leaver] = await h.send(revoke(person(3), item));
    await h.drain();
    const revoked = await h.outcome(leaver!);
    expect(revoked?.status).toBe('submitted');
    // The outcome says why it was not skipped, so an operator reading "submitted" is not puzzled.
    expect(revoked?.units[0]?.detail).toMatch(
      /\(Search does not show the access yet, but its document \(modified .+\) predates the change of this access completed at .+: Search lags, so it was not trusted to skip\)$/,
    );
    clock.advance(MINUTE);
    expect(h.accessOf(person(3))).not.toContain(role(3)); // the leaver keeps no access
  });

  it('submits a GRANT that a document predating the REVOKE it followed shows as held', async () => {
    const clock = clockedHarness();
    h = await clock.start();
    h.sandbox.state.identities
      .get(person(4))!
      .access.push({ id: role(4), type: 'ROLE', name: 'Test Role 4' });
    const item = [{ type: 'ROLE' as const, id: role(4) }];
    await h.send(revoke(person(4), item));
    await h.drain();
    clock.advance(MINUTE);
    expect(h.accessOf(person(4))).not.toContain(role(4));

    const [mover] = await h.send(grant([person(4)], item));
    await h.drain();
    const granted = await h.outcome(mover!);
    expect(granted?.status).toBe('submitted');
    expect(granted?.units[0]?.detail).toContain('(Search still shows the access, but its document');
    clock.advance(MINUTE);
    expect(h.accessOf(person(4))).toContain(role(4));
  });

  it('still skips once Search shows the change (a document newer than the latest change is trusted)', async () => {
    const clock = clockedHarness();
    h = await clock.start();
    const item = [{ type: 'ROLE' as const, id: role(5) }];
    await h.send(grant([person(5)], item));
    await h.drain();
    clock.advance(6 * MINUTE); // Search shows the grant now
    const [again] = await h.send(grant([person(5)], item, { clientMetadata: { ticket: 'T-2' } }));
    await h.drain();
    // Within the dedup window it is a duplicate anyway; outside it, Search's "held" decides.
    expect(['duplicate', 'already-held']).toContain((await h.outcome(again!))?.status);
    expect(h.acceptedPosts()).toBe(1);
  });
});
