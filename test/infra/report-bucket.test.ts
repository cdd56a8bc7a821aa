/**
 * The report bucket (stack setting `report`): absent by default; when enabled, an encrypted,
 * versioned, private bucket with lifecycle rules and access logs, cdk-nag clean without any
 * acknowledgement, and the sweep (and only the sweep) allowed to put exactly the report's objects
 * and to scan the two tables the report reads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { reportObjectKeys } from '../../functions/shared/report/files';
import { REPORT_ACTIONS, REPORT_PREFIX } from '../../lib/constructs/report-bucket';
import { IgaAutopilotStack } from '../../lib/iga-autopilot-stack';
import { parseStackConfig, StackConfigError } from '../../lib/stack-config';
import { actionsCalledBy, functionRole, logicalId, refText, roleStatements } from './template-helpers';

jest.setTimeout(180_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON, read by path
type Json = Record<string, any>;

function synth(report?: object) {
  const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'iga-report-test-')) });
  const stack = new IgaAutopilotStack(app, 'ReportTest', {
    config: parseStackConfig({
      sailPoint: { tenant: 'acme' },
      cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
      ...(report ? { report } : {}),
    }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

describe('report bucket off (the default)', () => {
  let stack: IgaAutopilotStack;
  let template: Template;
  beforeAll(() => ({ stack, template } = synth()));

  it('creates no bucket, and the sweep has no report setting and no report grant', () => {
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const env = template.toJSON().Resources[logicalId(stack.staleTokenSweep.function)].Properties.Environment
      .Variables as Record<string, unknown>;
    expect(Object.keys(env).filter((k) => k.startsWith('REPORT_'))).toEqual([]);
    const actions = roleStatements(
      template,
      functionRole(template, logicalId(stack.staleTokenSweep.function)),
    ).flatMap((s) => s.actions);
    for (const action of REPORT_ACTIONS) expect(actions).not.toContain(action);
  });
});

describe('report bucket on', () => {
  let app: App;
  let stack: IgaAutopilotStack;
  let template: Template;
  let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;
  let bucketId: string;
  let logsId: string;
  beforeAll(() => {
    ({ app, stack, template } = synth({ enabled: true, retentionDays: 60, periodDays: 14 }));
    resources = template.toJSON().Resources;
    bucketId = logicalId(stack.reports!.bucket);
    logsId = logicalId(stack.reports!.accessLogs);
  });
  const tableId = (name: string) => logicalId(stack.node.findChild('Tables').node.findChild(name));

  it('is private, KMS-encrypted, versioned, TLS 1.2+ only, logged, and drops replaced reports after the retention', () => {
    expect(resources[bucketId]!.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'reports-bucket/' },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'ExpireReplacedReports',
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 60 },
            ExpiredObjectDeleteMarker: true,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
    expect(resources[logsId]!.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: [{ Id: 'ExpireAccessLogs', ExpirationInDays: 60, Status: 'Enabled' }],
      },
    });
    // Both buckets refuse plain HTTP and TLS below 1.2, and are kept when the stack is deleted.
    for (const id of [bucketId, logsId]) {
      expect(resources[id]!.DeletionPolicy).toBe('Retain');
      const policy = Object.values(resources).find(
        (r) => r.Type === 'AWS::S3::BucketPolicy' && refText(r.Properties.Bucket) === id,
      )!;
      const statements = (policy.Properties.PolicyDocument as { Statement: Json[] }).Statement;
      const denies = statements.filter((s) => s.Effect === 'Deny');
      expect(denies.map((s) => Object.keys(s.Condition as Json).join()).sort()).toEqual([
        'Bool',
        'NumericLessThan',
      ]);
      if (id === logsId) {
        // S3's log delivery may write there, for the report bucket only (a bucket policy, no ACL).
        expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
          expect.objectContaining({
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: expect.objectContaining({
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
            }),
          }),
        ]);
      }
    }
  });

  it('lets the sweep put exactly the report objects and scan the two other tables; nobody else gets access', async () => {
    const sweepRole = functionRole(template, logicalId(stack.staleTokenSweep.function));
    const statements = roleStatements(template, sweepRole);
    const s3 = statements.filter((s) => s.actions.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: reportObjectKeys(REPORT_PREFIX).map((key) => `${bucketId}.Arn/${key}`),
      },
    ]);
    const scans = statements.filter((s) => s.actions.includes('dynamodb:Scan'));
    expect(scans).toEqual([
      {
        effect: 'Allow',
        actions: ['dynamodb:Scan'],
        resources: [`${tableId('AccessRequests')}.Arn`, `${tableId('Absences')}.Arn`],
      },
    ]);
    // What the grants are for is what the sweep's code calls.
    const called = await actionsCalledBy('stale-token-sweep');
    for (const action of REPORT_ACTIONS) expect(called).toContain(action);

    const env = resources[logicalId(stack.staleTokenSweep.function)]!.Properties.Environment.Variables;
    expect(refText(env.REPORT_BUCKET)).toBe(bucketId);
    expect(env).toMatchObject({ REPORT_PREFIX, REPORT_PERIOD_DAYS: '14' });
    expect(refText(env.ACCESS_REQUESTS_TABLE)).toBe(tableId('AccessRequests'));
    expect(refText(env.ABSENCES_TABLE)).toBe(tableId('Absences'));

    // No other role mentions the buckets or scans a table.
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Role' || id === sweepRole) continue;
      for (const s of roleStatements(template, id)) {
        expect(s.resources.join()).not.toMatch(new RegExp(`${bucketId}|${logsId}`));
        expect(s.actions).not.toContain('dynamodb:Scan');
      }
    }
  });

  it('passes cdk-nag AwsSolutions with no acknowledgement anywhere', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const acknowledged = stack.node
      .findAll()
      .filter((c) => c.node.path.includes('/Reports/'))
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY));
    expect(acknowledged).toEqual([]);
  });

  it('names the bucket in the outputs', () => {
    template.hasOutput('ReportBucketName', { Value: { Ref: bucketId } });
  });
});

describe('report settings', () => {
  it('have documented defaults and errors that name them', () => {
    expect(parseStackConfig({ sailPoint: { tenant: 'acme' } }).report).toEqual({
      enabled: false,
      retentionDays: 90,
      periodDays: 30,
    });
    expect(() => parseStackConfig({ report: { retentionDays: 0 } })).toThrow(
      /igaAutopilot\.report\.retentionDays: must be at least 1/,
    );
    expect(() => parseStackConfig({ report: { enabled: 'yes' } })).toThrow(StackConfigError);
  });

  it("the sweep's REPORT_BUCKET cannot be passed through its settings: the stack sets it with the grants", () => {
    expect(() =>
      parseStackConfig({
        sailPoint: { tenant: 'acme' },
        staleTokenSweep: { settings: { REPORT_BUCKET: 'my-bucket' } },
      }),
    ).toThrow(
      /igaAutopilot\.staleTokenSweep\.settings\.REPORT_BUCKET: is set by the stack from igaAutopilot\.report\.enabled/,
    );
  });
});
