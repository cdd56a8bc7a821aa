/**
 * Identity Deleted closes the identity's open findings (once, across re-deliveries); `iga triggers
 * subscribe` is idempotent and sets the recommended filters. Over the wire.
 */
import { STALE_TOKEN_FINDINGS_SOURCE } from './fixtures';
import { changeIdentityAttributes, deleteIdentity } from '../../../sandbox/events/emit';
import { run } from '../../../cli/main';
import { AWS, DEV, FARID, triggerHarness } from './harness';

jest.setTimeout(60_000);

type Harness = Awaited<ReturnType<typeof triggerHarness>>;
let h: Harness;
afterEach(async () => h?.stop());

/** HR puts Farid (manager: Dev) on leave in July; the absence and its configurations follow. */
async function faridOnLeave() {
  changeIdentityAttributes(
    h.sandbox.state,
    FARID,
    { leaveStatus: 'LOA', leaveStart: '2030-07-01', leaveEnd: '2030-07-14' },
    h.clock.now(),
  );
  await h.settle();
}

describe('Identity Deleted', () => {
  it("closes the identity's open findings with that reason, once across duplicate deliveries", async () => {
    h = await triggerHarness();
    const now = h.clock.now();
    await h.findings.reconcile(
      STALE_TOKEN_FINDINGS_SOURCE,
      [
        { subjectId: 'token-farid', status: 'FLAGGED', reason: 'stale', owner: { id: FARID } },
        {
          subjectId: 'token-dev',
          status: 'WARNED',
          reason: 'stale',
          owner: { id: '2c9180aa000000000000000000000004' },
        },
      ],
      { now, runId: 'sweep-1' },
    );
    const [deleted] = deleteIdentity(h.sandbox.state, FARID, now);
    await h.settle();
    await h.redeliver(deleted!);
    await h.settle();

    const findings = new Map(
      (await h.findings.list(STALE_TOKEN_FINDINGS_SOURCE)).map((f) => [f.subjectId, f]),
    );
    expect(findings.get('token-farid')).toMatchObject({
      status: 'RESOLVED',
      reason: 'identity deleted',
      version: 2,
    });
    expect(findings.get('token-dev')).toMatchObject({ status: 'WARNED', version: 1 });
    expect(h.total('findingsClosed')).toBe(1);
    expect(h.total('identitiesDeleted')).toBe(2);
  });

  it("cancels the identity's active absences through the absence queue, once", async () => {
    h = await triggerHarness();
    await faridOnLeave();
    expect(Object.keys(h.configurations(FARID))).toHaveLength(3);

    h.clock.advance(60_000);
    const [deleted] = deleteIdentity(h.sandbox.state, FARID, h.clock.now());
    await h.settle();
    await h.redeliver(deleted!);
    await h.settle();

    const [absence] = await h.absenceStore.listForIdentity(FARID);
    expect(absence).toMatchObject({
      status: 'CANCELLED',
      lastEventId: `identity-deleted-${absence!.absenceId}`,
    });
    expect(h.total('absencesCancelled')).toBe(1); // the re-delivery found it cancelled already
    expect(await h.triggerDeadLetters()).toEqual([]);
    expect(await h.absenceDeadLetters()).toEqual([]);
  });
});

const BEN = '2c9180aa000000000000000000000002';

describe('Identity Deleted: absences delegating to the deleted identity', () => {
  it('are made due for a re-plan, once, and the re-check moves their configurations to another delegate', async () => {
    h = await triggerHarness();
    // Farid (manager: Dev) goes on leave: his work goes to Dev.
    await faridOnLeave();
    const before = Object.values(h.configurations(FARID));
    expect(before).toHaveLength(3);
    expect(before.every((c) => c.to === DEV)).toBe(true);

    h.clock.advance(60_000);
    const [deleted] = deleteIdentity(h.sandbox.state, DEV, h.clock.now());
    await h.settle();
    await h.redeliver(deleted!);
    await h.settle();
    expect(h.total('absencesReplanned')).toBe(1); // the re-delivery found it due already
    const [absence] = await h.absenceStore.listForIdentity(FARID);
    expect(absence?.replanAt).not.toBeNull();

    // Dev's reports get a new manager (Ben, Dev's own manager) before the absence's next re-check.
    h.sandbox.state.identities.get(FARID)!.managerId = BEN;
    const summary = await h.recheck();
    expect(summary).toMatchObject({ replanned: [{ identityId: FARID, absenceId: absence!.absenceId }] });
    const after = Object.values(h.configurations(FARID));
    expect(after).toHaveLength(3);
    expect(after.every((c) => c.to === BEN)).toBe(true);
    const [replanned] = await h.absenceStore.listForIdentity(FARID);
    expect(replanned).toMatchObject({ delegateId: BEN, replanAt: null });
  });
});

describe('iga triggers subscribe', () => {
  it('creates the EVENTBRIDGE subscriptions once, with the recommended filter, and prints the sources', async () => {
    h = await triggerHarness(); // subscribed once already by the harness (the same code)
    const before = [...h.sandbox.state.triggers.subscriptions.values()];
    expect(before.map((s) => [s.triggerId, s.type, s.eventBridgeConfig, s.filter])).toEqual([
      [
        'idn:identity-attributes-changed',
        'EVENTBRIDGE',
        AWS,
        '$.changes[?(@.attribute == "leaveStatus" || @.attribute == "leaveStart" || @.attribute == "leaveEnd")]',
      ],
      ['idn:identity-deleted', 'EVENTBRIDGE', AWS, undefined],
    ]);

    // The command itself, twice, against the same tenant: nothing new.
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    const env = {
      IGA_LOCAL_STATE: '',
      SAILPOINT_API_URL: h.sandbox.url,
      SAILPOINT_CLIENT_ID: 'sandbox-pat-client',
      SAILPOINT_CLIENT_SECRET: 'sandbox-pat-secret',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const args = [
        'triggers',
        'subscribe',
        '--aws-account',
        AWS.awsAccount,
        '--aws-region',
        AWS.awsRegion,
        '--absence-mapping',
        '{"status":{"attribute":"leaveStatus","onLeave":["LOA"]},"startDate":"leaveStart","endDate":"leaveEnd"}',
        // The triggers the harness subscribed to (the default is every handled trigger).
        '--triggers',
        'identityAttributesChanged,identityDeleted',
        '--json',
      ];
      expect(await run(args, io, { env })).toBe(0);
      const results = JSON.parse(out.join('')) as { trigger: string; status: string; source: string }[];
      expect(results.map((r) => [r.trigger, r.status])).toEqual([
        ['identityAttributesChanged', 'exists'],
        ['identityDeleted', 'exists'],
      ]);
      expect(results.map((r) => r.source)).toEqual([
        h.sources.identityAttributesChanged,
        h.sources.identityDeleted,
      ]);
    } finally {
      process.env = saved;
    }
    expect(h.sandbox.state.triggers.subscriptions.size).toBe(2);
    expect(h.sandbox.requestLog.count({ method: 'POST', path: '/beta/trigger-subscriptions' })).toBe(2);
  });
});
