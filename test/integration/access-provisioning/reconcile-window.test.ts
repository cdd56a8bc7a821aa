/**
 * Issue #10, defect 1: reconciliation never takes an older request of the same access for this
 * attempt. GRANT A → REVOKE B → GRANT C of the same access: when C's first POST fails before
 * SailPoint took it, C's retry must not find A's request (created minutes earlier, within the
 * clock-skew allowance) and call C "submitted by an earlier attempt" — the access would stay revoked.
 */
import { grant, person, revoke, role, startHarness, type Harness } from './harness';

describe('access provisioning: reconciliation after an opposite request', () => {
  let h: Harness;
  afterEach(async () => h?.stop());

  it('does not match a retry to a request older than the latest opposite submission of the same access', async () => {
    h = await startHarness();
    const item = [{ type: 'ROLE' as const, id: role(1) }];
    await h.send(grant([person(1)], item, { requestId: 'A' }));
    await h.drain();
    await h.send(revoke(person(1), item, { requestId: 'B' }));
    await h.drain();
    expect(h.accessOf(person(1))).not.toContain(role(1)); // A granted it, B took it away

    // C's first POST fails before SailPoint takes it (the client cannot tell: outcome unknown).
    h.sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 503, times: 1 });
    const [c] = await h.send(grant([person(1)], item, { requestId: 'C' }));
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    await h.drain();

    const outcome = await h.outcome(c!);
    expect(outcome?.status).toBe('submitted');
    expect(outcome?.units[0]!.detail).toMatch(/^submitted to SailPoint at /);
    expect(h.sandbox.state.accessRequests.records.map((r) => r.requestType)).toEqual([
      'GRANT_ACCESS',
      'REVOKE_ACCESS',
      'GRANT_ACCESS',
    ]);
    expect(h.accessOf(person(1))).toContain(role(1)); // the latest intent wins
  });
});
