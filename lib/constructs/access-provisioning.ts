/**
 * Access provisioning: access-request intents → SQS (with DLQ) → function → SailPoint access
 * requests, deduplicated in the accessRequests table. Refused requests are announced on the findings topic.
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StackConfig } from '../stack-config';
import { QueueWorkflow } from './queue-workflow';
import type { WorkQueue } from './work-queue';

export interface AccessProvisioningProps {
  readonly config: StackConfig;
  readonly accessRequests: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget). */
  readonly rateBudget: Table;
}

export class AccessProvisioning extends QueueWorkflow {
  constructor(scope: Construct, id: string, props: AccessProvisioningProps) {
    super(scope, id, {
      config: props.config,
      workflow: 'accessProvisioning',
      queueId: 'Intake',
      functionId: 'Provisioner',
      description: 'Turns access-request intents into SailPoint access requests, never twice',
      // Standard: the function is safe in any order and orders a batch by SentTimestamp (docs/access-provisioning.md).
      fifo: false,
      table: props.accessRequests,
      notifications: props.notifications,
      sailPointCredentials: props.sailPointCredentials,
      rateBudget: props.rateBudget,
      title: 'Access provisioning',
      metrics: [
        'Submitted',
        'DuplicatesSuppressed',
        'AlreadyHeld',
        'RequestsPosted',
        'RetriedMessages',
        'FailedMessages',
        'CredentialRefused',
      ],
      credentialRefusedMetric: 'CredentialRefused',
    });
  }

  /** The access-request queue and its dead-letter queue. */
  get intake(): WorkQueue {
    return this.workQueue;
  }
}
