/**
 * What happens when a scheduled run fails, so that it never vanishes:
 * - EventBridge Scheduler retries an invocation it could not make (throttled, permissions, function
 *   missing) `retryAttempts` times within `maxEventAgeSeconds`, then puts the event in the DLQ;
 * - Lambda retries a run that failed (its asynchronous invocation retries), then puts the event in the
 *   same DLQ (the function's DeadLetterConfig), with the request id and error in its attributes.
 * One queue for every schedule (SSE, TLS only, the work queues' retention); an alarm on it is in Monitoring.
 */
import { Duration } from 'aws-cdk-lib';
import type { ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StackConfig } from '../stack-config';

export interface ScheduleFailuresProps {
  readonly schedules: StackConfig['schedules'];
  readonly retentionDays: number;
}

/** The WorkflowFunction settings of a function a schedule invokes. */
export interface AsyncInvokeFailure {
  readonly deadLetterQueue: Queue;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

export class ScheduleFailures extends Construct {
  readonly deadLetterQueue: Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ScheduleFailuresProps,
  ) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(props.retentionDays),
    });
  }

  /** A schedule target's retry policy and DLQ. */
  get target(): Pick<ScheduleTargetBaseProps, 'deadLetterQueue' | 'retryAttempts' | 'maxEventAge'> {
    return {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: this.props.schedules.retryAttempts,
      maxEventAge: Duration.seconds(this.props.schedules.maxEventAgeSeconds),
    };
  }

  /** The invoked function's own retries of a failed run, and where the run goes after them. */
  get function(): AsyncInvokeFailure {
    return {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: this.props.schedules.functionRetryAttempts,
      maxEventAge: Duration.seconds(this.props.schedules.maxEventAgeSeconds),
    };
  }
}
