/**
 * Each SailPoint function's preflight names the right its credential lacks, over the wire: the
 * sandbox tenant issues tokens with the authorities and scopes of each client, and these tests add
 * clients without a right a workflow needs. The functions are built from their environment, as in
 * Lambda (the handlers' FromEnv builders wire the preflight).
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAbsenceReassignmentHandlerFromEnv } from '../../../functions/absence-reassignment/handler';
import { createAccessProvisioningHandlerFromEnv } from '../../../functions/access-provisioning/handler';
import {
  createStaleTokenSweepHandler,
  depsFromEnvironment,
} from '../../../functions/stale-token-sweep/handler';
import { missingRights, WORKFLOW_OPERATIONS } from '../../../functions/shared/sailpoint/rights';
import { drainQueue } from '../../../local/queue-poller';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import {
  freshQueueWithDlq,
  freshTable,
  localSqsClient,
  receiveAll,
  sendBodies,
  sqsEndpoint,
  uniqueName,
} from '../../support/emulators';
import { disableMetricsOutput } from '../../support/powertools';
import { PEOPLE } from '../absence-reassignment/harness';

const PAT_IDENTITY = '2c9180aa000000000000000000000014'; // nina.ivanova in the default seed
const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** A PAT-like client of the seed's admin identity, with the given token scope and authorities. */
const pat = (clientId: string, scope: string, authorities = ['ORG_ADMIN']) => ({
  clientId,
  clientSecret: `${clientId}-secret`,
  identityId: PAT_IDENTITY,
  authorities,
  scope,
});

describe('SailPoint rights preflight', () => {
  let sandbox: Sandbox;
  disableMetricsOutput();
  afterEach(async () => sandbox?.stop());

  const start = (...clients: ReturnType<typeof pat>[]) =>
    startSandbox({
      rateLimit: false,
      clients: [...clients, { clientId: 'api-client', clientSecret: 'api-secret' }],
    }).then((s) => (sandbox = s));
  const credentials = (client: { clientId: string; clientSecret: string }) => ({
    SAILPOINT_API_URL: sandbox.url,
    SAILPOINT_CLIENT_ID: client.clientId,
    SAILPOINT_CLIENT_SECRET: client.clientSecret,
  });
  const apiCalls = () => sandbox.requestLog.count({ path: /^\/(beta|v3)\// });

  /**
   * Builds a queue function on a fresh queue and DLQ (its queue settings added to `env`), sends it
   * `body`, works the queue until it is empty and returns the dead letter's reason.
   */
  const deadLetterReason = async (
    build: (env: Record<string, string>) => Promise<(e: SQSEvent, c: Context) => Promise<SQSBatchResponse>>,
    env: Record<string, string>,
    maxReceiveCount: number,
    body: object,
  ): Promise<string> => {
    const sqs = localSqsClient();
    const { queueUrl, dlqUrl } = await freshQueueWithDlq(sqs, maxReceiveCount, 1);
    const handler = await build({
      ...env,
      QUEUE_URL: queueUrl,
      DEAD_LETTER_QUEUE_URL: dlqUrl,
      MAX_RECEIVE_COUNT: String(maxReceiveCount),
    });
    await sendBodies(sqs, queueUrl, [body]);
    await drainQueue({ sqs, queueUrl, handler, timeoutMs: 15_000 });
    const [dead] = await receiveAll(sqs, dlqUrl);
    return dead?.MessageAttributes?.reason?.StringValue ?? '';
  };

  test('absence reassignment: a PAT without the manage scope; the event waits, then is dead-lettered saying so', async () => {
    const readOnly = pat('read-only-pat', 'idn:reassignment-configuration:read sp:search:read');
    await start(readOnly);
    const { tableName } = await freshTable('absences');
    const reason = await deadLetterReason(
      async (env) =>
        (await createAbsenceReassignmentHandlerFromEnv(env)) as (
          e: SQSEvent,
          c: Context,
        ) => Promise<SQSBatchResponse>,
      { ...credentials(readOnly), ABSENCES_TABLE: tableName },
      2,
      {
        eventId: 'e1',
        type: 'ABSENCE_STARTED',
        absenceId: 'leave-1',
        identityId: PEOPLE.FARID,
        startDate: '2030-07-01T00:00:00Z',
        endDate: '2030-07-15T00:00:00Z',
        occurredAt: '2025-06-01T00:00:00Z', // in the past: a future occurredAt is refused (#11)
      },
    );
    expect(reason).toMatch(/^gave up after 2 attempts: /);
    expect(reason).toContain(
      'the SailPoint credential read-only-pat lacks what absence-reassignment needs: scope idn:reassignment-configuration:manage ' +
        '(for createReassignmentConfiguration, putReassignmentConfig, deleteReassignmentConfiguration, getEvaluateReassignmentConfiguration)',
    );
    expect(apiCalls()).toBe(0); // refused before any API call
  });

  test('stale-token sweep: a PAT that may list only its own tokens; with revocation on, one without delete', async () => {
    const own = pat('own-tokens-pat', 'sp:my-personal-access-tokens:read');
    const listOnly = pat('list-only-pat', 'sp:all-personal-access-tokens:read');
    await start(own, listOnly);
    const { tableName } = await freshTable('findings');
    const sns = new SNSClient({
      endpoint: sqsEndpoint(),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const topic = await sns.send(new CreateTopicCommand({ Name: uniqueName('findings') }));
    const sweep = (client: ReturnType<typeof pat>, revoke: boolean) =>
      createStaleTokenSweepHandler(
        depsFromEnvironment({
          ...credentials(client),
          FINDINGS_TABLE: tableName,
          NOTIFICATIONS_TOPIC_ARN: topic.TopicArn!,
          STALE_TOKEN_REVOKE: String(revoke),
        }),
      )({}, context);

    await expect(sweep(own, false)).rejects.toThrow(
      'the SailPoint credential own-tokens-pat lacks what stale-token-sweep needs: scope sp:all-personal-access-tokens:read ' +
        'or sp:all-personal-access-tokens:manage (for listPersonalAccessTokens)',
    );
    await expect(sweep(listOnly, false)).resolves.toMatchObject({ status: 'succeeded' }); // a dry run may list
    await expect(sweep(listOnly, true)).rejects.toThrow(
      'lacks what stale-token-sweep needs: scope sp:all-personal-access-tokens:manage (for deletePersonalAccessToken)',
    );
    expect(sandbox.requestLog.count({ method: 'DELETE' })).toBe(0);
  });

  test('access provisioning: an API client, and a PAT of an identity below ORG_ADMIN; the messages wait saying why', async () => {
    const helpdesk = pat('helpdesk-pat', 'sp:scopes:all', ['HELPDESK']);
    await start(helpdesk);
    const { tableName } = await freshTable('accessRequests');
    for (const [client, expected] of [
      [
        { clientId: 'api-client', clientSecret: 'api-secret' },
        'a user context: a personal access token (PAT), not an API client',
      ],
      [
        helpdesk,
        "user level ORG_ADMIN (the credential's identity has HELPDESK) (for listAccessRequestStatus)",
      ],
    ] as const) {
      const reason = await deadLetterReason(
        createAccessProvisioningHandlerFromEnv,
        { ...credentials(client), ACCESS_REQUESTS_TABLE: tableName },
        1,
        {
          requestedFor: [PEOPLE.FARID],
          requestedItems: [{ type: 'ROLE', id: 'acce5500000000000000000000000001' }],
        },
      );
      expect(reason).toContain(`lacks what access-provisioning needs: ${expected}`);
    }
    expect(apiCalls()).toBe(0);
  });
});

describe('missingRights', () => {
  const absence = WORKFLOW_OPERATIONS.absenceReassignment().operations;
  test('sp:scopes:all defers to the user level; a token that names no scopes is not judged on them', () => {
    const admin = { identityId: 'x', authorities: ['ORG_ADMIN'] };
    expect(missingRights({ ...admin, scopes: ['sp:scopes:all'] }, absence)).toEqual([]);
    expect(missingRights({ ...admin, scopes: undefined }, absence)).toEqual([]);
    expect(missingRights({ identityId: 'x', authorities: [], scopes: undefined }, absence)).toEqual([]);
  });

  test('the narrowest credential of each workflow passes', () => {
    const narrow = (scopes: string[]) => ({ identityId: 'x', authorities: ['ORG_ADMIN'], scopes });
    expect(
      missingRights(narrow(['idn:reassignment-configuration:manage', 'sp:search:read']), absence),
    ).toEqual([]);
    expect(
      missingRights(
        narrow(['idn:access-request:manage', 'idn:access-request-status:read', 'sp:search:read']),
        WORKFLOW_OPERATIONS.accessProvisioning().operations,
      ),
    ).toEqual([]);
    expect(
      missingRights(
        narrow(['sp:all-personal-access-tokens:manage']),
        WORKFLOW_OPERATIONS.staleTokenSweep(true).operations,
      ),
    ).toEqual([]);
  });
});
