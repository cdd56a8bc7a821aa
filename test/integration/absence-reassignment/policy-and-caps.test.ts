/**
 * Issue #12, who may send absence work, over the wire (sandbox tenant, dynalite, fauxqs): the
 * delegate policy, the maximum absence length, the producer kept with the absence, and the caps
 * on an event.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { absenceKey } from '../../../functions/absence-reassignment/absence-store';
import { createAbsenceReassignmentHandlerFromEnv } from '../../../functions/absence-reassignment/handler';
import { MAX_EVENTS_PER_ABSENCE } from '../../../functions/absence-reassignment/workflow';
import { drainQueue, fakeContext } from '../../../local/queue-poller';
import { PAT_CLIENT } from '../sandbox/helpers';
import { JULY, PEOPLE, absenceEvent, absenceHarness, type AbsenceHarness } from './harness';

const { AMELIA, BEN, CARLA, DEV, FARID, GRACE } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];

const targets = (h: AbsenceHarness, identityId: string) =>
  Object.values(h.configurations(identityId)).map((c) => c.to);
const endDates = (h: AbsenceHarness, identityId: string) =>
  Object.values(h.configurations(identityId)).map((c) => c.endDate);

describe('the delegate policy', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('chain-or-peers (the default): a manager naming their own report is refused; the work goes up the chain, with a notice', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'dev-leave', identityId: DEV, delegateId: FARID }));

    expect(await h.deadLetters()).toEqual([]);
    expect(targets(h, DEV)).toEqual([BEN, BEN, BEN]);
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/)).toBe(3);
    expect(h.sandbox.requestLog.entries.some((e) => e.body && JSON.stringify(e.body).includes(FARID))).toBe(
      false,
    );
    const record = await h.store.get(DEV, 'dev-leave');
    expect(record?.delegateTrail).toEqual([
      {
        identityId: FARID,
        via: 'explicit delegate',
        skipped: `is outside the delegate policy (chain-or-peers: neither a manager of ${DEV} within 10 levels nor sharing their manager)`,
      },
      { identityId: BEN, via: `manager of ${DEV}` },
    ]);
    expect(h.notifier.published).toEqual([
      expect.objectContaining({
        kind: 'absence.delegate-substituted',
        detail: expect.objectContaining({ trail: expect.stringContaining('outside the delegate policy') }),
      }),
    ]);
  });

  it('a peer (same manager) or a manager above may cover', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'peer', delegateId: GRACE }));
    expect(targets(h, FARID)).toEqual([GRACE, GRACE, GRACE]);
    await h.deliver(absenceEvent({ absenceId: 'dev-leave', identityId: DEV, delegateId: AMELIA }));
    expect(targets(h, DEV)).toEqual([AMELIA, AMELIA, AMELIA]);
    expect(await h.deadLetters()).toEqual([]);
  });

  describe('set through the function’s settings', () => {
    /** The handler as deployed, built from its environment, over the harness's queue and table. */
    async function deployed(settings: Record<string, string>) {
      const handler = await createAbsenceReassignmentHandlerFromEnv({
        ABSENCES_TABLE: h.deps.tableName,
        QUEUE_URL: h.deps.queueUrl,
        DEAD_LETTER_QUEUE_URL: h.deps.deadLetterQueueUrl,
        MAX_RECEIVE_COUNT: String(h.deps.maxReceiveCount),
        SAILPOINT_API_URL: h.sandbox.url,
        SAILPOINT_CLIENT_ID: PAT_CLIENT.clientId,
        SAILPOINT_CLIENT_SECRET: PAT_CLIENT.clientSecret,
        LOG_LEVEL: 'SILENT',
        ...settings,
      });
      return () => drainQueue({ sqs: h.deps.sqs, queueUrl: h.deps.queueUrl, handler, timeoutMs: 15_000 });
    }
    // This handler runs on the real clock (the sandbox on the harness's): the event happened a minute ago.
    const event = () =>
      absenceEvent({ delegateId: GRACE, occurredAt: new Date(Date.now() - 60_000).toISOString() });

    it('allow-list: a delegate outside it is refused; when the chain yields no one, the event is dead-lettered with the reason', async () => {
      h = await absenceHarness();
      const drain = await deployed({ DELEGATE_POLICY: 'allow-list', DELEGATE_ALLOW_LIST: CARLA });
      const refused = event();
      await h.send(refused);
      await drain();

      const [dead, ...more] = await h.deadLetters();
      expect(more).toEqual([]);
      expect(dead?.body).toBe(JSON.stringify(refused));
      expect(dead?.reason).toBe(
        `no delegate for absence leave-1 of ${FARID}: ${AMELIA} has no manager (tried ` +
          [GRACE, DEV, BEN, AMELIA]
            .map(
              (id, n) =>
                `${id} (${n === 0 ? 'explicit delegate' : `manager of ${n === 1 ? FARID : [DEV, BEN][n - 2]}`}): ` +
                'is outside the delegate policy (allow-list: not in DELEGATE_ALLOW_LIST)',
            )
            .join(' → ') +
          ')',
      );
      expect(await h.store.get(FARID, 'leave-1')).toBeUndefined();
      expect(h.count('POST')).toBe(0);
    });

    it('any: the same event is applied as named (the policy was what refused it)', async () => {
      h = await absenceHarness();
      const drain = await deployed({ DELEGATE_POLICY: 'any' });
      await h.send(event());
      await drain();
      expect(await h.deadLetters()).toEqual([]);
      expect(targets(h, FARID)).toEqual([GRACE, GRACE, GRACE]);
    });

    it('a bad policy setting stops the function, naming it', async () => {
      h = await absenceHarness();
      await expect(deployed({ DELEGATE_POLICY: 'anyone' })).rejects.toThrow(
        /DELEGATE_POLICY: must be one of chain-or-peers, allow-list, any/,
      );
      await expect(deployed({ DELEGATE_POLICY: 'allow-list' })).rejects.toThrow(
        /DELEGATE_ALLOW_LIST: is required with DELEGATE_POLICY=allow-list/,
      );
      await expect(
        deployed({ DELEGATE_POLICY: 'allow-list', DELEGATE_ALLOW_LIST: `${CARLA},bob` }),
      ).rejects.toThrow(/DELEGATE_ALLOW_LIST\.1: each entry must be a SailPoint id/);
    });
  });
});

describe('the maximum absence length', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());
  const CAP = '2030-12-28T00:00:00.000Z'; // JULY's start + 180 days

  it('an absence without an end date gets configurations that end at the maximum, with a notice; a later event extends it', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ endDate: null }));

    expect(endDates(h, FARID)).toEqual([CAP, CAP, CAP]);
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({
      requestedEndDate: null,
      endDate: CAP,
      endCapped: true,
    });
    expect(h.notifier.published).toEqual([
      expect.objectContaining({
        kind: 'absence.capped',
        subject: expect.stringMatching(
          new RegExp(
            `reassignment ends ${CAP} \\(no end date given; at most 180 days\\) — send an update to extend it`,
          ),
        ),
        detail: expect.objectContaining({ requestedEndDate: null, endDate: CAP, maxAbsenceDays: 180 }),
      }),
    ]);

    // Two months into the absence HR sends it again, still without an end: 180 days from now.
    h.clock.advance(Date.parse('2030-09-01T00:00:00.000Z') - h.clock.now().getTime());
    await h.deliver(absenceEvent({ type: 'ABSENCE_UPDATED', endDate: null }));
    const extended = '2031-02-28T00:00:00.000Z';
    expect(endDates(h, FARID)).toEqual([extended, extended, extended]);
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.capped', 'absence.capped']);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('an absence longer than the maximum ends at it; one within it keeps HR’s end and sends no notice', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ absenceId: 'long', endDate: '2031-06-30T00:00:00.000Z' }));
    expect(endDates(h, FARID)).toEqual([CAP, CAP, CAP]);
    expect(await h.store.get(FARID, 'long')).toMatchObject({
      requestedEndDate: '2031-06-30T00:00:00.000Z',
      endCapped: true,
    });
    expect(h.notifier.published[0]?.subject).toMatch(/HR's end 2031-06-30T00:00:00.000Z is later/);

    await h.deliver(absenceEvent({ absenceId: 'long', type: 'ABSENCE_UPDATED', ...JULY }));
    expect(endDates(h, FARID)).toEqual([JULY.endDate, JULY.endDate, JULY.endDate]);
    expect(await h.store.get(FARID, 'long')).toMatchObject({ endDate: JULY.endDate, endCapped: false });
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.capped']);
  });

  it('MAX_ABSENCE_DAYS sets the maximum', async () => {
    h = await absenceHarness({ maxAbsenceDays: 7 });
    await h.deliver(absenceEvent({ endDate: null }));
    expect(endDates(h, FARID)).toEqual(ALL_TYPES.map(() => '2030-07-08T00:00:00.000Z'));
  });
});

describe('who sent the event', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  /** An SQS batch as the event source mapping hands it over, with the sender SQS reports. */
  const batch = (body: unknown, senderId?: string): SQSEvent => ({
    Records: [
      {
        messageId: `m-${Math.random()}`,
        receiptHandle: 'rh',
        body: JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          ...(senderId ? { SenderId: senderId } : {}),
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        } as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:absences',
        awsRegion: 'us-east-1',
      },
    ],
  });

  it('is kept with the absence (SQS SenderId), on ignored events too, and on a dead letter', async () => {
    h = await absenceHarness();
    const hr = 'AROAEXAMPLEHRCONNECTOR:hr-sync';
    const later = absenceEvent({ delegateId: GRACE });
    const earlier = absenceEvent({ delegateId: GRACE, occurredAt: '2030-01-01T00:00:00.000Z' });
    await h.handler(batch(later, hr), fakeContext('absence-reassignment'));
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({ lastEventProducer: hr, delegateId: GRACE });

    await h.handler(batch(earlier, 'AIDAOTHERUSER'), fakeContext('absence-reassignment'));
    expect((await h.store.get(FARID, 'leave-1'))?.ignoredEvents).toEqual([
      expect.objectContaining({ eventId: earlier.eventId, producer: 'AIDAOTHERUSER' }),
    ]);

    await h.handler(
      batch({ ...absenceEvent(), delegate: 'x' }, 'AIDAMALLORY'),
      fakeContext('absence-reassignment'),
    );
    const dead = await h.deadLetterMessages();
    expect(dead.map((m) => m.MessageAttributes?.sourceSenderId?.StringValue)).toEqual(['AIDAMALLORY']);

    // Without a SenderId (SQS did not say): null, not a guess.
    await h.handler(
      batch(absenceEvent({ absenceId: 'other', delegateId: GRACE })),
      fakeContext('absence-reassignment'),
    );
    expect((await h.store.get(FARID, 'other'))?.lastEventProducer).toBeNull();
  });

  it('through the queue: the SenderId SQS gives the consumer', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ delegateId: GRACE }));
    // fauxqs reports its account id as every message's sender.
    expect((await h.store.get(FARID, 'leave-1'))?.lastEventProducer).toBe('000000000000');
  });
});

describe('caps on an absence event', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('a body over 4 KiB, an id with control characters or over 200 characters, too many work types: dead-lettered, nothing asked of SailPoint', async () => {
    h = await absenceHarness();
    const big = { ...absenceEvent(), absenceId: 'x'.repeat(5000) };
    const control = absenceEvent({ absenceId: 'leave\u0000one' });
    const long = absenceEvent({ eventId: 'e'.repeat(201) });
    const types = absenceEvent({ configTypes: [...ALL_TYPES, 'ACCESS_REQUESTS'] });
    await h.deliver(big, control, long, types);

    expect((await h.deadLetters()).map((d) => d.reason)).toEqual([
      expect.stringMatching(/^invalid absence event: the body is \d+ bytes; at most 4096 are accepted$/),
      'invalid absence event: absenceId: must not contain control characters',
      'invalid absence event: eventId: must be at most 200 characters',
      'invalid absence event: configTypes: must name at most the 3 work types',
    ]);
    expect(h.sandbox.requestLog.count({})).toBe(0);
  });

  it(`an absence takes at most ${MAX_EVENTS_PER_ABSENCE} events (their ids are kept on its item); a cancellation still goes through`, async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ delegateId: GRACE }));
    // As if HR (or someone with SendMessage) had sent it 500 events.
    await h.deps.doc.send(
      new UpdateCommand({
        TableName: h.deps.tableName,
        Key: absenceKey(FARID, 'leave-1'),
        UpdateExpression: 'SET processedEventIds = :ids',
        ExpressionAttributeValues: {
          ':ids': Array.from({ length: MAX_EVENTS_PER_ABSENCE }, (_, n) => `old-${n}`),
        },
      }),
    );
    const more = absenceEvent({
      type: 'ABSENCE_UPDATED',
      delegateId: GRACE,
      endDate: '2030-07-20T00:00:00.000Z',
    });
    await h.deliver(more);
    expect(await h.deadLetters()).toEqual([
      {
        body: JSON.stringify(more),
        reason: `absence leave-1 of ${FARID} has had ${MAX_EVENTS_PER_ABSENCE} events, the most one absence takes (${MAX_EVENTS_PER_ABSENCE}): cancel it and send changes under a new absenceId`,
      },
    ]);
    await h.deliver(absenceEvent({ type: 'ABSENCE_CANCELLED' }));
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({ status: 'CANCELLED' });
    expect(h.configurations(FARID)).toEqual({});
  });
});
