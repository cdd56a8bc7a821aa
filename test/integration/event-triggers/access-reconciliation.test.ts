/**
 * The reconciliation of access events that never arrived, over the wire: the sandbox decides and emits,
 * but the events are held back (lost); the event-triggers function's scheduled entry point reads
 * /v3/access-request-status for the submitted units still without SailPoint's final word and records
 * it through the event handler's own path. Sandbox rate limit ON (100 requests / 10 s) and Search lag
 * on (the sandbox defaults); dynalite, fauxqs, the real access and event-triggers handlers.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { grant, person, revoke, role } from '../access-provisioning/harness';
import { HOUR, ofTrigger, withApprovals, type AccessEventsHarness } from './access-harness';

jest.setTimeout(90_000);

const DECISION = 'idn:access-request-post-approval';

let h: AccessEventsHarness;
afterEach(async () => h?.stop());

/** DynamoDB commands sent through `doc` while `work` runs, by name. */
async function dynamoCalls<T>(doc: DynamoDBDocumentClient, work: () => Promise<T>) {
  const calls: string[] = [];
  const name = `countCalls${Math.random()}`;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await work(), calls };
  } finally {
    doc.middlewareStack.remove(name);
  }
}

/** The clocks the test moves, with the sandbox's real-tenant rate limit on (100 requests / 10 s). */
const withClocks = (approvalMinutes: number, options: Parameters<typeof withApprovals>[1] = {}) =>
  withApprovals(approvalMinutes, { ...options, sandbox: { rateLimit: { limit: 100, windowMs: 10_000 } } });

describe('a rejection whose events never arrived', () => {
  it("is recorded with the approver's comment and notified once; a second run and the late real event change nothing", async () => {
    const { harness, decide, later } = await withClocks(5);
    h = harness;
    h.sandbox.state.accessRequests.decide = () => 'REJECTED';
    h.hold(); // lost: never delivered until the end of the test
    const [grantId] = await h.send(grant([person(3)], [{ type: 'ROLE', id: role(3) }]));
    await h.drain();
    decide();
    await h.deliverEvents();
    expect(h.total('accessDecisions')).toBe(0);
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint).toBeUndefined();

    // Within the grace period the events may still come: nothing is due, SailPoint is not asked.
    const early = await h.reconcile();
    expect(early).toMatchObject({ due: 0, statusCalls: 0 });
    expect(h.statusReads()).toBe(0);

    later(2 * HOUR);
    const run = await h.reconcile();
    expect(run).toMatchObject({
      due: 1,
      unitsChecked: 1,
      rejected: 1,
      stillPending: 0,
      settled: 1,
      findingsOpened: 1,
      statusCalls: 1, // one bulk read by the access request id the POST answered with
    });
    expect(h.statusReads()).toBe(1);

    const outcome = await h.outcome(grantId!);
    const record = h.sandbox.state.accessRequests.records[0]!;
    expect(outcome?.units[0]?.sailpoint).toMatchObject({
      state: 'rejected',
      accessRequestId: record.accessRequestId,
      comment: expect.stringContaining('Rejected by the sandbox approver'),
      approver: record.approver?.name,
    });
    expect(h.notifier.published).toHaveLength(1);
    expect(h.notifier.published[0]).toMatchObject({
      kind: 'access-request.rejected',
      subject: expect.stringContaining(`GRANT_ACCESS of ROLE ${role(3)} for ${person(3)}`),
    });
    const [finding] = await h.findings.list('access-request');
    expect(finding).toMatchObject({
      status: 'FLAGGED',
      reason: 'rejected',
      owner: { id: person(3) },
      facts: { messageId: grantId, comment: expect.stringContaining('Rejected') },
      version: 2, // opened, then its notification recorded as sent
    });

    // A second run: the outcome left the index; one Query, no SailPoint call.
    const { result: again, calls } = await dynamoCalls(h.doc, () => h.reconcile());
    expect(again).toMatchObject({ due: 0, statusCalls: 0, rejected: 0 });
    expect(calls).toEqual(['QueryCommand']);
    expect(h.statusReads()).toBe(1);

    // The real decision arrives after all (twice): nothing new.
    await h.release();
    await h.redeliver(ofTrigger(h.emitted, DECISION)[0]!);
    await h.deliverEvents();
    expect(h.total('accessDecisions')).toBe(2);
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint).toMatchObject({
      state: 'rejected',
      comment: expect.stringContaining('Rejected by the sandbox approver'),
    });
    expect(h.notifier.published).toHaveLength(1);
    expect(await h.findings.list('access-request')).toEqual([
      expect.objectContaining({ version: 2, status: 'FLAGGED' }),
    ]);
    expect(await h.triggerDeadLetters()).toEqual([]);
  });
});

describe('a provisioning whose events never arrived', () => {
  it('is recorded as provisioned, and a later REVOKE goes on that word without a status read of its own', async () => {
    const { harness, decide, later } = await withClocks(5);
    h = harness;
    h.hold();
    const [grantId] = await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    await h.drain();
    decide();
    later(2 * HOUR);
    const run = await h.reconcile();
    expect(run).toMatchObject({ due: 1, provisioned: 1, settled: 1, findingsOpened: 0, statusCalls: 1 });
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint).toMatchObject({
      state: 'provisioned',
      accessRequestId: h.sandbox.state.accessRequests.records[0]!.accessRequestId,
    });
    expect(h.notifier.published).toEqual([]);

    // The slot learnt it too: the REVOKE's GRANT/REVOKE rule decides from it (no read of its own).
    const [revokeId] = await h.send(revoke(person(1), [{ type: 'ROLE', id: role(1) }]));
    await h.drain();
    expect((await h.outcome(revokeId!))?.status).toBe('submitted');
    expect(h.statusReads()).toBe(1);
  });

  it('without request ids (the beta 202), reads per identity; a failed provisioning opens one finding', async () => {
    const { harness, decide, later } = await withClocks(5);
    h = harness;
    h.sandbox.state.accessRequests.responseBody = 'empty';
    h.sandbox.state.triggers.provisioningError = (r) =>
      r.item.id === role(8) ? 'Active Directory: connection refused' : null;
    h.hold();
    const [firstId] = await h.send(grant([person(7)], [{ type: 'ROLE', id: role(7) }]));
    const [secondId] = await h.send(grant([person(7)], [{ type: 'ROLE', id: role(8) }]));
    await h.drain();
    decide();
    later(2 * HOUR);
    const run = await h.reconcile();
    expect(run).toMatchObject({ due: 2, unitsChecked: 2, provisioned: 1, failed: 1, settled: 2 });
    expect(run.statusCalls).toBe(1); // one identity: one read of its requests since the first message
    expect((await h.outcome(firstId!))?.units[0]?.sailpoint?.state).toBe('provisioned');
    expect((await h.outcome(secondId!))?.units[0]?.sailpoint).toMatchObject({
      state: 'failed',
      errors: ['Active Directory: connection refused'],
    });
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['access-request.provisioning-failed']);
  });
});

describe('a run', () => {
  it('with every event delivered calls SailPoint 0 times, and with an empty index makes one Query', async () => {
    const { harness, decide, later } = await withClocks(5);
    h = harness;
    const [grantId] = await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    await h.drain();
    decide();
    await h.deliverEvents();
    expect((await h.outcome(grantId!))?.units[0]?.sailpoint?.state).toBe('provisioned');
    later(2 * HOUR);
    // The outcome is still listed (the events do not touch the index): read, found final, taken out.
    const first = await h.reconcile();
    expect(first).toMatchObject({ due: 1, unitsChecked: 0, settled: 1, statusCalls: 0 });
    const { result: second, calls } = await dynamoCalls(h.doc, () => h.reconcile());
    expect(second).toMatchObject({ due: 0, statusCalls: 0 });
    expect(calls).toEqual(['QueryCommand']);
    expect(h.statusReads()).toBe(0);
  });

  it('takes at most ACCESS_RECONCILE_MAX_MESSAGES outcomes and leaves a request still executing for a later run', async () => {
    const { harness, decide, later } = await withClocks(5, { reconcileMaxMessages: 1 });
    h = harness;
    h.hold();
    h.sandbox.state.accessRequests.decide = (r) => (r.item.id === role(4) ? 'REJECTED' : 'APPROVED');
    const [firstId] = await h.send(grant([person(4)], [{ type: 'ROLE', id: role(4) }]));
    await h.drain();
    decide(); // the first is decided; the second, sent later, is still waiting for its approver
    const [secondId] = await h.send(grant([person(5)], [{ type: 'ROLE', id: role(5) }]));
    await h.drain();
    later(2 * HOUR);

    const first = await h.reconcile();
    expect(first).toMatchObject({ due: 1, more: true, rejected: 1 });
    const second = await h.reconcile();
    expect(second).toMatchObject({ due: 1, more: false, stillPending: 1, settled: 0 });
    expect((await h.outcome(secondId!))?.units[0]?.sailpoint).toBeUndefined();
    // Moved to the back: not read again until a grace period later.
    expect(await h.reconcile()).toMatchObject({ due: 0, statusCalls: 0 });

    decide();
    later(2 * HOUR);
    expect(await h.reconcile()).toMatchObject({ due: 1, provisioned: 1, settled: 1 });
    expect((await h.outcome(secondId!))?.units[0]?.sailpoint?.state).toBe('provisioned');
    expect((await h.outcome(firstId!))?.units[0]?.sailpoint?.state).toBe('rejected');
    expect(h.notifier.published).toHaveLength(1);
  });
});
