/**
 * The scheduled re-check of deferred absences, over the wire: the real handler's second entry point
 * (`{"task": "recheck-deferred"}`), the sparse index on dynalite, the sandbox tenant, and HR events
 * through fauxqs racing it.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import type { DeferredRecheckSummary } from '../../../functions/absence-reassignment/recheck';
import type { ApiRequest } from '../../../functions/shared/sailpoint';
import { fakeContext } from '../../../local/queue-poller';
import {
  JULY,
  PEOPLE,
  absenceEvent,
  absenceHarness,
  switchableTransport,
  type AbsenceHarness,
} from './harness';

const { DEV, FARID, GRACE, HUGO } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];
const DECEMBER = { startDate: '2030-12-20T00:00:00.000Z', endDate: '2031-01-03T00:00:00.000Z' } as const;
const OCTOBER = { startDate: '2030-10-01T00:00:00.000Z', endDate: '2030-10-10T00:00:00.000Z' } as const;
const RECHECK = { task: 'recheck-deferred', trigger: 'schedule' } as const;
const CREATE = /^\/beta\/reassignment-configurations$/;

function allTo(to: string, window: { startDate: string; endDate: string | null }) {
  return Object.fromEntries(ALL_TYPES.map((type) => [type, { to, ...window }]));
}

describe('the scheduled re-check of deferred absences', () => {
  let h: AbsenceHarness;
  let transport: ReturnType<typeof switchableTransport>;
  /** DynamoDB commands the re-check sent, by name. */
  let commands: string[];

  beforeEach(async () => {
    transport = switchableTransport();
    h = await absenceHarness({ wrapTransport: transport.wrap });
    commands = [];
  });
  afterEach(() => h?.stop());

  /** Runs the re-check through the real handler, with a document client that records its commands. */
  function recheck(): Promise<DeferredRecheckSummary> {
    const doc = h.deps.doc;
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        commands.push(command.constructor.name);
        return doc.send(command as Parameters<typeof doc.send>[0]);
      },
    } as unknown as DynamoDBDocumentClient;
    const handler = createAbsenceReassignmentHandler({ ...h.deps, doc: counting });
    return handler(RECHECK, fakeContext('absence-reassignment'));
  }

  const setClock = (iso: string) => h.clock.advance(Date.parse(iso) - h.clock.now().getTime());
  const writes = () => commands.filter((c) => c !== 'GetCommand' && c !== 'QueryCommand');

  /** Farid: July to his manager Dev, then December to Grace (deferred: July holds the slots). */
  async function julyThenDecember() {
    await h.deliver(absenceEvent({ absenceId: 'july' }));
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...DECEMBER }));
    expect(await h.store.get(FARID, 'december')).toMatchObject({
      deferred: expect.stringMatching(/ACCESS_REQUESTS is held by absence july/),
      deferredUntil: JULY.endDate,
      version: 1,
    });
  }

  it('July ends → the re-check gives December its configurations; a second run finds nothing to do', async () => {
    await julyThenDecember();
    setClock(JULY.endDate); // the first instant July is over
    h.sandbox.requestLog.clear();

    const summary = await recheck();

    expect(summary).toMatchObject({
      due: 1,
      people: 1,
      slotsTaken: [{ identityId: FARID, absenceId: 'december', configTypes: ALL_TYPES }],
      stillWaiting: [],
      failed: [],
      leftForNextRun: 0,
      changes: { created: 0, updated: 3, deleted: 0 }, // July's ended configurations are replaced
    });
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
    // (after a 401: the sandbox's token expired while the clock jumped six weeks, and was renewed)
    expect(h.count('GET', /^\/beta\/reassignment-configurations\//, 200)).toBe(1);
    expect(h.count('PUT')).toBe(3);
    expect(h.count('POST', CREATE)).toBe(0);
    const december = await h.store.get(FARID, 'december');
    expect(december).toMatchObject({
      deferred: null,
      deferredUntil: null,
      version: 2,
      reconciledVersion: 2,
      decision: expect.stringMatching(/^re-check 2030-07-15T00:00:00.000Z: the slot it waited for is free/),
    });
    expect(Object.keys(december!.configurations).sort()).toEqual(ALL_TYPES);
    expect((await h.store.get(FARID, 'july'))!.configurations).toEqual({});
    expect(await h.store.listDeferredDue(new Date('2100-01-01T00:00:00Z'))).toEqual([]);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.deferred', 'absence.deferred-applied']);

    // A retried or repeated run: December left the index, so nothing is read from SailPoint or written.
    h.sandbox.requestLog.clear();
    commands = [];
    h.clock.advance(86_400_000);
    expect(await recheck()).toMatchObject({ due: 0, people: 0, slotsTaken: [], failed: [] });
    expect(h.sandbox.requestLog.count({})).toBe(0);
    expect(commands).toEqual(['QueryCommand']);
  });

  it('before the slot is free the re-check does nothing and writes nothing (one index query)', async () => {
    await julyThenDecember();
    const before = await h.store.listForIdentity(FARID);
    setClock('2030-07-14T23:59:59.999Z'); // July's last millisecond
    h.sandbox.requestLog.clear();

    expect(await recheck()).toMatchObject({ due: 0, people: 0, slotsTaken: [], failed: [] });

    expect(h.sandbox.requestLog.count({})).toBe(0);
    expect(commands).toEqual(['QueryCommand']);
    expect(await h.store.listForIdentity(FARID)).toEqual(before);
    expect(h.configurations(FARID)).toEqual(allTo(DEV, JULY));
  });

  it('behind an absence without an end date (it ends at MAX_ABSENCE_DAYS), a deferred one takes the slot when that maximum ends', async () => {
    await h.deliver(absenceEvent({ absenceId: 'open', endDate: null }));
    const capEnd = '2030-12-28T00:00:00.000Z'; // JULY's start + 180 days
    expect(await h.store.get(FARID, 'open')).toMatchObject({
      requestedEndDate: null,
      endDate: capEnd,
      endCapped: true,
    });
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...DECEMBER }));
    expect((await h.store.get(FARID, 'december'))?.deferredUntil).toBe(capEnd);

    setClock('2030-12-27T00:00:00.000Z');
    h.sandbox.requestLog.clear();
    expect(await recheck()).toMatchObject({ due: 0 });
    expect(h.sandbox.requestLog.count({})).toBe(0);
    expect(writes()).toEqual([]);

    setClock('2030-12-28T05:00:00.000Z');
    expect(await recheck()).toMatchObject({
      due: 1,
      slotsTaken: [{ identityId: FARID, absenceId: 'december', configTypes: ALL_TYPES }],
    });
    for (const config of Object.values(h.configurations(FARID))) {
      expect(config).toMatchObject({ to: GRACE, endDate: DECEMBER.endDate });
    }
  });

  it('three absences: October takes the slot when July ends and December waits on for October', async () => {
    await h.deliver(absenceEvent({ absenceId: 'july' }));
    await h.deliver(absenceEvent({ absenceId: 'october', delegateId: HUGO, ...OCTOBER }));
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...DECEMBER }));
    expect((await h.store.get(FARID, 'december'))?.deferredUntil).toBe(JULY.endDate);

    setClock('2030-07-16T05:00:00.000Z');
    expect(await recheck()).toMatchObject({
      due: 2,
      people: 1,
      slotsTaken: [{ absenceId: 'october', configTypes: ALL_TYPES }],
      stillWaiting: [{ identityId: FARID, absenceId: 'december' }],
    });
    expect(h.configurations(FARID)).toEqual(allTo(HUGO, OCTOBER));
    expect(await h.store.get(FARID, 'december')).toMatchObject({
      deferred: expect.stringMatching(/held by absence october/),
      deferredUntil: OCTOBER.endDate,
      version: 1, // waiting on is no decision: only its deferral moved on
    });

    setClock('2030-10-11T05:00:00.000Z');
    expect(await recheck()).toMatchObject({
      due: 1,
      slotsTaken: [{ absenceId: 'december', configTypes: ALL_TYPES }],
      stillWaiting: [],
    });
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
  });

  it('an event that frees the slot first takes December out of the index; the re-check then has nothing to do', async () => {
    await julyThenDecember();
    await h.deliver(absenceEvent({ absenceId: 'july', type: 'ABSENCE_CANCELLED' }));
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
    expect(await h.store.get(FARID, 'december')).toMatchObject({ deferred: null, deferredUntil: null });

    setClock(JULY.endDate);
    h.sandbox.requestLog.clear();
    expect(await recheck()).toMatchObject({ due: 0 });
    expect(h.sandbox.requestLog.count({})).toBe(0);
  });

  it('a re-check and a queue event of the same person at the same moment take turns: one set of configurations, no create race', async () => {
    await julyThenDecember();
    setClock('2030-07-15T05:00:00.000Z');
    // A tenant that dropped July's ended configurations: both sides find the slots empty.
    h.sandbox.state.reassignments.delete(FARID);
    h.sandbox.requestLog.clear();
    // Hold the first read of Farid's configurations until both sides have committed their decision
    // (the re-check's, then the event's or the other way round), so their reconciliations overlap.
    let reads = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const giveUp = setTimeout(release, 3000); // never hang the test
    transport.use((client) => ({
      async send<T>(request: ApiRequest<T>): Promise<T> {
        if (request.operation === 'getReassignmentConfiguration' && ++reads === 1) await held;
        return client.send(request);
      },
    }));

    // HR re-sends December unchanged (a new eventId) just as the schedule fires.
    await h.send(
      absenceEvent({ absenceId: 'december', type: 'ABSENCE_UPDATED', delegateId: GRACE, ...DECEMBER }),
    );
    const both = Promise.all([recheck(), h.drain()]);
    const deadline = Date.now() + 3000;
    while ((await h.store.get(FARID, 'december'))!.version < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const bothDecided = (await h.store.get(FARID, 'december'))!.version === 3;
    await new Promise((r) => setTimeout(r, 100)); // the second one is at the lease by now
    const readsWhileHeld = reads;
    release();
    clearTimeout(giveUp);
    const [summary] = await both;

    expect(bothDecided).toBe(true);
    expect(readsWhileHeld).toBe(1); // the second one waited for the first: it never read alongside
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
    expect(h.count('POST', CREATE, 201)).toBe(3); // one create per work type
    expect(h.count('POST', CREATE, 400)).toBe(0); // the second read after the first's creates: no race
    expect(summary.failed).toEqual([]);
    const december = await h.store.get(FARID, 'december');
    expect(december).toMatchObject({ deferred: null, deferredUntil: null });
    expect(december!.reconciledVersion).toBe(december!.version);
    expect(Object.keys(december!.configurations).sort()).toEqual(ALL_TYPES);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('a crash between the decision and the SailPoint calls is finished by the next run, without a second decision', async () => {
    await julyThenDecember();
    setClock('2030-07-15T05:00:00.000Z');
    transport.use(() => ({
      send() {
        throw new Error('Task timed out after 120.00 seconds');
      },
    }));

    await expect(recheck()).rejects.toThrow(
      /re-check at 2030-07-15T05:00:00.000Z: 1 of 1 people failed .*2c9180aa000000000000000000000006: Task timed out/,
    );
    const halfway = await h.store.get(FARID, 'december');
    expect(halfway).toMatchObject({ version: 2, reconciledVersion: 1, deferredUntil: JULY.endDate });
    expect(halfway!.decision).toMatch(/^re-check/);
    expect(h.configurations(FARID)).toEqual(allTo(DEV, JULY)); // nothing reached SailPoint

    transport.use(undefined);
    h.clock.advance(60_000); // Lambda's retry of the failed invocation, or the next day's run
    h.sandbox.requestLog.clear();
    expect(await recheck()).toMatchObject({
      due: 1,
      slotsTaken: [{ absenceId: 'december', configTypes: ALL_TYPES }],
      failed: [],
    });
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
    expect(h.count('PUT')).toBe(3);
    expect(await h.store.get(FARID, 'december')).toMatchObject({
      version: 2,
      reconciledVersion: 2,
      deferred: null,
    });
  });

  it('any other payload is refused with the reason', async () => {
    const context = fakeContext('absence-reassignment');
    const handler = createAbsenceReassignmentHandler(h.deps);
    await expect(handler({ task: 'sweep' } as never, context)).rejects.toThrow(
      /expected an SQS batch \(Records\) or \{"task": "recheck-deferred"\}: task: /,
    );
    await expect(handler({ task: 'recheck-deferred', dryRun: true } as never, context)).rejects.toThrow(
      /Unrecognized key: "dryRun"/,
    );
  });
});
