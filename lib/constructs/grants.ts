/**
 * Grants narrower than the L2 helpers where those would add a wildcard or unused actions.
 */
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ITopic } from 'aws-cdk-lib/aws-sns';

/** The DynamoDB operations the workflows' stores call (single-item conditional writes, queries, batch reads). */
export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Scan';

/**
 * Exactly these actions on the table itself. `table.grant()` would also add `<table>/index/*` once
 * the table has an index, whether or not the function queries it.
 */
export function grantTable(table: ITable, grantee: IGrantable, actions: readonly DynamoAction[]): Grant {
  return Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [table.tableArn] });
}

/**
 * lambda:InvokeFunction on the function's unqualified ARN only (what a schedule targets).
 * `fn.grantInvoke()` also allows `<arn>:*`, every version and alias.
 */
export function grantInvokeUnqualified(fn: IFunction, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['lambda:InvokeFunction'],
    resourceArns: [fn.functionArn],
  });
}

/**
 * Publishing to the notifications topic: sns:Publish (what Publish and PublishBatch need) and
 * sns:GetTopicAttributes (functions check at start that their topic exists), in one statement. The
 * findings topic uses the AWS-managed SNS key, so no KMS grant is needed (see notifications.ts).
 */
export function grantNotify(topic: ITopic, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['sns:GetTopicAttributes', 'sns:Publish'],
    resourceArns: [topic.topicArn],
  });
}

/**
 * What each table's store calls (functions/shared/findings/store.ts, access-provisioning/state-store.ts,
 * absence-reassignment/absence-store.ts, shared/sailpoint/shared-budget.ts). test/infra checks these
 * against the operations in each bundle.
 */
export const STORE_ACTIONS = {
  findings: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  accessRequests: [
    // No GetItem: an outcome is read with its unit events in one Query (state-store.ts).
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  absences: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // The shared SailPoint rate budget: a call draws its send time with one UpdateItem; nothing else.
  rateBudget: ['dynamodb:UpdateItem'],
} as const satisfies Record<string, readonly DynamoAction[]>;

/**
 * A SailPoint caller's draw on the shared rate budget (TABLES.rateBudget): the one action on that table,
 * whatever the caller's own table is.
 */
export function grantRateBudget(table: ITable, grantee: IGrantable): Grant {
  return grantTable(table, grantee, STORE_ACTIONS.rateBudget);
}
