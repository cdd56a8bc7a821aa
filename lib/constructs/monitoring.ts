/**
 * Alarms and one dashboard for every workflow. Each workflow construct describes what to watch
 * (`MonitoredWorkflow`); this construct turns that into:
 * - alarms, all sent to the alarms topic: any message in a dead-letter queue; a work queue's oldest
 *   message older than the threshold; any function error or throttle; a refused credential (a
 *   workflow that counts it); schedules whose invocations failed or were dropped; any scheduled run
 *   in the schedule DLQ;
 * - a dashboard: alarm status on top, then per workflow its own counts (Powertools metrics, namespace
 *   IgaAutopilot, dimension `service`), its function's invocations/errors/throttles/duration and its
 *   queues' depth and age.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
  TreatMissingData,
  type IAlarm,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/shared/observability';
import type { WorkQueue } from './work-queue';

export interface MonitoredWorkflow {
  /** Shown on the dashboard and in alarm names. */
  readonly title: string;
  /** The Powertools service name (the `service` dimension of its metrics). */
  readonly service: string;
  readonly function: IFunction;
  readonly queue?: WorkQueue;
  /** The workflow's own counts, as its handler names them. */
  readonly metrics: readonly string[];
  /**
   * The count of runs its credential was refused in (SailPoint 401/403: the shared failure policy's
   * fail-run), when the handler goes on rather than failing the invocation: alarmed from 1.
   */
  readonly credentialRefusedMetric?: string;
}

export interface MonitoringProps {
  readonly alarmTopic: ITopic;
  readonly workflows: readonly MonitoredWorkflow[];
  readonly scheduleGroup?: ScheduleGroup;
  /** Where scheduled runs go that failed after all retries (ScheduleFailures). */
  readonly scheduleDeadLetterQueue?: IQueue;
  readonly oldestMessageAgeSeconds: number;
}

export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MonitoringProps,
  ) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const rows: IWidget[][] = [];

    for (const workflow of props.workflows) {
      const name = (what: string) => `${stackName}-${workflow.service}-${what}`;
      const fn = workflow.function;
      this.alarm(`${workflow.service}-errors`, {
        alarmName: name('errors'),
        alarmDescription: `${workflow.title}: the function failed (see its log group for the error).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
      this.alarm(`${workflow.service}-throttles`, {
        alarmName: name('throttles'),
        alarmDescription: `${workflow.title}: invocations were throttled (account or reserved concurrency exhausted).`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });

      if (workflow.credentialRefusedMetric) {
        this.alarm(`${workflow.service}-credential-refused`, {
          alarmName: name('credential-refused'),
          alarmDescription:
            `${workflow.title}: SailPoint refused the credential (401/403): its messages wait on the queue ` +
            'with a reason naming the missing right, and are dead-lettered with it when their receives run ' +
            'out. Fix the credential (docs/deployment.md, "SailPoint rights").',
          metric: new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: workflow.credentialRefusedMetric,
            dimensionsMap: { service: workflow.service },
            period: Duration.minutes(5),
            statistic: 'Sum',
          }),
          threshold: 1,
        });
      }

      const row: IWidget[] = [
        new TextWidget({ markdown: `## ${workflow.title}`, width: 24, height: 1 }),
        new GraphWidget({
          title: `${workflow.title}: counts`,
          left: workflow.metrics.map(
            (metricName) =>
              new Metric({
                namespace: METRICS_NAMESPACE,
                metricName,
                dimensionsMap: { service: workflow.service },
                statistic: 'Sum',
                period: Duration.hours(1),
              }),
          ),
          width: 8,
        }),
        new GraphWidget({
          title: `${workflow.title}: function`,
          left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()].map((m) =>
            m.with({ statistic: 'Sum' }),
          ),
          right: [fn.metricDuration({ statistic: 'p99' })],
          width: 8,
        }),
      ];

      if (workflow.queue) {
        const { queue, deadLetterQueue } = workflow.queue;
        this.alarm(`${workflow.service}-dead-letters`, {
          alarmName: name('dead-letters'),
          alarmDescription:
            `${workflow.title}: a message is in the dead-letter queue. Its "reason" attribute says why; ` +
            'fix the cause, then redrive it (docs/deployment.md).',
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          threshold: 1,
        });
        this.alarm(`${workflow.service}-backlog`, {
          alarmName: name('backlog'),
          alarmDescription:
            `${workflow.title}: the oldest message has waited more than ${props.oldestMessageAgeSeconds} s ` +
            '(the function is failing, throttled, or SailPoint is rate-limiting).',
          metric: queue.metricApproximateAgeOfOldestMessage({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          threshold: props.oldestMessageAgeSeconds,
        });
        row.push(
          new GraphWidget({
            title: `${workflow.title}: queues`,
            left: [
              queue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
              queue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight' }),
              deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead letters' }),
            ].map((m) => m.with({ statistic: 'Maximum' })),
            right: [queue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)', statistic: 'Maximum' })],
            width: 8,
          }),
        );
      }
      rows.push(row);
    }

    if (props.scheduleGroup) {
      const group = props.scheduleGroup;
      this.alarm('ScheduleTargetErrors', {
        alarmName: `${stackName}-schedule-target-errors`,
        alarmDescription:
          'A schedule could not invoke its function (permissions, throttling or a deleted function).',
        metric: group.metricTargetErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
      this.alarm('ScheduleDropped', {
        alarmName: `${stackName}-schedule-dropped`,
        alarmDescription: 'A scheduled run was dropped after all retries: that run did not happen.',
        metric: group.metricDropped({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
    }
    if (props.scheduleDeadLetterQueue) {
      this.alarm('ScheduleDeadLetters', {
        alarmName: `${stackName}-schedule-dead-letters`,
        alarmDescription:
          'A scheduled run failed after all retries (or could not be started) and is in the schedule ' +
          'dead-letter queue; its attributes name the error. Fix the cause; rerunning is always safe.',
        metric: props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 1,
      });
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: stackName,
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new AlarmStatusWidget({
            title: 'Alarms',
            alarms: this.alarms as IAlarm[],
            width: 24,
            height: Math.min(2 + Math.ceil(this.alarms.length / 4), 8),
          }),
        ],
        ...rows,
      ],
    });
  }

  private alarm(
    id: string,
    props: { alarmName: string; alarmDescription: string; metric: Metric; threshold: number },
  ) {
    const alarm = new Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing happened: no errors, an empty queue, no run.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.props.alarmTopic));
    alarm.addOkAction(new SnsAction(this.props.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}
