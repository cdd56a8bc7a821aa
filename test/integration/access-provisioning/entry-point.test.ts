/**
 * The access-provisioning Lambda handler as deployed: built by the shared entry point from its own
 * environment (ACCESS_PROVISIONING_ENTRY), over the wire (sandbox tenant, dynalite, fauxqs). Its log
 * lines carry the Lambda context, a refused credential is said loudly with that context, and a bad
 * setting fails the cold start naming it.
 */
import {
  ACCESS_PROVISIONING_ENTRY,
  type AccessProvisioningHandler,
} from '../../../functions/access-provisioning/handler';
import { lambdaEntryPoint } from '../../../functions/shared/lambda';
import { pollOnce } from '../../../local/queue-poller';
import { disableMetricsOutput, logLines, withEnvironmentVariable } from '../../support/powertools';
import { PAT_CLIENT } from '../sandbox/helpers';
import { grant, person, role, startHarness, type Harness } from './harness';

describe('access provisioning: the Lambda entry point', () => {
  let h: Harness;
  disableMetricsOutput();
  // What Lambda sets on an on-demand instance; Powertools reports cold_start only then.
  withEnvironmentVariable('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  afterEach(async () => h?.stop());

  const functionEnv = (harness: Harness) => ({
    ...process.env, // the emulators' AWS_ENDPOINT_URL_* variables
    SAILPOINT_API_URL: harness.sandbox.url,
    SAILPOINT_CLIENT_ID: PAT_CLIENT.clientId,
    SAILPOINT_CLIENT_SECRET: PAT_CLIENT.clientSecret,
    ACCESS_REQUESTS_TABLE: harness.tableName,
    QUEUE_URL: harness.queueUrl,
    DEAD_LETTER_QUEUE_URL: harness.dlqUrl,
    MAX_RECEIVE_COUNT: String(harness.maxReceiveCount),
    LOG_LEVEL: 'INFO',
    TRANSIENT_RETRY_SECONDS: '0',
    // An identity Search does not know is not waited for here (search-lag.test.ts tests that wait).
    UNKNOWN_IDENTITY_RETRY_MINUTES: '0',
  });
  const poll = (handler: AccessProvisioningHandler) =>
    pollOnce({ sqs: h.sqs, queueUrl: h.queueUrl, handler, functionName: 'access-provisioning' });

  it('logs every line of a batch with the Lambda context, and a refused credential loudly with it', async () => {
    h = await startHarness();
    const handler = lambdaEntryPoint(ACCESS_PROVISIONING_ENTRY, functionEnv(h));
    await h.send(grant([person(1)], [{ type: 'ROLE', id: role(1) }]));
    const submitted = await logLines(() => poll(handler));
    const batch = submitted.find((line) => line.message === 'access-provisioning batch processed');
    expect(batch).toMatchObject({
      service: 'access-provisioning',
      function_name: 'access-provisioning',
      function_request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      cold_start: true,
      submitted: 1,
    });

    h.sandbox.faults.inject({ method: 'POST', path: '/beta/access-requests', status: 403 });
    await h.send(grant([person(2)], [{ type: 'ROLE', id: role(2) }]));
    const refused = await logLines(() => poll(handler));
    const error = refused.find((line) => line.level === 'ERROR');
    expect(error).toMatchObject({
      message: "the SailPoint credential was refused: this batch's SailPoint calls stopped",
      function_request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      cold_start: false,
      reason: expect.stringContaining('the credential lacks a right createAccessRequest needs'),
    });
    expect(error!.function_request_id).not.toBe(batch!.function_request_id);
    expect(await h.deadLetters()).toEqual([]);
  });

  it('in Lambda, refuses a disallowed API host at init (no I/O yet), naming the setting', () => {
    expect(() =>
      lambdaEntryPoint(ACCESS_PROVISIONING_ENTRY, {
        AWS_LAMBDA_FUNCTION_NAME: 'access-provisioning',
        SAILPOINT_API_URL: 'https://attacker.example.com',
        SAILPOINT_CREDENTIALS_SECRET_ID: 'never-read',
        ACCESS_REQUESTS_TABLE: 'table',
        QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
        DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
        MAX_RECEIVE_COUNT: '5',
      }),
    ).toThrow(/SAILPOINT_API_URL: .*attacker\.example\.com/);
  });
});
