/**
 * Stale-token sweep: EventBridge Scheduler → function → SailPoint PAT list (and deletes, when
 * revocation is on) → findings table → findings topic. Also invoked on demand (docs/deployment.md).
 */
import { TimeZone } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
  type ScheduleGroup,
} from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { functionEnvironment, WORKFLOWS } from '../function-environment';
import type { StackConfig } from '../stack-config';
import { grantTable, STORE_ACTIONS } from './grants';
import type { MonitoredWorkflow } from './monitoring';
import { ScheduledInvoke } from './scheduled-invoke';
import { WorkflowFunction } from './workflow-function';

export interface StaleTokenSweepProps {
  readonly config: StackConfig;
  readonly findings: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
  readonly scheduleGroup: ScheduleGroup;
}

export class StaleTokenSweep extends Construct {
  readonly function: NodejsFunction;
  readonly schedule: Schedule;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: StaleTokenSweepProps) {
    super(scope, id);
    const { config } = props;
    const { dir } = WORKFLOWS.staleTokenSweep;

    this.function = new WorkflowFunction(this, 'Sweep', {
      dir,
      description: 'Flags (and optionally revokes) stale SailPoint personal access tokens',
      timeoutSeconds: config.staleTokenSweep.timeoutSeconds,
      environment: functionEnvironment('staleTokenSweep', config, {
        tableName: props.findings.tableName,
        notificationsTopicArn: props.notifications.topicArn,
      }),
      lambda: config.lambda,
      // One sweep at a time: an on-demand run cannot overlap the scheduled one and double the API calls.
      reservedConcurrency: config.lambda.reserveScheduledConcurrency ? 1 : undefined,
    }).function;
    grantTable(props.findings, this.function, STORE_ACTIONS.findings);
    props.notifications.grantPublish(this.function);
    props.sailPointCredentials.grantRead(this.function);

    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Runs the stale-token sweep',
      schedule: ScheduleExpression.expression(
        config.staleTokenSweep.schedule,
        TimeZone.of(config.staleTokenSweep.timeZone),
      ),
      scheduleGroup: props.scheduleGroup,
      target: new ScheduledInvoke(this.function, {
        input: ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
      }),
    });

    this.monitoring = {
      title: 'Stale-token sweep',
      service: dir,
      function: this.function,
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
    };
  }
}
