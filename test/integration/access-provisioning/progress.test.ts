/**
 * Issue #9: progress in every invocation, whatever the batch. A batch is worked in send order, chunk
 * by chunk (read, POST, record), each chunk what the instance's budget can carry out before the
 * deadline; messages not reached go back as copies, not charged a failed attempt; the deadline
 * reaches every wait of the SailPoint client, so no invocation overruns it.
 */
import { grant, person, role, startHarness, testSeed, withRemainingTime, type Harness } from './harness';

describe('access provisioning: progress under the rate budget', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('submits the first chunk of a batch the budget cannot carry in one invocation, and the rest over the next ones, uncharged', async () => {
    // 60 messages, 60 identities, 60 roles: 60 POSTs and 12 Search calls (5 identities per call); the
    // instance may make 5 calls a second and each invocation has 8 s: about 40 calls per invocation.
    const MESSAGES = 60;
    h = await startHarness({
      maxReceiveCount: 2, // a message charged for every receive it was not reached in would be lost
      sandbox: { seed: testSeed(MESSAGES, MESSAGES), rateLimit: undefined },
      clientRateLimit: { maxRequests: 5, perMs: 1000 },
      settings: { requestsPer10s: 50, timeReserveMs: 1000, identitiesPerSearch: 5 },
    });
    const ids = await h.send(
      ...Array.from({ length: MESSAGES }, (_, i) =>
        grant([person(i + 1)], [{ type: 'ROLE', id: role(i + 1) }]),
      ),
    );
    const handler = withRemainingTime(h.handler, 8_000);

    const started = Date.now();
    const first = await h.pollOnce(handler, MESSAGES);
    const elapsed = Date.now() - started;
    expect(first.received).toBe(MESSAGES);
    const afterFirst = h.acceptedPosts();
    expect(afterFirst).toBeGreaterThan(0); // the first chunk went through in the first invocation
    expect(afterFirst).toBeLessThan(MESSAGES); // the budget could not carry the whole batch
    expect(elapsed).toBeLessThan(8_000); // and it ended before its deadline
    // The first chunk is the earliest-sent messages.
    expect((await h.outcome(ids[0]!))?.status).toBe('submitted');

    for (let i = 0; i < 10 && h.acceptedPosts() < MESSAGES; i++) await h.pollOnce(handler, MESSAGES);

    expect(h.acceptedPosts()).toBe(MESSAGES); // once each
    expect(await h.deadLetters()).toEqual([]);
    for (const id of ids) expect((await h.outcome(id))?.status).toBe('submitted');
    for (let i = 1; i <= MESSAGES; i++) expect(h.accessOf(person(i))).toContain(role(i));
    // Nothing left on the queue (the copies of messages not reached were all processed).
    expect(await h.pollOnce(handler, MESSAGES)).toEqual({ received: 0, failed: 0 });
  }, 60_000);

  it('ends an invocation whose call meets a long Retry-After before its deadline, returning the message uncharged', async () => {
    h = await startHarness({
      maxReceiveCount: 1,
      realSleep: true,
      clientAttempts: 3,
      settings: { timeReserveMs: 1000 },
    });
    h.sandbox.faults.inject({
      method: 'POST',
      path: '/beta/access-requests',
      status: 429,
      retryAfterSeconds: 30,
    });
    const [id] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));

    const started = Date.now();
    expect(await h.pollOnce(withRemainingTime(h.handler, 5_000))).toEqual({ received: 1, failed: 0 });
    expect(Date.now() - started).toBeLessThan(5_000); // not 30 s in Retry-After
    expect(h.allPosts()).toBe(1); // the retry did not fit before the deadline: not sent
    // Not dead-lettered although that was its last receive: it was put back as a copy, after the
    // Retry-After, not charged.
    expect(await h.deadLetters()).toEqual([]);
    expect(h.retryDelays).toEqual([]);
    expect(h.requeueDelays).toEqual([30]);
    await h.drain();
    expect((await h.outcome(id!))?.status).toBe('submitted');
    expect(h.acceptedPosts()).toBe(1);
  });

  it('reads the current access of more identities than one Search page holds, in several calls', async () => {
    h = await startHarness({ sandbox: { seed: testSeed(260, 2) } });
    // Every other identity already holds the role: skipped; the rest are granted it.
    for (let i = 2; i <= 260; i += 2) {
      h.sandbox.state.identities
        .get(person(i))!
        .access.push({ id: role(1), type: 'ROLE', name: 'Test Role 1' });
    }
    const ids = await h.send(
      ...Array.from({ length: 26 }, (_, m) =>
        grant(
          Array.from({ length: 10 }, (_, i) => person(m * 10 + i + 1)),
          [{ type: 'ROLE', id: role(1) }],
        ),
      ),
    );
    await h.pollOnce(h.handler, 26);

    expect(h.sandbox.requestLog.count({ method: 'POST', path: '/v3/search' })).toBe(2); // 250 + 10
    for (const id of ids) {
      const outcome = await h.outcome(id);
      expect(outcome?.units.map((u) => u.outcome).sort()).toEqual([
        ...Array(5).fill('already-held'),
        ...Array(5).fill('submitted'),
      ]);
    }
    for (let i = 1; i <= 260; i++) expect(h.accessOf(person(i))).toContain(role(1));
  });

  it('gives a requeued copy only the receives its message had left: a copy continues the message', async () => {
    h = await startHarness({ maxReceiveCount: 3 });
    h.sandbox.faults.inject({ method: 'POST', path: '/v3/search', status: 503, times: 2 });
    const [id] = await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    await h.pollOnce(); // receive 1: Search fails, charged
    await h.pollOnce(); // receive 2: again
    expect((await h.outcome(id!))?.receiveCount).toBe(2);

    await h.pollOnce(withRemainingTime(h.handler, 0)); // receive 3: not reached at all: requeued as a copy
    expect(h.requeueDelays).toEqual([0]);
    expect(await h.deadLetters()).toEqual([]);

    h.sandbox.faults.inject({ method: 'POST', path: '/v3/search', status: 503, times: 1 });
    await h.pollOnce(); // the copy: its third charged attempt, the last one
    const dead = await h.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(/^gave up after 3 attempts: .*POST \/v3\/search\) failed: HTTP 503/);
    const outcome = await h.outcome(id!); // one record for the message and its copy
    expect(outcome?.status).toBe('failed');
    expect(outcome?.history.map((e) => e.status)).toEqual(['retrying', 'retrying', 'failed']);
    expect(h.allPosts()).toBe(0);
  });
});
