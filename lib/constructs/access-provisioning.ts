/**
 * Access provisioning: access-request intents → SQS (with DLQ) → function → SailPoint access
 * requests, deduplicated in the accessRequests table. Refused requests are announced on the findings topic.
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { functionEnvironment, WORKFLOWS } from '../function-environment';
import type { StackConfig } from '../stack-config';
import { grantTable, STORE_ACTIONS } from './grants';
import type { MonitoredWorkflow } from './monitoring';
import { WorkflowFunction } from './workflow-function';
import { WorkQueue } from './work-queue';

export interface AccessProvisioningProps {
  readonly config: StackConfig;
  readonly accessRequests: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
}

export class AccessProvisioning extends Construct {
  readonly function: NodejsFunction;
  readonly intake: WorkQueue;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: AccessProvisioningProps) {
    super(scope, id);
    const { config } = props;
    const settings = config.accessProvisioning;
    const { dir } = WORKFLOWS.accessProvisioning;

    this.intake = new WorkQueue(this, 'Intake', {
      // Standard: the function is safe in any order and orders a batch by SentTimestamp (docs/access-provisioning.md).
      fifo: false,
      maxReceiveCount: config.queues.maxReceiveCount,
      retentionDays: config.queues.retentionDays,
      functionTimeoutSeconds: settings.timeoutSeconds,
      batchSize: settings.batchSize,
      maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    });
    this.function = new WorkflowFunction(this, 'Provisioner', {
      dir,
      description: 'Turns access-request intents into SailPoint access requests, never twice',
      timeoutSeconds: settings.timeoutSeconds,
      environment: functionEnvironment('accessProvisioning', config, {
        tableName: props.accessRequests.tableName,
        notificationsTopicArn: props.notifications.topicArn,
        queueUrl: this.intake.queue.queueUrl,
        deadLetterQueueUrl: this.intake.deadLetterQueue.queueUrl,
      }),
      lambda: config.lambda,
    }).function;
    this.intake.consumeWith(this.function, settings.maxConcurrency);
    grantTable(props.accessRequests, this.function, STORE_ACTIONS.accessRequests);
    props.notifications.grantPublish(this.function);
    props.sailPointCredentials.grantRead(this.function);

    this.monitoring = {
      title: 'Access provisioning',
      service: dir,
      function: this.function,
      queue: this.intake,
      metrics: [
        'submitted',
        'duplicatesSuppressed',
        'alreadyHeld',
        'requestsPosted',
        'retriedMessages',
        'failedMessages',
      ],
    };
  }
}
