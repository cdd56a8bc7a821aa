/**
 * The deployable stack, synthesized once (bundling all four functions with esbuild) and checked
 * for what the issue promises: resources, wiring, alarms, schedules, least-privilege IAM per
 * function, and the cdk-nag AWS Solutions pack with no unacknowledged finding.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { TABLES } from '../../functions/shared/tables';
import { DEFERRED_INDEX } from '../../functions/absence-reassignment/absence-store';
import { STORE_ACTIONS } from '../../lib/constructs/grants';
import { REPORT_ACTIONS } from '../../lib/constructs/report-bucket';
import { visibilityTimeoutSeconds } from '../../lib/constructs/work-queue';
import { perInstanceSailPointBudget, WORKFLOWS, type WorkflowName } from '../../lib/function-environment';
import { STACK_OUTPUTS_READ } from '../../cli/target';
import { IgaAutopilotStack } from '../../lib/iga-autopilot-stack';
import { parseStackConfig, type StackConfig } from '../../lib/stack-config';
import {
  actionsCalledBy,
  functionRole,
  logicalId,
  refText,
  roleStatements,
  type Statement,
} from './template-helpers';

jest.setTimeout(180_000);

const config: StackConfig = parseStackConfig({
  sailPoint: { tenant: 'acme' },
  cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
  notifications: { emails: ['iam-team@example.com'] },
  accessProvisioning: { maxConcurrency: 3, timeoutSeconds: 90, settings: { DEDUP_WINDOW_HOURS: 72 } },
  staleTokenSweep: { settings: { STALE_TOKEN_STALE_AFTER_DAYS: 60, STALE_TOKEN_WARN_AFTER_DAYS: 45 } },
});

let app: App;
let stack: IgaAutopilotStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'iga-stack-test-'));
  app = new App({ outdir });
  stack = new IgaAutopilotStack(app, 'IgaAutopilotTest', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const workflows = () =>
  ({
    staleTokenSweep: stack.staleTokenSweep,
    accessProvisioning: stack.accessProvisioning,
    absenceReassignment: stack.absenceReassignment,
    cognigyAudit: stack.cognigyAudit!,
  }) as const;

const environmentOf = (fnId: string) =>
  (resources[fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('state', () => {
  test('one table per shared definition: on-demand, PITR, KMS encryption, TTL where state expires, retained', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(Object.keys(TABLES).length);
    for (const def of Object.values(TABLES)) {
      const [, table] = Object.entries(tables).find(([id]) => id.startsWith(`Tables${def.logicalId}`))!;
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: def.partitionKey, KeyType: 'HASH' },
          { AttributeName: def.sortKey, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key: the AWS-managed aws/dynamodb KMS key.
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      const ttl = (table.Properties as Record<string, unknown>).TimeToLiveSpecification;
      if ('ttlAttribute' in def) expect(ttl).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
      else expect(ttl).toBeUndefined();
      const indexes = (table.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[];
      expect(indexes.map((i) => i.IndexName)).toEqual(
        ('globalSecondaryIndexes' in def ? def.globalSecondaryIndexes : []).map((i) => i.indexName),
      );
    }
  });

  test('no secret is created or embedded: the stack only refers to secrets operators create', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    for (const workflow of Object.values(workflows())) {
      const env = environmentOf(logicalId(workflow.function));
      for (const name of Object.keys(env))
        expect(name).not.toMatch(/CLIENT_SECRET$|CLIENT_ID$|API_KEY$|PASSWORD/);
    }
  });
});

describe('functions', () => {
  test('Node 24 on arm64, a minified bundle with a source map, its own log group, no Docker', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(4);
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 256,
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
      expect(environmentOf(id).NODE_OPTIONS).toBe('--enable-source-maps');
      const assetHash = (fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const asset = path.join(outdir, `asset.${assetHash}`);
      const code = readFileSync(path.join(asset, 'index.js'), 'utf8');
      expect(statSync(path.join(asset, 'index.js.map')).size).toBeGreaterThan(0);
      expect(code.length / code.split('\n').length).toBeGreaterThan(300); // minified: ~30 characters a line otherwise
      // Budget; see npm run bundle:report. The sweep also carries the report and the S3 client, loaded
      // only when the report is on (its module init time is unchanged).
      const budgetKb = id.startsWith('StaleTokenSweep') ? 1024 : 750;
      expect(code.length).toBeLessThan(budgetKb * 1024);
      expect(readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map']);
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 90 }, 4);
  });

  test("each function gets its table, notifications topic and settings; SailPoint callers share the credential's budget", () => {
    const budget = perInstanceSailPointBudget(config, 'accessProvisioning');
    const rateBudget = logicalId(stack.node.findChild('Tables').node.findChild(TABLES.rateBudget.logicalId));
    // sweep + access-provisioning consumers + absence consumers and the absence re-check
    expect(budget).toBe(Math.floor(95 / (1 + 3 + (2 + 1))));
    for (const [name, workflow] of Object.entries(workflows()) as [
      WorkflowName,
      { function: IConstruct },
    ][]) {
      const def = WORKFLOWS[name];
      const env = environmentOf(logicalId(workflow.function));
      expect(refText(env[TABLES[def.table].envVar])).toBe(
        logicalId(stack.node.findChild('Tables').node.findChild(TABLES[def.table].logicalId)),
      );
      expect(refText(env.NOTIFICATIONS_TOPIC_ARN)).toMatch(/^NotificationsFindings/);
      expect(env.POWERTOOLS_SERVICE_NAME).toBe(def.dir);
      expect(env.LOG_LEVEL).toBe('INFO');
      if (def.callsSailPoint) {
        expect(env).toMatchObject({
          SAILPOINT_TENANT: 'acme',
          SAILPOINT_CREDENTIALS_SECRET_ID: 'iga-autopilot/sailpoint',
          // The credential's whole budget, drawn from through the one shared schedule...
          SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: String(config.sailPoint.requestsPer10s),
          // ...and the fair share each instance is guaranteed when every one of them is busy.
          SAILPOINT_REQUESTS_PER_10S: String(budget),
        });
        expect(refText(env.SAILPOINT_RATE_BUDGET_TABLE)).toBe(rateBudget);
      } else {
        expect(env).toMatchObject({
          COGNIGY_API_URL: 'https://api-trial.cognigy.ai/new',
          COGNIGY_API_KEY_SECRET_ID: 'iga-autopilot/cognigy-api-key',
        });
        expect(env.SAILPOINT_CREDENTIALS_SECRET_ID).toBeUndefined();
        expect(env.SAILPOINT_RATE_BUDGET_TABLE).toBeUndefined();
      }
    }
    const sweepEnv = environmentOf(logicalId(stack.staleTokenSweep.function));
    expect(sweepEnv).toMatchObject({ STALE_TOKEN_STALE_AFTER_DAYS: '60', STALE_TOKEN_WARN_AFTER_DAYS: '45' });
    const accessEnv = environmentOf(logicalId(stack.accessProvisioning.function));
    expect(accessEnv).toMatchObject({
      DEDUP_WINDOW_HOURS: '72',
      ACCESS_MAX_CONCURRENCY: '3',
      MAX_RECEIVE_COUNT: '5',
    });
    expect(refText(accessEnv.QUEUE_URL)).toBe(logicalId(stack.accessProvisioning.intake.queue));
    expect(refText(accessEnv.DEAD_LETTER_QUEUE_URL)).toBe(
      logicalId(stack.accessProvisioning.intake.deadLetterQueue),
    );
  });

  test('scheduled functions run one at a time; queue consumers are bounded by maxConcurrency instead', () => {
    const reserved = (w: { function: IConstruct }) =>
      resources[logicalId(w.function)]!.Properties.ReservedConcurrentExecutions;
    expect(reserved(stack.staleTokenSweep)).toBe(1);
    expect(reserved(stack.cognigyAudit!)).toBe(1);
    expect(reserved(stack.accessProvisioning)).toBeUndefined();
    expect(reserved(stack.absenceReassignment)).toBeUndefined();
  });
});

describe('queues', () => {
  const cases = () =>
    [
      [stack.accessProvisioning.intake, stack.accessProvisioning, config.accessProvisioning],
      [stack.absenceReassignment.events, stack.absenceReassignment, config.absenceReassignment],
    ] as const;

  test('each work queue has a DLQ with redrive, SSE, TLS-only, and visibility = 6 x timeout + batching window', () => {
    for (const [workQueue, , settings] of cases()) {
      const queue = resources[logicalId(workQueue.queue)]!.Properties;
      const dlq = resources[logicalId(workQueue.deadLetterQueue)]!.Properties;
      expect(queue).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86_400,
        VisibilityTimeout: visibilityTimeoutSeconds(
          settings.timeoutSeconds,
          settings.maxBatchingWindowSeconds,
        ),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(workQueue.deadLetterQueue), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
      expect(queue.VisibilityTimeout).toBe(6 * settings.timeoutSeconds + settings.maxBatchingWindowSeconds);
      expect(dlq).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      for (const q of [workQueue.queue, workQueue.deadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(q) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    }
    expect(visibilityTimeoutSeconds(90, 1)).toBe(541);
  });

  test('absence events use FIFO queues (one person at a time, in order); access requests a standard queue', () => {
    for (const q of [
      stack.absenceReassignment.events.queue,
      stack.absenceReassignment.events.deadLetterQueue,
    ]) {
      expect(resources[logicalId(q)]!.Properties).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: true,
      });
    }
    for (const q of [
      stack.accessProvisioning.intake.queue,
      stack.accessProvisioning.intake.deadLetterQueue,
    ]) {
      expect(resources[logicalId(q)]!.Properties.FifoQueue).toBeUndefined();
    }
  });

  test('event sources report batch item failures and cap concurrency to keep the tenant under its rate limit', () => {
    for (const [workQueue, workflow, settings] of cases()) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(workflow.function) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(workQueue.queue), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: settings.maxConcurrency },
        BatchSize: settings.batchSize,
        MaximumBatchingWindowInSeconds: settings.maxBatchingWindowSeconds || Match.absent(),
      });
    }
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });
});

describe('schedules', () => {
  test('each on-demand entry point has its function name in the outputs', () => {
    for (const [name, fn] of [
      ['StaleTokenSweepFunctionName', stack.staleTokenSweep.function],
      ['AbsenceReassignmentFunctionName', stack.absenceReassignment.function],
      ['CognigyAuditFunctionName', stack.cognigyAudit!.function],
    ] as const) {
      template.hasOutput(name, { Value: { Ref: logicalId(fn) } });
    }
  });

  /** A schedule's role may invoke its function and dead-letter to the schedule DLQ, nothing else. */
  const scheduleRoleStatements = (fn: IConstruct) => [
    { effect: 'Allow', actions: ['lambda:InvokeFunction'], resources: [`${logicalId(fn)}.Arn`] },
    {
      effect: 'Allow',
      actions: ['sqs:SendMessage'],
      resources: [`${logicalId(stack.scheduleFailures.deadLetterQueue)}.Arn`],
    },
  ];

  test('every schedule target retries and dead-letters; so does each function a schedule invokes', () => {
    const dlq = logicalId(stack.scheduleFailures.deadLetterQueue);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(3);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target).toMatchObject({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      });
    }
    for (const fn of [
      stack.staleTokenSweep.function,
      stack.cognigyAudit!.function,
      stack.absenceReassignment.function,
    ]) {
      expect(resources[logicalId(fn)]!.Properties.DeadLetterConfig).toEqual({
        TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(fn) },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
      });
    }
    // Only scheduled functions: the access function is invoked by its queue alone.
    expect(
      resources[logicalId(stack.accessProvisioning.function)]!.Properties.DeadLetterConfig,
    ).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    expect(resources[dlq]!.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    template.hasOutput('ScheduleDeadLetterQueueUrl', { Value: { Ref: dlq } });
  });

  test('the sweep and the Cognigy audit run on the configured cron, invoking only their own function', () => {
    for (const workflow of [stack.staleTokenSweep, stack.cognigyAudit!]) {
      const schedule = resources[logicalId(workflow.schedule)]!.Properties as {
        Target: { Arn: unknown; RoleArn: unknown; Input: string };
      };
      expect(schedule).toMatchObject({
        ScheduleExpression: 'cron(0 6 * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      });
      expect(refText(schedule.Target.Arn)).toBe(`${logicalId(workflow.function)}.Arn`);
      expect(JSON.parse(schedule.Target.Input)).toEqual({ trigger: 'schedule' });
      const role = refText(schedule.Target.RoleArn).replace(/\.Arn$/, '');
      expect(roleStatements(template, role)).toEqual(scheduleRoleStatements(workflow.function));
    }
  });

  test('the absence function re-checks deferred absences daily, through its second entry point', () => {
    const { absenceReassignment } = stack;
    const schedule = resources[logicalId(absenceReassignment.recheckSchedule)]!.Properties as {
      Target: { Arn: unknown; RoleArn: unknown; Input: string };
      GroupName: unknown;
    };
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 5 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
    // In the sweep's group, which the schedule alarms watch.
    expect(schedule.GroupName).toEqual(
      resources[logicalId(stack.staleTokenSweep.schedule)]!.Properties.GroupName,
    );
    expect(refText(schedule.Target.Arn)).toBe(`${logicalId(absenceReassignment.function)}.Arn`);
    expect(JSON.parse(schedule.Target.Input)).toEqual({ task: 'recheck-deferred', trigger: 'schedule' });
    const role = refText(schedule.Target.RoleArn).replace(/\.Arn$/, '');
    expect(roleStatements(template, role)).toEqual(scheduleRoleStatements(absenceReassignment.function));
    template.resourceCountIs('AWS::Scheduler::Schedule', 3);
  });
});

describe('notifications and alarms', () => {
  test('two encrypted, TLS-only topics: findings (AWS-managed key) and alarms (rotated key CloudWatch may use)', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'IGA Autopilot findings',
      KmsMasterKeyId: 'alias/aws/sns',
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'IGA Autopilot alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmsKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.resourcePropertiesCountIs(
      'AWS::SNS::Subscription',
      { Protocol: 'email', Endpoint: 'iam-team@example.com' },
      2,
    );
    template.resourceCountIs('AWS::SNS::TopicPolicy', 2);
  });

  test('alarms: any dead letter, a backlog, every function error and throttle, a refused access credential, failed schedules', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    // Per function: errors, throttles; per work queue: dead letters, backlog; schedules: 2 + 1; access
    // provisioning: a refused credential (it goes on rather than failing the invocation).
    expect(alarms).toHaveLength(4 * 2 + 2 * 2 + 2 + 1 + 1);
    const alarmsTopic = logicalId(stack.node.findChild('Notifications').node.findChild('Alarms'));
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: alarmsTopic }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    }
    const on = (metric: string, dimension: unknown) =>
      alarms.filter(
        (a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)),
      );
    for (const workQueue of [stack.accessProvisioning.intake, stack.absenceReassignment.events]) {
      const [dlqAlarm] = on('ApproximateNumberOfMessagesVisible', {
        'Fn::GetAtt': [logicalId(workQueue.deadLetterQueue), 'QueueName'],
      });
      expect(dlqAlarm).toMatchObject({ Threshold: 1, Statistic: 'Maximum', Period: 60 });
      const [ageAlarm] = on('ApproximateAgeOfOldestMessage', {
        'Fn::GetAtt': [logicalId(workQueue.queue), 'QueueName'],
      });
      expect(ageAlarm).toMatchObject({ Threshold: 900, Statistic: 'Maximum' });
    }
    for (const workflow of Object.values(workflows())) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(on(metric, { Ref: logicalId(workflow.function) })).toEqual([
          expect.objectContaining({ Threshold: 1 }),
        ]);
      }
    }
    expect(
      alarms
        .filter((a) => a.Namespace === 'AWS/Scheduler')
        .map((a) => a.MetricName)
        .sort(),
    ).toEqual(['InvocationDroppedCount', 'TargetErrorCount']);
    expect(on('CredentialRefused', { Name: 'service', Value: 'access-provisioning' })).toEqual([
      expect.objectContaining({ Threshold: 1, Statistic: 'Sum', Period: 300, Namespace: 'IgaAutopilot' }),
    ]);
    const [scheduleDeadLetters] = on('ApproximateNumberOfMessagesVisible', {
      'Fn::GetAtt': [logicalId(stack.scheduleFailures.deadLetterQueue), 'QueueName'],
    });
    expect(scheduleDeadLetters).toMatchObject({ Threshold: 1, Statistic: 'Maximum', Period: 60 });
  });

  test("the dashboard shows each workflow's own metrics, named as its handler emits them", () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const workflow of Object.values(workflows())) {
      const { service, metrics } = workflow.monitoring;
      const sources = readdirSync(path.join('functions', service))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(path.join('functions', service, f), 'utf8'))
        .join('\n');
      for (const metric of metrics) {
        expect(body).toContain(`"IgaAutopilot\\",\\"${metric}\\",\\"service\\",\\"${service}\\"`);
        // The sweep capitalises its count names (newFindings → NewFindings); the others name each metric.
        const countName =
          service === 'stale-token-sweep' ? metric[0]!.toLowerCase() + metric.slice(1) : metric;
        expect(sources).toMatch(new RegExp(`\\b(${metric}|${countName})\\b`));
      }
    }
    for (const name of ['Submitted', 'DuplicatesSuppressed', 'AlreadyHeld', 'Flagged', 'Configured']) {
      expect(body).toContain(`\\"${name}\\"`);
    }
  });
});

describe('least privilege', () => {
  const statementsOf = (fn: IConstruct): Statement[] =>
    roleStatements(template, functionRole(template, logicalId(fn)));

  test('no identity policy allows a wildcard resource, and no role has a managed policy', () => {
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      for (const statement of roleStatements(template, id)) {
        for (const r of statement.resources) expect(r).not.toContain('*');
      }
    }
  });

  test.each([
    'staleTokenSweep',
    'accessProvisioning',
    'absenceReassignment',
    'cognigyAudit',
  ] as WorkflowName[])(
    '%s: exactly its log group, its table (the operations its code calls), its topic, its queues, its secret, the rate budget if it calls SailPoint',
    async (name) => {
      const workflow = workflows()[name] as { function: IConstruct; intake?: unknown; events?: unknown };
      const def = WORKFLOWS[name];
      const statements = statementsOf(workflow.function);
      const byResource = new Map(statements.map((s) => [s.resources.join(','), s.actions]));
      const tableOf = (key: keyof typeof TABLES) =>
        logicalId(stack.node.findChild('Tables').node.findChild(TABLES[key].logicalId));
      const table = tableOf(def.table);
      // The report's reads and writes are granted only when it is on (test/infra/report-bucket.test.ts).
      const reportOnly: readonly string[] = name === 'staleTokenSweep' ? REPORT_ACTIONS : [];
      const called = new Set([...(await actionsCalledBy(def.dir))].filter((a) => !reportOnly.includes(a)));

      // DynamoDB: exactly what its code calls, on its own table (no other table but the rate budget
      // below; no index but the absence re-check's Query below).
      const dynamo = [...called].filter((a) => a.startsWith('dynamodb:')).sort();
      expect(byResource.get(`${table}.Arn`)).toEqual(dynamo);
      expect(dynamo).toEqual([...STORE_ACTIONS[def.table]].sort());
      // Every other call it makes is allowed somewhere in its policy.
      const allowed = new Set(statements.flatMap((s) => s.actions));
      for (const action of called) expect(allowed).toContain(action);

      const expected: [string | RegExp, string[]][] = [
        [/Logs.*\.Arn$/, ['logs:CreateLogStream', 'logs:PutLogEvents']],
        [`${table}.Arn`, dynamo],
        [/^NotificationsFindings/, ['sns:GetTopicAttributes', 'sns:Publish']],
        [
          def.callsSailPoint
            ? /:secret:iga-autopilot\/sailpoint-\?{6}$/
            : /:secret:iga-autopilot\/cognigy-api-key-\?{6}$/,
          ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        ],
      ];
      const workQueue =
        name === 'accessProvisioning'
          ? stack.accessProvisioning.intake
          : name === 'absenceReassignment'
            ? stack.absenceReassignment.events
            : undefined;
      // A SailPoint caller draws on the shared rate budget: UpdateItem on that table and nothing else;
      // the others may not touch it.
      const onRateBudget = statements.filter((s) =>
        s.resources.some((r) => r.startsWith(tableOf('rateBudget'))),
      );
      expect(onRateBudget).toEqual(
        def.callsSailPoint
          ? [
              {
                effect: 'Allow',
                actions: ['dynamodb:UpdateItem'],
                resources: [`${tableOf('rateBudget')}.Arn`],
              },
            ]
          : [],
      );
      if (def.callsSailPoint) expected.push([`${tableOf('rateBudget')}.Arn`, ['dynamodb:UpdateItem']]);
      if (name === 'absenceReassignment') {
        // The re-check's query of deferred absences: that one index, that one action.
        expected.push([`${table}.Arn/index/${DEFERRED_INDEX}`, ['dynamodb:Query']]);
      }
      if (name !== 'accessProvisioning') {
        // A schedule invokes it: a run that failed after Lambda's retries goes to the schedule DLQ.
        expected.push([`${logicalId(stack.scheduleFailures.deadLetterQueue)}.Arn`, ['sqs:SendMessage']]);
      }
      if (workQueue) {
        expected.push(
          [
            `${logicalId(workQueue.queue)}.Arn`,
            [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
            ],
          ],
          [
            `${logicalId(workQueue.deadLetterQueue)}.Arn`,
            ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          ],
        );
      }
      expect(statements).toHaveLength(expected.length);
      for (const [resource, actions] of expected) {
        const match = statements.filter(
          (s) =>
            s.resources.length === 1 &&
            (typeof resource === 'string' ? s.resources[0] === resource : resource.test(s.resources[0]!)),
        );
        expect(match).toEqual([{ effect: 'Allow', actions, resources: [expect.any(String)] }]);
      }
    },
  );
});

describe('cdk-nag AwsSolutions', () => {
  test('no finding remains, and every acknowledgement gives its reason', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);

    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    for (const [rule, reason] of acknowledgements) {
      expect(`${rule}: ${reason}`).toMatch(/: .{30,}/);
    }
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  test('the checks do catch a violation in this setup (an unencrypted queue without a DLQ)', () => {
    const probeApp = new App();
    const probe = new Stack(probeApp, 'Probe');
    new Queue(probe, 'Plain', { enforceSSL: false });
    const rules = new AwsSolutionsChecks().validateScope(probeApp).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
});

describe('operator CLI', () => {
  test('the stack has every output `iga --stack` reads', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(STACK_OUTPUTS_READ.filter((name) => !outputs.includes(name))).toEqual([]);
    template.hasOutput('FindingsTableName', {
      Value: { Ref: logicalId(stack.node.findChild('Tables').node.findChild('Findings')) },
    });
  });
});
