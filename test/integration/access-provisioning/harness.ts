/**
 * Over-the-wire set-up for the access-provisioning tests: a fresh sandbox tenant, a fresh DynamoDB
 * table (dynalite), a fresh queue + DLQ (fauxqs), and the real handler driven by the local poller.
 */
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoClient } from '../../../local/emulators';
import {
  createAccessProvisioningHandler,
  type AccessProvisioningHandler,
  type AccessProvisioningHandlerDeps,
} from '../../../functions/access-provisioning/handler';
import type { ProcessorSettings } from '../../../functions/access-provisioning/batch';
import { MESSAGE_ID_ATTRIBUTE } from '../../../functions/access-provisioning/requeue';
import { DynamoProvisioningStore } from '../../../functions/access-provisioning/state-store';
import { silentLog } from '../../../functions/shared/observability';
import { SailPointClient } from '../../../functions/shared/sailpoint/client';
import { drainQueue, pollOnce } from '../../../local/queue-poller';
import { settleAccessRequests } from '../../../sandbox/sailpoint/access-requests';
import { loadDefaultSeed, type SandboxSeed } from '../../../sandbox/seed';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../sandbox/server';
import {
  dynamoEndpoint,
  freshQueueWithDlq,
  freshTable,
  localSqsClient,
  receiveAll,
  sendBodies,
} from '../../support/emulators';
import { recordingMetrics } from '../../support/powertools';
import { API_CLIENT, PAT_CLIENT } from '../sandbox/helpers';

export { API_CLIENT };
/** nina.ivanova: the identity behind sandbox-pat-client (ORG_ADMIN). */
export const REQUESTER_ID = '2c9180aa000000000000000000000014';

/** Test identities without any access, and extra requestable catalog items. */
export const person = (n: number) => `7e570000000000000000000000000${String(n).padStart(3, '0')}`;
export const role = (n: number) => `7e5701e0000000000000000000000${String(n).padStart(3, '0')}`;
export const entitlement = (n: number) => `7e57e000000000000000000000000${String(n).padStart(3, '0')}`;

/** The default tenant plus `people` identities (no access) and `roles`/`entitlements` requestable items. */
export function testSeed(people = 12, roles = 30, entitlements = 3): SandboxSeed {
  const seed = loadDefaultSeed();
  for (let n = 1; n <= people; n++) {
    seed.identities.push({
      id: person(n),
      name: `test.person${n}`,
      firstName: 'Test',
      lastName: `Person ${n}`,
      displayName: `Test Person ${n}`,
      email: `test.person${n}@example.com`,
      managerId: REQUESTER_ID,
      inactive: false,
      createdDaysAgo: 100,
      attributes: {},
      access: [],
    });
  }
  for (let n = 1; n <= roles; n++) {
    seed.accessItems.push({
      id: role(n),
      type: 'ROLE',
      name: `Test Role ${n}`,
      description: null,
      privileged: false,
      requestable: true,
    });
  }
  for (let n = 1; n <= entitlements; n++) {
    seed.accessItems.push({
      id: entitlement(n),
      type: 'ENTITLEMENT',
      name: `CN=Test Group ${n}`,
      description: null,
      privileged: false,
      requestable: true,
      attribute: 'memberOf',
      value: `CN=Test Group ${n}`,
    });
  }
  return seed as SandboxSeed;
}

export interface HarnessOptions {
  readonly maxReceiveCount?: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly settings?: Partial<ProcessorSettings>;
  readonly sandbox?: SandboxOptions;
  readonly credentials?: { clientId: string; clientSecret: string };
  /** Wraps fetch for the SailPoint client (e.g. to drop a response after the server acted). */
  readonly fetch?: typeof fetch;
  /** Adds middleware to the document client the handlers use (its own client: the test's store is not affected). */
  readonly wrapDoc?: (doc: DynamoDBDocumentClient) => DynamoDBDocumentClient;
  readonly clock?: () => number;
  /** The SailPoint client's own budget (a Lambda instance's limiter); default none. */
  readonly clientRateLimit?: { maxRequests: number; perMs: number };
  /** The client waits Retry-After and backoff for real (default: at once). */
  readonly realSleep?: boolean;
  /** In-client attempts per call (default 1: a failure goes straight to the workflow). */
  readonly clientAttempts?: number;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** The harness's handler with the given SailPoint transport and log, and metrics recorded in memory. */
export function recordingHandler(
  h: Harness,
  deps: Pick<AccessProvisioningHandlerDeps, 'sailpoint'> &
    Partial<Pick<AccessProvisioningHandlerDeps, 'log' | 'settings'>>,
) {
  const { metrics, recorded } = recordingMetrics('access-provisioning');
  const handler = createAccessProvisioningHandler({
    doc: h.doc,
    tableName: h.tableName,
    sqs: h.sqs,
    queueUrl: h.queueUrl,
    deadLetterQueueUrl: h.dlqUrl,
    maxReceiveCount: h.maxReceiveCount,
    log: silentLog,
    metrics,
    settings: TEST_SETTINGS,
    ...deps,
  });
  return { handler, recorded };
}

/** Fast, deterministic defaults: no retry delays, no settle time, SailPoint calls not retried in-client. */
export const TEST_SETTINGS: Partial<ProcessorSettings> = {
  transientRetrySeconds: 0,
  conflictRetrySeconds: 0,
  statusSettleMs: 0,
  // An identity Search does not know is invalid at once, as the tests of invalid input expect; the
  // retry window for identities not indexed yet is tested with it set (search-lag.test.ts).
  unknownIdentityWindowMs: 0,
  // The harness's client has no client-side budget unless a test gives it one (clientRateLimit).
  requestsPer10s: 0,
};

export async function startHarness(options: HarnessOptions = {}) {
  const maxReceiveCount = options.maxReceiveCount ?? 4;
  // Search's indexing lag is on (the sandbox default): the workflow lives with it. The rate limit is
  // off unless a test turns it on (options.sandbox): it would only slow these tests down.
  const sandbox: Sandbox = await startSandbox({ rateLimit: false, seed: testSeed(), ...options.sandbox });
  const { tableName, doc } = await freshTable('accessRequests');
  const sqs: SQSClient = localSqsClient();
  const { queueUrl, dlqUrl } = await freshQueueWithDlq(
    sqs,
    maxReceiveCount + 1,
    options.visibilityTimeoutSeconds ?? 30,
  );
  const store = new DynamoProvisioningStore(doc, tableName);
  /** Receipt handles of messages the handler put back with a delay (a retry after N seconds). */
  const delayed: string[] = [];
  /** Every retry delay the handler set (ChangeMessageVisibility), in seconds, in order. */
  const retryDelays: number[] = [];
  /** Delays of the copies the handler requeued (messages not reached); the copies are visible at once. */
  const requeueDelays: number[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const send = args.input as {
        QueueUrl?: string;
        Entries?: { DelaySeconds?: number; MessageAttributes?: Record<string, unknown> }[];
      };
      if (context.commandName === 'SendMessageBatchCommand' && send.QueueUrl === queueUrl) {
        for (const entry of send.Entries ?? []) {
          if (!entry.MessageAttributes?.[MESSAGE_ID_ATTRIBUTE]) continue; // the test's own messages
          requeueDelays.push(entry.DelaySeconds ?? 0);
          entry.DelaySeconds = 0; // fast-forward, like skipRetryDelays
        }
      }
      for (const change of visibilityChanges(context.commandName, args.input)) {
        if ((change.VisibilityTimeout ?? 0) > 0) {
          delayed.push(change.ReceiptHandle!);
          retryDelays.push(change.VisibilityTimeout!);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'harnessRecordDelays' },
  );
  const handlerDoc = options.wrapDoc
    ? options.wrapDoc(
        DynamoDBDocumentClient.from(localDynamoClient(dynamoEndpoint()), {
          marshallOptions: { removeUndefinedValues: true },
        }),
      )
    : doc;
  /** Bodies of every POST /beta/access-requests sent (whatever the answer). */
  const postedBodies: {
    requestedFor: string[];
    requestType: string;
    requestedItems: { type: string; id: string }[];
  }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    if (
      String(input).endsWith('/beta/access-requests') &&
      init?.method === 'POST' &&
      typeof init.body === 'string'
    ) {
      postedBodies.push(JSON.parse(init.body));
    }
    return (options.fetch ?? fetch)(input, init);
  };

  /** One Lambda instance: its own SailPoint client (own token, own limiter) and handler. */
  const newInstance = (
    overrides: {
      credentials?: { clientId: string; clientSecret: string };
      settings?: Partial<ProcessorSettings>;
    } = {},
  ) => {
    const client = new SailPointClient({
      apiUrl: sandbox.url,
      ...(overrides.credentials ?? options.credentials ?? PAT_CLIENT),
      retry: { maxAttempts: options.clientAttempts ?? 1, maxRetryAfterSeconds: 120, maxElapsedMs: 300_000 },
      ...(options.realSleep ? {} : { sleep: async () => {} }),
      ...(options.clientRateLimit ? { rateLimit: options.clientRateLimit } : {}),
      fetch: recordingFetch,
    });
    const handler: AccessProvisioningHandler = createAccessProvisioningHandler({
      sailpoint: client,
      doc: handlerDoc,
      tableName,
      sqs,
      queueUrl,
      deadLetterQueueUrl: dlqUrl,
      maxReceiveCount,
      log: silentLog,
      ...(options.clock ? { clock: options.clock } : {}),
      settings: { ...TEST_SETTINGS, ...options.settings, ...overrides.settings },
    });
    return { client, handler };
  };
  const main = newInstance();

  return {
    sandbox,
    sqs,
    queueUrl,
    dlqUrl,
    doc,
    tableName,
    store,
    maxReceiveCount,
    postedBodies,
    retryDelays,
    requeueDelays,
    handler: main.handler,
    client: main.client,
    newInstance,
    /** Sends bodies (objects are JSON-encoded) in one SendMessageBatch per 10; returns the message ids. */
    send: (...bodies: unknown[]): Promise<string[]> => sendBodies(sqs, queueUrl, bodies),
    pollOnce: (handler: AccessProvisioningHandler = main.handler, batchSize = 10) =>
      pollOnce({ sqs, queueUrl, handler, batchSize }),
    drain: (handler: AccessProvisioningHandler = main.handler, batchSize = 10) =>
      drainQueue({ sqs, queueUrl, handler, batchSize, timeoutMs: 15_000 }),
    /** Everything now in the DLQ: body and the reason attribute. */
    async deadLetters(): Promise<{ body: string; reason: string; sourceMessageId: string }[]> {
      return (await receiveAll(sqs, dlqUrl)).map((m) => ({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.reason?.StringValue ?? '',
        sourceMessageId: m.MessageAttributes?.sourceMessageId?.StringValue ?? '',
      }));
    },
    /** Accepted (202) access request POSTs the sandbox saw. */
    acceptedPosts: () =>
      sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests', status: 202 }),
    allPosts: () => sandbox.requestLog.count({ method: 'POST', path: '/beta/access-requests' }),
    /** The identity's access item ids in the sandbox now (due approvals applied first). */
    accessOf: (identityId: string) => {
      settleAccessRequests(sandbox.state, options.sandbox?.now?.() ?? new Date());
      return sandbox.state.identities.get(identityId)!.access.map((a) => a.id);
    },
    outcome: (messageId: string) => store.outcomeOfMessage(messageId),
    /** Fast-forwards every delayed retry: the messages are visible again now (instead of sleeping). */
    async skipRetryDelays() {
      for (const receiptHandle of delayed.splice(0)) {
        await sqs
          .send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: receiptHandle,
              VisibilityTimeout: 0,
            }),
          )
          .catch(() => undefined); // already deleted
      }
    },
    async stop() {
      await sandbox.stop();
    },
  };
}

/** The visibility changes a command makes (settle-batch sends ChangeMessageVisibilityBatch). */
export function visibilityChanges(
  commandName: string | undefined,
  input: unknown,
): { VisibilityTimeout?: number; ReceiptHandle?: string }[] {
  if (commandName === 'ChangeMessageVisibilityCommand') return [input as never];
  if (commandName === 'ChangeMessageVisibilityBatchCommand') {
    return ((input as { Entries?: never[] }).Entries ?? []) as never[];
  }
  return [];
}

/** The handler invoked with `remainingMs` left of its invocation (a Lambda context that says so). */
export function withRemainingTime(
  handler: AccessProvisioningHandler,
  remainingMs: number,
): AccessProvisioningHandler {
  return (event, context) => {
    const end = Date.now() + remainingMs;
    return handler(event, { ...context, getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) });
  };
}

export const grant = (
  identities: string[],
  items: { type: 'ROLE' | 'ACCESS_PROFILE' | 'ENTITLEMENT'; id: string }[],
  extra: object = {},
) => ({
  requestedFor: identities,
  requestType: 'GRANT_ACCESS',
  requestedItems: items,
  ...extra,
});

export const revoke = (
  identity: string,
  items: { type: 'ROLE' | 'ACCESS_PROFILE' | 'ENTITLEMENT'; id: string }[],
  extra: object = {},
) => ({
  requestedFor: [identity],
  requestType: 'REVOKE_ACCESS',
  requestedItems: items.map((i) => ({ ...i, comment: 'access no longer needed' })),
  ...extra,
});
