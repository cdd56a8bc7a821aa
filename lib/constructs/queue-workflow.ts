/**
 * A workflow fed by an SQS work queue: the queue and its dead-letter queue (WorkQueue), the function
 * that consumes it with the workflow's batch size, batching window and maximum concurrency, and the
 * function's grants: its table (exactly what its store calls), publish to the findings topic, read on
 * its SailPoint credentials, its draw on the shared SailPoint rate budget. With `<workflow>.producers` set, only those principals may send to the
 * queue. Access provisioning and absence reassignment extend it.
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { functionEnvironment, WORKFLOWS } from '../function-environment';
import type { StackConfig } from '../stack-config';
import { grantNotify, grantRateBudget, grantTable, STORE_ACTIONS } from './grants';
import type { MonitoredWorkflow } from './monitoring';
import type { AsyncInvokeFailure } from './schedule-failures';
import { WorkflowFunction } from './workflow-function';
import { WorkQueue } from './work-queue';

export interface QueueWorkflowProps {
  readonly config: StackConfig;
  readonly workflow: 'accessProvisioning' | 'absenceReassignment';
  /** Construct ids of the queue pair and the function (part of their logical ids: changing one replaces it). */
  readonly queueId: string;
  readonly functionId: string;
  readonly description: string;
  readonly fifo: boolean;
  /** The workflow's table (WORKFLOWS[workflow].table). */
  readonly table: Table;
  readonly notifications: ITopic;
  /** This workflow's SailPoint credential (its own secret, or the shared one). */
  readonly sailPointCredentials: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget). */
  readonly rateBudget: Table;
  /** When a schedule invokes the function too: retries of a failed run and the DLQ after them. */
  readonly asyncFailure?: AsyncInvokeFailure;
  /** Dashboard title and the counts its handler emits (see MonitoredWorkflow). */
  readonly title: string;
  readonly metrics: readonly string[];
  /** See MonitoredWorkflow.credentialRefusedMetric. */
  readonly credentialRefusedMetric?: string;
}

export class QueueWorkflow extends Construct {
  readonly function: NodejsFunction;
  readonly workQueue: WorkQueue;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: QueueWorkflowProps) {
    super(scope, id);
    const { config, workflow } = props;
    const settings = config[workflow];
    const { dir, table } = WORKFLOWS[workflow];

    this.workQueue = new WorkQueue(this, props.queueId, {
      fifo: props.fifo,
      maxReceiveCount: config.queues.maxReceiveCount,
      retentionDays: config.queues.retentionDays,
      functionTimeoutSeconds: settings.timeoutSeconds,
      batchSize: settings.batchSize,
      maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    });
    this.function = new WorkflowFunction(this, props.functionId, {
      dir,
      description: props.description,
      timeoutSeconds: settings.timeoutSeconds,
      environment: functionEnvironment(workflow, config, {
        tableName: props.table.tableName,
        notificationsTopicArn: props.notifications.topicArn,
        rateBudgetTableName: props.rateBudget.tableName,
        queueUrl: this.workQueue.queue.queueUrl,
        deadLetterQueueUrl: this.workQueue.deadLetterQueue.queueUrl,
      }),
      lambda: config.lambda,
      asyncFailure: props.asyncFailure,
      vpc: config.vpc,
    }).function;
    this.workQueue.consumeWith(this.function, settings.maxConcurrency);
    if (settings.producers) this.workQueue.acceptOnlyFrom(settings.producers, this.function.role!);
    grantTable(props.table, this.function, STORE_ACTIONS[table]);
    grantNotify(props.notifications, this.function);
    props.sailPointCredentials.grantRead(this.function);
    grantRateBudget(props.rateBudget, this.function);

    this.monitoring = {
      title: props.title,
      service: dir,
      function: this.function,
      queue: this.workQueue,
      metrics: props.metrics,
      ...(props.credentialRefusedMetric ? { credentialRefusedMetric: props.credentialRefusedMetric } : {}),
    };
  }
}
