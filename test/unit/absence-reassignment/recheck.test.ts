/**
 * The scheduled re-check's own rules: when a deferred absence is due, what the run accepts as a
 * payload, and how it treats failures, the time left and repeated people (fakes for the store and
 * the workflow; the over-the-wire behaviour is in test/integration/absence-reassignment).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DeferredAbsenceRef } from '../../../functions/absence-reassignment/absence-store';
import { OPEN_ENDED_HOLD, deferralDue, slotFreesAt } from '../../../functions/absence-reassignment/policy';
import {
  DeferredRecheckFailedError,
  createDeferredRecheck,
  parseDeferredRecheckEvent,
} from '../../../functions/absence-reassignment/recheck';
import type { RecheckResult } from '../../../functions/absence-reassignment/workflow';
import { silentLog } from '../../../functions/shared/observability';

const NOW = new Date('2030-07-15T05:00:00.000Z');
const RECHECK = { task: 'recheck-deferred', trigger: 'schedule' } as const;

describe('when a deferred absence is due', () => {
  it('its slots free up at the earliest end among their holders; open-ended holders never end', () => {
    expect(
      slotFreesAt([
        { endDate: '2030-08-01T00:00:00Z' },
        { endDate: null },
        { endDate: '2030-07-15T00:00:00+02:00' },
      ]),
    ).toBe('2030-07-14T22:00:00.000Z');
    expect(slotFreesAt([{ endDate: null }, { endDate: null }])).toBe(OPEN_ENDED_HOLD);
  });

  it('due from the first instant of the free slot on, never behind open-ended holders, never when not deferred', () => {
    const deferred = {
      deferred: 'ACCESS_REQUESTS is held by absence july',
      deferredUntil: NOW.toISOString(),
    };
    expect(deferralDue(deferred, NOW)).toBe(true);
    expect(deferralDue(deferred, new Date(NOW.getTime() - 1))).toBe(false);
    expect(
      deferralDue({ ...deferred, deferredUntil: OPEN_ENDED_HOLD }, new Date('9999-12-31T23:59:59.999Z')),
    ).toBe(false);
    expect(deferralDue({ deferred: null, deferredUntil: null }, NOW)).toBe(false);
    // An item recorded before deferredUntil existed: taken up at the person's next event, as before.
    expect(deferralDue({ ...deferred, deferredUntil: null }, NOW)).toBe(false);
  });
});

describe('the payload', () => {
  it('accepts the schedule’s and an operator’s', () => {
    expect(parseDeferredRecheckEvent(RECHECK)).toEqual(RECHECK);
    expect(parseDeferredRecheckEvent({ task: 'recheck-deferred' })).toEqual({ task: 'recheck-deferred' });
  });

  it('refuses anything else, naming what is wrong', () => {
    expect(() => parseDeferredRecheckEvent({ task: 'recheck' })).toThrow(
      /expected an SQS batch \(Records\) or \{"task": "recheck-deferred"\}: task: /,
    );
    expect(() => parseDeferredRecheckEvent({ ...RECHECK, trigger: 'cron' })).toThrow(/trigger: /);
    expect(() => parseDeferredRecheckEvent({ ...RECHECK, asOf: '2031-01-01' })).toThrow(
      /Unrecognized key: "asOf"/,
    );
    expect(() => parseDeferredRecheckEvent(null)).toThrow(/event: /);
  });
});

describe('a run', () => {
  const ref = (identityId: string, absenceId: string): DeferredAbsenceRef => ({
    identityId,
    absenceId,
    deferredUntil: '2030-07-15T00:00:00.000Z',
  });
  const tookAll = (identityId: string, absenceId: string): RecheckResult => ({
    identityId,
    due: [absenceId],
    slotsTaken: [{ absenceId, configTypes: ['ACCESS_REQUESTS'] }],
    stillWaiting: [],
    replanned: [],
    alsoDue: [],
    changes: { created: 1, updated: 0, deleted: 0 },
  });

  function setup(due: DeferredAbsenceRef[], recheck: (identityId: string) => Promise<RecheckResult>) {
    const calls: string[] = [];
    const metrics: [string, number][] = [];
    const run = createDeferredRecheck({
      store: { listDeferredDue: async (now) => (now.getTime() === NOW.getTime() ? due : []) },
      workflow: {
        recheckDeferred: async (identityId) => {
          calls.push(identityId);
          return recheck(identityId);
        },
      },
      now: () => NOW,
      log: silentLog,
      metrics: {
        addMetric: (name: string, _unit: string, value: number) => metrics.push([name, value]),
      } as unknown as Metrics,
    });
    return { run, calls, metrics };
  }
  const plentyOfTime = { getRemainingTimeInMillis: () => 100_000 };

  it('re-checks each person once, however many of their absences are due, and counts what happened', async () => {
    const { run, calls, metrics } = setup([ref('p1', 'a'), ref('p1', 'b'), ref('p2', 'c')], async (id) =>
      tookAll(id, id === 'p1' ? 'a' : 'c'),
    );
    const summary = await run(RECHECK, plentyOfTime);
    expect(calls).toEqual(['p1', 'p2']);
    expect(summary).toMatchObject({
      runAt: NOW.toISOString(),
      due: 3,
      people: 2,
      slotsTaken: [
        { identityId: 'p1', absenceId: 'a', configTypes: ['ACCESS_REQUESTS'] },
        { identityId: 'p2', absenceId: 'c', configTypes: ['ACCESS_REQUESTS'] },
      ],
      failed: [],
      changes: { created: 2, updated: 0, deleted: 0 },
    });
    expect(Object.fromEntries(metrics)).toEqual({
      RecheckDue: 3,
      DeferredApplied: 2,
      StillDeferred: 0,
      Replanned: 0,
      RecheckFailed: 0,
      ConfigurationsCreated: 2,
      ConfigurationsReplaced: 0,
      ConfigurationsDeleted: 0,
    });
  });

  it('a person who fails does not stop the others; the run then fails, naming them', async () => {
    const { run, calls } = setup([ref('p1', 'a'), ref('p2', 'b'), ref('p3', 'c')], async (id) => {
      if (id === 'p2') throw new Error('SailPoint answered 503');
      return tookAll(id, 'x');
    });
    const failure = await run(RECHECK, plentyOfTime).catch((error: unknown) => error);
    expect(calls).toEqual(['p1', 'p2', 'p3']);
    expect(failure).toBeInstanceOf(DeferredRecheckFailedError);
    expect((failure as Error).message).toMatch(/1 of 3 people failed .*p2: SailPoint answered 503/);
    expect((failure as DeferredRecheckFailedError).summary.slotsTaken).toHaveLength(2);
  });

  it('starts nobody new once the invocation is within its time reserve: they are left for the next run', async () => {
    let remaining = 45_000;
    const { run, calls } = setup([ref('p1', 'a'), ref('p2', 'b'), ref('p3', 'c')], async (id) => {
      remaining -= 10_000;
      return tookAll(id, 'x');
    });
    const summary = await run(RECHECK, { getRemainingTimeInMillis: () => remaining });
    expect(calls).toEqual(['p1', 'p2']); // 45 s, 35 s left: started; 25 s < the 30 s reserve: not
    expect(summary.leftForNextRun).toBe(1);
  });

  it('refuses a payload that is not its own before reading anything', async () => {
    const { run, calls } = setup([ref('p1', 'a')], async (id) => tookAll(id, 'a'));
    await expect(run({ Records: 'x' }, plentyOfTime)).rejects.toThrow(/expected an SQS batch/);
    expect(calls).toEqual([]);
  });
});
