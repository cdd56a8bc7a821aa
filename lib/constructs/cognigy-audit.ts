/**
 * Cognigy.AI credential audit: on the sweep's schedule, the function checks the automation's own
 * Cognigy API key (rights held vs. the manifest, key age and count) → findings table → findings topic.
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StackConfig } from '../stack-config';
import type { ScheduleFailures } from './schedule-failures';
import { ScheduledWorkflow } from './scheduled-workflow';

export interface CognigyAuditProps {
  readonly config: StackConfig;
  readonly findings: Table;
  readonly notifications: ITopic;
  readonly cognigyApiKey: ISecret;
  readonly scheduleGroup: ScheduleGroup;
  readonly failures: ScheduleFailures;
}

export class CognigyAudit extends ScheduledWorkflow {
  constructor(scope: Construct, id: string, props: CognigyAuditProps) {
    super(scope, id, {
      config: props.config,
      workflow: 'cognigyAudit',
      functionId: 'Audit',
      description: "Audits the automation's Cognigy.AI API key: rights held vs. needed, key age and count",
      schedule: props.config.staleTokenSweep,
      scheduleDescription: 'Runs the Cognigy.AI credential audit (on the stale-token sweep schedule)',
      table: props.findings,
      notifications: props.notifications,
      secret: props.cognigyApiKey,
      scheduleGroup: props.scheduleGroup,
      failures: props.failures,
      title: 'Cognigy audit',
      metrics: [
        'FindingsOpened',
        'FindingsResolved',
        'OverPrivilegedScopes',
        'ApiKeysFlagged',
        'PreflightFailed',
        'AuditFailed',
      ],
    });
  }
}
