/**
 * The sweep's Lambda wiring with REPORT_BUCKET set, over the wire: the handler built from its
 * environment as in AWS (sandbox tenant, dynalite tables, fauxqs topic), and the real S3 client
 * writing to a loopback S3 receiver.
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../../../functions/shared/config';
import { FindingsStore } from '../../../functions/shared/findings';
import { reportObjectKeys } from '../../../functions/shared/report';
import {
  createStaleTokenSweepHandler,
  depsFromEnvironment,
} from '../../../functions/stale-token-sweep/handler';
import { parseStaleTokenSweepSettings } from '../../../functions/stale-token-sweep/settings';
import { FINDINGS_SOURCE } from '../../../functions/stale-token-sweep/sweep';
import { startSandbox, type Sandbox } from '../../../sandbox/server';
import { freshTable, sqsEndpoint, uniqueName } from '../../support/emulators';
import { disableMetricsOutput } from '../../support/powertools';
import { startS3Receiver } from '../../support/s3-receiver';

jest.setTimeout(60_000);
disableMetricsOutput();

let sandbox: Sandbox;
let s3: Awaited<ReturnType<typeof startS3Receiver>>;
const saved = { endpoint: process.env.AWS_ENDPOINT_URL_S3, logLevel: process.env.LOG_LEVEL };

beforeEach(async () => {
  sandbox = await startSandbox(); // the default seed's 50 tokens, rate limit on
  s3 = await startS3Receiver();
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.LOG_LEVEL = 'SILENT';
});
afterEach(async () => {
  await Promise.all([sandbox.stop(), s3.stop()]);
  process.env.AWS_ENDPOINT_URL_S3 = saved.endpoint;
  if (saved.logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = saved.logLevel;
});

async function environment() {
  const [findings, accessRequests, absences] = await Promise.all([
    freshTable('findings'),
    freshTable('accessRequests'),
    freshTable('absences'),
  ]);
  const sns = new SNSClient({
    endpoint: sqsEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const topic = await sns.send(new CreateTopicCommand({ Name: uniqueName('findings') }));
  return {
    env: {
      ...process.env,
      SAILPOINT_API_URL: sandbox.url,
      SAILPOINT_CLIENT_ID: 'sandbox-pat-client',
      SAILPOINT_CLIENT_SECRET: 'sandbox-pat-secret',
      FINDINGS_TABLE: findings.tableName,
      NOTIFICATIONS_TOPIC_ARN: topic.TopicArn!,
      REPORT_BUCKET: 'iga-reports',
      ACCESS_REQUESTS_TABLE: accessRequests.tableName,
      ABSENCES_TABLE: absences.tableName,
    },
    findings: new FindingsStore({ doc: findings.doc, tableName: findings.tableName }),
  };
}

const context = { functionName: 'stale-token-sweep', awsRequestId: 'test' } as Context;

it('writes the report to S3 after the run: the page with a row per open finding, and the CSVs', async () => {
  const { env, findings } = await environment();
  const handler = createStaleTokenSweepHandler(depsFromEnvironment(env));
  const summary = await handler({ 'detail-type': 'Scheduled Event' }, context);
  expect(summary.status).toBe('succeeded');

  expect(s3.objects.map((o) => o.key)).toEqual(reportObjectKeys('reports/'));
  expect(s3.objects.every((o) => o.bucket === 'iga-reports')).toBe(true);
  const [page, ...csvs] = s3.objects;
  expect(page!.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page!.headers['x-amz-meta-generated-at']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  const open = (await findings.list(FINDINGS_SOURCE)).filter((f) =>
    ['WARNED', 'FLAGGED', 'EXEMPT'].includes(f.status),
  );
  expect(open.length).toBeGreaterThan(10);
  expect(page!.body.match(/data-testid="token-row"/g)).toHaveLength(open.length);
  // Owners by name: the sweep looked them up; the report shows what it stored.
  expect(page!.body).toContain('dev.patel@example.com');
  const tokensCsv = csvs.find((o) => o.key === 'reports/csv/tokens.csv')!;
  expect(tokensCsv.headers['content-type']).toBe('text/csv; charset=utf-8');
  expect(tokensCsv.body.trim().split('\n')).toHaveLength(1 + open.length);
});

it('a failed write fails the invocation after the run has recorded everything; the next run writes it', async () => {
  const { env, findings } = await environment();
  const handler = createStaleTokenSweepHandler(depsFromEnvironment(env));
  s3.failWith(403, 'AccessDenied');
  await expect(handler({}, context)).rejects.toThrow(
    /the run's work is done, but writing the report failed \(the next run writes it\): .*refused/,
  );
  const recorded = await findings.list(FINDINGS_SOURCE);
  expect(recorded.length).toBeGreaterThan(10);

  const s3Again = await startS3Receiver();
  process.env.AWS_ENDPOINT_URL_S3 = s3Again.endpoint;
  try {
    const next = await createStaleTokenSweepHandler(depsFromEnvironment(env))({}, context);
    expect(next.counts.findingWrites).toBe(0);
    expect(s3Again.objects).toHaveLength(reportObjectKeys('reports/').length);
  } finally {
    await s3Again.stop();
  }
});

it('a run cut short near its timeout writes no report; the run that finishes the work writes it', async () => {
  const { env, findings } = await environment();
  const handler = createStaleTokenSweepHandler(depsFromEnvironment(env));
  // 10 s left: below the sweep's 30 s reserve, so it records nothing and gives its work back.
  const short = { ...context, getRemainingTimeInMillis: () => 10_000 } as Context;
  await expect(handler({}, short)).rejects.toThrow(/stopped \d+ item\(s\) short/);
  expect(s3.objects).toEqual([]);
  expect(await findings.list(FINDINGS_SOURCE)).toEqual([]);

  const full = { ...context, getRemainingTimeInMillis: () => 600_000 } as Context;
  const next = await handler({}, full);
  expect(next.status).toBe('succeeded');
  expect(s3.objects.map((o) => o.key)).toEqual(reportObjectKeys('reports/'));
});

it('REPORT_BUCKET needs the tables the report reads, and a prefix made of folders', () => {
  const base = {
    SAILPOINT_TENANT: 'acme',
    FINDINGS_TABLE: 'f',
    NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
  };
  const problems = (env: Record<string, string>) => {
    try {
      parseStaleTokenSweepSettings({ ...base, ...env });
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.setting}: ${p.message}`);
    }
  };
  expect(problems({})).toEqual([]);
  expect(problems({ REPORT_BUCKET: 'iga-reports' })).toEqual([
    'ACCESS_REQUESTS_TABLE: is required when REPORT_BUCKET is set (the report reads that table)',
    'ABSENCES_TABLE: is required when REPORT_BUCKET is set (the report reads that table)',
  ]);
  expect(problems({ REPORT_PREFIX: '/abs/olute' })).toEqual([
    'REPORT_PREFIX: must be folder names ending with "/", e.g. reports/',
  ]);
  expect(parseStaleTokenSweepSettings(base)).toMatchObject({
    REPORT_PREFIX: 'reports/',
    REPORT_PERIOD_DAYS: 30,
  });
});
