/**
 * What `iga` talks to: a deployed stack, found by name through its CloudFormation outputs with the
 * caller's AWS credentials, or the local stack of `npm run dev`, found through its state file. Commands
 * see one `Target` either way: the same tables, queues and runs, so they behave the same on both.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../functions/shared/aws';
import type { TableKey } from '../functions/shared/tables';
import {
  DEFAULT_STATE_FILE,
  type LocalStackDescription,
  type QueueWorkflowName,
  type WorkQueueUrls,
} from '../local/stack';
import { CliError } from './io';
import { runLocally, type RunName, type RunResult } from './local-runs';

export interface Target {
  /** For people: `stack IgaAutopilot` or `local stack (pid 1234)`. */
  readonly label: string;
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  table(key: TableKey): string;
  queues(workflow: QueueWorkflowName): WorkQueueUrls;
  /** Runs the sweep or the Cognigy audit once, as its schedule does, and returns its summary. */
  run(name: RunName, payload: Record<string, unknown>): Promise<RunResult>;
  /** The environment the sweep or audit function runs with (its settings; never secrets). */
  functionSettings(name: RunName): Promise<Record<string, string>>;
  /** Who is acting, for the exemptions' audit trail. */
  whoami(): Promise<string>;
  /** Where SailPoint is and its credentials (SAILPOINT_* as the functions read them), for `iga triggers`. */
  sailPointEnv(): Record<string, string | undefined>;
}

export interface TargetOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly local?: boolean;
}

/** `--stack` / `--local`, else IGA_STACK / IGA_LOCAL_STATE from the environment. */
export async function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv): Promise<Target> {
  if (options.stack && options.local) throw new CliError('choose one of --stack and --local');
  if (options.local) return localTarget(env.IGA_LOCAL_STATE || DEFAULT_STATE_FILE);
  const stack = options.stack ?? env.IGA_STACK;
  if (stack) return awsTarget(stack, options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  if (env.IGA_LOCAL_STATE) return localTarget(env.IGA_LOCAL_STATE);
  throw new CliError(
    'no target: pass --stack <name> (a deployed stack, with your AWS credentials) or --local (npm run dev); ' +
      'or set IGA_STACK or IGA_LOCAL_STATE',
  );
}

const TABLE_OUTPUTS: Record<TableKey, string> = {
  findings: 'FindingsTableName',
  accessRequests: 'AccessRequestsTableName',
  absences: 'AbsencesTableName',
  rateBudget: 'RateBudgetTableName',
};
const QUEUE_OUTPUTS: Record<QueueWorkflowName, string> = {
  access: 'AccessRequest',
  absence: 'AbsenceEvent',
};
const FUNCTION_OUTPUTS: Record<RunName, string> = {
  sweep: 'StaleTokenSweepFunctionName',
  audit: 'CognigyAuditFunctionName',
};

/** Every stack output the CLI reads (test/infra checks that the stack has each). */
export const STACK_OUTPUTS_READ: readonly string[] = [
  ...Object.values(TABLE_OUTPUTS),
  ...Object.values(QUEUE_OUTPUTS).flatMap((name) => [`${name}QueueUrl`, `${name}DeadLetterQueueUrl`]),
  ...Object.values(FUNCTION_OUTPUTS),
];

async function awsTarget(stackName: string, region: string | undefined): Promise<Target> {
  const config = region ? { region } : {};
  let outputs: Record<string, string>;
  try {
    const { Stacks } = await new CloudFormationClient(config).send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (error) {
    throw new CliError(`cannot read stack ${stackName}: ${messageOf(error)}`);
  }
  const output = (name: string) => {
    const value = outputs[name];
    if (!value) {
      throw new CliError(
        `stack ${stackName} has no output ${name}: deploy this version of the stack (npx cdk deploy)`,
      );
    }
    return value;
  };
  const lambda = new LambdaClient(config);
  return {
    label: `stack ${stackName}`,
    doc: createDocumentClient(new DynamoDBClient(config)),
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    table: (key) => output(TABLE_OUTPUTS[key]),
    queues: (workflow) => ({
      queueUrl: output(`${QUEUE_OUTPUTS[workflow]}QueueUrl`),
      deadLetterQueueUrl: output(`${QUEUE_OUTPUTS[workflow]}DeadLetterQueueUrl`),
    }),
    async run(name, payload) {
      const result = await lambda.send(
        new InvokeCommand({
          FunctionName: output(FUNCTION_OUTPUTS[name]),
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      const body: unknown = result.Payload
        ? JSON.parse(Buffer.from(result.Payload).toString('utf8'))
        : undefined;
      if (result.FunctionError) {
        const message = (body as { errorMessage?: string } | undefined)?.errorMessage ?? result.FunctionError;
        return { ok: false, error: message };
      }
      return { ok: true, summary: body };
    },
    async functionSettings(name) {
      const configuration = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: output(FUNCTION_OUTPUTS[name]) }),
      );
      return configuration.Environment?.Variables ?? {};
    },
    async whoami() {
      const identity = await new STSClient(config).send(new GetCallerIdentityCommand({}));
      return identity.Arn ?? 'unknown AWS principal';
    },
    // The stack's secret is the functions' own: an operator brings an admin credential in the environment.
    sailPointEnv: () => process.env,
  };
}

function localTarget(file: string): Target {
  let state: LocalStackDescription;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as LocalStackDescription;
  } catch (error) {
    throw new CliError(`no local stack at ${file} (${messageOf(error)}): start one with npm run dev`);
  }
  if (state.kind !== 'iga-local-stack') throw new CliError(`${file} is not a local stack state file`);
  if (!isRunning(state.pid)) {
    throw new CliError(
      `the local stack in ${file} (pid ${state.pid}) is not running: start it with npm run dev`,
    );
  }
  const clientConfig = {
    region: state.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const doc = createDocumentClient(
    new DynamoDBClient({ ...clientConfig, endpoint: state.endpoints.dynamodb }),
  );
  const sns = new SNSClient({ ...clientConfig, endpoint: state.endpoints.sqs });
  return {
    label: `local stack (pid ${state.pid})`,
    doc,
    sqs: new SQSClient({ ...clientConfig, endpoint: state.endpoints.sqs, useQueueUrlAsEndpoint: false }),
    table: (key) => state.tables[key],
    queues: (workflow) => state.queues[workflow],
    run: (name, payload) => runLocally(name, payload, { state, doc, sns }),
    functionSettings: async () => ({ ...state.functionEnv }),
    whoami: async () => `local:${userInfo().username}`,
    sailPointEnv: () => state.functionEnv,
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
