/**
 * Issue #11, absence reassignment, over the wire (sandbox tenant, dynalite, fauxqs): an unknown
 * absent person, notices that must survive a failed publish, the notifications topic checked at
 * start, and event times — far in the future, or apart by less than a millisecond.
 */
import { createAbsenceReassignmentHandlerFromEnv } from '../../../functions/absence-reassignment/handler';
import { ConfigError } from '../../../functions/shared/config';
import type { Notification, Notifier } from '../../../functions/shared/notifier';
import { fakeContext } from '../../../local/queue-poller';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { spId } from '../../support/sailpoint-ids';
import { PAT_CLIENT } from '../sandbox/helpers';
import { JULY, PEOPLE, absenceEvent, absenceHarness, type AbsenceHarness } from './harness';

const { DEV, FARID, GRACE, HUGO } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];
const DECEMBER = { startDate: '2030-12-20T00:00:00.000Z', endDate: '2031-01-03T00:00:00.000Z' } as const;

function allTo(to: string, window: { startDate: string; endDate: string | null } = JULY) {
  return Object.fromEntries(ALL_TYPES.map((type) => [type, { to, ...window }]));
}

/** A notifier whose next `failures` publishes fail (as SNS throttling or an outage would). */
function failingFirst(failures: number) {
  const state = { left: failures };
  const wrap = (inner: Notifier): Notifier => ({
    async publish(n: Notification) {
      if (state.left > 0) {
        state.left--;
        throw new Error('SNS unavailable');
      }
      return inner.publish(n);
    },
  });
  return { state, wrap };
}

describe('an unknown absent person', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('with a named delegate: dead-lettered with the reason, nothing recorded, no configuration tried', async () => {
    h = await absenceHarness();
    const ghost = spId('no-such-person');
    const start = absenceEvent({ identityId: ghost, delegateId: GRACE });
    await h.deliver(start);

    expect(await h.deadLetters()).toEqual([
      {
        body: JSON.stringify(start),
        reason: `absence leave-1 of ${ghost}: the absent identity ${ghost} does not exist in SailPoint`,
      },
    ]);
    expect(await h.store.get(ghost, 'leave-1')).toBeUndefined();
    expect(h.count('POST')).toBe(0);
    // Nothing is left for the daily re-check to fail on.
    const summary = await createAbsenceReassignmentHandler(h.deps)(
      { task: 'recheck-deferred' },
      fakeContext('absence-reassignment'),
    );
    expect(summary).toMatchObject({ people: 0, failed: [] });
  });
});

describe('notices are at-least-once', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('a notice whose publish failed is published by the message’s retry', async () => {
    const sns = failingFirst(1);
    h = await absenceHarness({ wrapNotifier: sns.wrap });
    await h.deliver(absenceEvent({ absenceId: 'g-leave', identityId: GRACE, delegateId: HUGO }));
    await h.deliver(absenceEvent({ delegateId: GRACE })); // Grace is away: substituted, notified

    expect(sns.state.left).toBe(0);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.configurations(FARID)).toEqual(allTo(HUGO));
    expect(h.notifier.published.map((n) => n.key)).toEqual([
      `${FARID}/leave-1/v1/absence.delegate-substituted`,
    ]);
    expect((await h.store.get(FARID, 'leave-1'))?.notices).toEqual({});
  });

  it('the re-check’s notice too: a run whose publish failed leaves it for the next run', async () => {
    const sns = failingFirst(0);
    h = await absenceHarness({ wrapNotifier: sns.wrap });
    await h.deliver(absenceEvent({ absenceId: 'july' }));
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...DECEMBER }));
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.deferred']);

    h.clock.advance(Date.parse('2030-07-15T05:00:00.000Z') - h.clock.now().getTime());
    const run = () =>
      createAbsenceReassignmentHandler(h.deps)(
        { task: 'recheck-deferred' },
        fakeContext('absence-reassignment'),
      );
    sns.state.left = 1;
    await expect(run()).rejects.toThrow(/notice\(s\) not published/);
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER)); // the slot was taken all the same

    const next = await run();
    expect(next.failed).toEqual([]);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.deferred', 'absence.deferred-applied']);
    expect((await h.store.get(FARID, 'december'))?.notices).toEqual({});
  });

  it('a notifications topic that does not exist, or a setting that is not an ARN, stops the function naming it', async () => {
    h = await absenceHarness();
    const env = {
      ABSENCES_TABLE: 'absences',
      QUEUE_URL: h.deps.queueUrl,
      DEAD_LETTER_QUEUE_URL: h.deps.deadLetterQueueUrl,
      SAILPOINT_API_URL: h.sandbox.url,
      SAILPOINT_CLIENT_ID: PAT_CLIENT.clientId,
      SAILPOINT_CLIENT_SECRET: PAT_CLIENT.clientSecret,
    };
    await expect(
      createAbsenceReassignmentHandlerFromEnv({ ...env, NOTIFICATIONS_TOPIC_ARN: 'absence-notices' }),
    ).rejects.toThrow(/NOTIFICATIONS_TOPIC_ARN: must be an SNS topic ARN/);
    const error = await createAbsenceReassignmentHandlerFromEnv({
      ...env,
      NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:no-such-topic',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/NOTIFICATIONS_TOPIC_ARN: topic .*no-such-topic does not exist/);
  });
});

describe('event times', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('an occurredAt far in the future is refused, and does not freeze the absence', async () => {
    h = await absenceHarness();
    const future = absenceEvent({ eventId: 'typo', occurredAt: '2999-01-01T00:00:00Z', delegateId: GRACE });
    await h.deliver(future);
    expect(await h.deadLetters()).toEqual([
      {
        body: JSON.stringify(future),
        reason: expect.stringMatching(
          /^event typo: occurredAt 2999-01-01T00:00:00.000Z is more than 300 s ahead of now/,
        ),
      },
    ]);
    expect(await h.store.get(FARID, 'leave-1')).toBeUndefined();

    // Real events after it apply; one a minute ahead (a drifting HR clock) is fine.
    await h.deliver(absenceEvent({ eventId: 'real', occurredAt: '2030-06-01T12:01:00Z' }));
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
  });

  it('two events 0.8 ms apart are ordered by their times, not by their ids', async () => {
    h = await absenceHarness();
    const extended = { ...JULY, endDate: '2030-07-31T00:00:00.000Z' };
    const start = absenceEvent({ eventId: 'z-start', occurredAt: '2030-05-01T09:00:00.0001Z' });
    const update = absenceEvent({
      eventId: 'a-update',
      type: 'ABSENCE_UPDATED',
      ...extended,
      occurredAt: '2030-05-01T09:00:00.0009Z',
    });
    await h.deliver(update, start);

    expect(h.configurations(FARID)).toEqual(allTo(DEV, extended));
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({
      lastEventId: 'a-update',
      lastOccurredAt: '2030-05-01T09:00:00.0009Z',
      ignoredEvents: [
        expect.objectContaining({ eventId: 'z-start', occurredAt: '2030-05-01T09:00:00.0001Z' }),
      ],
    });
  });
});
