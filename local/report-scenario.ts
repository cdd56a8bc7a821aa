/**
 * `npm run report`: a month of activity on the local stack, made by the real workflows, then the
 * report over what they stored — the same tables, the same code path as the sweep's S3 report.
 *
 *   sweep     the stale-token sweep handler with revocation on (grace 14 days), run as of 15 and 10 days
 *             ago and today: tokens flagged 15 days ago are revoked now, those flagged 10 days ago are
 *             due within the week, tokens crossing the threshold since are flagged with a revoke date;
 *             one owner used a token again, another deleted one (both resolved); owners named from
 *             their identity documents. Three tokens are added to the seed for this story.
 *   access    the access-provisioning demo's batch (duplicates, held access, invalid messages and a
 *             request the approver refuses: dead letters with reasons) through the real handler
 *   absence   the absence demo's HR events (upcoming absences, a deferred one), plus one absence that
 *             started yesterday, through the absence function built from its environment
 *   cognigy   the audit of the over-privileged admin user with COGNIGY_CREDENTIAL_OWNER set, then again
 *             after its spare key was revoked (that finding resolves)
 *
 * Each step's own output is kept out of the way (the demos print to `print` only when verbose).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createAbsenceReassignmentHandlerFromEnv } from '../functions/absence-reassignment/handler';
import { DEFAULT_API_KEY_POLICY } from '../functions/cognigy-audit/api-key-policy';
import { runCognigyAudit } from '../functions/cognigy-audit/audit';
import { parseCognigyAuditSettings } from '../functions/cognigy-audit/settings';
import { createDocumentClient } from '../functions/shared/aws';
import { createCognigyClient } from '../functions/shared/cognigy';
import { FindingsStore, sailPointOwnerDirectory } from '../functions/shared/findings';
import { RecordingNotifier } from '../functions/shared/notifier';
import { silentLog } from '../functions/shared/observability';
import { createSailPointClientFromEnv } from '../functions/shared/sailpoint';
import { createStaleTokenSweepHandler, SERVICE_NAME } from '../functions/stale-token-sweep/handler';
import { DAY_MS } from '../functions/stale-token-sweep/policy';
import { parseStaleTokenSweepSettings, policyFromSettings } from '../functions/stale-token-sweep/settings';
import { sailPointTokenDirectory } from '../functions/stale-token-sweep/token-directory';
import { COGNIGY_SANDBOX_KEYS } from '../sandbox/cognigy/state';
import { absenceReassignmentDemo } from './demos/absence-reassignment';
import { accessProvisioningDemo } from './demos/access-provisioning';
import type { LocalEnvironment } from './environment';
import { drainQueue } from './queue-poller';

/** The revocation policy of the scenario's sweep (and so of the report's revoke dates). */
export const SCENARIO_REVOCATION = { enabled: true, graceDays: 14 } as const;

/** Who answers for the Cognigy credential in the scenario: the IAM admin (nina.ivanova). */
const COGNIGY_OWNER = {
  id: '2c9180aa000000000000000000000014',
  displayName: 'Nina Ivanova',
  email: 'nina.ivanova@example.com',
};

const TOKENS = {
  /** Flagged 15 days ago, used again since: resolved. */
  usedAgain: '7a700000000000000000000000000003',
  /** Flagged 15 days ago, deleted by its owner since: resolved. */
  deleted: '7a700000000000000000000000000014',
  /** The break-glass token, exempt. */
  breakGlass: '7a700000000000000000000000000019',
};

export async function runReportScenario(local: LocalEnvironment): Promise<void> {
  const { print } = local;
  const quiet: LocalEnvironment = { ...local, print: () => {} };

  print('  ▸ sweep 15 days ago, then today (revocation on, grace 14 days)');
  await sweepScenario(local);
  print('  ▸ access requests (the demo batch, with duplicates and dead letters)');
  await accessProvisioningDemo(quiet);
  print('  ▸ absences (the demo events, and one that started yesterday)');
  await absenceReassignmentDemo(quiet);
  await currentAbsence(local);
  print('  ▸ Cognigy credential audit (admin user, then its spare key revoked)');
  await cognigyScenario(local);
}

async function sweepScenario(local: LocalEnvironment): Promise<void> {
  const env = {
    ...local.env,
    NOTIFICATIONS_TOPIC_ARN: 'local-recorded',
    STALE_TOKEN_REVOKE: String(SCENARIO_REVOCATION.enabled),
    STALE_TOKEN_REVOKE_GRACE_DAYS: String(SCENARIO_REVOCATION.graceDays),
    STALE_TOKEN_EXEMPTIONS: JSON.stringify([
      { tokenId: TOKENS.breakGlass, reason: 'break-glass token, reviewed every quarter' },
    ]),
  };
  const settings = parseStaleTokenSweepSettings(env);
  const client = await createSailPointClientFromEnv(env);
  let nowMs = Date.now() - 15 * DAY_MS;
  const handler = createStaleTokenSweepHandler({
    policy: policyFromSettings(settings),
    connect: async () => ({
      tokens: sailPointTokenDirectory(client),
      owners: sailPointOwnerDirectory(client),
      stats: client.stats,
    }),
    findings: new FindingsStore({ doc: createDocumentClient(), tableName: local.tables.findings }),
    notifier: new RecordingNotifier(),
    logger: new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'IgaAutopilot', serviceName: SERVICE_NAME }),
    clock: () => new Date(nowMs),
  });
  const context = { functionName: SERVICE_NAME, awsRequestId: 'local-report' } as Context;

  // Tokens the seed does not have: an ad-hoc export last used 103 days ago (flagged by the sweep of
  // 10 days ago, so due for revocation within the week) and two never-used tokens created 40 days ago.
  const tokens = local.sandbox.state.personalAccessTokens;
  const plant = (
    id: string,
    name: string,
    ownerId: string,
    createdDaysAgo: number,
    lastUsedDaysAgo: number | null,
  ) => {
    const owner = local.sandbox.state.identities.get(ownerId)!;
    tokens.set(id, {
      id,
      name,
      scope: ['sp:scopes:all'],
      owner: { type: 'IDENTITY', id: owner.id, name: owner.name },
      created: new Date(Date.now() - createdDaysAgo * DAY_MS).toISOString(),
      lastUsed:
        lastUsedDaysAgo === null ? null : new Date(Date.now() - lastUsedDaysAgo * DAY_MS).toISOString(),
      managed: false,
    });
  };
  plant('7a7000000000000000000000000000a1', 'Ad-hoc export', '2c9180aa000000000000000000000020', 300, 103);
  plant('7a7000000000000000000000000000a2', 'Onboarding test', '2c9180aa000000000000000000000017', 40, null);
  plant('7a7000000000000000000000000000a3', 'Postman', '2c9180aa000000000000000000000017', 40, null);

  await handler({ 'detail-type': 'Scheduled Event' }, context);
  nowMs = Date.now() - 10 * DAY_MS;
  await handler({ 'detail-type': 'Scheduled Event' }, context);
  // Meanwhile: one owner used a flagged token again, another deleted one.
  const usedAgain = tokens.get(TOKENS.usedAgain);
  if (usedAgain) {
    tokens.set(TOKENS.usedAgain, { ...usedAgain, lastUsed: new Date(Date.now() - 3_600_000).toISOString() });
  }
  tokens.delete(TOKENS.deleted);
  nowMs = Date.now();
  const today = await handler({ 'detail-type': 'Scheduled Event' }, context);
  local.print(
    `    today: ${today.counts.revoked} revoked, ${today.counts.resolved} resolved, ${today.counts.newFindings} new, ` +
      `${today.counts.escalated} escalated; ${today.counts.ownerLookups} owner lookup(s)`,
  );
}

async function currentAbsence(local: LocalEnvironment): Promise<void> {
  const { sqs } = local;
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'local-report-absences-dlq.fifo',
      Attributes: { FifoQueue: 'true' },
    }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'local-report-absences.fifo',
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '2',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
      },
    }),
  );
  const handler = await createAbsenceReassignmentHandlerFromEnv({
    ...local.env,
    QUEUE_URL: queue.QueueUrl!,
    DEAD_LETTER_QUEUE_URL: dlq.QueueUrl!,
    MAX_RECEIVE_COUNT: '3',
    LOG_LEVEL: 'ERROR',
  });
  // Carla Mendes (03) is on leave from yesterday for ten days; her manager covers.
  const carla = '2c9180aa000000000000000000000003';
  const event = {
    eventId: 'hr-report-1',
    type: 'ABSENCE_STARTED',
    absenceId: 'LV-3001',
    identityId: carla,
    occurredAt: new Date(Date.now() - 2 * DAY_MS).toISOString(),
    startDate: new Date(Date.now() - DAY_MS).toISOString(),
    endDate: new Date(Date.now() + 9 * DAY_MS).toISOString(),
  };
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.QueueUrl!,
      MessageBody: JSON.stringify(event),
      MessageGroupId: carla,
      MessageDeduplicationId: event.eventId,
    }),
  );
  await drainQueue({
    sqs,
    queueUrl: queue.QueueUrl!,
    handler: handler as unknown as Parameters<typeof drainQueue>[0]['handler'],
    timeoutMs: 20_000,
  });
}

async function cognigyScenario(local: LocalEnvironment): Promise<void> {
  const cognigyState = local.sandbox.state.cognigy;
  const apiKey = COGNIGY_SANDBOX_KEYS.admin;
  const settings = parseCognigyAuditSettings({
    ...local.env,
    COGNIGY_API_KEY: apiKey,
    COGNIGY_CREDENTIAL_OWNER: JSON.stringify(COGNIGY_OWNER),
  });
  const findings = new FindingsStore({ doc: createDocumentClient(), tableName: local.tables.findings });
  const audit = () =>
    runCognigyAudit({
      cognigy: createCognigyClient(settings, { apiKey }),
      apiKey,
      manifest: settings.COGNIGY_RIGHTS_MANIFEST,
      keyPolicy: DEFAULT_API_KEY_POLICY,
      findings,
      notifier: new RecordingNotifier(),
      now: () => new Date(),
      log: silentLog,
      owner: settings.COGNIGY_CREDENTIAL_OWNER ?? undefined,
    });
  await audit();
  const admin = cognigyState.findByKey(apiKey)!;
  const spare = cognigyState.findByKey(COGNIGY_SANDBOX_KEYS.adminSpare)!.apiKey;
  cognigyState.removeApiKey(admin.user.id, spare.id);
  await audit();
}
