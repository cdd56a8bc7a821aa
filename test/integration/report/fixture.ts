/**
 * State for report tests, made by the real workflows over the wire: the sandbox tenant, fresh dynalite
 * tables and fauxqs queues of this test only.
 *
 *   sweep    three planted tokens per kind of finding (stale, never used, warned, exempt), run as of
 *            15 days ago (revocation on, grace 14) and today: one revoked, one resolved (used again)
 *   cognigy  the admin user's audit with a credential owner
 *   access   the access handler built from its environment, fed a batch with a duplicate, held
 *            access and two invalid messages through its queue (the local poller)
 *   absence  the absence handler built from its environment: one absence now, one upcoming
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createAbsenceReassignmentHandlerFromEnv } from '../../../functions/absence-reassignment/handler';
import { createAccessProvisioningHandlerFromEnv } from '../../../functions/access-provisioning/handler';
import { DEFAULT_API_KEY_POLICY } from '../../../functions/cognigy-audit/api-key-policy';
import { runCognigyAudit } from '../../../functions/cognigy-audit/audit';
import { DEFAULT_RIGHTS_MANIFEST, RightsManifestSchema } from '../../../functions/cognigy-audit/manifest';
import { CognigyClient } from '../../../functions/shared/cognigy';
import { FindingsStore, sailPointOwnerDirectory } from '../../../functions/shared/findings';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { silentLog } from '../../../functions/shared/observability';
import { SailPointClient } from '../../../functions/shared/sailpoint';
import { createStaleTokenSweepHandler } from '../../../functions/stale-token-sweep/handler';
import { DAY_MS } from '../../../functions/stale-token-sweep/policy';
import { compileExemption } from '../../../functions/stale-token-sweep/exemptions';
import { sailPointTokenDirectory } from '../../../functions/stale-token-sweep/token-directory';
import { drainQueue, type SqsHandler } from '../../../local/queue-poller';
import { COGNIGY_SANDBOX_KEYS } from '../../../sandbox/cognigy/state';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { freshTable, localSqsClient, uniqueName } from '../../support/emulators';
import { defaultPolicy } from '../stale-token-sweep/harness';

export const REVOCATION = { enabled: true, graceDays: 14 } as const;
const ID = (n: number) => `2c9180aa0000000000000000000000${String(n).padStart(2, '0')}`;
export const PEOPLE = { dev: ID(4), elena: ID(5), farid: ID(6), grace: ID(7), carla: ID(3), nina: ID(14) };

/** The tokens planted, by what the report must say about them. */
export const TOKENS = {
  stale: ['rp-stale-1', 'rp-stale-2', 'rp-stale-3'],
  neverUsed: ['rp-never-1'],
  warned: ['rp-warned-1'],
  exempt: ['rp-exempt-1'],
  revoked: 'rp-revoked-1',
  usedAgain: 'rp-back-1',
  fine: 'rp-fine-1',
} as const;

export interface ReportFixture {
  readonly sandbox: Sandbox;
  readonly client: SailPointClient;
  readonly tables: { findings: string; accessRequests: string; absences: string };
  readonly doc: Awaited<ReturnType<typeof freshTable>>['doc'];
  stop(): Promise<void>;
}

export async function buildReportFixture(): Promise<ReportFixture> {
  // The handlers log through Powertools (LOG_LEVEL from process.env): quiet while the fixture is built.
  const logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'SILENT';
  try {
    return await build();
  } finally {
    if (logLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = logLevel;
  }
}

async function build(): Promise<ReportFixture> {
  // The sandbox as it models the real tenant by default (rate limit on).
  const sandbox = await startSandbox();
  const tokens = sandbox.state.personalAccessTokens;
  tokens.clear();
  const now = Date.now();
  const plant = (id: string, ownerId: string, lastUsedDaysAgo: number | null, createdDaysAgo = 400) => {
    const owner = sandbox.state.identities.get(ownerId)!;
    tokens.set(id, {
      id,
      name: `Token ${id}`,
      scope: ['sp:scopes:all'],
      owner: { type: 'IDENTITY', id: owner.id, name: owner.name },
      created: new Date(now - createdDaysAgo * DAY_MS).toISOString(),
      lastUsed: lastUsedDaysAgo === null ? null : new Date(now - lastUsedDaysAgo * DAY_MS).toISOString(),
      managed: false,
    });
  };
  plant(TOKENS.stale[0], PEOPLE.dev, 100); // flagged today (warned 15 days ago)
  plant(TOKENS.stale[1], PEOPLE.dev, 95);
  plant(TOKENS.stale[2], PEOPLE.elena, 97);
  plant(TOKENS.neverUsed[0], PEOPLE.elena, null, 40);
  plant(TOKENS.warned[0], PEOPLE.farid, 80);
  plant(TOKENS.exempt[0], PEOPLE.grace, 300);
  plant(TOKENS.revoked, PEOPLE.farid, 200); // flagged 15 days ago: revoked today
  plant(TOKENS.usedAgain, PEOPLE.grace, 120); // flagged 15 days ago, then used again
  plant(TOKENS.fine, PEOPLE.grace, 3);

  const client = new SailPointClient({
    apiUrl: sandbox.url,
    clientId: 'sandbox-pat-client',
    clientSecret: 'sandbox-pat-secret',
  });
  const findingsTable = await freshTable('findings');
  const access = await freshTable('accessRequests');
  const absences = await freshTable('absences');
  const findings = new FindingsStore({ doc: findingsTable.doc, tableName: findingsTable.tableName });

  // Sweep 15 days ago and today (revocation on, grace 14): what was flagged then is revoked now.
  const policy = defaultPolicy({
    exemptions: [compileExemption({ tokenId: TOKENS.exempt[0], reason: 'break-glass, reviewed quarterly' })],
    revocation: REVOCATION,
  });
  let clockMs = now - 15 * DAY_MS;
  const sweep = createStaleTokenSweepHandler({
    policy,
    connect: async () => ({
      tokens: sailPointTokenDirectory(client),
      owners: sailPointOwnerDirectory(client),
    }),
    findings,
    notifier: new RecordingNotifier(),
    logger: new Logger({ serviceName: 'stale-token-sweep', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'IgaAutopilot', serviceName: 'stale-token-sweep' }),
    clock: () => new Date(clockMs),
  });
  const context = { functionName: 'stale-token-sweep', awsRequestId: 'test' } as Context;
  await sweep({}, context);
  tokens.set(TOKENS.usedAgain, { ...tokens.get(TOKENS.usedAgain)!, lastUsed: new Date(now).toISOString() });
  clockMs = now;
  await sweep({}, context);

  // Cognigy: the over-privileged admin user, owned by Nina.
  const cognigyKey = COGNIGY_SANDBOX_KEYS.admin;
  await runCognigyAudit({
    cognigy: new CognigyClient({ apiUrl: `${sandbox.url}/new`, apiKey: cognigyKey }),
    apiKey: cognigyKey,
    manifest: RightsManifestSchema.parse(DEFAULT_RIGHTS_MANIFEST),
    keyPolicy: DEFAULT_API_KEY_POLICY,
    findings,
    notifier: new RecordingNotifier(),
    now: () => new Date(now),
    log: silentLog,
    owner: { id: PEOPLE.nina, displayName: 'Nina Ivanova', email: 'nina.ivanova@example.com' },
  });

  const sqs = localSqsClient();
  const baseEnv = {
    ...process.env,
    SAILPOINT_API_URL: sandbox.url,
    SAILPOINT_CLIENT_ID: 'sandbox-pat-client',
    SAILPOINT_CLIENT_SECRET: 'sandbox-pat-secret',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };

  // Access requests through the real handler and its queue.
  const accessQueues = await queuePair(sqs, false);
  const accessHandler = await createAccessProvisioningHandlerFromEnv({
    ...baseEnv,
    ACCESS_REQUESTS_TABLE: access.tableName,
    ...accessQueues.env,
    TRANSIENT_RETRY_SECONDS: '0',
    CONFLICT_RETRY_SECONDS: '0',
    STATUS_SETTLE_SECONDS: '0',
  });
  const grant = {
    requestId: 'RPT-1',
    requestedFor: [PEOPLE.farid],
    requestType: 'GRANT_ACCESS',
    requestedItems: [{ type: 'ACCESS_PROFILE', id: 'acce5500000000000000000000000004' }],
  };
  for (const body of [
    JSON.stringify(grant),
    JSON.stringify({ ...grant, requestId: 'RPT-2' }), // the same access again: a duplicate
    '{"requestedFor": ["oops"', // not JSON: dead-lettered
    JSON.stringify({
      requestId: 'RPT-3',
      requestedFor: [PEOPLE.farid],
      requestType: 'REVOKE_ACCESS',
      requestedItems: [{ type: 'ACCESS_PROFILE', id: 'acce5500000000000000000000000003' }],
    }), // a revoke without a comment: dead-lettered
  ]) {
    await sqs.send(new SendMessageCommand({ QueueUrl: accessQueues.queueUrl, MessageBody: body }));
    // One message per batch, in order: the second grant meets the first one's submission.
    await drainQueue({ sqs, queueUrl: accessQueues.queueUrl, handler: accessHandler, timeoutMs: 20_000 });
  }

  // Absences through the real handler: Carla away now (her manager covers), Farid from next week.
  const absenceQueues = await queuePair(sqs, true);
  const absenceHandler = (await createAbsenceReassignmentHandlerFromEnv({
    ...baseEnv,
    ABSENCES_TABLE: absences.tableName,
    ...absenceQueues.env,
  })) as unknown as SqsHandler;
  const absence = (
    n: number,
    identityId: string,
    startDays: number,
    endDays: number,
    delegateId?: string,
  ) => ({
    eventId: `rpt-absence-${n}`,
    type: 'ABSENCE_STARTED',
    absenceId: `RPT-LV-${n}`,
    identityId,
    occurredAt: new Date(now - DAY_MS).toISOString(),
    startDate: new Date(now + startDays * DAY_MS).toISOString(),
    endDate: new Date(now + endDays * DAY_MS).toISOString(),
    ...(delegateId ? { delegateId } : {}),
  });
  for (const event of [absence(1, PEOPLE.carla, -1, 9), absence(2, PEOPLE.farid, 7, 21, PEOPLE.grace)]) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: absenceQueues.queueUrl,
        MessageBody: JSON.stringify(event),
        MessageGroupId: event.identityId,
        MessageDeduplicationId: event.eventId,
      }),
    );
  }
  await drainQueue({ sqs, queueUrl: absenceQueues.queueUrl, handler: absenceHandler, timeoutMs: 20_000 });

  return {
    sandbox,
    client,
    doc: findingsTable.doc,
    tables: {
      findings: findingsTable.tableName,
      accessRequests: access.tableName,
      absences: absences.tableName,
    },
    stop: () => sandbox.stop(),
  };
}

async function queuePair(sqs: SQSClient, fifo: boolean) {
  const suffix = fifo ? '.fifo' : '';
  const attributes = fifo ? { FifoQueue: 'true' } : {};
  const dlqName = `${uniqueName('report-dlq')}${suffix}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: attributes }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${uniqueName('report-queue')}${suffix}`,
      Attributes: {
        ...attributes,
        VisibilityTimeout: '2',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${dlqName}`,
          maxReceiveCount: 3,
        }),
      },
    }),
  );
  return {
    queueUrl: queue.QueueUrl!,
    env: { QUEUE_URL: queue.QueueUrl!, DEAD_LETTER_QUEUE_URL: dlq.QueueUrl!, MAX_RECEIVE_COUNT: '3' },
  };
}
