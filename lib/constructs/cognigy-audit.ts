/**
 * Cognigy.AI credential audit: on the sweep's schedule, the function checks the automation's own
 * Cognigy API key (rights held vs. the manifest, key age and count) → findings table → findings topic.
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

export interface CognigyAuditProps {
  readonly config: StackConfig;
  readonly findings: Table;
  readonly notifications: ITopic;
  readonly cognigyApiKey: ISecret;
  readonly scheduleGroup: ScheduleGroup;
}

export class CognigyAudit extends Construct {
  readonly function: NodejsFunction;
  readonly schedule: Schedule;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: CognigyAuditProps) {
    super(scope, id);
    const { config } = props;
    const { dir } = WORKFLOWS.cognigyAudit;

    this.function = new WorkflowFunction(this, 'Audit', {
      dir,
      description: "Audits the automation's Cognigy.AI API key: rights held vs. needed, key age and count",
      timeoutSeconds: config.cognigyAudit.timeoutSeconds,
      environment: functionEnvironment('cognigyAudit', config, {
        tableName: props.findings.tableName,
        notificationsTopicArn: props.notifications.topicArn,
      }),
      lambda: config.lambda,
      reservedConcurrency: config.lambda.reserveScheduledConcurrency ? 1 : undefined,
    }).function;
    grantTable(props.findings, this.function, STORE_ACTIONS.findings);
    props.notifications.grantPublish(this.function);
    props.cognigyApiKey.grantRead(this.function);

    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Runs the Cognigy.AI credential audit (on the stale-token sweep schedule)',
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
      title: 'Cognigy audit',
      service: dir,
      function: this.function,
      metrics: [
        'FindingsOpened',
        'FindingsResolved',
        'OverPrivilegedScopes',
        'ApiKeysFlagged',
        'PreflightFailed',
        'AuditFailed',
      ],
    };
  }
}
