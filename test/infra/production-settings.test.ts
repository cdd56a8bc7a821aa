/**
 * The settings a production deployment adds (docs/deployment.md): who may send work, one credential
 * per workflow with its own rate budget, permissions boundary, tags, VPC placement, termination
 * protection, and an environment only when one is configured. Bundling is skipped: these look at the
 * template, and the AWS Solutions checks run on each variant.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../lib/app';
import { IgaAutopilotStack } from '../../lib/iga-autopilot-stack';
import { parseStackConfig, StackConfigError } from '../../lib/stack-config';
import { functionRole, logicalId, refText, roleStatements } from './template-helpers';

jest.setTimeout(60_000);

const BASE = { sailPoint: { tenant: 'acme' } };

/** The stack for `input` (tenant set unless given), its template, and the AWS Solutions findings. */
function synth(input: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new IgaAutopilotStack(app, 'Production', { config: parseStackConfig({ ...BASE, ...input }) });
  const template = Template.fromStack(stack);
  const findings = new AwsSolutionsChecks()
    .validateScope(app)
    .violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
  return { app, stack, template, findings, resources: template.toJSON().Resources as Resources };
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const acknowledgementsIn = (scope: IConstruct) =>
  scope.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) =>
      Object.keys(m.data as Record<string, string>).map((id) => id.replace(/^annotation::/i, '')),
    );

const queuePolicyStatements = (template: Template, queue: IConstruct) => {
  const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter(
    (p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: logicalId(queue) }]),
  );
  return (policy!.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
};

describe('who may send work', () => {
  const producers = ['arn:aws:iam::111122223333:role/hr-connector-*', '444455556666'];

  test('producers become a queue policy denying everyone else, the consumer and SQS redrive aside', () => {
    const { stack, template, findings } = synth({ accessProvisioning: { producers } });
    const intake = stack.accessProvisioning.intake.queue;
    const statements = queuePolicyStatements(template, intake);
    const consumerRole = functionRole(template, logicalId(stack.accessProvisioning.function));
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'ProducersMaySend',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Principal: {
            AWS: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444455556666:root']] },
            ],
          },
          Resource: { 'Fn::GetAtt': [logicalId(intake), 'Arn'] },
        }),
        {
          Sid: 'OnlyProducersSend',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [logicalId(intake), 'Arn'] },
          Condition: {
            StringNotLike: {
              'aws:PrincipalArn': [producers[0], { 'Fn::GetAtt': [consumerRole, 'Arn'] }],
            },
            StringNotEquals: { 'aws:PrincipalAccount': ['444455556666'] },
            BoolIfExists: { 'aws:ViaAWSService': 'false' },
            StringNotEqualsIfExists: { 'aws:PrincipalServiceName': 'sqs.amazonaws.com' },
          },
        },
      ]),
    );
    // TLS-only stays; the absence queue, without producers, has no such statement.
    expect(statements.map((s) => s.Sid ?? s.Condition)).toContainEqual({
      Bool: { 'aws:SecureTransport': 'false' },
    });
    const absenceSids = queuePolicyStatements(template, stack.absenceReassignment.events.queue).map(
      (s) => s.Sid,
    );
    expect(absenceSids).not.toContain('OnlyProducersSend');
    expect(findings).toEqual([]);
  });

  test('an empty producers list closes the queue to everyone but the stack', () => {
    const { stack, template } = synth({ absenceReassignment: { producers: [] } });
    const statements = queuePolicyStatements(template, stack.absenceReassignment.events.queue);
    expect(statements.map((s) => s.Sid).filter(Boolean)).toEqual(['OnlyProducersSend']);
    const consumerRole = functionRole(template, logicalId(stack.absenceReassignment.function));
    expect(statements.find((s) => s.Sid === 'OnlyProducersSend')!.Condition).toMatchObject({
      StringNotLike: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [consumerRole, 'Arn'] }] },
    });
  });

  test('queue ARNs are stack outputs, so producers can be granted', () => {
    const { stack, template } = synth({});
    for (const [name, workQueue] of [
      ['AccessRequest', stack.accessProvisioning.intake],
      ['AbsenceEvent', stack.absenceReassignment.events],
    ] as const) {
      template.hasOutput(`${name}QueueArn`, { Value: { 'Fn::GetAtt': [logicalId(workQueue.queue), 'Arn'] } });
      template.hasOutput(`${name}DeadLetterQueueArn`, {
        Value: { 'Fn::GetAtt': [logicalId(workQueue.deadLetterQueue), 'Arn'] },
      });
    }
  });

  test('a producer that is not a principal ARN or account id is refused at synth, naming the setting', () => {
    expect(() => parseStackConfig({ ...BASE, absenceReassignment: { producers: ['hr-connector'] } })).toThrow(
      /igaAutopilot\.absenceReassignment\.producers\.0: "hr-connector" is not a principal/,
    );
    expect(
      parseStackConfig({
        ...BASE,
        absenceReassignment: { producers: '111122223333, arn:aws:iam::111122223333:root' },
      }).absenceReassignment.producers,
    ).toEqual(['111122223333', 'arn:aws:iam::111122223333:root']);
  });
});

describe('least-privilege credentials', () => {
  const ownSecrets = {
    staleTokenSweep: { credentialsSecret: 'iga-autopilot/sweep' },
    accessProvisioning: {
      credentialsSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:iga-autopilot/access-AbCdEf',
    },
  };

  test('each workflow reads only its own secret; the shared one stays the default', () => {
    const { stack, template, resources, findings } = synth(ownSecrets);
    const secretsOf = (fn: IConstruct) =>
      roleStatements(template, functionRole(template, logicalId(fn)))
        .filter((s) => s.actions.includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => s.resources);
    const envOf = (fn: IConstruct) =>
      (resources[logicalId(fn)]!.Properties.Environment as { Variables: Record<string, string> }).Variables;

    expect(secretsOf(stack.staleTokenSweep.function)).toEqual([
      expect.stringMatching(/:secret:iga-autopilot\/sweep-\?{6}$/),
    ]);
    expect(secretsOf(stack.accessProvisioning.function)).toEqual([
      ownSecrets.accessProvisioning.credentialsSecret,
    ]);
    expect(secretsOf(stack.absenceReassignment.function)).toEqual([
      expect.stringMatching(/:secret:iga-autopilot\/sailpoint-\?{6}$/),
    ]);
    expect(envOf(stack.staleTokenSweep.function).SAILPOINT_CREDENTIALS_SECRET_ID).toBe('iga-autopilot/sweep');
    expect(envOf(stack.accessProvisioning.function).SAILPOINT_CREDENTIALS_SECRET_ID).toBe(
      ownSecrets.accessProvisioning.credentialsSecret,
    );
    expect(envOf(stack.absenceReassignment.function).SAILPOINT_CREDENTIALS_SECRET_ID).toBe(
      'iga-autopilot/sailpoint',
    );
    // Each credential has the whole budget (ISC limits per client id), shared by its own callers only:
    // sweep 95 / 1, access 95 / 2 consumers, absence 95 / (2 consumers + the re-check).
    expect(envOf(stack.staleTokenSweep.function).SAILPOINT_REQUESTS_PER_10S).toBe('95');
    expect(envOf(stack.accessProvisioning.function).SAILPOINT_REQUESTS_PER_10S).toBe('47');
    expect(envOf(stack.absenceReassignment.function).SAILPOINT_REQUESTS_PER_10S).toBe('31');
    expect(findings).toEqual([]);
  });

  test('the synth budget check is per credential', () => {
    const tight = { sailPoint: { tenant: 'acme', requestsPer10s: 3 } };
    // Shared: 6 callers cannot share 3 requests.
    expect(() => parseStackConfig(tight)).toThrow(
      /igaAutopilot\.sailPoint\.requestsPer10s: 3 requests per 10 s cannot be shared by the 6 concurrent SailPoint callers using credential iga-autopilot\/sailpoint \(staleTokenSweep, accessProvisioning, absenceReassignment/,
    );
    // Own credentials: 1, 2 and 3 callers each get the whole 3.
    expect(() => parseStackConfig({ ...tight, ...ownSecrets })).not.toThrow();
    // With 2, only the credential of the absence function (2 consumers + the re-check) is short.
    expect(() =>
      parseStackConfig({ ...tight, sailPoint: { tenant: 'acme', requestsPer10s: 2 }, ...ownSecrets }),
    ).toThrow(
      /^[^\n]*\n {2}- igaAutopilot\.sailPoint\.requestsPer10s: 2 requests per 10 s cannot be shared by the 3 concurrent SailPoint callers using credential iga-autopilot\/sailpoint \(absenceReassignment:[^\n]*$/,
    );
  });
});

describe('regulated accounts', () => {
  test('a permissions boundary on every role, extra tags on the resources', () => {
    const { template, resources, findings } = synth({
      permissionsBoundary: 'iga-boundary',
      tags: { 'cost-center': 'iam-42', owner: 'iam-team' },
    });
    const roles = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(3 + 2); // 3 functions; the schedules' roles, one per function they invoke
    for (const role of roles) {
      expect(refText(role.Properties.PermissionsBoundary)).toBe(
        'arn:,AWS::Partition,:iam::,AWS::AccountId,:policy/iga-boundary'.replace(/,/g, ''),
      );
    }
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: Match.arrayWith([
        { Key: 'cost-center', Value: 'iam-42' },
        { Key: 'owner', Value: 'iam-team' },
      ]),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'cost-center', Value: 'iam-42' }]),
    });
    expect(findings).toEqual([]);

    const byArn = synth({ permissionsBoundary: 'arn:aws:iam::123456789012:policy/org/iga-boundary' });
    for (const role of Object.values(byArn.resources).filter((r) => r.Type === 'AWS::IAM::Role')) {
      expect(role.Properties.PermissionsBoundary).toBe('arn:aws:iam::123456789012:policy/org/iga-boundary');
    }
  });

  test('VPC placement: every function in the subnets with the security groups, ENI rights scoped where EC2 allows', () => {
    const vpc = { subnetIds: ['subnet-0a1b2c3d', 'subnet-0e1f2a3b'], securityGroupIds: ['sg-0123abcd'] };
    const { stack, template, resources, findings } = synth({
      vpc,
      cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
    });
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: vpc.subnetIds,
        SecurityGroupIds: vpc.securityGroupIds,
      });
      const statements = roleStatements(template, functionRole(template, id));
      const create = statements.find((s) => s.actions.includes('ec2:CreateNetworkInterface'))!;
      expect(create.resources).toEqual([
        expect.stringMatching(/:network-interface\/\*$/),
        expect.stringMatching(/:subnet\/subnet-0a1b2c3d$/),
        expect.stringMatching(/:subnet\/subnet-0e1f2a3b$/),
        expect.stringMatching(/:security-group\/sg-0123abcd$/),
      ]);
      expect(statements.find((s) => s.resources.includes('*'))?.actions).toEqual([
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
      ]);
    }
    // No AWS-managed policy (AWSLambdaVPCAccessExecutionRole would allow every subnet).
    for (const role of Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    // Clean, with exactly the two unavoidable EC2 wildcards acknowledged, on the function roles only.
    expect(findings).toEqual([]);
    const acknowledged = acknowledgementsIn(stack);
    expect(new Set(acknowledged)).toEqual(
      new Set([
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
      ]),
    );
    expect(acknowledged).toHaveLength(2 * 4);
    // Without a VPC: no acknowledgement at all.
    expect(acknowledgementsIn(synth({}).stack)).toEqual([]);
  });

  test('VPC settings are checked at synth', () => {
    expect(() =>
      parseStackConfig({ ...BASE, vpc: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-0123abcd'] } }),
    ).toThrow(/igaAutopilot\.vpc\.subnetIds\.0: must be a subnet id/);
    expect(() =>
      parseStackConfig({ ...BASE, vpc: { subnetIds: [], securityGroupIds: ['sg-0123abcd'] } }),
    ).toThrow(/igaAutopilot\.vpc\.subnetIds: name at least one subnet/);
    expect(() => parseStackConfig({ ...BASE, tags: { 'aws:owner': 'x' } })).toThrow(
      /igaAutopilot\.tags\.aws:owner/,
    );
  });

  test('schedule retries come from the settings', () => {
    const { template } = synth({
      schedules: { retryAttempts: 10, functionRetryAttempts: 0, maxEventAgeSeconds: 600 },
    });
    template.allResourcesProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 600 } }),
    });
    template.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 600,
    });
  });
});

describe('deploy without surprises (bin/app.ts → lib/app.ts)', () => {
  const ENV_KEYS = ['CDK_DEFAULT_REGION', 'CDK_DEFAULT_ACCOUNT'] as const;
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
    // What the CDK CLI sets when nothing is configured (and here a region found nowhere else).
    process.env.CDK_DEFAULT_REGION = 'ap-nowhere-9';
    process.env.CDK_DEFAULT_ACCOUNT = '999988887777';
  });
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  const synthApp = (igaAutopilot: Record<string, unknown>) => {
    const app = new App({
      outdir: mkdtempSync(path.join(tmpdir(), 'iga-app-test-')),
      context: { 'aws:cdk:bundling-stacks': [], igaAutopilot },
    });
    const stack = buildApp(app);
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(stack.artifactId);
    const files = [artifact.templateFile, `${stack.artifactId}.assets.json`].map((f) =>
      readFileSync(path.join(assembly.directory, f), 'utf8'),
    );
    return { stack, artifact, text: files.join('\n') };
  };

  test('an unconfigured synth names no region or account: the stack stays environment-agnostic', () => {
    const { stack, artifact, text } = synthApp(BASE);
    expect(artifact.environment).toEqual({
      account: 'unknown-account',
      region: 'unknown-region',
      name: 'aws://unknown-account/unknown-region',
    });
    expect(Stack.of(stack).resolve(stack.region)).toEqual({ Ref: 'AWS::Region' });
    expect(text).not.toContain('ap-nowhere-9');
    expect(text).not.toContain('999988887777');
  });

  test('account and region, when configured, are used as given', () => {
    const { artifact } = synthApp({ ...BASE, account: '123456789012', region: 'eu-central-1' });
    expect(artifact.environment).toMatchObject({ account: '123456789012', region: 'eu-central-1' });
  });

  test('termination protection is a setting', () => {
    expect(synthApp(BASE).artifact.terminationProtection).toBeFalsy();
    expect(synthApp({ ...BASE, terminationProtection: true }).artifact.terminationProtection).toBe(true);
  });

  test('a missing tenant stops synth unless allowIncomplete says it is intended', () => {
    expect(() => synthApp({})).toThrow(StackConfigError);
    expect(() => synthApp({})).toThrow(/igaAutopilot\.sailPoint\.tenant: is required/);
    expect(synthApp({ allowIncomplete: true }).artifact.environment.region).toBe('unknown-region');
  });
});

describe('one way to write a handler (#12): optional X-Ray tracing', () => {
  const functionsOf = (resources: Resources) =>
    Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const envOf = (fn: Resources[string]) =>
    (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;

  test('lambda.tracing: active tracing and POWERTOOLS_TRACE_ENABLED on every function, the X-Ray wildcard acknowledged on their roles only', () => {
    const { stack, template, resources, findings } = synth({
      lambda: { tracing: true },
      cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' },
    });
    const functions = functionsOf(resources);
    expect(functions).toHaveLength(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(envOf(fn).POWERTOOLS_TRACE_ENABLED).toBe('true');
      const xray = roleStatements(template, functionRole(template, id)).filter((s) =>
        s.actions.some((a) => a.startsWith('xray:')),
      );
      expect(xray).toEqual([
        { actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resources: ['*'], effect: 'Allow' },
      ]);
    }
    expect(findings).toEqual([]);
    expect(acknowledgementsIn(stack)).toEqual(Array(4).fill('AwsSolutions-IAM5[Resource::*]'));
  });

  test('off by default: no tracing config, no variable, no X-Ray right, nothing acknowledged', () => {
    const { stack, template, resources } = synth({ cognigy: { apiUrl: 'https://api-trial.cognigy.ai/new' } });
    for (const [id, fn] of functionsOf(resources)) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(envOf(fn).POWERTOOLS_TRACE_ENABLED).toBeUndefined();
      expect(
        roleStatements(template, functionRole(template, id))
          .flatMap((s) => s.actions)
          .filter((a) => a.startsWith('xray:')),
      ).toEqual([]);
    }
    expect(acknowledgementsIn(stack)).toEqual([]);
  });

  test('with a VPC too: one acknowledgement per finding on each role', () => {
    const { stack, findings } = synth({
      lambda: { tracing: true },
      vpc: { subnetIds: ['subnet-0a1b2c3d'], securityGroupIds: ['sg-0123abcd'] },
    });
    expect(findings).toEqual([]);
    expect(acknowledgementsIn(stack).sort()).toEqual(
      [
        ...Array(3).fill('AwsSolutions-IAM5[Resource::*]'),
        ...Array(3).fill(
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
        ),
      ].sort(),
    );
  });
});

describe('who may receive absence work (#12)', () => {
  const ALLOWED = ['2c9180aa000000000000000000000003', '2C9180AA000000000000000000000005'];
  const absenceEnv = (input: Record<string, unknown>) => {
    const { stack, template } = synth(input);
    const fn = template.toJSON().Resources[logicalId(stack.absenceReassignment.function)] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    return fn.Properties.Environment.Variables;
  };

  test('defaults: chain-or-peers, at most 180 days, no allow-list', () => {
    const env = absenceEnv({});
    expect(env).toMatchObject({ DELEGATE_POLICY: 'chain-or-peers', MAX_ABSENCE_DAYS: '180' });
    expect(env.DELEGATE_ALLOW_LIST).toBeUndefined();
  });

  test('delegatePolicy, delegateAllowList (ids lower-cased) and maxAbsenceDays reach the function', () => {
    expect(
      absenceEnv({
        absenceReassignment: { delegatePolicy: 'allow-list', delegateAllowList: ALLOWED, maxAbsenceDays: 30 },
      }),
    ).toMatchObject({
      DELEGATE_POLICY: 'allow-list',
      DELEGATE_ALLOW_LIST: '2c9180aa000000000000000000000003,2c9180aa000000000000000000000005',
      MAX_ABSENCE_DAYS: '30',
    });
    // On the command line: comma-separated.
    expect(
      absenceEnv({ absenceReassignment: { delegatePolicy: 'any', delegateAllowList: ALLOWED.join(',') } }),
    ).toMatchObject({ DELEGATE_POLICY: 'any' });
  });

  test('bad values stop synth naming the setting; the function variables cannot be set around them', () => {
    const refused = (absenceReassignment: Record<string, unknown>) => {
      try {
        parseStackConfig({ ...BASE, absenceReassignment });
      } catch (error) {
        expect(error).toBeInstanceOf(StackConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ delegatePolicy: 'managers' })).toMatch(
      /igaAutopilot\.absenceReassignment\.delegatePolicy: must be one of chain-or-peers, allow-list, any/,
    );
    expect(refused({ delegatePolicy: 'allow-list' })).toMatch(
      /igaAutopilot\.absenceReassignment\.delegateAllowList: is required with delegatePolicy allow-list/,
    );
    expect(refused({ delegateAllowList: ['bob'] })).toMatch(
      /igaAutopilot\.absenceReassignment\.delegateAllowList\.0: "bob" is not a SailPoint identity id/,
    );
    expect(
      refused({ delegateAllowList: Array.from({ length: 81 }, (_, n) => n.toString(16).padStart(32, '0')) }),
    ).toMatch(/delegateAllowList: at most 80 ids/);
    expect(refused({ maxAbsenceDays: 0 })).toMatch(
      /igaAutopilot\.absenceReassignment\.maxAbsenceDays: must be at least 1/,
    );
    expect(refused({ settings: { DELEGATE_POLICY: 'any' } })).toMatch(
      /igaAutopilot\.absenceReassignment\.settings\.DELEGATE_POLICY: is set by the stack from igaAutopilot\.absenceReassignment\.delegatePolicy/,
    );
  });
});
