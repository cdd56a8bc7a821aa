/** The Lambda handler over the wire: event parsing, summary, metrics and failing invocations. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { CognigyClient, CognigyAuthError, cognigyConnector } from '../../../functions/shared/cognigy';
import { fixedSecret } from '../../../functions/shared/secrets';
import { FindingsStore } from '../../../functions/shared/findings';
import { RecordingNotifier } from '../../../functions/shared/notifier';
import { createCognigyAuditHandler } from '../../../functions/cognigy-audit/handler';
import { CognigyPreflightError } from '../../../functions/cognigy-audit/least-privilege';
import { parseCognigyAuditSettings } from '../../../functions/cognigy-audit/settings';
import { COGNIGY_SANDBOX_KEYS } from '../../../sandbox/cognigy/state';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { freshTable } from '../../support/emulators';
import { disableMetricsOutput, recordingMetrics } from '../../support/powertools';

const START = '2026-03-01T12:00:00Z';
const context = { functionName: 'cognigy-audit', awsRequestId: 'req-1' } as Context;

describe('cognigy-audit handler', () => {
  let sandbox: Sandbox;
  disableMetricsOutput();
  beforeEach(async () => {
    sandbox = await startSandbox({ now: () => new Date(START) });
  });
  afterEach(() => sandbox.stop());

  async function build(apiKey: string, env: Record<string, string> = {}) {
    const { tableName, doc } = await freshTable('findings');
    const settings = parseCognigyAuditSettings({
      COGNIGY_API_URL: `${sandbox.url}/new`,
      COGNIGY_API_KEY: apiKey,
      FINDINGS_TABLE: tableName,
      ...env,
    });
    const { metrics, recorded } = recordingMetrics('cognigy-audit');
    const lines: string[] = [];
    const logger = new Logger({ serviceName: 'cognigy-audit', logLevel: 'SILENT' });
    for (const level of ['info', 'warn', 'error'] as const) {
      jest
        .spyOn(logger, level)
        .mockImplementation((...args: unknown[]) => void lines.push(JSON.stringify(args)));
    }
    const notifier = new RecordingNotifier();
    let connects = 0;
    let rejections = 0;
    const connector = cognigyConnector(fixedSecret({ apiKey }), (credential) => {
      connects++;
      const client = new CognigyClient({
        apiUrl: settings.COGNIGY_API_URL,
        apiKey: credential.apiKey,
        rateLimit: false,
        sleep: async () => {},
      });
      return { cognigy: client, credential, stats: client.stats };
    });
    const handler = createCognigyAuditHandler({
      settings,
      connect: connector.connect,
      credentialRejected: () => {
        rejections++;
        connector.credentialRejected();
      },
      findings: new FindingsStore({ doc, tableName }),
      notifier,
      logger,
      metrics,
      now: () => new Date(START),
    });
    return { handler, recorded, lines, notifier, connects: () => connects, rejections: () => rejections };
  }

  it('runs on the schedule event, returns the summary and emits the counts', async () => {
    const { handler, recorded, connects } = await build(COGNIGY_SANDBOX_KEYS.admin);
    const summary = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, context);
    expect(summary.trigger).toBe('schedule');
    expect(summary.privilege.overPrivileged.map((o) => o.scope)).toEqual([
      'organisation-wide',
      'project 64a1f0c2e4b0a1b2c3d4e5f6',
    ]);
    expect(recorded).toMatchObject({
      PreflightFailed: 0,
      OverPrivilegedScopes: 2,
      ApiKeys: 2,
      ApiKeysWarned: 1,
      ApiKeysFlagged: 1,
      MultipleActiveKeys: 1,
      FindingsOpened: 5,
      NotificationsSent: 5,
      CognigyRequests: 2,
    });
    await handler({ trigger: 'on-demand' }, context);
    expect(connects()).toBe(1); // one client per container while the key is the same
    expect(recorded.NotificationsSent).toBe(5);
  });

  it('fails the invocation when the preflight fails, naming the right and the traceId', async () => {
    const { handler, recorded, lines } = await build(COGNIGY_SANDBOX_KEYS.leastPrivilege, {
      COGNIGY_RIGHTS_MANIFEST: JSON.stringify({
        organisationWide: { rights: ['apiKeys.read', 'users.read'], roles: ['apiKeys'] },
      }),
    });
    const error = await handler({}, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyPreflightError);
    expect((error as Error).message).toMatch(
      /organisation-wide right users\.read \(traceId api--[0-9a-f-]+\)/,
    );
    expect(recorded).toMatchObject({ PreflightFailed: 1, MissingRights: 1 });
    expect(recorded.ApiKeys).toBeUndefined();
    expect(lines.some((l) => l.includes('users.read') && l.includes('traceId'))).toBe(true);
  });

  it('logs a Cognigy failure with its traceId and never the key; a 401 has the key re-read next time', async () => {
    const { handler, recorded, lines, rejections } = await build('wrong-key-123456');
    const error = await handler({}, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognigyAuthError);
    expect((error as CognigyAuthError).status).toBe(401);
    expect(rejections()).toBe(1);
    expect(recorded.AuditFailed).toBe(1);
    const failure = lines.find((l) => l.includes('Cognigy audit failed'));
    expect(failure).toContain((error as CognigyAuthError).traceId);
    expect(lines.join('\n')).not.toContain('wrong-key-123456');
  });

  it('refuses an event that is not an object', async () => {
    const { handler } = await build(COGNIGY_SANDBOX_KEYS.leastPrivilege);
    await expect(handler('run please' as never, context)).rejects.toThrow('must be a JSON object');
  });
});
