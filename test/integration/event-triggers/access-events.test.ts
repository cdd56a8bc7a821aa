/**
 * Access Request Decision and Provisioning Completed over the wire: the sandbox decides and emits, the
 * local EventBridge routes with the stack's rules, the event-triggers handler records, and the access
 * handler's GRANT/REVOKE rule decides from what was recorded — without reading /access-request-status.
 * Rate limit off (the access harness's default: it would only slow these tests); Search lag on.
 */
import { ACCESS_DECISION_FILTER, provisioningFilter } from '../../../cli/commands/triggers';
import { createAccessRequest } from '../../../functions/shared/sailpoint/api/access-requests';
import { listTriggerSubscriptions } from '../../../functions/shared/sailpoint';
import { settleAccessRequests } from '../../../sandbox/sailpoint/access-requests';
import { grant, person, revoke, role } from '../access-provisioning/harness';
import { accessEventsHarness, ofTrigger, withApprovals, type AccessEventsHarness } from './access-harness';

jest.setTimeout(90_000);

const DECISION = 'idn:access-request-post-approval';
const PROVISIONING = 'idn:post-provisioning';

let h: AccessEventsHarness;
afterEach(async () => h?.stop());

describe('a decision event ends a GRANT/REVOKE wait', () => {
  it('closes a waiting REVOKE with no status read: the REVOKE goes once the GRANT is provisioned', async () => {
    const { harness, decide } = await withApprovals(10);
    h = harness;
    const [grantId] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    await h.drain();
    expect(h.acceptedPosts()).toBe(1);

    // The REVOKE finds the GRANT submitted and not finished: it waits for the events, reading nothing.
    const [revokeId] = await h.send(revoke(person(1), [{ type: 'ROLE', id: role(1) }]));
    await h.pollOnce();
    const waiting = await h.outcome(revokeId!);
    expect(waiting).toMatchObject({
      status: 'retrying',
      reason: expect.stringContaining('no decision event yet'),
    });
    expect(h.acceptedPosts()).toBe(1);

    decide();
    await h.deliverEvents();
    await h.skipRetryDelays();
    await h.drain();

    expect(h.acceptedPosts()).toBe(2);
    expect(h.sandbox.state.accessRequests.records.map((r) => r.requestType)).toEqual([
      'GRANT_ACCESS',
      'REVOKE_ACCESS',
    ]);
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
    expect(h.statusReads()).toBe(0);
    // The GRANT's outcome shows what SailPoint did with it.
    const granted = await h.outcome(grantId!);
    expect(granted?.units[0]?.sailpoint).toMatchObject({
      state: 'provisioned',
      accessRequestId: h.sandbox.state.accessRequests.records[0]!.accessRequestId,
    });
    expect(await h.triggerDeadLetters()).toEqual([]);
  });

  it('falls back to reading the status when no event came within ACCESS_EVENTS_WAIT_SECONDS', async () => {
    // Events configured, but they never reach the function (wait 0 s: the status is read at once).
    const { harness, decide } = await withApprovals(10, { eventWaitMs: 1 });
    h = harness;
    h.hold(); // never released: lost events
    await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    await h.drain();
    decide();
    await h.send(revoke(person(2), [{ type: 'ROLE', id: role(2) }]));
    await h.drain();
    expect(h.acceptedPosts()).toBe(2);
    expect(h.statusReads()).toBeGreaterThan(0);
  });
});

describe('a rejection', () => {
  it("is recorded in the outcome with the approver's comment and notified once across duplicate deliveries", async () => {
    const { harness, decide } = await withApprovals(5);
    h = harness;
    h.sandbox.state.accessRequests.decide = () => 'REJECTED';
    const [grantId] = await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));
    await h.drain();
    decide();
    await h.deliverEvents();
    const [decision] = ofTrigger(h.emitted, DECISION);
    expect(decision).toBeDefined();
    await h.redeliver(decision!);
    await h.redeliver(decision!);
    await h.deliverEvents();

    const outcome = await h.outcome(grantId!);
    expect(outcome?.units[0]?.sailpoint).toMatchObject({
      state: 'rejected',
      comment: expect.stringContaining('Rejected by the sandbox approver'),
      approver: expect.any(String),
    });
    expect(h.notifier.published).toHaveLength(1);
    expect(h.notifier.published[0]).toMatchObject({
      kind: 'access-request.rejected',
      subject: expect.stringContaining(`GRANT_ACCESS of ROLE ${role(3)} for ${person(3)}`),
    });
    const findings = await h.findings.list('access-request');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      status: 'FLAGGED',
      reason: 'rejected',
      owner: { id: person(3) },
      facts: { messageId: grantId, comment: expect.stringContaining('Rejected') },
      version: 2, // opened, then its notification recorded as sent; the duplicates wrote nothing
    });
    expect(h.total('accessDecisions')).toBe(3);
    expect(h.total('accessFindingsOpened')).toBe(1);
    expect(h.statusReads()).toBe(0);
  });

  it('lets a later REVOKE go as "not held" without a status read', async () => {
    const { harness, decide } = await withApprovals(5);
    h = harness;
    h.sandbox.state.accessRequests.decide = () => 'REJECTED';
    await h.send(grant([person(4)], [{ type: 'ROLE', id: role(4) }]));
    await h.drain();
    decide();
    await h.deliverEvents();
    const [revokeId] = await h.send(revoke(person(4), [{ type: 'ROLE', id: role(4) }]));
    await h.drain();
    expect((await h.outcome(revokeId!))?.status).toBe('not-held');
    expect(h.acceptedPosts()).toBe(1);
    expect(h.statusReads()).toBe(0);
  });
});

describe('a provisioning failure', () => {
  it('is recorded as failed with the error, opens a finding and notifies once across duplicates', async () => {
    const { harness, decide } = await withApprovals(5);
    h = harness;
    h.sandbox.state.triggers.provisioningError = () => 'Active Directory: connection refused';
    const [grantId] = await h.send(grant([person(7)], [{ type: 'ROLE', id: role(7) }]));
    await h.drain();
    decide();
    await h.deliverEvents();
    await h.redeliver(ofTrigger(h.emitted, PROVISIONING)[0]!);
    await h.deliverEvents();

    expect((await h.outcome(grantId!))?.units[0]?.sailpoint).toMatchObject({
      state: 'failed',
      errors: ['Active Directory: connection refused'],
    });
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['access-request.provisioning-failed']);
    const [finding] = await h.findings.list('access-request');
    expect(finding).toMatchObject({
      status: 'FLAGGED',
      reason: 'provisioning failed',
      owner: { id: person(7) },
    });
    expect(h.total('provisioningResults')).toBe(2);
  });
});

describe('events in any order', () => {
  it("applies an event that arrives before the POST's own record once that record is written", async () => {
    // The approval is instant and the events are handled while the access handler still waits for
    // its POST's answer: the slot is only claimed then, the outcome not written yet.
    let h2: AccessEventsHarness | undefined;
    const racing: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/beta/access-requests') && init?.method === 'POST' && h2) {
        settleAccessRequests(h2.sandbox.state, new Date());
        await h2.deliverEvents();
      }
      return response;
    };
    h = h2 = await accessEventsHarness({ fetch: racing });
    const [grantId] = await h.send(grant([person(5)], [{ type: 'ROLE', id: role(5) }]));
    await h.drain();
    expect(h.total('accessDecisions')).toBe(1); // handled before the GRANT's record existed
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint?.state).toBe('provisioned');

    const [revokeId] = await h.send(revoke(person(5), [{ type: 'ROLE', id: role(5) }]));
    await h.drain();
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
    expect(h.statusReads()).toBe(0);
  });

  it('takes Provisioning Completed before its decision (no request ids known), and a late decision does not undo it', async () => {
    // The beta page's empty 202: the slot does not know its access request id, so Provisioning
    // Completed (which names only the request and the identity) waits for the decision naming the item.
    const { harness, decide } = await withApprovals(5);
    h = harness;
    h.sandbox.state.accessRequests.responseBody = 'empty';
    const [grantId] = await h.send(grant([person(6)], [{ type: 'ROLE', id: role(6) }]));
    await h.drain();
    h.hold();
    decide();
    await h.sandbox.state.triggers.settled();
    await h.release((held) => [...ofTrigger(held, PROVISIONING), ...ofTrigger(held, DECISION)]);
    await h.deliverEvents();
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint?.state).toBe('provisioned');

    // The decision again, late: still provisioned (the state is read from the set of events).
    await h.redeliver(ofTrigger(h.emitted, DECISION)[0]!);
    await h.deliverEvents();
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint?.state).toBe('provisioned');

    const [revokeId] = await h.send(revoke(person(6), [{ type: 'ROLE', id: role(6) }]));
    await h.drain();
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
    expect(h.statusReads()).toBe(0);
  });
});

describe('the recommended subscription filters (iga triggers subscribe --requester)', () => {
  it('send the decisions on items of ours and the provisioning we requested, not the rest of the tenant', async () => {
    const { harness, decide } = await withApprovals(5);
    h = harness;
    const me = (await h.client.tokenInfo()).identityId!;
    const filters = (await listTriggerSubscriptions(h.client)).map((s) => [s.triggerId, s.filter]);
    expect(Object.fromEntries(filters)).toEqual({
      [DECISION]: ACCESS_DECISION_FILTER,
      [PROVISIONING]: provisioningFilter(me),
    });
    const [grantId] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    await h.drain();
    // Someone else's request through the same tenant: no item marker.
    await createAccessRequest(h.client, {
      requestedFor: [person(2)],
      requestType: 'GRANT_ACCESS',
      requestedItems: [{ type: 'ROLE', id: role(2) }],
    });
    const [ours, theirs] = h.sandbox.state.accessRequests.records.map((r) => r.accessRequestId);
    decide();
    await h.deliverEvents();
    const decisions = ofTrigger(h.emitted, DECISION).map((e) => e.detail.accessRequestId);
    expect(decisions).toEqual([ours]);
    expect(decisions).not.toContain(theirs);
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint?.state).toBe('provisioned');
    // Provisioning Completed of the other request: requested by the same identity here, so sent (and
    // recorded nowhere: no slot of ours knows it).
    expect(ofTrigger(h.emitted, PROVISIONING)).toHaveLength(2);
  });
});

describe('an access event that does not fit', () => {
  it('goes to the DLQ with the reason', async () => {
    h = await accessEventsHarness();
    await h.putRaw(
      JSON.stringify({
        version: '0',
        id: 'evt-1',
        'detail-type': DECISION,
        source: h.sources.accessRequestDecision,
        account: '123456789012',
        time: '2030-06-01T12:00:00Z',
        region: 'eu-central-1',
        resources: [],
        detail: { requestedFor: [], requestedItemsStatus: [{ id: role(1) }] },
      }),
    );
    await h.deliverEvents();
    const [dead] = await h.triggerDeadLetters();
    expect(dead?.reason).toMatch(/^invalid idn:access-request-post-approval event evt-1: /);
    expect(dead?.reason).toContain('detail.accessRequestId: is required');
    expect(dead?.reason).toContain('detail.requestedFor');
  });
});
