/**
 * The local stack: what the CDK stack deploys, on loopback — the sandbox tenant, dynalite with the
 * tables, fauxqs with the two work queues (each with its DLQ) and the findings topic — plus the
 * functions' environment pointing at all of it. `npm start` runs the demos on it; `npm run dev` also
 * keeps it serving: a poller per work queue feeds the real handlers (as the event source mappings do),
 * and a state file tells `iga --local` where everything is, so the CLI works on it as on AWS.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createAccessProvisioningHandlerFromEnv } from '../functions/access-provisioning/handler';
import { createAbsenceReassignmentHandlerFromEnv } from '../functions/absence-reassignment/handler';
import type { Env } from '../functions/shared/config';
import { TABLES, type TableKey } from '../functions/shared/tables';
import { stackConfigSchema } from '../lib/stack-config';
import { COGNIGY_SANDBOX_KEYS } from '../sandbox/cognigy/state';
import { DEFAULT_SEED_IDS } from '../sandbox/seed';
import { startSandbox, type Sandbox } from '../sandbox/server';
import {
  createTable,
  LOCAL_AWS_ENV,
  localDynamoClient,
  startDynamo,
  startQueues,
  type RunningEmulator,
} from './emulators';
import type { LocalEnvironment } from './environment';
import { drainQueue, pollOnce, type SqsHandler } from './queue-poller';

/** Where `npm run dev` writes the state file and `iga --local` reads it (IGA_LOCAL_STATE overrides). */
export const DEFAULT_STATE_FILE = join(__dirname, '..', '.local', 'dev-stack.json');

export type QueueWorkflowName = 'access' | 'absence';

export interface WorkQueueUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** The state file: everything `iga --local` needs, and nothing secret (the sandbox's demo credentials). */
export interface LocalStackDescription {
  readonly kind: 'iga-local-stack';
  readonly pid: number;
  readonly startedAt: string;
  readonly region: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly sandbox: string };
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly queues: Readonly<Record<QueueWorkflowName, WorkQueueUrls>>;
  readonly topicArn: string;
  /** The environment the stack would give the functions (SailPoint, Cognigy, tables, topic). */
  readonly functionEnv: Readonly<Record<string, string>>;
}

export interface LocalStackOptions {
  /** Reuse running emulators (the tests' global ones); default: start them in this process. */
  readonly dynamoEndpoint?: string;
  readonly sqsEndpoint?: string;
  /** Prefix of table, queue and topic names; default `local`. */
  readonly prefix?: string;
  /** Queue names to use (e.g. the demos' own queues); default `<prefix>-access-requests` etc. */
  readonly queueNames?: Partial<Record<QueueWorkflowName, { queue: string; deadLetterQueue: string }>>;
  readonly sandbox?: Sandbox;
  /** More settings for every function (e.g. the demo's STALE_TOKEN_EXEMPTIONS baseline). */
  readonly functionEnv?: Readonly<Record<string, string>>;
}

export interface LocalStack {
  readonly sandbox: Sandbox;
  readonly env: Env;
  readonly sqs: SQSClient;
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  /** The LocalEnvironment the demos take. */
  environment(print: (line: string) => void): LocalEnvironment;
  /** Creates (or finds, by name) the work queues and the topic; idempotent. */
  provision(): Promise<LocalStackDescription>;
  /** Starts a poller per work queue (provision first); `onBatch` hears about each batch. */
  startPollers(onBatch?: (workflow: QueueWorkflowName, received: number, failed: number) => void): void;
  /** Polls each work queue until it is empty (tests: "the event source mapping has caught up"). */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const REGION = LOCAL_AWS_ENV.AWS_REGION;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Local settings of the queue-fed functions: retries visible again at once (nothing to wait for here). */
const LOCAL_QUEUE_FUNCTION_ENV = {
  TRANSIENT_RETRY_SECONDS: '0',
  CONFLICT_RETRY_SECONDS: '0',
  STATUS_SETTLE_SECONDS: '0',
};

/** sailPoint.requestsPer10s of a default deployment. */
const DEFAULT_REQUESTS_PER_10S = stackConfigSchema.parse({ sailPoint: { tenant: 'local' } }).sailPoint
  .requestsPer10s;

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const prefix = options.prefix ?? 'local';
  const started: RunningEmulator[] = [];
  const [dynamoEndpoint, sqsEndpoint] = await Promise.all([
    options.dynamoEndpoint ?? startDynamo().then((e) => (started.push(e), e.endpoint)),
    options.sqsEndpoint ?? startQueues().then((e) => (started.push(e), e.endpoint)),
  ]);
  if (started.length) {
    // The functions run in this process and build their AWS clients from the environment, as in Lambda.
    Object.assign(process.env, LOCAL_AWS_ENV, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_SNS: sqsEndpoint,
    });
  }
  const sandbox = options.sandbox ?? (await startSandbox());
  const ownSandbox = options.sandbox === undefined;

  const dynamo = localDynamoClient(dynamoEndpoint);
  const tables = {} as Record<TableKey, string>;
  for (const key of Object.keys(TABLES) as TableKey[]) {
    tables[key] = `${prefix}-${TABLES[key].logicalId}`;
    await createTable(dynamo, TABLES[key], tables[key]);
  }
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: REGION,
    credentials,
    useQueueUrlAsEndpoint: false,
  });
  const sns = new SNSClient({ endpoint: sqsEndpoint, region: REGION, credentials });
  const env: Env = {
    ...LOCAL_AWS_ENV,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_SNS: sqsEndpoint,
    SAILPOINT_API_URL: sandbox.url,
    SAILPOINT_CLIENT_ID: DEFAULT_SEED_IDS.clients.pat.clientId,
    SAILPOINT_CLIENT_SECRET: DEFAULT_SEED_IDS.clients.pat.clientSecret,
    // The deployed shape: every function draws on the credential's shared budget (the RateBudget table).
    SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: String(DEFAULT_REQUESTS_PER_10S),
    COGNIGY_API_URL: `${sandbox.url}/new`,
    // The admin user: the one whose audit has something to show.
    COGNIGY_API_KEY: COGNIGY_SANDBOX_KEYS.admin,
    ...Object.fromEntries((Object.keys(TABLES) as TableKey[]).map((k) => [TABLES[k].envVar, tables[k]])),
    ...options.functionEnv,
  };

  let description: LocalStackDescription | undefined;
  const pollers: Promise<void>[] = [];
  const handlers = new Map<QueueWorkflowName, { handler: SqsHandler; queueUrl: string }>();
  let stopping = false;

  const names = (workflow: QueueWorkflowName) =>
    options.queueNames?.[workflow] ??
    (workflow === 'access'
      ? { queue: `${prefix}-access-requests`, deadLetterQueue: `${prefix}-access-requests-dlq` }
      : { queue: `${prefix}-absence-events.fifo`, deadLetterQueue: `${prefix}-absence-events-dlq.fifo` });

  const provision = async (): Promise<LocalStackDescription> => {
    if (description) return description;
    const queues = {
      access: await workQueue(sqs, names('access'), false),
      absence: await workQueue(sqs, names('absence'), true),
    };
    const topic = await sns.send(new CreateTopicCommand({ Name: `${prefix}-findings` }));
    const functionEnv = { ...env, NOTIFICATIONS_TOPIC_ARN: topic.TopicArn! } as Record<string, string>;
    for (const workflow of ['access', 'absence'] as const) {
      const { queueUrl, deadLetterQueueUrl } = queues[workflow];
      const queueEnv = {
        ...functionEnv,
        ...LOCAL_QUEUE_FUNCTION_ENV,
        QUEUE_URL: queueUrl,
        DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
        MAX_RECEIVE_COUNT: String(await maxReceiveCount(sqs, queueUrl)),
      };
      const handler =
        workflow === 'access'
          ? await createAccessProvisioningHandlerFromEnv(queueEnv)
          : ((await createAbsenceReassignmentHandlerFromEnv(queueEnv)) as unknown as SqsHandler);
      handlers.set(workflow, { handler, queueUrl });
    }
    description = {
      kind: 'iga-local-stack',
      pid: process.pid,
      startedAt: new Date().toISOString(),
      region: REGION,
      endpoints: { dynamodb: dynamoEndpoint, sqs: sqsEndpoint, sandbox: sandbox.url },
      tables,
      queues,
      topicArn: topic.TopicArn!,
      functionEnv,
    };
    return description;
  };

  const pollLoop = async (
    workflow: QueueWorkflowName,
    onBatch?: (workflow: QueueWorkflowName, received: number, failed: number) => void,
  ) => {
    const { handler, queueUrl } = handlers.get(workflow)!;
    while (!stopping) {
      try {
        const result = await pollOnce({ sqs, queueUrl, handler, batchSize: 10, waitTimeSeconds: 1 });
        if (result.received > 0) onBatch?.(workflow, result.received, result.failed);
      } catch (error) {
        if (stopping) return;
        process.stderr.write(
          `${workflow} poller: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  return {
    sandbox,
    env,
    sqs,
    tables,
    dynamoEndpoint,
    sqsEndpoint,
    environment: (print) => ({
      sandbox,
      dynamoEndpoint,
      sqsEndpoint,
      sqs,
      tables,
      env: { ...process.env, ...env },
      print,
    }),
    provision,
    startPollers(onBatch) {
      if (!description) throw new Error('provision the local stack before starting its pollers');
      for (const workflow of handlers.keys()) pollers.push(pollLoop(workflow, onBatch));
    },
    async drain(timeoutMs = 30_000) {
      for (const { handler, queueUrl } of handlers.values()) {
        await drainQueue({ sqs, queueUrl, handler, batchSize: 10, timeoutMs });
      }
    },
    async stop() {
      stopping = true;
      await Promise.allSettled(pollers);
      await Promise.allSettled([
        ...(ownSandbox ? [sandbox.stop()] : []),
        ...started.map((emulator) => emulator.stop()),
      ]);
    },
  };
}

/** The queue and its DLQ by name: found when they exist (e.g. a demo made them), else created. */
async function workQueue(
  sqs: SQSClient,
  names: { queue: string; deadLetterQueue: string },
  fifo: boolean,
): Promise<WorkQueueUrls> {
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  const deadLetterQueueUrl = await findOrCreate(sqs, names.deadLetterQueue, fifoAttributes);
  const dlqArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes!.QueueArn!;
  const queueUrl = await findOrCreate(sqs, names.queue, {
    ...fifoAttributes,
    VisibilityTimeout: '30',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
  });
  return { queueUrl, deadLetterQueueUrl };
}

async function findOrCreate(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch {
    return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  }
}

/** The queue's redrive maxReceiveCount: the function dead-letters with its reason on that receive. */
async function maxReceiveCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = Attributes?.RedrivePolicy
    ? (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount?: unknown })
    : {};
  return Number(policy.maxReceiveCount ?? 5);
}

export function writeStateFile(description: LocalStackDescription, file = DEFAULT_STATE_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(description, null, 2)}\n`, { mode: 0o600 });
}

export function removeStateFile(file = DEFAULT_STATE_FILE): void {
  rmSync(file, { force: true });
}
