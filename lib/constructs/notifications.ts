/**
 * Where people hear about things:
 * - `findings`: what the workflows publish (new stale-token and Cognigy findings, access requests
 *   SailPoint refused, absences needing attention). Each message carries `kind` and `key` attributes
 *   for subscription filters; findings also `ownerId` and `ownerEmail`, to route them to their owner
 *   (functions/shared/findings/owners.ts). Encrypted with the AWS-managed SNS key, so publishers need only sns:Publish.
 * - `alarms`: CloudWatch alarms (a message in a dead-letter queue, a backlog, function errors).
 *   CloudWatch cannot publish to a topic under the AWS-managed key, so this one has its own key
 *   (rotated yearly) whose policy lets CloudWatch use it.
 * Both refuse non-TLS publishers. Optional email subscribers get both.
 */
import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnTopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  readonly emails: readonly string[];
}

export class Notifications extends Construct {
  readonly findings: Topic;
  readonly alarms: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.findings = new Topic(this, 'Findings', { displayName: 'IGA Autopilot findings', enforceSSL: true });
    // Set on the L1 resource, not as `masterKey`: an imported alias makes grantPublish() add
    // kms:GenerateDataKey* on key/*. The AWS-managed key's own policy already lets every principal
    // in the account use it through SNS, so publishers need sns:Publish only.
    (this.findings.node.defaultChild as CfnTopic).kmsMasterKeyId = 'alias/aws/sns';

    const alarmsKey = new Key(this, 'AlarmsKey', {
      description: 'Encrypts the IGA Autopilot alarms topic; CloudWatch alarms may use it',
      enableKeyRotation: true,
    });
    alarmsKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" means this key
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarms = new Topic(this, 'Alarms', {
      displayName: 'IGA Autopilot alarms',
      masterKey: alarmsKey,
      enforceSSL: true,
    });

    for (const email of props.emails) {
      this.findings.addSubscription(new EmailSubscription(email));
      this.alarms.addSubscription(new EmailSubscription(email));
    }
  }
}
