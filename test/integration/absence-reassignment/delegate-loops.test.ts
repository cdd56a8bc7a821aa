/**
 * Issue #11, absence reassignment, over the wire (sandbox tenant with SailPoint's loop check,
 * dynalite, fauxqs): people covering for each other, decisions made at the same moment, SailPoint's
 * loop refusal feeding the delegate chain, re-plans when the other side changes or ends, absences
 * keyed by person and absenceId, and the documented fallback for an absent delegate.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fakeContext } from '../../../local/queue-poller';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { ANY_DELEGATE } from '../../../functions/absence-reassignment/delegate-policy';
import type { SandboxReassignment } from '../../../sandbox/state';
import { JULY, PEOPLE, absenceEvent, absenceHarness, type AbsenceHarness } from './harness';

const { BEN, DEV, FARID, GRACE, HUGO } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];

function allTo(to: string, window: { startDate: string; endDate: string | null } = JULY) {
  return Object.fromEntries(ALL_TYPES.map((type) => [type, { to, ...window }]));
}

/**
 * Holds the first `parties` decision writes (PutItem of an absence) until all of them arrived, so
 * each decision is made before the other is committed — the race of two Lambda instances.
 */
function decisionsAtTheSameMoment(parties: number) {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  const giveUp = setTimeout(release, 5000); // never hang a test
  return (doc: DynamoDBDocumentClient): DynamoDBDocumentClient =>
    new Proxy(doc, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { constructor: { name: string }; input: { Item?: { sk?: string } } }) => {
          const isDecision =
            command.constructor.name === 'PutCommand' && command.input.Item?.sk?.startsWith('ABSENCE#');
          if (isDecision && arrived < parties) {
            arrived++;
            if (arrived === parties) {
              clearTimeout(giveUp);
              release();
            }
            await all;
          }
          return target.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
        };
      },
    });
}

/** No person's configuration of a type goes to someone whose configuration of that type comes back. */
function expectNoLoops(h: AbsenceHarness) {
  for (const [from, configs] of h.sandbox.state.reassignments) {
    for (const [type, config] of configs) {
      expect(h.sandbox.state.reassignments.get(config.targetId)?.get(type)?.targetId).not.toBe(from);
    }
  }
}

async function expectSettled(h: AbsenceHarness, identityId: string, absenceId: string) {
  const record = await h.store.get(identityId, absenceId);
  expect(record).toMatchObject({ status: 'ACTIVE', reconciledVersion: record?.version });
  expect(record?.delegateId).not.toBeNull();
  expect(Object.keys(h.configurations(identityId)).sort()).toEqual(ALL_TYPES);
  return record!;
}

describe('people covering for each other', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('two people naming each other for the same window, decided at the same moment: both covered, no loop, no dead letter', async () => {
    h = await absenceHarness({ wrapDoc: decisionsAtTheSameMoment(2) });
    await h.send(
      absenceEvent({ absenceId: 'f-leave', identityId: FARID, delegateId: GRACE }),
      absenceEvent({ absenceId: 'g-leave', identityId: GRACE, delegateId: FARID }),
    );
    await h.drain();

    expect(await h.deadLetters()).toEqual([]);
    expectNoLoops(h);
    const farid = await expectSettled(h, FARID, 'f-leave');
    const grace = await expectSettled(h, GRACE, 'g-leave');
    // At least one of them saw the other away and passed them over.
    expect([farid.delegateId, grace.delegateId]).not.toEqual([GRACE, FARID]);
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 400)).toBe(0);
  });

  it('a manager naming their report while the report names no one (the manager), at the same moment: both covered', async () => {
    // Outside the default policy (see the next test): any delegate, to keep the cycle this is about.
    h = await absenceHarness({ wrapDoc: decisionsAtTheSameMoment(2), delegatePolicy: ANY_DELEGATE });
    await h.send(
      absenceEvent({ absenceId: 'dev-leave', identityId: DEV, delegateId: FARID }),
      absenceEvent({ absenceId: 'farid-leave', identityId: FARID }),
    );
    await h.drain();

    expect(await h.deadLetters()).toEqual([]);
    expectNoLoops(h);
    await expectSettled(h, DEV, 'dev-leave');
    await expectSettled(h, FARID, 'farid-leave');
  });

  it('the same, one after the other: the report falls back to the manager’s manager, not into a cycle', async () => {
    // A manager's named report is outside the default delegate policy (chain-or-peers: the report would
    // approve their own requests); this test is about the chain's cycle handling, so any delegate goes.
    h = await absenceHarness({ delegatePolicy: ANY_DELEGATE });
    await h.deliver(absenceEvent({ absenceId: 'dev-leave', identityId: DEV, delegateId: FARID }));
    await h.deliver(absenceEvent({ absenceId: 'farid-leave', identityId: FARID }));

    expect(await h.deadLetters()).toEqual([]);
    expect(h.configurations(DEV)).toEqual(allTo(FARID));
    expect(h.configurations(FARID)).toEqual(allTo(BEN));
    expect(
      (await h.store.get(FARID, 'farid-leave'))?.delegateTrail.map((s) => [s.identityId, s.skipped]),
    ).toEqual([
      [DEV, expect.stringMatching(/^is absent/)],
      [FARID, 'is the absent person'],
      [BEN, undefined],
    ]);
  });

  it('SailPoint’s loop refusal (a loop evaluate cannot see yet) passes the delegate over instead of dead-lettering', async () => {
    h = await absenceHarness();
    // Grace set up her own reassignment to Farid for July, outside this workflow: not active now,
    // so evaluate shows nothing, but SailPoint refuses Farid → Grace for July as a loop.
    const own: SandboxReassignment = {
      configType: 'ACCESS_REQUESTS',
      targetId: FARID,
      startDate: JULY.startDate,
      endDate: JULY.endDate,
      created: '2030-05-01T00:00:00.000Z',
      createdBy: { id: GRACE, name: 'Grace' },
      modified: '2030-05-01T00:00:00.000Z',
      modifiedBy: { id: GRACE, name: 'Grace' },
    };
    h.sandbox.state.reassignments.set(GRACE, new Map([['ACCESS_REQUESTS', own]]));
    const start = absenceEvent({ delegateId: GRACE });
    await h.deliver(start);

    expect(await h.deadLetters()).toEqual([]);
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 400)).toBe(1);
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    const record = await h.store.get(FARID, 'leave-1');
    expect(record).toMatchObject({
      delegateId: DEV,
      dependsOn: [expect.objectContaining({ identityId: GRACE, why: 'refused' })],
    });
    expect(record?.delegateTrail[0]?.skipped).toMatch(
      /^SailPoint refused a configuration to them \(would be a loop/,
    );
    expect(h.notifier.published.map((n) => n.kind)).toContain('absence.delegate-changed');

    // An identical HR re-send keeps the delegate that works; nothing is refused again.
    await h.deliver({ ...start, eventId: 'resent' });
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 400)).toBe(1);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('when the person passed over cancels, the absence is re-planned to the delegate HR named', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'g-leave', identityId: GRACE, delegateId: HUGO }));
    await h.deliver(absenceEvent({ absenceId: 'f-leave', identityId: FARID, delegateId: GRACE }));
    expect(h.configurations(FARID)).toEqual(allTo(HUGO));

    await h.deliver(absenceEvent({ absenceId: 'g-leave', identityId: GRACE, type: 'ABSENCE_CANCELLED' }));
    expect(h.configurations(FARID)).toEqual(allTo(GRACE));
    expect(await h.store.get(FARID, 'f-leave')).toMatchObject({
      delegateId: GRACE,
      dependsOn: [],
      replanAt: null,
      decision: expect.stringMatching(/^re-planned \(.*\): delegate /),
    });
    expect(h.notifier.published.map((n) => n.kind)).toEqual([
      'absence.delegate-substituted',
      'absence.delegate-changed',
    ]);
  });

  it('when the absence of the person passed over ends first, the re-check gives the rest of the window to them', async () => {
    h = await absenceHarness();
    const graceAway = { startDate: JULY.startDate, endDate: '2030-07-05T00:00:00.000Z' };
    await h.deliver(
      absenceEvent({ absenceId: 'g-leave', identityId: GRACE, delegateId: HUGO, ...graceAway }),
    );
    await h.deliver(absenceEvent({ absenceId: 'f-leave', identityId: FARID, delegateId: GRACE }));
    expect(h.configurations(FARID)).toEqual(allTo(HUGO));
    expect((await h.store.get(FARID, 'f-leave'))?.replanAt).toBe(graceAway.endDate);

    // The daily run on the morning Grace is back.
    h.clock.advance(Date.parse('2030-07-05T05:00:00.000Z') - h.clock.now().getTime());
    const run = createAbsenceReassignmentHandler(h.deps);
    const summary = await run(
      { task: 'recheck-deferred', trigger: 'schedule' },
      fakeContext('absence-reassignment'),
    );
    expect(summary.replanned).toEqual([{ identityId: FARID, absenceId: 'f-leave' }]);
    expect(h.configurations(FARID)).toEqual(
      allTo(GRACE, { startDate: '2030-07-05T05:00:00.000Z', endDate: JULY.endDate }),
    );
    expect(await h.store.get(FARID, 'f-leave')).toMatchObject({ delegateId: GRACE, replanAt: null });
    // Run again: nothing is due any more.
    const again = await run({ task: 'recheck-deferred' }, fakeContext('absence-reassignment'));
    expect(again).toMatchObject({ due: 0, people: 0, replanned: [] });
  });
});

describe('absences are keyed by person and absenceId', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('a delegate away under the same absenceId as the absent person is still away', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'LV-1', identityId: GRACE, delegateId: HUGO }));
    await h.deliver(absenceEvent({ absenceId: 'LV-1', identityId: FARID, delegateId: GRACE }));

    expect(h.configurations(FARID)).toEqual(allTo(HUGO));
    expect((await h.store.get(FARID, 'LV-1'))?.delegateTrail[0]).toMatchObject({
      identityId: GRACE,
      skipped: expect.stringMatching(/^is absent/),
    });
  });

  it('two people naming each other under the same absenceId: no loop, no dead letter, nothing failing daily', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'LV-1', identityId: GRACE, delegateId: FARID }));
    await h.deliver(absenceEvent({ absenceId: 'LV-1', identityId: FARID, delegateId: GRACE }));

    expect(await h.deadLetters()).toEqual([]);
    expect(h.configurations(GRACE)).toEqual(allTo(FARID));
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    const run = createAbsenceReassignmentHandler(h.deps);
    h.clock.advance(86_400_000);
    const summary = await run({ task: 'recheck-deferred' }, fakeContext('absence-reassignment'));
    expect(summary.failed).toEqual([]);
  });
});

describe('an absent delegate whose own absence has no resolved delegate', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('falls back to their manager, as documented — not to the delegate HR named for them', async () => {
    h = await absenceHarness();
    // Grace is away in July; nobody resolved a cover for her (left uncovered), though HR named Hugo.
    await h.deliver(absenceEvent({ absenceId: 'g-leave', identityId: GRACE, delegateId: HUGO }));
    const grace = (await h.store.get(GRACE, 'g-leave'))!;
    await h.store.saveDecision({ ...grace, delegateId: null, version: grace.version + 1 }, grace);

    await h.deliver(absenceEvent({ absenceId: 'f-leave', identityId: FARID, delegateId: GRACE }));
    expect(h.configurations(FARID)).toEqual(allTo(DEV)); // Grace's manager
    expect((await h.store.get(FARID, 'f-leave'))?.delegateTrail.map((s) => s.identityId)).toEqual([
      GRACE,
      DEV,
    ]);
  });
});
