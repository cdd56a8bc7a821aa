/**
 * The absence workflow over the wire: the sandbox tenant, a fresh absences table on dynalite, a
 * fresh queue and DLQ on fauxqs, and the real handler driven by local/queue-poller.ts.
 */
import { DynamoAbsenceStore } from '../../../functions/absence-reassignment/absence-store';
import type { AbsenceEventInput } from '../../../functions/absence-reassignment/event';
import { createAbsenceReassignmentHandler } from '../../../functions/absence-reassignment/handler';
import type { DelegatePolicy } from '../../../functions/absence-reassignment/delegate-policy';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RecordingNotifier, type Notifier } from '../../../functions/shared/notifier';
import { silentLog, type LogSink } from '../../../functions/shared/observability';
import {
  SailPointClient,
  type ApiRequest,
  type SailPointTransport,
} from '../../../functions/shared/sailpoint';
import { drainQueue, pollOnce } from '../../../local/queue-poller';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import {
  freshQueueWithDlq,
  freshTable,
  localSqsClient,
  receiveAll,
  sendBodies,
} from '../../support/emulators';
import { PAT_CLIENT, manualClock } from '../sandbox/helpers';

/** Seed identities (sandbox/fixtures/default-tenant.json) and their managers. */
export const PEOPLE = {
  AMELIA: '2c9180aa000000000000000000000001', // top of the tree
  BEN: '2c9180aa000000000000000000000002', // manager: Amelia
  CARLA: '2c9180aa000000000000000000000003', // manager: Amelia
  DEV: '2c9180aa000000000000000000000004', // manager: Ben
  ELENA: '2c9180aa000000000000000000000005', // manager: Ben
  FARID: '2c9180aa000000000000000000000006', // manager: Dev
  GRACE: '2c9180aa000000000000000000000007', // manager: Dev
  HUGO: '2c9180aa000000000000000000000008', // manager: Dev
  PAULA: '2c9180aa000000000000000000000016', // inactive, manager: Dev
  SVC: '2c9180aa000000000000000000000018', // service identity, no manager
} as const;

export const NOW = '2030-06-01T12:00:00.000Z';
export const JULY = { startDate: '2030-07-01T00:00:00.000Z', endDate: '2030-07-15T00:00:00.000Z' } as const;
export const CONFIGS_PATH = /^\/beta\/reassignment-configurations$/;

let eventCounter = 0;

/** An ABSENCE_STARTED for Farid in the first half of July, occurred at `occurredAt` (default: the sequence). */
export function absenceEvent(
  overrides: Partial<Record<keyof AbsenceEventInput, unknown>> = {},
): AbsenceEventInput {
  eventCounter++;
  return {
    eventId: `evt-${eventCounter}`,
    type: 'ABSENCE_STARTED',
    absenceId: 'leave-1',
    identityId: PEOPLE.FARID,
    ...JULY,
    occurredAt: new Date(Date.parse('2030-05-01T00:00:00Z') + eventCounter * 60_000).toISOString(),
    ...overrides,
  } as AbsenceEventInput;
}

/** What the sandbox holds for a person: work type → target and window. */
export function heldConfigurations(sandbox: Sandbox, identityId: string) {
  const held = sandbox.state.reassignments.get(identityId);
  return Object.fromEntries(
    [...(held?.entries() ?? [])].map(([type, c]) => [
      type,
      { to: c.targetId, startDate: c.startDate, endDate: c.endDate },
    ]),
  );
}

export interface HarnessOptions {
  /** SailPoint client attempts per call (1: a 429 surfaces to the handler at once). */
  readonly maxAttempts?: number;
  /** Wraps the SailPoint client, e.g. to lose a response after SailPoint acted. */
  readonly wrapTransport?: (client: SailPointTransport) => SailPointTransport;
  readonly maxReceiveCount?: number;
  readonly log?: LogSink;
  /** Wraps the DynamoDB document client the handler uses (e.g. to hold writes at a barrier). */
  readonly wrapDoc?: (doc: DynamoDBDocumentClient) => DynamoDBDocumentClient;
  /** Wraps the notifier the handler uses (e.g. to fail a publish); `notifier` still records. */
  readonly wrapNotifier?: (notifier: RecordingNotifier) => Notifier;
  /** DELEGATE_POLICY (default, as deployed: chain-or-peers). */
  readonly delegatePolicy?: DelegatePolicy;
  /** MAX_ABSENCE_DAYS (default, as deployed: 180). */
  readonly maxAbsenceDays?: number;
}

export async function absenceHarness(options: HarnessOptions = {}) {
  const clock = manualClock(NOW);
  const sandbox = await startSandbox({ now: clock.now }); // SailPoint's rate limit on, as in the real tenant
  const client = new SailPointClient({
    apiUrl: sandbox.url,
    ...PAT_CLIENT,
    retry: { maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterSeconds: 1 },
  });
  const sailpoint = options.wrapTransport ? options.wrapTransport(client) : client;
  const { tableName, doc } = await freshTable('absences');
  const sqs = localSqsClient();
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const { queueUrl, dlqUrl } = await freshQueueWithDlq(sqs, maxReceiveCount, 1);
  const notifier = new RecordingNotifier();
  const deps = {
    sailpoint,
    doc: options.wrapDoc ? options.wrapDoc(doc) : doc,
    tableName,
    sqs,
    queueUrl,
    deadLetterQueueUrl: dlqUrl,
    maxReceiveCount,
    notifier: options.wrapNotifier ? options.wrapNotifier(notifier) : notifier,
    log: options.log ?? silentLog,
    now: clock.now,
    ...(options.delegatePolicy ? { delegatePolicy: options.delegatePolicy } : {}),
    ...(options.maxAbsenceDays === undefined ? {} : { maxAbsenceDays: options.maxAbsenceDays }),
  };
  const handler = createAbsenceReassignmentHandler(deps);
  const store = new DynamoAbsenceStore(doc, tableName, 400);

  return {
    clock,
    sandbox,
    client,
    store,
    notifier,
    handler,
    deps,
    /** Sends events (objects are JSON-encoded) in order; returns the message ids. */
    send: (...events: unknown[]) => sendBodies(sqs, queueUrl, events),
    /** Runs the handler until the queue is empty (retries included). */
    drain: () => drainQueue({ sqs, queueUrl, handler, timeoutMs: 15_000 }),
    pollOnce: () => pollOnce({ sqs, queueUrl, handler }),
    /** Sends then drains, one event at a time (a strict order of arrival). */
    async deliver(...events: unknown[]) {
      for (const event of events) {
        await this.send(event);
        await this.drain();
      }
    },
    /** The dead letters as SQS hands them over, every attribute included (each hidden for 60 s once read). */
    deadLetterMessages: () => receiveAll(sqs, dlqUrl),
    async deadLetters(): Promise<{ body: string; reason: string | undefined }[]> {
      return (await receiveAll(sqs, dlqUrl)).map((m) => ({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.reason?.StringValue,
      }));
    },
    /** What the sandbox holds for a person: work type → target and window. */
    configurations: (identityId: string) => heldConfigurations(sandbox, identityId),
    count: (
      method: string,
      path: string | RegExp = /^\/beta\/reassignment-configurations/,
      status?: number,
    ) => sandbox.requestLog.count({ method, path, ...(status === undefined ? {} : { status }) }),
    stop: () => sandbox.stop(),
  };
}

export type AbsenceHarness = Awaited<ReturnType<typeof absenceHarness>>;

/** A transport that lets `shouldLose` requests reach SailPoint, then throws `error` instead of the answer. */
export function losingResponses(
  shouldLose: (request: ApiRequest<unknown>) => boolean,
  error: () => Error,
): (client: SailPointTransport) => SailPointTransport {
  return (client) => ({
    async send<T>(request: ApiRequest<T>): Promise<T> {
      const result = await client.send(request);
      if (shouldLose(request as ApiRequest<unknown>)) throw error();
      return result;
    },
  });
}

/** Lets a test switch a SailPoint transport wrapper on and off after the harness is built. */
export function switchableTransport() {
  let active: ((client: SailPointTransport) => SailPointTransport) | undefined;
  return {
    wrap: (client: SailPointTransport): SailPointTransport => ({
      send: (request) => (active ? active(client) : client).send(request),
    }),
    use(wrapper: ((client: SailPointTransport) => SailPointTransport) | undefined) {
      active = wrapper;
    },
  };
}
