/**
 * Stale-token sweep: EventBridge Scheduler → function → SailPoint PAT list (and deletes, when
 * revocation is on) → findings table → findings topic. Also invoked on demand (docs/deployment.md).
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StackConfig } from '../stack-config';
import type { ScheduleFailures } from './schedule-failures';
import { ScheduledWorkflow } from './scheduled-workflow';

export interface StaleTokenSweepProps {
  readonly config: StackConfig;
  readonly findings: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget). */
  readonly rateBudget: Table;
  readonly scheduleGroup: ScheduleGroup;
  readonly failures: ScheduleFailures;
}

export class StaleTokenSweep extends ScheduledWorkflow {
  constructor(scope: Construct, id: string, props: StaleTokenSweepProps) {
    super(scope, id, {
      config: props.config,
      workflow: 'staleTokenSweep',
      functionId: 'Sweep',
      description: 'Flags (and optionally revokes) stale SailPoint personal access tokens',
      schedule: props.config.staleTokenSweep,
      scheduleDescription: 'Runs the stale-token sweep',
      table: props.findings,
      notifications: props.notifications,
      secret: props.sailPointCredentials,
      rateBudget: props.rateBudget,
      scheduleGroup: props.scheduleGroup,
      failures: props.failures,
      title: 'Stale-token sweep',
      metrics: [
        'NewFindings',
        'Warned',
        'Flagged',
        'Revoked',
        'WouldRevoke',
        'Resolved',
        'SailPointCalls',
        'SweepFailed',
      ],
    });
  }
}
