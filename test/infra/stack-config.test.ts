/**
 * Stack settings: defaults, overrides from the command line, and synth-time errors that name the
 * setting, including workflow thresholds checked by the workflow's own schema.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { parseSettings } from '../../functions/shared/config';
import { REPO_ROOT } from '../../lib/bundling';
import { IgaAutopilotStack } from '../../lib/iga-autopilot-stack';
import {
  functionEnvironment,
  PLACEHOLDER_REFS,
  WORKFLOWS,
  type WorkflowName,
} from '../../lib/function-environment';
import {
  cognigyAuditEnabled,
  parseStackConfig,
  StackConfigError,
  stackConfigFromContext,
  type StackConfigInput,
} from '../../lib/stack-config';

/** The problems a config produces, as `setting: message` lines (a missing tenant allowed unless said). */
function problemsOf(input: object): string[] {
  try {
    parseStackConfig({ allowIncomplete: true, ...input });
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('defaults', () => {
  test('an empty config is refused: a missing tenant is a synth error naming the setting and the flag', () => {
    expect(() => parseStackConfig({})).toThrow(StackConfigError);
    expect(problemsOf({ allowIncomplete: false })).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.sailPoint\.tenant: is required \(or sailPoint\.apiUrl\).*igaAutopilot\.allowIncomplete=true/,
      ),
    ]);
    expect(problemsOf({ allowIncomplete: false, sailPoint: { tenant: 'acme' } })).toEqual([]);
    expect(
      problemsOf({ allowIncomplete: false, sailPoint: { apiUrl: 'https://acme.api.identitynow.com' } }),
    ).toEqual([]);
  });

  test('with allowIncomplete, an empty config gives the documented defaults', () => {
    const config = parseStackConfig({ allowIncomplete: true });
    expect(config).toMatchObject({
      stackName: 'IgaAutopilot',
      allowIncomplete: true,
      terminationProtection: false,
      tags: {},
      schedules: { retryAttempts: 3, functionRetryAttempts: 2, maxEventAgeSeconds: 3600 },
      sailPoint: { credentialsSecret: 'iga-autopilot/sailpoint', requestsPer10s: 95, extraApiHosts: [] },
      cognigy: { apiKeySecret: 'iga-autopilot/cognigy-api-key', extraApiHosts: [] },
      lambda: { memoryMb: 256, logLevel: 'INFO', logRetentionDays: 90, reserveScheduledConcurrency: true },
      queues: { maxReceiveCount: 5, retentionDays: 14 },
      alarms: { oldestMessageAgeSeconds: 900 },
      notifications: { emails: [] },
      data: { retainOnDelete: true },
      staleTokenSweep: { schedule: 'cron(0 6 * * ? *)', timeZone: 'UTC', timeoutSeconds: 600, settings: {} },
      accessProvisioning: {
        maxConcurrency: 2,
        timeoutSeconds: 120,
        batchSize: 3000,
        maxBatchingWindowSeconds: 5,
      },
      absenceReassignment: {
        maxConcurrency: 2,
        timeoutSeconds: 120,
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        fifo: true,
        recheckSchedule: 'cron(0 5 * * ? *)',
        recheckTimeZone: 'UTC',
      },
      cognigyAudit: { timeoutSeconds: 300 },
    });
    expect(config.sailPoint.tenant).toBeUndefined();
    for (const unset of [
      config.permissionsBoundary,
      config.vpc,
      config.account,
      config.region,
      config.accessProvisioning.producers,
      config.absenceReassignment.producers,
      config.staleTokenSweep.credentialsSecret,
      config.accessProvisioning.credentialsSecret,
      config.absenceReassignment.credentialsSecret,
    ]) {
      expect(unset).toBeUndefined();
    }
    expect(cognigyAuditEnabled(config)).toBe(false);
    expect(
      cognigyAuditEnabled(
        parseStackConfig({ allowIncomplete: true, cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' } }),
      ),
    ).toBe(true);
  });

  test.each(Object.keys(WORKFLOWS) as WorkflowName[])(
    "the environment the stack gives %s passes that function's own settings check",
    (workflow) => {
      const config = parseStackConfig({
        sailPoint: { tenant: 'acme' },
        cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
      });
      const env = functionEnvironment(workflow, config, PLACEHOLDER_REFS);
      expect(() => parseSettings(WORKFLOWS[workflow].schema, env)).not.toThrow();
      expect(Object.values(env).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    },
  );
});

describe('overrides from the CDK context', () => {
  test('`-c igaAutopilot.<path>=value` strings override the cdk.json object and are coerced', () => {
    const config = stackConfigFromContext({
      igaAutopilot: { sailPoint: { tenant: 'acme' }, accessProvisioning: { maxConcurrency: 3 } },
      'igaAutopilot.accessProvisioning.maxConcurrency': '6',
      'igaAutopilot.lambda.reserveScheduledConcurrency': 'false',
      'igaAutopilot.notifications.emails': 'a@example.com, b@example.com',
      'igaAutopilot.staleTokenSweep.settings.STALE_TOKEN_REVOKE': 'true',
      '@aws-cdk/core:checkSecretUsage': true,
    });
    expect(config.sailPoint.tenant).toBe('acme');
    expect(config.accessProvisioning.maxConcurrency).toBe(6);
    expect(config.lambda.reserveScheduledConcurrency).toBe(false);
    expect(config.notifications.emails).toEqual(['a@example.com', 'b@example.com']);
    expect(config.staleTokenSweep.settings).toEqual({ STALE_TOKEN_REVOKE: 'true' });
  });

  test('the whole object may be given as JSON text, and JSON-valued workflow settings are encoded', () => {
    const config = stackConfigFromContext({
      igaAutopilot: JSON.stringify({
        sailPoint: { tenant: 'acme' },
        staleTokenSweep: {
          settings: { STALE_TOKEN_EXEMPTIONS: [{ ownerId: 'owner-1', reason: 'break-glass' }] },
        },
      }),
    });
    expect(JSON.parse(config.staleTokenSweep.settings.STALE_TOKEN_EXEMPTIONS!)).toEqual([
      { ownerId: 'owner-1', reason: 'break-glass' },
    ]);
    expect(() => stackConfigFromContext({ igaAutopilot: '{not json' })).toThrow(
      /igaAutopilot: given on the command line/,
    );
  });
});

describe('a bad value names the setting', () => {
  const cases: [string, StackConfigInput | Record<string, unknown>, RegExp][] = [
    [
      'maxConcurrency below SQS minimum',
      { accessProvisioning: { maxConcurrency: 1 } },
      /^igaAutopilot\.accessProvisioning\.maxConcurrency: must be at least 2$/,
    ],
    [
      'non-numeric value',
      { absenceReassignment: { timeoutSeconds: 'soon' } },
      /^igaAutopilot\.absenceReassignment\.timeoutSeconds: must be a whole number$/,
    ],
    [
      'Unix 5-field cron',
      { staleTokenSweep: { schedule: 'cron(0 6 * * *)' } },
      /^igaAutopilot\.staleTokenSweep\.schedule: cron needs 6 fields/,
    ],
    [
      'cron without ?',
      { staleTokenSweep: { schedule: 'cron(0 6 * * MON *)' } },
      /^igaAutopilot\.staleTokenSweep\.schedule: cron must have "\?"/,
    ],
    [
      'not a schedule',
      { staleTokenSweep: { schedule: 'daily' } },
      /^igaAutopilot\.staleTokenSweep\.schedule: "daily" is not a schedule/,
    ],
    [
      'a Unix cron for the absence re-check',
      { absenceReassignment: { recheckSchedule: 'cron(0 5 * * *)' } },
      /^igaAutopilot\.absenceReassignment\.recheckSchedule: cron needs 6 fields/,
    ],
    [
      'batching window on a FIFO queue',
      { absenceReassignment: { maxBatchingWindowSeconds: 5 } },
      /^igaAutopilot\.absenceReassignment\.maxBatchingWindowSeconds: SQS FIFO queues have no batching window/,
    ],
    [
      'a batch larger than 10 without a batching window',
      { accessProvisioning: { batchSize: 500, maxBatchingWindowSeconds: 0 } },
      /^igaAutopilot\.accessProvisioning\.batchSize: 500 needs a batching window: .*maxBatchingWindowSeconds of at least 1/,
    ],
    [
      'a batch larger than SQS allows',
      { accessProvisioning: { batchSize: 10_001 } },
      /^igaAutopilot\.accessProvisioning\.batchSize: must be at most 10000$/,
    ],
    [
      'a batch larger than 10 on the FIFO absence queue',
      { absenceReassignment: { batchSize: 11 } },
      /^igaAutopilot\.absenceReassignment\.batchSize: must be at most 10$/,
    ],
    [
      'SailPoint retries that cannot fit in the function timeout',
      { absenceReassignment: { timeoutSeconds: 60 } },
      /^igaAutopilot\.absenceReassignment\.settings\.SAILPOINT_MAX_RETRY_MS: with SAILPOINT_TIMEOUT_MS, one call may take 70000 ms/,
    ],
    [
      'the tenant given as a workflow setting',
      { staleTokenSweep: { settings: { SAILPOINT_API_URL: 'https://acme.api.identitynow.com' } } },
      /^igaAutopilot\.staleTokenSweep\.settings\.SAILPOINT_API_URL: is set by the stack from igaAutopilot\.sailPoint\.apiUrl/,
    ],
    [
      'bad time zone',
      { staleTokenSweep: { timeZone: 'Mars/Olympus' } },
      /^igaAutopilot\.staleTokenSweep\.timeZone: "Mars\/Olympus" is not an IANA time zone/,
    ],
    ['typo in a key', { sailpoint: { tenant: 'acme' } }, /^igaAutopilot: unknown setting\(s\) sailpoint$/],
    [
      'typo in a nested key',
      { sailPoint: { tennant: 'acme' } },
      /^igaAutopilot\.sailPoint: unknown setting\(s\) tennant$/,
    ],
    [
      'a URL as tenant',
      { sailPoint: { tenant: 'acme.api.identitynow.com' } },
      /^igaAutopilot\.sailPoint\.tenant: tenant must be the tenant name only/,
    ],
    [
      'plain-http API URL',
      { sailPoint: { apiUrl: 'http://acme.example.com' } },
      /^igaAutopilot\.sailPoint\.apiUrl: apiUrl must use https/,
    ],
    [
      'secret name with spaces',
      { sailPoint: { credentialsSecret: 'my secret' } },
      /^igaAutopilot\.sailPoint\.credentialsSecret: must be a Secrets Manager secret name/,
    ],
    [
      'log retention CloudWatch does not offer',
      { lambda: { logRetentionDays: 45 } },
      /^igaAutopilot\.lambda\.logRetentionDays: must be one of 0, 1, 3/,
    ],
    [
      'bad email',
      { notifications: { emails: ['iam-team'] } },
      /^igaAutopilot\.notifications\.emails\.0: must be an email address$/,
    ],
    [
      'budget too small for the callers',
      { sailPoint: { requestsPer10s: 4 } },
      /^igaAutopilot\.sailPoint\.requestsPer10s: 4 requests per 10 s cannot be shared by the 6 concurrent SailPoint callers using credential iga-autopilot\/sailpoint/,
    ],
    [
      'Cognigy audit on without its URL',
      { cognigyAudit: { enabled: true } },
      /^igaAutopilot\.cognigy\.apiUrl: is required/,
    ],
    [
      'workflow threshold out of range',
      { staleTokenSweep: { settings: { STALE_TOKEN_REVOKE_GRACE_DAYS: 400 } } },
      /^igaAutopilot\.staleTokenSweep\.settings\.STALE_TOKEN_REVOKE_GRACE_DAYS: must be at most 365$/,
    ],
    [
      'workflow cross-field rule (the other field at its default)',
      { staleTokenSweep: { settings: { STALE_TOKEN_WARN_AFTER_DAYS: 90 } } },
      /^igaAutopilot\.staleTokenSweep\.settings\.STALE_TOKEN_WARN_AFTER_DAYS: must be less than STALE_TOKEN_STALE_AFTER_DAYS \(90\)/,
    ],
    [
      'workflow JSON setting',
      {
        cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
        cognigyAudit: { settings: { COGNIGY_RIGHTS_MANIFEST: { organizationWide: {} } } },
      },
      /^igaAutopilot\.cognigyAudit\.settings\.COGNIGY_RIGHTS_MANIFEST: /,
    ],
    [
      'unknown workflow setting',
      { absenceReassignment: { settings: { DELEGATE_HOPS: 3 } } },
      /^igaAutopilot\.absenceReassignment\.settings\.DELEGATE_HOPS: unknown setting; absence-reassignment reads: .*DELEGATE_MAX_HOPS/,
    ],
    [
      'a variable the stack sets',
      { accessProvisioning: { settings: { QUEUE_URL: 'https://example.com/q' } } },
      /^igaAutopilot\.accessProvisioning\.settings\.QUEUE_URL: is set by the stack/,
    ],
    [
      'the shared rate budget table given as a workflow setting',
      { accessProvisioning: { settings: { SAILPOINT_RATE_BUDGET_TABLE: 'my-table' } } },
      /^igaAutopilot\.accessProvisioning\.settings\.SAILPOINT_RATE_BUDGET_TABLE: is set by the stack \(docs\/deployment\.md\)$/,
    ],
    [
      "a credential's whole budget given as a workflow setting",
      { staleTokenSweep: { settings: { SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: 100 } } },
      /^igaAutopilot\.staleTokenSweep\.settings\.SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: is set by the stack from igaAutopilot\.sailPoint\.requestsPer10s/,
    ],
    [
      'a secret as a plain variable',
      { staleTokenSweep: { settings: { SAILPOINT_CLIENT_SECRET: 'hunter2' } } },
      /^igaAutopilot\.staleTokenSweep\.settings\.SAILPOINT_CLIENT_SECRET: secrets are never put in environment variables/,
    ],
    [
      'claim lease not above the function timeout',
      { accessProvisioning: { timeoutSeconds: 300, settings: { CLAIM_LEASE_SECONDS: 300 } } },
      /^igaAutopilot\.accessProvisioning\.settings\.CLAIM_LEASE_SECONDS: must be greater than accessProvisioning\.timeoutSeconds \(300\)/,
    ],
  ];

  test.each(cases)('%s', (_name, input, expected) => {
    const problems = problemsOf(input);
    expect(problems).toEqual([expect.stringMatching(expected)]);
  });

  test('a secret value never appears in the error', () => {
    expect(
      problemsOf({ staleTokenSweep: { settings: { SAILPOINT_CLIENT_SECRET: 'hunter2' } } }).join('\n'),
    ).not.toContain('hunter2');
  });

  test('`cdk synth` with a bad value exits non-zero with a message naming the setting (bin/app.ts)', () => {
    const result = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(REPO_ROOT, 'bin', 'app.ts')],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        // How the CDK CLI hands context (cdk.json plus -c) to the app.
        env: {
          PATH: process.env.PATH ?? '',
          CDK_CONTEXT_JSON: JSON.stringify({ 'igaAutopilot.accessProvisioning.maxConcurrency': '1' }),
        },
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid stack configuration');
    expect(result.stderr).toContain('igaAutopilot.accessProvisioning.maxConcurrency: must be at least 2');
  });
});

describe('what the settings change in the stack (bundling skipped)', () => {
  const synth = (input: object) => {
    // An empty bundling-stacks list skips esbuild: these tests look at the template only.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new IgaAutopilotStack(app, 'Variant', {
      config: parseStackConfig({ allowIncomplete: true, ...input }),
    });
    return { stack, template: Template.fromStack(stack) };
  };

  test('defaults: no tenant yet (a warning, not an error), no Cognigy audit, scheduled functions reserved', () => {
    const { stack, template } = synth({});
    Annotations.fromStack(stack).hasWarning(
      '/Variant',
      Match.stringLikeRegexp('igaAutopilot.sailPoint.tenant is not set'),
    );
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2); // the sweep and the absence re-check
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 }, 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('tenant set, Cognigy on, no reservation, standard absence queue, tables removable', () => {
    const { stack, template } = synth({
      sailPoint: { tenant: 'acme' },
      cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
      lambda: { reserveScheduledConcurrency: false, logRetentionDays: 0 },
      accessProvisioning: { producers: ['123456789012'] },
      absenceReassignment: { fifo: false, maxBatchingWindowSeconds: 5, producers: ['123456789012'] },
      data: { retainOnDelete: false },
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { ReservedConcurrentExecutions: Match.anyValue() },
      0,
    );
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { FifoQueue: true }, 0);
    // The absence queue's own window (the access queue has one by default).
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: {
        'Fn::GetAtt': [
          stack.getLogicalId(stack.absenceReassignment.events.queue.node.defaultChild as CfnElement),
          'Arn',
        ],
      },
      MaximumBatchingWindowInSeconds: 5,
    });
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() }, 0);
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    // The sweep's budget counts it twice when it is not reserved: 95 / (2 + 2 + (2 + 1 re-check)).
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'stale-token-sweep',
          SAILPOINT_REQUESTS_PER_10S: '13',
        }),
      },
    });
  });

  test('access-provisioning batches: above 10 with a batching window, up to 10 without; visibility = 6 x timeout + window', () => {
    const accessQueue = (accessProvisioning: Record<string, number>) => {
      const { stack, template } = synth({ accessProvisioning });
      const queueId = stack.getLogicalId(
        stack.accessProvisioning.intake.queue.node.defaultChild as CfnElement,
      );
      const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
        (m) =>
          JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      );
      return { mapping: mapping!.Properties, queue: template.toJSON().Resources[queueId].Properties };
    };

    const large = accessQueue({ batchSize: 1000, maxBatchingWindowSeconds: 20 });
    expect(large.mapping).toMatchObject({ BatchSize: 1000, MaximumBatchingWindowInSeconds: 20 });
    expect(large.queue.VisibilityTimeout).toBe(6 * 120 + 20);

    const small = accessQueue({ batchSize: 10, maxBatchingWindowSeconds: 0 });
    expect(small.mapping.BatchSize).toBe(10);
    expect(small.mapping.MaximumBatchingWindowInSeconds).toBeUndefined();
    expect(small.queue.VisibilityTimeout).toBe(6 * 120);
  });
});
