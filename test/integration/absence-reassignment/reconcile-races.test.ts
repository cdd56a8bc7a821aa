/**
 * Reconciliations of one person that overlap, over the wire (sandbox, dynalite, fauxqs): two Lambda
 * invocations on a standard queue, or the scheduled re-check beside a queue event. Each test pauses
 * one side at a chosen request and lets the other run, then checks what SailPoint and the records
 * hold once every retry has run.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import { SailPointServerError, type ApiRequest } from '../../../functions/shared/sailpoint';
import { fakeContext, pollOnce } from '../../../local/queue-poller';
import {
  JULY,
  PEOPLE,
  absenceEvent,
  absenceHarness,
  switchableTransport,
  type AbsenceHarness,
} from './harness';

const { DEV, FARID, GRACE } = PEOPLE;
const ALL_TYPES = ['ACCESS_REQUESTS', 'CERTIFICATIONS', 'MANUAL_TASKS'];
const DECEMBER = { startDate: '2030-12-20T00:00:00.000Z', endDate: '2031-01-03T00:00:00.000Z' } as const;
const RECHECK = { task: 'recheck-deferred', trigger: 'schedule' } as const;
const CREATE = /^\/beta\/reassignment-configurations$/;

/** A door one side waits at, and a signal that it got there. */
function door() {
  let open!: () => void;
  let arrived!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const giveUp = setTimeout(() => open(), 5000); // never hang a test
  return {
    opened,
    reached,
    arrive: () => arrived(),
    open: () => {
      clearTimeout(giveUp);
      open();
    },
  };
}

const serverError = (operation: string) =>
  new SailPointServerError({ operation, status: 503, outcomeUnknown: false });

/** Resolves when `condition` holds (polled), or after 3 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !(await condition())) await new Promise((r) => setTimeout(r, 20));
}

/** Lets `work` finish if it can within `ms` (it may be waiting for the paused side). */
const settleWithin = (work: Promise<unknown>, ms: number) =>
  Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);

function allTo(to: string, window: { startDate: string; endDate: string | null }) {
  return Object.fromEntries(ALL_TYPES.map((type) => [type, { to, ...window }]));
}

describe('overlapping reconciliations of one person', () => {
  let h: AbsenceHarness;
  let transport: ReturnType<typeof switchableTransport>;

  beforeEach(async () => {
    transport = switchableTransport();
    h = await absenceHarness({ wrapTransport: transport.wrap });
  });
  afterEach(() => h?.stop());

  const setClock = (iso: string) => h.clock.advance(Date.parse(iso) - h.clock.now().getTime());
  const recheck = () =>
    createAbsenceReassignmentHandler(h.deps)(RECHECK, fakeContext('absence-reassignment'));
  /** One invocation of the queue's Lambda with `handler` (default: the harness's). */
  const invoke = (handler = h.handler) => pollOnce({ sqs: h.deps.sqs, queueUrl: h.deps.queueUrl, handler });

  it('standard queue: a cancellation handled while its start is still creating, then the start fails — nothing stays in SailPoint', async () => {
    // The start's first create waits at the door; its second one fails with a 503 (the message is retried).
    const startPaused = door();
    let creates = 0;
    transport.use((client) => ({
      async send<T>(request: ApiRequest<T>): Promise<T> {
        if (request.method === 'POST' && CREATE.test(request.path)) {
          creates++;
          if (creates === 1) {
            startPaused.arrive();
            await startPaused.opened;
          }
          if (creates === 2) throw serverError(request.operation);
        }
        return client.send(request);
      },
    }));

    await h.send(absenceEvent({ eventId: 'start' }));
    const first = invoke(); // Lambda 1: the start, until its first create
    await startPaused.reached;
    await h.send(absenceEvent({ eventId: 'cancel', type: 'ABSENCE_CANCELLED' }));
    const second = invoke(); // Lambda 2: the cancellation (the start is in flight, invisible)
    await until(async () => (await h.store.get(FARID, 'leave-1'))?.version === 2);
    await settleWithin(second, 300);
    startPaused.open();
    await Promise.all([first, second]);
    transport.use(undefined);
    await h.drain(); // every retry, the start's redelivery included

    expect(h.configurations(FARID)).toEqual({});
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({
      status: 'CANCELLED',
      configurations: {},
      version: 2,
      reconciledVersion: 2,
    });
    expect(h.count('POST', CREATE, 201)).toBe(1); // the start's one create, never repeated
    expect(await h.deadLetters()).toEqual([]);
  });

  it('the re-check fails after the cancellation of the absence it was configuring: the cancellation still wins', async () => {
    await h.deliver(absenceEvent({ absenceId: 'july' }));
    await h.deliver(absenceEvent({ absenceId: 'december', delegateId: GRACE, ...DECEMBER }));
    expect((await h.store.get(FARID, 'december'))?.deferredUntil).toBe(JULY.endDate);
    setClock('2030-07-16T05:00:00.000Z'); // the daily run after July ended

    // The re-check's first replace waits at the door; its second one fails with a 503.
    const recheckPaused = door();
    let replaces = 0;
    transport.use((client) => ({
      async send<T>(request: ApiRequest<T>): Promise<T> {
        if (request.method === 'PUT') {
          replaces++;
          if (replaces === 1) {
            recheckPaused.arrive();
            await recheckPaused.opened;
          }
          if (replaces === 2) throw serverError(request.operation);
        }
        return client.send(request);
      },
    }));
    const run = recheck().then(
      () => 'succeeded',
      (error: Error) => error.message,
    );
    await recheckPaused.reached;
    await h.send(
      absenceEvent({ absenceId: 'december', type: 'ABSENCE_CANCELLED', occurredAt: '2030-07-16T04:00:00Z' }),
    );
    const cancel = invoke();
    await until(async () => (await h.store.get(FARID, 'december'))?.version === 3); // re-check v2, cancel v3
    await settleWithin(cancel, 300);
    recheckPaused.open();
    expect(await run).toMatch(/1 of 1 people failed .*503/);
    await cancel;
    transport.use(undefined);
    await h.drain();
    const next = await recheck(); // Lambda's retry of the failed run, or the next day's

    expect(next.failed).toEqual([]);
    expect(h.configurations(FARID)).toEqual({}); // July is over and December cancelled: nobody covers
    expect(await h.store.get(FARID, 'december')).toMatchObject({
      status: 'CANCELLED',
      configurations: {},
      deferred: null,
      deferredUntil: null,
    });
    expect(await h.store.listDeferredDue(new Date('2100-01-01T00:00:00Z'))).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('standard queue: an out-of-order event ignored while another reconciliation records the absence keeps its deferral', async () => {
    // December first (HR's newer UPDATE arrived before its START), so it holds the slots for now.
    await h.deliver(
      absenceEvent({
        eventId: 'december-update',
        absenceId: 'december',
        type: 'ABSENCE_UPDATED',
        delegateId: GRACE,
        ...DECEMBER,
        occurredAt: '2030-05-02T00:00:00Z',
      }),
    );
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));

    // Lambda 1 handles July's start (July takes the slots, December must wait) and is paused just
    // before it records December's deferral.
    const recordPaused = door();
    let armed = true;
    const doc = h.deps.doc;
    const pausingDoc = {
      async send(command: Parameters<typeof doc.send>[0]) {
        const input = command.input as { Key?: { sk?: string }; UpdateExpression?: string };
        if (
          armed &&
          command instanceof UpdateCommand &&
          input.Key?.sk === 'ABSENCE#december' &&
          input.UpdateExpression?.includes('#configurations')
        ) {
          armed = false;
          recordPaused.arrive();
          await recordPaused.opened;
        }
        return doc.send(command);
      },
    } as unknown as DynamoDBDocumentClient;
    await h.send(
      absenceEvent({ eventId: 'july-start', absenceId: 'july', occurredAt: '2030-05-03T00:00:00Z' }),
    );
    const first = invoke(createAbsenceReassignmentHandler({ ...h.deps, doc: pausingDoc }));
    await recordPaused.reached;
    // Lambda 2: December's older START arrives late and is ignored.
    await h.send(
      absenceEvent({
        eventId: 'december-start',
        absenceId: 'december',
        delegateId: GRACE,
        ...DECEMBER,
        occurredAt: '2030-05-01T00:00:00Z',
      }),
    );
    await invoke();
    recordPaused.open();
    await first;
    await h.drain();

    expect(h.configurations(FARID)).toEqual(allTo(DEV, JULY));
    const december = await h.store.get(FARID, 'december');
    expect(december).toMatchObject({
      deferred: expect.stringMatching(/ACCESS_REQUESTS is held by absence july/),
      deferredUntil: JULY.endDate,
      configurations: {},
      processedEventIds: ['december-update', 'december-start'],
      ignoredEvents: [expect.objectContaining({ eventId: 'december-start' })],
    });
    expect(december!.reconciledVersion).toBe(december!.version);

    // July ends: the re-check finds December and gives it the slots.
    setClock('2030-07-16T05:00:00.000Z');
    expect(await recheck()).toMatchObject({
      slotsTaken: [{ identityId: FARID, absenceId: 'december', configTypes: ALL_TYPES }],
      failed: [],
    });
    expect(h.configurations(FARID)).toEqual(allTo(GRACE, DECEMBER));
  });
  it('a reconciliation that failed half-way on its last receive is finished by the next scheduled run', async () => {
    let creates = 0;
    transport.use((client) => ({
      async send<T>(request: ApiRequest<T>): Promise<T> {
        if (request.method === 'POST' && CREATE.test(request.path) && ++creates === 2) {
          throw serverError('createReassignmentConfiguration');
        }
        return client.send(request);
      },
    }));
    const lastReceive = {
      Records: [
        {
          messageId: 'm1',
          receiptHandle: 'receipt-m1',
          body: JSON.stringify(absenceEvent({ eventId: 'start' })),
          attributes: {
            ApproximateReceiveCount: String(h.deps.maxReceiveCount),
            SentTimestamp: '0',
            SenderId: 'test',
            ApproximateFirstReceiveTimestamp: '0',
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:absences',
          awsRegion: 'us-east-1',
        },
      ],
    };
    await h.handler(lastReceive, fakeContext('absence-reassignment'));
    expect(await h.deadLetters()).toEqual([
      { body: expect.any(String), reason: expect.stringMatching(/^gave up after 3 attempts: .*503/) },
    ]);
    expect(Object.keys(h.configurations(FARID))).toEqual(['ACCESS_REQUESTS']); // half-way
    transport.use(undefined);

    const run = await recheck();

    expect(run).toMatchObject({ due: 0, people: 1, repaired: [FARID], failed: [] });
    expect(h.configurations(FARID)).toEqual(allTo(DEV, JULY));
    expect(h.count('POST', CREATE, 201)).toBe(3); // the first create is not repeated
    expect(await h.store.get(FARID, 'leave-1')).toMatchObject({ version: 1, reconciledVersion: 1 });
    // Finished: the person left the index, and the next run does nothing.
    expect(await h.store.listDeferredDue(new Date('2100-01-01T00:00:00Z'))).toEqual([]);
    h.sandbox.requestLog.clear();
    expect(await recheck()).toMatchObject({ due: 0, people: 0, repaired: [] });
    expect(h.sandbox.requestLog.count({})).toBe(0);
  });
});
