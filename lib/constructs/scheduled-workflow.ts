/**
 * A workflow run by EventBridge Scheduler (and on demand): its function, which may read and write its
 * table, publish to the findings topic, read its one secret and (a SailPoint caller) draw on the shared
 * SailPoint rate budget, and a schedule that invokes it with
 * `{"trigger": "schedule"}`, retried and dead-lettered as ScheduleFailures says. The stale-token sweep
 * and the Cognigy audit extend it with their own function, description and metrics.
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
import { grantNotify, grantRateBudget, grantTable, STORE_ACTIONS } from './grants';
import type { MonitoredWorkflow } from './monitoring';
import type { ScheduleFailures } from './schedule-failures';
import { ScheduledInvoke } from './scheduled-invoke';
import { WorkflowFunction } from './workflow-function';

export interface ScheduledWorkflowProps {
  readonly config: StackConfig;
  readonly workflow: 'staleTokenSweep' | 'cognigyAudit';
  /** Construct id of the function (part of its logical id: changing it replaces the function). */
  readonly functionId: string;
  readonly description: string;
  /** When it runs: an EventBridge Scheduler expression and its time zone. */
  readonly schedule: { readonly schedule: string; readonly timeZone: string };
  readonly scheduleDescription: string;
  /** The workflow's table (WORKFLOWS[workflow].table). */
  readonly table: Table;
  readonly notifications: ITopic;
  /** The one secret the function reads (its API credentials). */
  readonly secret: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget): for a workflow that calls SailPoint. */
  readonly rateBudget?: Table;
  readonly scheduleGroup: ScheduleGroup;
  /** Retries and the DLQ of scheduled runs. */
  readonly failures: ScheduleFailures;
  /** Dashboard title and the counts its handler emits (see MonitoredWorkflow). */
  readonly title: string;
  readonly metrics: readonly string[];
}

export class ScheduledWorkflow extends Construct {
  readonly function: NodejsFunction;
  readonly schedule: Schedule;
  readonly monitoring: MonitoredWorkflow;

  constructor(scope: Construct, id: string, props: ScheduledWorkflowProps) {
    super(scope, id);
    const { config, workflow } = props;
    const { dir, table } = WORKFLOWS[workflow];

    this.function = new WorkflowFunction(this, props.functionId, {
      dir,
      description: props.description,
      timeoutSeconds: config[workflow].timeoutSeconds,
      environment: functionEnvironment(workflow, config, {
        tableName: props.table.tableName,
        notificationsTopicArn: props.notifications.topicArn,
        rateBudgetTableName: props.rateBudget?.tableName,
      }),
      lambda: config.lambda,
      // One run at a time: an on-demand run cannot overlap the scheduled one and double the API calls.
      reservedConcurrency: config.lambda.reserveScheduledConcurrency ? 1 : undefined,
      asyncFailure: props.failures.function,
      vpc: config.vpc,
    }).function;
    grantTable(props.table, this.function, STORE_ACTIONS[table]);
    grantNotify(props.notifications, this.function);
    props.secret.grantRead(this.function);
    if (props.rateBudget) grantRateBudget(props.rateBudget, this.function);

    this.schedule = new Schedule(this, 'Schedule', {
      description: props.scheduleDescription,
      schedule: ScheduleExpression.expression(props.schedule.schedule, TimeZone.of(props.schedule.timeZone)),
      scheduleGroup: props.scheduleGroup,
      target: new ScheduledInvoke(this.function, {
        input: ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        ...props.failures.target,
      }),
    });

    this.monitoring = { title: props.title, service: dir, function: this.function, metrics: props.metrics };
  }
}
