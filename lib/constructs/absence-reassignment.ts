/**
 * Absence reassignment: HR absence events → SQS (with DLQ) → function → SailPoint reassignment
 * configurations, with per-absence state in the absences table. EventBridge Scheduler also invokes
 * the function daily to apply deferred absences whose SailPoint slot has freed up (the re-check).
 */
import { TimeZone } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import {
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
  type ScheduleGroup,
} from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEFERRED_INDEX } from '../../functions/absence-reassignment/absence-store';
import { RECHECK_TASK } from '../../functions/absence-reassignment/recheck';
import type { StackConfig } from '../stack-config';
import { QueueWorkflow } from './queue-workflow';
import type { ScheduleFailures } from './schedule-failures';
import { ScheduledInvoke } from './scheduled-invoke';
import type { WorkQueue } from './work-queue';

export interface AbsenceReassignmentProps {
  readonly config: StackConfig;
  readonly absences: Table;
  readonly notifications: ITopic;
  readonly sailPointCredentials: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget). */
  readonly rateBudget: Table;
  /** The stack's schedule group (its failures are alarmed). */
  readonly scheduleGroup: ScheduleGroup;
  /** Retries and the DLQ of the scheduled re-check. */
  readonly failures: ScheduleFailures;
}

export class AbsenceReassignment extends QueueWorkflow {
  /** Invokes the function with {"task": "recheck-deferred"} (its second entry point). */
  readonly recheckSchedule: Schedule;

  constructor(scope: Construct, id: string, props: AbsenceReassignmentProps) {
    super(scope, id, {
      config: props.config,
      workflow: 'absenceReassignment',
      queueId: 'Events',
      functionId: 'Reassigner',
      description: "Reassigns an absent approver's SailPoint work items to a delegate for the absence",
      fifo: props.config.absenceReassignment.fifo,
      table: props.absences,
      notifications: props.notifications,
      sailPointCredentials: props.sailPointCredentials,
      rateBudget: props.rateBudget,
      asyncFailure: props.failures.function,
      title: 'Absence reassignment',
      metrics: [
        'Configured',
        'Cancelled',
        'Deferred',
        'DeferredApplied',
        'DelegatesSubstituted',
        'DuplicatesSuppressed',
        'DeadLettered',
      ],
    });

    const { recheckSchedule, recheckTimeZone } = props.config.absenceReassignment;
    this.recheckSchedule = new Schedule(this, 'DeferredRecheck', {
      description: 'Applies deferred absences whose SailPoint configuration slot has freed up',
      schedule: ScheduleExpression.expression(recheckSchedule, TimeZone.of(recheckTimeZone)),
      scheduleGroup: props.scheduleGroup,
      target: new ScheduledInvoke(this.function, {
        input: ScheduleTargetInput.fromObject({ task: RECHECK_TASK, trigger: 'schedule' }),
        ...props.failures.target,
      }),
    });
    // The re-check reads the sparse index of deferred absences: Query on that index, nothing else.
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['dynamodb:Query'],
      resourceArns: [`${props.absences.tableArn}/index/${DEFERRED_INDEX}`],
    });
  }

  /** The absence-event queue and its dead-letter queue. */
  get events(): WorkQueue {
    return this.workQueue;
  }
}
