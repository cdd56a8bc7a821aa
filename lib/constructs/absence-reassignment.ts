/**
 * Absence reassignment: HR absence events → SQS (with DLQ) → function → SailPoint reassignment
 * configurations, with per-absence state in the absences table.
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

export interface AbsenceReassignmentProps {
  readonly config: StackConfig;
  readonly absences: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
}

export class AbsenceReassignment extends Construct {
  readonly function: NodejsFunction;
  readonly events: WorkQueue;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: AbsenceReassignmentProps) {
    super(scope, id);
    const { config } = props;
    const settings = config.absenceReassignment;
    const { dir } = WORKFLOWS.absenceReassignment;

    this.events = new WorkQueue(this, 'Events', {
      fifo: settings.fifo,
      maxReceiveCount: config.queues.maxReceiveCount,
      retentionDays: config.queues.retentionDays,
      functionTimeoutSeconds: settings.timeoutSeconds,
      batchSize: settings.batchSize,
      maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    });
    this.function = new WorkflowFunction(this, 'Reassigner', {
      dir,
      description: "Reassigns an absent approver's SailPoint work items to a delegate for the absence",
      timeoutSeconds: settings.timeoutSeconds,
      environment: functionEnvironment('absenceReassignment', config, {
        tableName: props.absences.tableName,
        notificationsTopicArn: props.notifications.topicArn,
        queueUrl: this.events.queue.queueUrl,
        deadLetterQueueUrl: this.events.deadLetterQueue.queueUrl,
      }),
      lambda: config.lambda,
    }).function;
    this.events.consumeWith(this.function, settings.maxConcurrency);
    grantTable(props.absences, this.function, STORE_ACTIONS.absences);
    props.notifications.grantPublish(this.function);
    props.sailPointCredentials.grantRead(this.function);

    this.monitoring = {
      title: 'Absence reassignment',
      service: dir,
      function: this.function,
      queue: this.events,
      metrics: [
        'configured',
        'cancelled',
        'deferred',
        'delegatesSubstituted',
        'duplicatesSuppressed',
        'deadLettered',
      ],
    };
  }
}
