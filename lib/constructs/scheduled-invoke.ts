/**
 * An EventBridge Scheduler target that invokes a function with a fixed payload. Same as
 * LambdaInvoke, but the schedule's role may invoke only the function's unqualified ARN (the one the
 * schedule targets), not every version and alias.
 */
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LambdaInvoke, type ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import { grantInvokeUnqualified } from './grants';

export class ScheduledInvoke extends LambdaInvoke {
  constructor(
    private readonly invoked: IFunction,
    props: ScheduleTargetBaseProps,
  ) {
    super(invoked, props);
  }

  protected override addTargetActionToRole(role: IRole): void {
    grantInvokeUnqualified(this.invoked, role);
  }
}
