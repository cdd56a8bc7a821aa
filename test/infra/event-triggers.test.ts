/**
 * The event-trigger part of the stack: partner event buses and one rule per trigger whose patterns —
 * read from the synthesized template — match the sandbox's own envelopes (the same envelopes the
 * integration tests feed through the local router), each exactly its own trigger's rule; the function's
 * least-privilege IAM; cdk-nag clean with no acknowledgement; the settings' errors.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import { parseTriggerEvent } from '../../functions/event-triggers/event';
import { HANDLED_TRIGGERS, type TriggerKey } from '../../functions/event-triggers/triggers';
import { SailPointClient } from '../../functions/shared/sailpoint';
import { createAccessRequest } from '../../functions/shared/sailpoint/api/access-requests';
import { subscribeTriggers } from '../../cli/commands/triggers';
import { IgaAutopilotStack } from '../../lib/iga-autopilot-stack';
import { parseStackConfig, StackConfigError } from '../../lib/stack-config';
import { changeIdentityAttributes, deleteIdentity } from '../../sandbox/events/emit';
import { settleAccessRequests } from '../../sandbox/sailpoint/access-requests';
import { matchesPattern } from '../../sandbox/events/event-pattern';
import { startSandbox } from '../../sandbox/server';
import { loadEventTriggersSettings } from '../../functions/event-triggers/settings';
import { perInstanceSailPointBudget } from '../../lib/function-environment';
import { functionRole, logicalId, refText, roleStatements } from './template-helpers';

jest.setTimeout(180_000);

const MAPPING = { status: { attribute: 'leaveStatus', onLeave: ['LOA'] }, endDate: 'leaveEnd' };
const FARID = '2c9180aa000000000000000000000006';
const DEV = '2c9180aa000000000000000000000004';
/** A requestable access profile of the default seed that Farid does not hold. */
const PAYROLL_VIEWER = 'acce5500000000000000000000000012';

let envelopes: { trigger: TriggerKey; envelope: EventBridgeEnvelope }[];
let sources: Record<string, string>;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
let stack: IgaAutopilotStack;
let config: ReturnType<typeof parseStackConfig>;

beforeAll(async () => {
  // The sandbox: subscriptions by `iga triggers subscribe`'s code, then one event of each trigger.
  const sandbox = await startSandbox();
  try {
    const client = new SailPointClient({
      apiUrl: sandbox.url,
      clientId: 'sandbox-pat-client',
      clientSecret: 'sandbox-pat-secret',
    });
    const subscribed = await subscribeTriggers(client, {
      awsAccount: '123456789012',
      awsRegion: 'eu-central-1',
      triggers: HANDLED_TRIGGERS,
      absenceMapping: MAPPING,
      // Provisioning Completed filtered to what this credential's identity requested.
      requesterId: (await client.tokenInfo()).identityId!,
    });
    sources = Object.fromEntries(subscribed.map((s) => [s.trigger, s.source!]));
    const now = new Date();
    // An access request decided and provisioned: Access Request Decision + Provisioning Completed.
    await createAccessRequest(client, {
      requestedFor: [FARID],
      requestType: 'GRANT_ACCESS',
      // This product's item marker: the Access Request Decision filter lets only such items through.
      requestedItems: [
        {
          type: 'ACCESS_PROFILE',
          id: PAYROLL_VIEWER,
          clientMetadata: { igaAutopilotItem: `ACCESS_PROFILE:${PAYROLL_VIEWER}` },
        },
      ],
    });
    settleAccessRequests(sandbox.state, new Date(Date.now() + 60_000));
    await sandbox.state.triggers.settled();
    const access = sandbox.state.triggers.delivered.map((envelope) => ({
      trigger: (envelope['detail-type'] === 'idn:post-provisioning'
        ? 'provisioningCompleted'
        : 'accessRequestDecision') as TriggerKey,
      envelope,
    }));
    envelopes = [
      ...access,
      ...changeIdentityAttributes(
        sandbox.state,
        FARID,
        { leaveStatus: 'LOA', leaveEnd: '2030-07-14' },
        now,
      ).map((envelope) => ({ trigger: 'identityAttributesChanged' as const, envelope })),
      ...deleteIdentity(sandbox.state, DEV, now).map((envelope) => ({
        trigger: 'identityDeleted' as const,
        envelope,
      })),
    ];
  } finally {
    await sandbox.stop();
  }

  config = parseStackConfig({
    sailPoint: { tenant: 'acme' },
    absenceReassignment: { producers: ['arn:aws:iam::123456789012:role/hr-connector'] },
    eventTriggers: { sources, absenceMapping: MAPPING },
  });
  const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'iga-triggers-test-')) });
  stack = new IgaAutopilotStack(app, 'IgaAutopilotTriggersTest', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack); // fails on any unacknowledged cdk-nag finding
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('rules and envelopes', () => {
  it('has the sandbox envelopes the function accepts (the fixtures)', () => {
    expect(envelopes.map((e) => e.trigger)).toEqual([
      'accessRequestDecision',
      'provisioningCompleted',
      'identityAttributesChanged',
      'identityDeleted',
    ]);
    for (const { trigger, envelope } of envelopes) {
      const parsed = parseTriggerEvent(JSON.stringify(envelope), sources);
      expect(parsed).toMatchObject({ ok: true, event: { trigger } });
    }
  });

  it('routes each envelope to exactly its own trigger rule, on the partner event bus of its source', () => {
    const buses = new Map(ofType('AWS::Events::EventBus').map(([id, r]) => [id, r.Properties]));
    const rules = ofType('AWS::Events::Rule').map(([id, r]) => ({
      id,
      bus: buses.get(refText(r.Properties.EventBusName))!,
      pattern: r.Properties.EventPattern as Record<string, unknown>,
    }));
    expect(rules).toHaveLength(4);
    for (const { trigger, envelope } of envelopes) {
      // A partner event source delivers to the bus of its own name, which must exist and be associated.
      const onItsBus = rules.filter(
        (r) => r.bus.Name === envelope.source && r.bus.EventSourceName === envelope.source,
      );
      const matching = onItsBus.filter((r) => matchesPattern(r.pattern, envelope));
      expect(matching.map((r) => r.id)).toEqual([logicalId(stack.eventTriggers!.rules[trigger]!)]);
    }
  });

  it('targets the trigger queue, with its DLQ for what EventBridge cannot deliver', () => {
    const queue = logicalId(stack.eventTriggers!.queue.queue);
    const dlq = logicalId(stack.eventTriggers!.queue.deadLetterQueue);
    for (const [, rule] of ofType('AWS::Events::Rule')) {
      const [target] = rule.Properties.Targets as Record<string, unknown>[];
      expect(refText(target!.Arn)).toBe(`${queue}.Arn`);
      expect(refText((target!.DeadLetterConfig as { Arn: unknown }).Arn)).toBe(`${dlq}.Arn`);
    }
  });
});

describe('the function', () => {
  it('may do only what it does: snapshots, findings, the absence queue, its own queues', () => {
    const fn = logicalId(stack.eventTriggers!.function);
    const statements = roleStatements(template, functionRole(template, fn));
    const absences = logicalId(stack.node.findChild('Tables').node.findChild('Absences'));
    const findings = logicalId(stack.node.findChild('Tables').node.findChild('Findings'));
    const absenceQueue = logicalId(stack.absenceReassignment.events.queue);
    const on = (resource: string) =>
      statements
        .filter((s) => s.resources.includes(resource))
        .flatMap((s) => s.actions)
        .sort();
    expect(on(`${absences}.Arn`)).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    expect(on(`${findings}.Arn`)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(on(`${absenceQueue}.Arn`)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    const accessRequests = logicalId(stack.node.findChild('Tables').node.findChild('AccessRequests'));
    expect(on(`${accessRequests}.Arn`)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(statements.some((s) => s.resources.includes('*'))).toBe(false);
  });

  it('is let through the absence queue policy that admits only producers', () => {
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, p]) =>
      (p.Properties.Queues as unknown[])
        .map(refText)
        .includes(logicalId(stack.absenceReassignment.events.queue)),
    )!;
    const deny = (
      policy[1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] }
    ).Statement.find((s) => s.Sid === 'OnlyProducersSend')!;
    const allowed = (deny.Condition as Record<string, Record<string, unknown[]>>).StringNotLike![
      'aws:PrincipalArn'
    ]!.map(refText);
    const role = functionRole(template, logicalId(stack.eventTriggers!.function));
    expect(allowed).toContain(`${role}.Arn`);
  });

  it('gets its sources and mapping in the environment it validates', () => {
    const fn = resources[logicalId(stack.eventTriggers!.function)]!;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.parse(env.EVENT_TRIGGER_SOURCES as string)).toEqual(sources);
    expect(JSON.parse(env.ABSENCE_ATTRIBUTE_MAPPING as string)).toEqual(MAPPING);
    expect(refText(env.ACCESS_REQUESTS_TABLE)).toBe(
      logicalId(stack.node.findChild('Tables').node.findChild('AccessRequests')),
    );
  });

  it("makes the access function wait for the access events before reading SailPoint's status", () => {
    const fn = resources[logicalId(stack.accessProvisioning.function)]!;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.ACCESS_EVENTS_WAIT_SECONDS).toBe('3600');
  });
});

describe('the reconciliation of lost access events', () => {
  const fnId = () => logicalId(stack.eventTriggers!.function);
  const env = () =>
    (resources[fnId()]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('runs hourly with its task, retried and dead-lettered as every schedule; so are the runs that fail', () => {
    const dlq = logicalId(stack.scheduleFailures.deadLetterQueue);
    const schedule = resources[logicalId(stack.eventTriggers!.reconcileSchedule!)]!;
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId(), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    const target = schedule.Properties.Target as { Input: string };
    expect(JSON.parse(target.Input)).toEqual({ task: 'reconcile-access-events', trigger: 'schedule' });
    expect(resources[fnId()]!.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId() },
      MaximumRetryAttempts: 2,
    });
  });

  it("may query only the awaited-outcomes index and read only the access workflow's credential", () => {
    const statements = roleStatements(template, functionRole(template, fnId()));
    const accessRequests = logicalId(stack.node.findChild('Tables').node.findChild('AccessRequests'));
    const indexes = statements.filter((s) => s.resources.some((r) => r.includes('/index/')));
    expect(indexes).toEqual([
      expect.objectContaining({
        actions: ['dynamodb:Query'],
        resources: [`${accessRequests}.Arn/index/byEventsAwaited`],
      }),
    ]);
    // Its SailPoint calls draw on the shared rate budget: UpdateItem on that table, nothing else.
    const rateBudget = logicalId(stack.node.findChild('Tables').node.findChild('RateBudget'));
    expect(statements.filter((s) => s.resources.some((r) => r.startsWith(rateBudget)))).toEqual([
      { effect: 'Allow', actions: ['dynamodb:UpdateItem'], resources: [`${rateBudget}.Arn`] },
    ]);
    const secrets = statements.filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.resources).toEqual([expect.stringMatching(/:secret:iga-autopilot\/sailpoint-\?{6}$/)]);
    expect([...secrets[0]!.actions].sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it("gets the access workflow's tenant, credential and budget, and settings the function accepts", () => {
    const variables = env();
    expect(variables).toMatchObject({
      SAILPOINT_TENANT: 'acme',
      SAILPOINT_CREDENTIALS_SECRET_ID: config.sailPoint.credentialsSecret,
      SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: String(config.sailPoint.requestsPer10s),
      ACCESS_RECONCILE_GRACE_SECONDS: '3600',
      ACCESS_RECONCILE_MAX_MESSAGES: '100',
    });
    expect(refText(variables.SAILPOINT_RATE_BUDGET_TABLE)).toBe(
      logicalId(stack.node.findChild('Tables').node.findChild('RateBudget')),
    );
    // The reconciliation counts as one more instance of the access credential: the shares still add up.
    const share = perInstanceSailPointBudget(config, 'accessProvisioning');
    expect(variables.SAILPOINT_REQUESTS_PER_10S).toBe(String(share));
    const access = resources[logicalId(stack.accessProvisioning.function)]!;
    expect(
      (access.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .SAILPOINT_REQUESTS_PER_10S,
    ).toBe(String(share));
    expect(share * (config.accessProvisioning.maxConcurrency + 1)).toBeLessThanOrEqual(
      config.sailPoint.requestsPer10s,
    );
    // Tokens (queue URLs, table names) stand in as plain URLs and names.
    const plain = {
      ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, refText(v)])),
      QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/events',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/events-dlq',
    };
    expect(loadEventTriggersSettings(plain)).toMatchObject({
      ACCESS_RECONCILE_GRACE_SECONDS: 3600,
      ACCESS_RECONCILE_MAX_MESSAGES: 100,
    });
  });

  it('names the function to invoke on demand', () => {
    template.hasOutput('EventTriggersFunctionName', { Value: { Ref: fnId() } });
  });

  it('is not deployed without the access triggers', () => {
    const absencesOnly = parseStackConfig({
      sailPoint: { tenant: 'acme' },
      eventTriggers: { sources: { identityDeleted: sources.identityDeleted } },
    });
    expect(absencesOnly.eventTriggers.accessReconcileSchedule).toBe('rate(1 hour)');
    const app = new App({
      outdir: mkdtempSync(path.join(tmpdir(), 'iga-triggers-test-')),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const other = new IgaAutopilotStack(app, 'IgaAutopilotAbsenceTriggersOnly', { config: absencesOnly });
    expect(other.eventTriggers?.reconcileSchedule).toBeUndefined();
    const otherTemplate = Template.fromStack(other);
    const otherResources = otherTemplate.toJSON().Resources as typeof resources;
    const otherFn = logicalId(other.eventTriggers!.function);
    const fn = otherResources[otherFn]!;
    const variables = Object.keys((fn.Properties.Environment as { Variables: object }).Variables);
    expect(variables).not.toContain('SAILPOINT_CREDENTIALS_SECRET_ID');
    expect(variables).not.toContain('SAILPOINT_RATE_BUDGET_TABLE');
    // No SailPoint calls, so no draw on the rate budget either.
    const rateBudget = logicalId(other.node.findChild('Tables').node.findChild('RateBudget'));
    const statements = roleStatements(otherTemplate, functionRole(otherTemplate, otherFn));
    expect(statements.some((s) => s.resources.some((r) => r.startsWith(rateBudget)))).toBe(false);
  });
});

describe('settings', () => {
  const problems = (eventTriggers: unknown) => {
    try {
      parseStackConfig({ sailPoint: { tenant: 'acme' }, eventTriggers });
      return [];
    } catch (error) {
      if (!(error instanceof StackConfigError)) throw error;
      return error.problems.map((p) => `${p.setting}: ${p.message}`);
    }
  };
  const source = (trigger: string) =>
    `aws.partner/sailpoint.com/0f11f2a4-7c94-4bf3-a2bd-742580fe3bde/idn/${trigger}`;

  it('is off by default: no trigger is consumed', () => {
    expect(parseStackConfig({ sailPoint: { tenant: 'acme' } }).eventTriggers.sources).toEqual({});
  });

  it('names the setting of each mistake', () => {
    expect(problems({ sources: { identityDeleted: source('identity-created') } })).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.eventTriggers\.sources\.identityDeleted: is not a Identity Deleted source/,
      ),
    ]);
    expect(
      problems({ sources: { identityAttributesChanged: source('identity-attributes-changed') } }),
    ).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.eventTriggers\.absenceMapping: is required when sources\.identityAttributesChanged is set/,
      ),
    ]);
    expect(problems({ sources: { accessRequestDecision: source('access-request-post-approval') } })).toEqual([
      expect.stringMatching(
        /sources\.provisioningCompleted: is required with the other access trigger: accessRequestDecision and provisioningCompleted go together/,
      ),
    ]);
    expect(
      problems({
        sources: { identityAttributesChanged: source('identity-attributes-changed') },
        absenceMapping: '{"endDate":"leaveEnd"}',
      }),
    ).toEqual([
      expect.stringMatching(/^igaAutopilot\.eventTriggers\.absenceMapping: name a status attribute/),
    ]);
    expect(
      problems({
        accessReconcileSchedule: 'every hour',
        accessReconcileGraceSeconds: 10,
        accessReconcileMaxMessages: 0,
      }),
    ).toEqual([
      expect.stringMatching(
        /^igaAutopilot\.eventTriggers\.accessReconcileSchedule: "every hour" is not a schedule/,
      ),
      'igaAutopilot.eventTriggers.accessReconcileGraceSeconds: must be at least 60',
      'igaAutopilot.eventTriggers.accessReconcileMaxMessages: must be at least 1',
    ]);
  });
});
