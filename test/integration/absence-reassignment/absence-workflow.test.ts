/**
 * HR absence events through fauxqs, the real handler, dynalite and the sandbox tenant.
 */

import { parseAbsenceEvent } from '../../../functions/absence-reassignment/event';
import { SailPointReassignmentGateway } from '../../../functions/absence-reassignment/sailpoint-gateway';
import { AbsenceWorkflow } from '../../../functions/absence-reassignment/workflow';
import { silentLog } from '../../../functions/shared/observability';
import { SailPointTimeoutError } from '../../../functions/shared/sailpoint';
import { JULY, PEOPLE, absenceEvent, absenceHarness, losingResponses, type AbsenceHarness } from './harness';

const { AMELIA, BEN, DEV, FARID, GRACE, HUGO, PAULA, SVC } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];

function allTo(to: string, window: { startDate: string; endDate: string | null } = JULY) {
  return Object.fromEntries(ALL_TYPES.map((type) => [type, { to, ...window }]));
}

describe('absence events become reassignment configurations', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('start → one configuration per work type, to the manager, for exactly the window', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent());

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 201)).toBe(3);
    const record = await h.store.get(FARID, 'leave-1');
    expect(record).toMatchObject({
      status: 'ACTIVE',
      delegateId: DEV,
      delegateTrail: [{ identityId: DEV, via: `manager of ${FARID}` }],
      decision: `started: delegate ${DEV}`,
      reconciledVersion: record?.version,
    });
    expect(Object.keys(record!.configurations).sort()).toEqual(ALL_TYPES);
    expect(record!.configurations.CERTIFICATIONS).toEqual({ reassignedToId: DEV, ...JULY });
    expect(await h.deadLetters()).toEqual([]);
  });

  it('an explicit delegate who is the manager gets the work, and only the named work types move', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ delegateId: DEV, configTypes: ['CERTIFICATIONS'] }));
    expect(h.configurations(FARID)).toEqual({ CERTIFICATIONS: { to: DEV, ...JULY } });
    expect(h.notifier.published).toEqual([]); // nobody was passed over
  });

  it('an update of the end date replaces the configurations (PUT), nothing is created twice', async () => {
    h = await absenceHarness();
    await h.deliver(absenceEvent({ eventId: 'start' }));
    const extended = { ...JULY, endDate: '2030-07-31T00:00:00.000Z' };
    await h.deliver(absenceEvent({ eventId: 'extend', type: 'ABSENCE_UPDATED', ...extended }));

    expect(h.configurations(FARID)).toEqual(allTo(DEV, extended));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/)).toBe(3);
    expect(h.count('PUT')).toBe(3);
    expect((await h.store.get(FARID, 'leave-1'))?.configurations.ACCESS_REQUESTS?.endDate).toBe(
      extended.endDate,
    );
  });

  it('a cancellation deletes the configurations', async () => {
    h = await absenceHarness();
    await h.deliver(
      absenceEvent({ eventId: 'start' }),
      absenceEvent({ eventId: 'cancel', type: 'ABSENCE_CANCELLED' }),
    );

    expect(h.configurations(FARID)).toEqual({});
    expect(h.count('DELETE', /^\/beta\/reassignment-configurations\/[^/]+\/[A-Z_]+$/, 204)).toBe(3);
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({ status: 'CANCELLED', configurations: {} });
  });

  it('a cancellation that arrives before its start wins: the older start is ignored and recorded', async () => {
    h = await absenceHarness();
    const start = absenceEvent({ eventId: 'start', occurredAt: '2030-05-01T09:00:00Z' });
    const cancel = absenceEvent({
      eventId: 'cancel',
      type: 'ABSENCE_CANCELLED',
      occurredAt: '2030-05-02T09:00:00Z',
    });
    await h.deliver(cancel, start);

    expect(h.configurations(FARID)).toEqual({});
    expect(h.count('POST')).toBe(0);
    const record = await h.store.get(FARID, 'leave-1');
    expect(record).toMatchObject({
      status: 'CANCELLED',
      lastEventId: 'cancel',
      processedEventIds: ['cancel', 'start'],
      ignoredEvents: [
        {
          eventId: 'start',
          type: 'ABSENCE_STARTED',
          reason: 'older than the applied ABSENCE_CANCELLED cancel (occurred 2030-05-02T09:00:00.000Z)',
        },
      ],
    });
    expect(record?.decision).toMatch(/^cancelled before its start arrived/);
  });

  it('an update that overtakes its start is applied as it stands; the late start is ignored', async () => {
    h = await absenceHarness();
    const extended = { ...JULY, endDate: '2030-07-31T00:00:00.000Z' };
    await h.deliver(
      absenceEvent({
        eventId: 'update',
        type: 'ABSENCE_UPDATED',
        ...extended,
        occurredAt: '2030-05-03T00:00:00Z',
      }),
      absenceEvent({ eventId: 'start', occurredAt: '2030-05-01T00:00:00Z' }),
    );
    expect(h.configurations(FARID)).toEqual(allTo(DEV, extended));
    expect(h.count('PUT')).toBe(0);
    expect((await h.store.get(FARID, 'leave-1'))?.ignoredEvents.map((e) => e.eventId)).toEqual(['start']);
  });

  it('a duplicate event (same eventId) changes nothing and calls SailPoint not at all', async () => {
    h = await absenceHarness();
    const start = absenceEvent();
    await h.deliver(start);
    const requestsAfterFirst = h.sandbox.requestLog.count();
    await h.deliver(start);

    expect(h.sandbox.requestLog.count()).toBe(requestsAfterFirst);
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect((await h.store.get(FARID, 'leave-1'))?.processedEventIds).toEqual([start.eventId]);
  });

  it('passes over an absent delegate for the next in the chain, and says so', async () => {
    h = await absenceHarness();
    // Grace is away the same days; her absence is covered by Hugo.
    await h.deliver(absenceEvent({ absenceId: 'grace-leave', identityId: GRACE, delegateId: HUGO }));
    await h.deliver(absenceEvent({ delegateId: GRACE }));

    expect(h.configurations(FARID)).toEqual(allTo(HUGO));
    const record = await h.store.get(FARID, 'leave-1');
    expect(record?.delegateTrail).toEqual([
      {
        identityId: GRACE,
        via: 'explicit delegate',
        skipped: `is absent ${JULY.startDate} – ${JULY.endDate}`,
      },
      { identityId: HUGO, via: `delegate of ${GRACE}'s absence` },
    ]);
    expect(h.notifier.published).toEqual([
      expect.objectContaining({
        kind: 'absence.delegate-substituted',
        key: `${FARID}/leave-1/v1/absence.delegate-substituted`,
      }),
    ]);
  });

  it('walks up the manager chain past an absent manager and an inactive or unknown delegate', async () => {
    h = await absenceHarness();
    // Dev (Farid's manager) is away too, without naming anyone: his manager Ben covers for him.
    await h.deliver(absenceEvent({ absenceId: 'dev-leave', identityId: DEV }));
    expect(h.configurations(DEV)).toEqual(allTo(BEN));

    await h.deliver(absenceEvent({ delegateId: PAULA })); // inactive → Paula's manager Dev → absent → Ben
    expect(h.configurations(FARID)).toEqual(allTo(BEN));
    expect((await h.store.get(FARID, 'leave-1'))?.delegateTrail.map((s) => s.skipped ?? 'chosen')).toEqual([
      'is inactive',
      expect.stringMatching(/^is absent/),
      'chosen',
    ]);

    await h.deliver(
      absenceEvent({
        absenceId: 'leave-2',
        identityId: GRACE,
        delegateId: '0000000000000000000000000000beef',
      }),
    );
    expect(h.configurations(GRACE)).toEqual(allTo(BEN)); // unknown → Grace's manager Dev → absent → Ben
  });

  it('does not delegate to someone whose work SailPoint already sends back to the absent person', async () => {
    h = await absenceHarness();
    // Grace set up her own reassignment to Farid (active now), outside this workflow.
    h.sandbox.state.reassignments.set(
      GRACE,
      new Map([
        [
          'ACCESS_REQUESTS',
          {
            configType: 'ACCESS_REQUESTS',
            targetId: FARID,
            startDate: '2030-05-01T00:00:00.000Z',
            endDate: null,
            created: '2030-05-01T00:00:00.000Z',
            createdBy: { id: GRACE, name: 'Grace' },
            modified: '2030-05-01T00:00:00.000Z',
            modifiedBy: { id: GRACE, name: 'Grace' },
          },
        ],
      ]),
    );
    await h.deliver(absenceEvent({ delegateId: GRACE }));

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect((await h.store.get(FARID, 'leave-1'))?.delegateTrail[0]?.skipped).toBe(
      `SailPoint already reassigns their ACCESS_REQUESTS work to ${FARID} (would be a loop)`,
    );
    expect(h.count('GET', /\/evaluate\/ACCESS_REQUESTS$/)).toBe(2); // Grace, then Dev
  });

  it('a cycle in the chain dead-letters the event with the reason', async () => {
    h = await absenceHarness();
    // Bad HR data: Dev and Ben manage each other, and both are inactive.
    const dev = h.sandbox.state.identities.get(DEV)!;
    const ben = h.sandbox.state.identities.get(BEN)!;
    Object.assign(dev, { inactive: true });
    Object.assign(ben, { inactive: true, managerId: DEV });
    const start = absenceEvent();
    await h.deliver(start);

    expect(await h.deadLetters()).toEqual([
      {
        body: JSON.stringify(start),
        reason:
          `no delegate for absence leave-1 of ${FARID}: cycle in the delegate chain: ${DEV} → ${BEN} → ${DEV} ` +
          `(tried ${DEV} (manager of ${FARID}): is inactive → ${BEN} (manager of ${DEV}): is inactive)`,
      },
    ]);
    expect(h.configurations(FARID)).toEqual({});
    expect(await h.store.get(FARID, 'leave-1')).toBeUndefined(); // a fixed redrive starts clean
  });

  it('no delegate at all → dead letter with the reason', async () => {
    h = await absenceHarness();
    const start = absenceEvent({ identityId: SVC });
    await h.deliver(start);
    expect(await h.deadLetters()).toEqual([
      {
        body: JSON.stringify(start),
        reason: `no delegate for absence leave-1 of ${SVC}: no delegate was named and ${SVC} has no manager`,
      },
    ]);
  });

  it('an absence whose window is already over is a recorded no-op, and an update into the past removes ours', async () => {
    h = await absenceHarness();
    const past = { startDate: '2030-05-01T00:00:00.000Z', endDate: '2030-05-10T00:00:00.000Z' };
    await h.deliver(absenceEvent({ absenceId: 'old-leave', ...past }));
    expect(
      h.sandbox.requestLog.entries.filter((e) => e.path.startsWith('/beta')).map((e) => e.method),
    ).toEqual([]);
    expect(await h.store.get(FARID, 'old-leave')).toMatchObject({
      status: 'ACTIVE',
      delegateId: null,
      decision: `window already over (${past.startDate} – ${past.endDate}): nothing to configure`,
      configurations: {},
    });

    // An absence that began on 1 June is cut short: it ended an hour ago.
    const began = { startDate: '2030-06-01T00:00:00.000Z', endDate: '2030-06-30T00:00:00.000Z' };
    await h.deliver(absenceEvent({ ...began }));
    expect(h.configurations(FARID)).toEqual(
      allTo(DEV, { startDate: '2030-06-01T12:00:00.000Z', endDate: began.endDate }),
    );
    await h.deliver(absenceEvent({ type: 'ABSENCE_UPDATED', ...began, endDate: '2030-06-01T11:00:00.000Z' }));
    expect(h.configurations(FARID)).toEqual({});
  });

  it('a 429 delays the message by Retry-After, then it succeeds with nothing created twice', async () => {
    h = await absenceHarness({ maxAttempts: 1 });
    h.sandbox.faults.inject({
      method: 'POST',
      path: /^\/beta\/reassignment-configurations$/,
      status: 429,
      retryAfterSeconds: 1,
    });
    await h.send(absenceEvent());

    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    const retriedAt = Date.now();
    await h.drain();
    expect(Date.now() - retriedAt).toBeGreaterThanOrEqual(500); // invisible for the Retry-After second
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 201)).toBe(3);
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 429)).toBe(1);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('an invalid event goes to the dead-letter queue with the reason, next to valid ones that succeed', async () => {
    h = await absenceHarness();
    const bad = absenceEvent({ endDate: '2030-06-01T00:00:00Z' });
    await h.send(bad, 'not json', absenceEvent());
    await h.drain();

    const dead = await h.deadLetters();
    expect(dead.map((d) => d.reason).sort()).toEqual([
      'invalid absence event: endDate: must be after startDate',
      'invalid absence event: the message body is not JSON',
    ]);
    expect(dead.find((d) => d.body === JSON.stringify(bad))).toBeDefined();
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
  });

  it('logs one summary per batch with the counts the metrics carry', async () => {
    const summaries: object[] = [];
    const log = {
      ...silentLog,
      info: (message: string, extra?: object) =>
        message === 'absence batch processed' && summaries.push(extra!),
    };
    h = await absenceHarness({ log });
    const start = absenceEvent();
    await h.send(start, start, 'not json');
    await h.drain();
    const total = (key: string) =>
      summaries.reduce((n, s) => n + ((s as Record<string, number>)[key] ?? 0), 0);
    expect({
      configured: total('configured'),
      duplicatesSuppressed: total('duplicatesSuppressed'),
      configurationsCreated: total('configurationsCreated'),
      deadLettered: total('deadLettered'),
      retried: total('retried'),
    }).toEqual({
      configured: 1,
      duplicatesSuppressed: 1,
      configurationsCreated: 3,
      deadLettered: 1,
      retried: 0,
    });
  });

  it('SailPoint refusing a configuration dead-letters the event with its message', async () => {
    h = await absenceHarness();
    h.sandbox.faults.inject({
      method: 'POST',
      path: /^\/beta\/reassignment-configurations$/,
      status: 400,
      body: {
        detailCode: '400.1 Bad Request Content',
        trackingId: 'abc',
        messages: [
          {
            locale: 'en-US',
            localeOrigin: 'DEFAULT',
            text: 'Work reassignment is disabled for this tenant.',
          },
        ],
        causes: [],
      },
    });
    await h.deliver(absenceEvent());
    const [dead] = await h.deadLetters();
    expect(dead?.reason).toContain('Work reassignment is disabled for this tenant.');
  });

  it('two absences of one person: the later one waits for the slot and takes it when the first is cancelled', async () => {
    h = await absenceHarness();
    const december = { startDate: '2030-12-20T00:00:00.000Z', endDate: '2031-01-03T00:00:00.000Z' };
    await h.deliver(absenceEvent({ absenceId: 'july' }));
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...december }));

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect((await h.store.get(FARID, 'december'))?.deferred).toMatch(
      /^SailPoint keeps one configuration per work type: ACCESS_REQUESTS is held by absence july/,
    );
    expect(h.notifier.published.map((n) => n.kind)).toEqual(['absence.deferred']);

    await h.deliver(absenceEvent({ absenceId: 'july', type: 'ABSENCE_CANCELLED' }));
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, december));
    expect(await h.store.get(FARID, 'december')).toMatchObject({ deferred: null });
    expect(Object.keys((await h.store.get(FARID, 'december'))!.configurations)).toHaveLength(3);
    expect((await h.store.get(FARID, 'july'))!.configurations).toEqual({});
  });

  it('leaves alone a configuration someone else made, and replaces it while the absence needs the slot', async () => {
    h = await absenceHarness();
    const token = h.sandbox.issueToken('sandbox-pat-client');
    const own = await fetch(`${h.sandbox.url}/beta/reassignment-configurations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reassignedFromId: FARID,
        reassignedToId: AMELIA,
        configType: 'MANUAL_TASKS',
        startDate: '2030-09-01T00:00:00Z',
        endDate: null,
      }),
    });
    expect(own.status).toBe(201);

    await h.deliver(absenceEvent({ configTypes: ['ACCESS_REQUESTS'] }));
    expect(h.configurations(FARID).MANUAL_TASKS).toMatchObject({ to: AMELIA });
    await h.deliver(absenceEvent({ type: 'ABSENCE_CANCELLED' }));
    expect(h.configurations(FARID)).toEqual({
      MANUAL_TASKS: { to: AMELIA, startDate: '2030-09-01T00:00:00.000Z', endDate: null },
    });
  });
});

describe('crashes, retries and concurrent deliveries', () => {
  let h: AbsenceHarness;
  afterEach(() => h?.stop());

  it('a create whose answer was lost is not repeated: the retry reads SailPoint back and finishes the rest', async () => {
    let lost = 0;
    h = await absenceHarness({
      wrapTransport: losingResponses(
        (request) =>
          request.method === 'POST' &&
          (request.body as { configType: string }).configType === 'CERTIFICATIONS' &&
          lost++ === 0,
        () =>
          new SailPointTimeoutError({ operation: 'createReassignmentConfiguration', outcomeUnknown: true }),
      ),
    });
    await h.send(absenceEvent());
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 }); // ACCESS_REQUESTS and CERTIFICATIONS created
    await h.drain();

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/)).toBe(3); // one per type, never twice
    const record = await h.store.get(FARID, 'leave-1');
    expect(record?.reconciledVersion).toBe(record?.version);
  });

  it('a crash after the decision was committed is finished by the redelivery (same eventId)', async () => {
    let failed = false;
    h = await absenceHarness({
      wrapTransport: (client) => ({
        async send(request) {
          if (!failed && request.operation === 'getReassignmentConfiguration') {
            failed = true;
            throw new Error('Lambda timed out');
          }
          return client.send(request);
        },
      }),
    });
    await h.send(absenceEvent());
    expect(await h.pollOnce()).toEqual({ received: 1, failed: 1 });
    const halfway = await h.store.get(FARID, 'leave-1');
    expect(halfway!.reconciledVersion).toBeLessThan(halfway!.version);

    await h.drain();
    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    const record = await h.store.get(FARID, 'leave-1');
    expect(record?.reconciledVersion).toBe(record?.version);
    expect(record?.processedEventIds).toHaveLength(1);
  });

  it('the same event twice in one batch creates each configuration once', async () => {
    h = await absenceHarness();
    const start = JSON.stringify(absenceEvent());
    await h.send(start, start);
    await h.drain();

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/)).toBe(3);
    expect((await h.store.get(FARID, 'leave-1'))?.processedEventIds).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
  });

  /** Runs events through the workflow all at once, as concurrent Lambda instances would; a loser of a race is retried as SQS would. */
  async function concurrently(events: ReturnType<typeof absenceEvent>[]) {
    const workflow = new AbsenceWorkflow({
      sailpoint: new SailPointReassignmentGateway(h.client),
      store: h.store,
      notifier: h.notifier,
      now: h.clock.now,
      log: silentLog,
      options: { maxDelegateHops: 5, delegatePolicy: { kind: 'chain-or-peers' }, maxAbsenceDays: 180 },
    });
    const parsed = events.map((e) => {
      const result = parseAbsenceEvent(JSON.stringify(e));
      if (!result.ok) throw new Error(result.reason);
      return result.event;
    });
    const results = await Promise.allSettled(parsed.map((event) => workflow.handle(event)));
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') await workflow.handle(parsed[i]!);
    }
    return results;
  }

  it('the same event handled twice at the same moment creates each configuration once', async () => {
    h = await absenceHarness();
    const start = absenceEvent();
    const results = await concurrently([start, start, start]);

    expect(h.configurations(FARID)).toEqual(allTo(DEV));
    expect(h.count('POST', /^\/beta\/reassignment-configurations$/, 201)).toBe(3);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'configured')).toHaveLength(
      1,
    );
    const record = await h.store.get(FARID, 'leave-1');
    expect(record).toMatchObject({ processedEventIds: [start.eventId], version: 1, reconciledVersion: 1 });
  });

  it('a start, its update and its cancellation handled at the same moment end cancelled', async () => {
    h = await absenceHarness();
    await concurrently([
      absenceEvent({ eventId: 'a-start' }),
      absenceEvent({ eventId: 'b-update', type: 'ABSENCE_UPDATED', endDate: '2030-07-31T00:00:00.000Z' }),
      absenceEvent({ eventId: 'c-cancel', type: 'ABSENCE_CANCELLED' }),
    ]);
    expect(h.configurations(FARID)).toEqual({});
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({
      status: 'CANCELLED',
      lastEventId: 'c-cancel',
    });
  });

  it('two absences of one person handled at the same moment leave SailPoint matching both records', async () => {
    h = await absenceHarness();
    await concurrently([
      absenceEvent({ absenceId: 'july', configTypes: ['ACCESS_REQUESTS'] }),
      absenceEvent({
        absenceId: 'also-july',
        delegateId: GRACE,
        configTypes: ['CERTIFICATIONS', 'MANUAL_TASKS'],
      }),
    ]);
    expect(h.configurations(FARID)).toEqual({
      ACCESS_REQUESTS: { to: DEV, ...JULY },
      CERTIFICATIONS: { to: GRACE, ...JULY },
      MANUAL_TASKS: { to: GRACE, ...JULY },
    });
    expect(Object.keys((await h.store.get(FARID, 'also-july'))!.configurations)).toEqual([
      'CERTIFICATIONS',
      'MANUAL_TASKS',
    ]);
  });
});
