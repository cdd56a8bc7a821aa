/**
 * A workflow's Lambda function with the defaults every one shares: Node 24 on arm64, a minified
 * esbuild bundle with source maps (built locally, no Docker), its own log group with a retention,
 * and its own role that starts with nothing but writing to that log group. Everything else is
 * granted by the workflow construct, action by action.
 *
 * Optional placement in a VPC (`vpc`): the function's network interfaces go into the given subnets
 * with the given security groups, and its role gets the EC2 network-interface actions Lambda needs
 * for that, scoped to those subnets and groups where EC2 allows it.
 *
 * Optional X-Ray tracing (`lambda.tracing`): active tracing on the function and
 * POWERTOOLS_TRACE_ENABLED=true, which makes the handler's entry point (functions/shared/lambda.ts)
 * record the invocation and its calls with Powertools Tracer.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { entryOf, functionBundling, REPO_ROOT } from '../bundling';
import type { StackConfig } from '../stack-config';
import type { AsyncInvokeFailure } from './schedule-failures';

export interface WorkflowFunctionProps {
  /** functions/<dir>/handler.ts */
  readonly dir: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly environment: Record<string, string>;
  readonly lambda: StackConfig['lambda'];
  /** Instances allowed at once; unset: the account's unreserved pool. */
  readonly reservedConcurrency?: number;
  /** For a function a schedule invokes: its retries of a failed run and the DLQ after them. */
  readonly asyncFailure?: AsyncInvokeFailure;
  /** Subnets and security groups to run in; unset: Lambda's own network. */
  readonly vpc?: StackConfig['vpc'];
}

export class WorkflowFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      // 0 in the config means "never expire" (RetentionDays.INFINITE).
      retention: (props.lambda.logRetentionDays === 0
        ? 9999
        : props.lambda.logRetentionDays) as RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may write to any log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.dir}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: entryOf(props.dir),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      bundling: functionBundling({ tracing: props.lambda.tracing }),
      description: props.description,
      memorySize: props.lambda.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      // Stack traces point into the TypeScript sources (NodejsFunction no longer sets this itself).
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.lambda.tracing ? { POWERTOOLS_TRACE_ENABLED: 'true' } : {}),
      },
      ...(props.lambda.tracing ? { tracing: Tracing.ACTIVE } : {}),
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      ...(props.asyncFailure
        ? {
            deadLetterQueue: props.asyncFailure.deadLetterQueue,
            retryAttempts: props.asyncFailure.retryAttempts,
            maxEventAge: props.asyncFailure.maxEventAge,
          }
        : {}),
    });
    // Wildcards AWS leaves no way around, acknowledged on this role only, once per finding, and only
    // when the setting that needs them is on (the default stack acknowledges nothing).
    const wildcards = new Map<string, string[]>();
    const wildcard = (finding: string, reason: string) =>
      wildcards.set(finding, [...(wildcards.get(finding) ?? []), reason]);
    if (props.vpc) this.placeInVpc(props.vpc, wildcard);
    if (props.lambda.tracing) {
      wildcard(
        'Resource::*',
        'X-Ray takes trace segments on no narrower resource (xray:PutTraceSegments, xray:PutTelemetryRecords); only with lambda.tracing',
      );
    }
    for (const [finding, reasons] of wildcards) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: reasons.join('; '),
      });
    }
  }

  /**
   * VpcConfig set on the function directly: the L2 `vpc` property would need the VPC itself (a
   * lookup, which synth must not do) and would attach the AWSLambdaVPCAccessExecutionRole managed
   * policy, which allows these actions on every subnet and security group.
   */
  private placeInVpc(
    vpc: NonNullable<StackConfig['vpc']>,
    wildcard: (finding: string, reason: string) => void,
  ): void {
    (this.function.node.defaultChild as CfnFunction).vpcConfig = {
      subnetIds: [...vpc.subnetIds],
      securityGroupIds: [...vpc.securityGroupIds],
    };
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, name: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName: name });
    const anyInterface = ec2Arn('network-interface', '*');
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          anyInterface,
          ...vpc.subnetIds.map((id) => ec2Arn('subnet', id)),
          ...vpc.securityGroupIds.map((id) => ec2Arn('security-group', id)),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [anyInterface],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
    );
    // The two wildcards EC2 leaves no way around.
    for (const [finding, reason] of [
      [
        'Resource::*',
        'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; Lambda needs them to attach the function to the configured subnets',
      ],
      [
        `Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*`,
        'Lambda creates and deletes network interfaces whose ids are not known before it does; creation is limited to the configured subnets and security groups',
      ],
    ] as const) {
      wildcard(finding, reason);
    }
  }
}
