/**
 * Issue #10, defect 4: receives are not wasted and valid messages are not dead-lettered for want of
 * them. After a POST whose outcome is unknown, the retry comes no earlier than reconciliation can
 * decide (STATUS_SETTLE_SECONDS after the POST); a message dead-lettered while holding a claim hands
 * it over at once, so a duplicate does not wait for the claim's lease.
 */
import { grant, person, role, startHarness, type Harness } from './harness';

const SETTLE_MS = 60_000;

describe('access provisioning: retry timing and claims of dead letters', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('retries a message whose POST outcome is unknown only once reconciliation can decide', async () => {
    let now = Date.now();
    h = await startHarness({
      clock: () => now,
      settings: { statusSettleMs: SETTLE_MS, transientRetrySeconds: 30 },
    });
    h.sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503, times: 1 });
    const [id] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    expect(h.retryDelays).toHaveLength(1);
    expect(h.retryDelays[0]).toBeGreaterThanOrEqual(SETTLE_MS / 1000);

    now += h.retryDelays[0]! * 1000; // the retry, no earlier than asked
    await h.skipRetryDelays();
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 0 }); // decided on this receive
    expect((await h.outcome(id!))?.status).toBe('submitted');
    expect(h.acceptedPosts()).toBe(1);
  });

  it('hands the claim of a dead-lettered message over at once: a duplicate does not wait for its lease', async () => {
    let now = Date.now();
    h = await startHarness({
      maxReceiveCount: 2,
      clock: () => now,
      settings: { statusSettleMs: SETTLE_MS, claimLeaseMs: 15 * 60_000 },
    });
    // Both POSTs of the first message fail before SailPoint takes them; on its last receive it cannot
    // learn that (SailPoint may not list a request it took for STATUS_SETTLE_SECONDS).
    h.sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503, times: 2 });
    const body = grant([person(2)], [{ type: 'ROLE', id: role(2) }]);
    const [first] = await h.send(body);
    await h.pollOnce();
    now += SETTLE_MS + 1000;
    await h.skipRetryDelays();
    await h.pollOnce(); // reconciles (not taken), POSTs again: 503 again, on its last receive
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId)).toEqual([first]);
    expect(dead[0]!.reason).toContain('may have reached SailPoint');

    const [duplicate] = await h.send(body);
    await h.pollOnce(); // takes the claim over at once and reconciles: not listed yet
    expect((await h.outcome(duplicate!))?.reason).toContain('is not listed yet');

    now += SETTLE_MS + 1000; // well within the dead message's lease of 15 minutes
    await h.skipRetryDelays();
    await h.pollOnce();
    expect((await h.outcome(duplicate!))?.status).toBe('submitted');
    expect(h.acceptedPosts()).toBe(1);
    expect(h.accessOf(person(2))).toContain(role(2));
  });

  it('reconciles at once on the last receive, so a request SailPoint took is never dead-lettered', async () => {
    let dropped = 0;
    const dropAfterAccepted: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/beta/access-requests') && init?.method === 'POST' && dropped++ === 0) {
        await response.text();
        throw new TypeError('fetch failed'); // SailPoint has it; the answer is lost
      }
      return response;
    };
    h = await startHarness({
      maxReceiveCount: 1,
      fetch: dropAfterAccepted,
      settings: { statusSettleMs: SETTLE_MS },
    });
    const [id] = await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 0 });

    expect(await h.deadLetters()).toEqual([]);
    const outcome = await h.outcome(id!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units[0]!.detail).toContain("found in SailPoint's access request status");
    expect(h.allPosts()).toBe(1);
  });
});
