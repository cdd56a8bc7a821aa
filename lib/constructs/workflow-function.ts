/**
 * A workflow's Lambda function with the defaults every one shares: Node 24 on arm64, a minified
 * esbuild bundle with source maps (built locally, no Docker), its own log group with a retention,
 * and its own role that starts with nothing but writing to that log group. Everything else is
 * granted by the workflow construct, action by action.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { entryOf, FUNCTION_BUNDLING, REPO_ROOT } from '../bundling';
import type { StackConfig } from '../stack-config';

export interface WorkflowFunctionProps {
  /** functions/<dir>/handler.ts */
  readonly dir: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly environment: Record<string, string>;
  readonly lambda: StackConfig['lambda'];
  /** Instances allowed at once; unset: the account's unreserved pool. */
  readonly reservedConcurrency?: number;
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
      bundling: FUNCTION_BUNDLING,
      description: props.description,
      memorySize: props.lambda.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      // Stack traces point into the TypeScript sources (NodejsFunction no longer sets this itself).
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
    });
  }
}
