/**
 * The real pipeline on this machine, for the benchmarks: fauxqs queue + DLQ → local pollers (the
 * event source mapping's semantics, local/queue-poller.ts) → the access-provisioning handler →
 * dynalite + the sandbox tenant. Each poller is one Lambda instance with its own SailPoint client
 * (own token, own client-side budget).
 *
 * For the fault run an instance can crash: after a POST SailPoint accepted, or after a DynamoDB
 * write, the instance stops dead — every later call of it (SailPoint, DynamoDB, SQS) never returns,
 * and the invocation ends as an invocation error, so the poller deletes nothing and the messages
 * reappear after their visibility timeout, as with a Lambda crash. The next invocation gets a fresh
 * instance. A batch can also be delivered twice at once (a concurrent redelivery): a second, fresh
 * instance handles the same records in parallel.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAccessProvisioningHandler } from '../../functions/access-provisioning/handler';
import { MESSAGE_ID_ATTRIBUTE } from '../../functions/access-provisioning/requeue';
import { sharedBudgetPlanningRate } from '../../functions/access-provisioning/settings';
import type { ProcessorSettings } from '../../functions/access-provisioning/workflow';
import { silentLog } from '../../functions/shared/observability';
import { readDeadLetter } from '../../functions/shared/queue/dead-letters';
import { SailPointClient } from '../../functions/shared/sailpoint/client';
import { withRightsPreflight, WORKFLOW_OPERATIONS } from '../../functions/shared/sailpoint/rights';
import { DynamoScheduleStore, SharedRateBudget } from '../../functions/shared/sailpoint/shared-budget';
import { TABLES } from '../../functions/shared/tables';
import {
  createTable,
  LOCAL_AWS_ENV,
  localDynamoClient,
  startDynamo,
  startDynamoProcess,
  startQueues,
} from '../../local/emulators';
import { drainQueue, queueDepth, receiveAll } from '../../local/queue-poller';
import type { SandboxSeed } from '../../sandbox/seed';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import type { Random } from './random';

export interface CrashPlan {
  /** Chance an instance dies right after SailPoint answered 202 to its access-request POST. */
  readonly afterPost: number;
  /** Chance an instance dies right after one of its DynamoDB writes succeeded. */
  readonly afterWrite: number;
  /** Chance a received batch is also handed, at the same time, to a second instance. */
  readonly redelivery: number;
}

export interface PipelineOptions {
  readonly seed: SandboxSeed;
  /** The sandbox gateway's limit (100 per 10 s per client id and API version), or false. */
  readonly gatewayLimit: boolean;
  /** Per-instance client-side budget (requests per 10 s, all API versions), or false. */
  readonly clientBudgetPer10s: number | false;
  /**
   * The credential's budget shared by every instance through the RateBudget table (the stack's
   * shape, functions/shared/sailpoint/shared-budget.ts); it replaces the per-instance limiter, and
   * each instance plans its chunks for this ÷ concurrency. Undefined: per-instance budgets only.
   */
  readonly sharedBudgetPer10s?: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly functionTimeoutMs: number;
  readonly visibilityTimeoutSeconds: number;
  /** The queue's redrive maxReceiveCount (the handler dead-letters with a reason on the last receive). */
  readonly maxReceiveCount: number;
  /** undefined: the sandbox default (Search lag on). */
  readonly searchLagMs?: number;
  readonly settings?: Partial<ProcessorSettings>;
  readonly crashes?: CrashPlan;
  /** Draws for crashes, redeliveries and the sandbox's fault probabilities. */
  readonly random: Random;
  /** Emulators already running (tests: jest's global ones); default: start fresh ones. */
  readonly emulators?: { readonly dynamoEndpoint: string; readonly sqsEndpoint: string };
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface PipelineCounters {
  invocations: number;
  crashesAfterPost: number;
  crashesAfterWrite: number;
  redeliveries: number;
  dynamoWrites: number;
  dynamoReads: number;
  conditionalFailures: number;
  /** DynamoDB writes by kind (command, item kind, what the write does): where the writes per message go. */
  writesByKind: Map<string, number>;
  latenciesMs: number[];
  batchSizes: number[];
}

export interface DrainResult {
  readonly seconds: number;
  readonly receives: number;
  readonly crashed: number;
  readonly timedOut: number;
}

const ACCESS_REQUEST_POST = /\/(beta|v3)\/access-requests$/;
const DYNAMO_WRITE = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;

interface WriteInput {
  readonly Item?: Record<string, unknown>;
  readonly Key?: Record<string, unknown>;
  readonly UpdateExpression?: string;
}

/** A DynamoDB write's kind, for the report: command, item kind (pk prefix) and what the update sets. */
export function writeKind(command: string, input: WriteInput): string {
  const pk = String((input.Item ?? input.Key)?.pk ?? '');
  const item = pk.split('#')[0] || '?';
  const update = input.UpdateExpression ?? '';
  const what = !command.startsWith('Update')
    ? ''
    : update.includes(':submitted')
      ? ' submitted'
      : update.includes(':free')
        ? ' free'
        : update.includes('leaseExpiresAt = :now')
          ? ' hand-over'
          : update.includes('attemptUntil = :until')
            ? ' attemptUntil'
            : update.includes('history[')
              ? ' outcome (history full)'
              : update.includes('history')
                ? ' outcome'
                : ' other';
  return `${command.replace(/Command$/, '')} ${item}${what}`;
}

/** A promise that never settles: what every call of a dead instance returns. */
const never = <T>() => new Promise<T>(() => undefined);

class InstanceCrash extends Error {
  override readonly name = 'InstanceCrash';
}

export async function startPipeline(options: PipelineOptions) {
  const running = (endpoint: string) => ({ endpoint, stop: async () => undefined });
  const [dynamo, queues, sandbox] = await Promise.all([
    options.emulators
      ? running(options.emulators.dynamoEndpoint)
      : // BENCH_DYNAMO_IN_PROCESS=1: the earlier shape, dynalite on the instances' own event loop.
        process.env.BENCH_DYNAMO_IN_PROCESS === '1'
        ? startDynamo()
        : startDynamoProcess(),
    options.emulators ? running(options.emulators.sqsEndpoint) : startQueues(),
    startSandbox({
      seed: options.seed,
      random: options.random,
      ...(options.gatewayLimit ? {} : { rateLimit: false as const }),
      ...(options.searchLagMs === undefined ? {} : { searchLagMs: options.searchLagMs }),
    }),
  ]);
  Object.assign(process.env, LOCAL_AWS_ENV);
  const tableName = `bench-${randomUUID().slice(0, 8)}`;
  await createTable(localDynamoClient(dynamo.endpoint), TABLES.accessRequests, tableName);
  const budgetTable = `${tableName}-budget`;
  if (options.sharedBudgetPer10s !== undefined) {
    await createTable(localDynamoClient(dynamo.endpoint), TABLES.rateBudget, budgetTable);
  }
  const sqsClient = () =>
    new SQSClient({
      endpoint: queues.endpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  const sqs = sqsClient();
  const name = `bench-access-${randomUUID().slice(0, 8)}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
          maxReceiveCount: options.maxReceiveCount + 1,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl!;
  const dlqUrl = dlq.QueueUrl!;

  const counters: PipelineCounters = {
    invocations: 0,
    crashesAfterPost: 0,
    crashesAfterWrite: 0,
    redeliveries: 0,
    dynamoWrites: 0,
    dynamoReads: 0,
    conditionalFailures: 0,
    writesByKind: new Map(),
    latenciesMs: [],
    batchSizes: [],
  };
  const { crashes, random } = options;
  /** A draw only when the chance is not 0, so a plan's zeros never shift the others' draws. */
  const chance = (p: number | undefined) => p !== undefined && p > 0 && random() < p;

  /** One Lambda instance: its own clients; it can crash (crash plan) and is then never used again. */
  const createInstance = () => {
    let dead = false;
    let die!: (error: Error) => void;
    const died = new Promise<never>((_resolve, reject) => {
      die = reject;
    });
    died.catch(() => undefined);
    const crash = <T>(what: 'afterPost' | 'afterWrite'): Promise<T> => {
      if (!dead) {
        dead = true;
        if (what === 'afterPost') counters.crashesAfterPost++;
        else counters.crashesAfterWrite++;
        die(
          new InstanceCrash(
            `instance crashed ${what === 'afterPost' ? 'after a POST' : 'after a DynamoDB write'}`,
          ),
        );
      }
      return never<T>();
    };

    const instanceFetch: typeof fetch = async (input, init) => {
      if (dead) return never();
      const response = await fetch(input, init);
      if (dead) return never();
      if (
        crashes &&
        init?.method === 'POST' &&
        ACCESS_REQUEST_POST.test(String(input)) &&
        response.status === 202 &&
        chance(crashes.afterPost)
      ) {
        return crash('afterPost');
      }
      return response;
    };
    const doc = DynamoDBDocumentClient.from(localDynamoClient(dynamo.endpoint), {
      marshallOptions: { removeUndefinedValues: true },
    });
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (dead) return never();
        const write = DYNAMO_WRITE.test(context.commandName ?? '');
        if (write) {
          counters.dynamoWrites++;
          const kind = writeKind(context.commandName ?? '', args.input as WriteInput);
          counters.writesByKind.set(kind, (counters.writesByKind.get(kind) ?? 0) + 1);
        } else counters.dynamoReads++;
        try {
          const output = await next(args);
          if (dead) return never();
          if (write && chance(crashes?.afterWrite)) return crash('afterWrite');
          return output;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            counters.conditionalFailures++;
            const kind = `${writeKind(context.commandName ?? '', args.input as WriteInput)} (lost)`;
            counters.writesByKind.set(kind, (counters.writesByKind.get(kind) ?? 0) + 1);
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchInstance' },
    );
    const instanceSqs = sqsClient();
    instanceSqs.middlewareStack.add((next) => async (args) => (dead ? never() : next(args)), {
      step: 'initialize',
      name: 'benchInstanceSqs',
    });
    const handler: Handler = createAccessProvisioningHandler({
      // Wrapped as the deployed handler wraps it (createAccessProvisioningHandlerFromEnv).
      sailpoint: withRightsPreflight(
        new SailPointClient({
          apiUrl: sandbox.url,
          clientId: 'sandbox-pat-client',
          clientSecret: 'sandbox-pat-secret',
          rateLimit:
            options.clientBudgetPer10s === false
              ? false
              : { maxRequests: options.clientBudgetPer10s, perMs: 10_000 },
          ...(options.sharedBudgetPer10s === undefined
            ? {}
            : {
                rateGate: new SharedRateBudget(new DynamoScheduleStore(doc, budgetTable), {
                  requestsPer10s: options.sharedBudgetPer10s,
                }),
              }),
          fetch: instanceFetch,
        }),
        WORKFLOW_OPERATIONS.accessProvisioning(),
      ),
      doc,
      tableName,
      sqs: instanceSqs,
      queueUrl,
      deadLetterQueueUrl: dlqUrl,
      maxReceiveCount: options.maxReceiveCount,
      log: silentLog,
      // The workflow sizes its chunks by the instance's budget, as a deployment's function reads it
      // from SAILPOINT_REQUESTS_PER_10S — the same number as the client's limiter (0: none).
      settings: {
        requestsPer10s:
          options.sharedBudgetPer10s !== undefined
            ? sharedBudgetPlanningRate(options.sharedBudgetPer10s, options.concurrency)
            : options.clientBudgetPer10s === false
              ? 0
              : options.clientBudgetPer10s,
        ...options.settings,
      },
    });
    return {
      get dead() {
        return dead;
      },
      invoke: (event: SQSEvent, context: Context) => Promise.race([handler(event, context), died]),
    };
  };

  /** One poller's instance, replaced after a crash (a fresh Lambda instance takes over). */
  const slotHandler = (): Handler => {
    let instance = createInstance();
    return async (event, context) => {
      if (instance.dead) instance = createInstance();
      counters.invocations++;
      const started = performance.now();
      try {
        if (chance(crashes?.redelivery)) {
          counters.redeliveries++;
          const twin = createInstance();
          const [primary] = await Promise.allSettled([
            instance.invoke(event, context),
            twin.invoke(event, context),
          ]);
          if (primary.status === 'rejected') throw primary.reason;
          return primary.value;
        }
        return await instance.invoke(event, context);
      } finally {
        counters.latenciesMs.push(performance.now() - started);
        counters.batchSizes.push(event.Records.length);
      }
    };
  };
  const handlers = Array.from({ length: options.concurrency }, slotHandler);

  return {
    sandbox: sandbox as Sandbox,
    sqs,
    queueUrl,
    dlqUrl,
    counters,
    /** SendMessageBatch, 10 per call, 20 calls at a time. */
    async send(bodies: readonly string[]): Promise<void> {
      const chunks: string[][] = [];
      for (let i = 0; i < bodies.length; i += 10) chunks.push(bodies.slice(i, i + 10));
      for (let i = 0; i < chunks.length; i += 20) {
        await Promise.all(
          chunks.slice(i, i + 20).map((chunk) =>
            sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: chunk.map((body, index) => ({ Id: String(index), MessageBody: body })),
              }),
            ),
          ),
        );
      }
    },
    /** Runs every poller until the queue is empty (nothing visible, nothing in flight) or `timeoutMs`. */
    async drain(timeoutMs: number): Promise<DrainResult> {
      const started = performance.now();
      const results = await Promise.all(
        handlers.map((handler) =>
          drainQueue({
            sqs,
            queueUrl,
            handler,
            batchSize: options.batchSize,
            functionTimeoutMs: options.functionTimeoutMs,
            timeoutMs,
          }),
        ),
      );
      return {
        seconds: (performance.now() - started) / 1000,
        receives: results.reduce((n, r) => n + r.received, 0),
        crashed: results.reduce((n, r) => n + r.crashed, 0),
        timedOut: results.reduce((n, r) => n + r.timedOut, 0),
      };
    },
    depth: () => queueDepth(sqs, queueUrl),
    /** Every dead letter (body, reason, source message id); reading hides them for 10 minutes. */
    async deadLetters(): Promise<{ body: string; reason: string; sourceMessageId: string }[]> {
      return (await receiveAll(sqs, dlqUrl, 600)).map((message) => {
        const deadLetter = readDeadLetter(message);
        return {
          body: deadLetter.body,
          reason: deadLetter.reason ?? '',
          // A copy the workflow requeued names the message it continues (requeue.ts): count that one.
          sourceMessageId:
            deadLetter.originalAttributes[MESSAGE_ID_ATTRIBUTE]?.StringValue ??
            deadLetter.sourceMessageId ??
            deadLetter.messageId,
        };
      });
    },
    async stop(): Promise<void> {
      await Promise.allSettled([sandbox.stop(), queues.stop(), dynamo.stop()]);
    },
  };
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;
