/**
 * IGA Autopilot on one screen:
 *
 *   EventBridge Scheduler ──► stale-token sweep ──┐                    ┌──► SailPoint ISC
 *                        └──► Cognigy audit ──────┤ findings table     │
 *   access-request queue ──► access provisioning ─┤ accessRequests     ├─(client id/secret from Secrets Manager)
 *   HR absence queue ──────► absence reassignment ┘ absences           │
 *        (each queue with a DLQ)                   findings topic ──► subscribers
 *   CloudWatch alarms (DLQ, backlog, errors, throttles, schedules) ──► alarms topic; one dashboard
 *
 * Settings: lib/stack-config.ts (docs/deployment.md). Each construct grants its function only what it uses.
 */
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { AbsenceReassignment } from './constructs/absence-reassignment';
import { AccessProvisioning } from './constructs/access-provisioning';
import { CognigyAudit } from './constructs/cognigy-audit';
import { Monitoring } from './constructs/monitoring';
import { Notifications } from './constructs/notifications';
import { ReportBucket } from './constructs/report-bucket';
import { referenceSecret } from './constructs/secrets';
import { StaleTokenSweep } from './constructs/stale-token-sweep';
import { StateTables } from './constructs/state-tables';
import type { WorkQueue } from './constructs/work-queue';
import { cognigyAuditEnabled, type StackConfig } from './stack-config';

export interface IgaAutopilotStackProps extends StackProps {
  readonly config: StackConfig;
}

export class IgaAutopilotStack extends Stack {
  readonly staleTokenSweep: StaleTokenSweep;
  readonly accessProvisioning: AccessProvisioning;
  readonly absenceReassignment: AbsenceReassignment;
  readonly cognigyAudit?: CognigyAudit;
  readonly reports?: ReportBucket;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: IgaAutopilotStackProps) {
    super(scope, id, props);
    const { config } = props;

    // State, notifications and credentials (the secrets are created by operators and only referenced).
    const { tables } = new StateTables(this, 'Tables', { retainOnDelete: config.data.retainOnDelete });
    const notifications = new Notifications(this, 'Notifications', { emails: config.notifications.emails });
    const sailPointCredentials = referenceSecret(
      this,
      'SailPointCredentials',
      config.sailPoint.credentialsSecret,
    );
    const schedules = new ScheduleGroup(this, 'Schedules');

    // The workflows.
    this.staleTokenSweep = new StaleTokenSweep(this, 'StaleTokenSweep', {
      config,
      findings: tables.findings,
      notifications: notifications.findings,
      sailPointCredentials,
      scheduleGroup: schedules,
    });
    if (config.report.enabled) {
      this.reports = new ReportBucket(this, 'Reports', {
        retentionDays: config.report.retentionDays,
        periodDays: config.report.periodDays,
        retainOnDelete: config.data.retainOnDelete,
      });
      this.reports.attachTo(this.staleTokenSweep.function, tables);
    }
    this.accessProvisioning = new AccessProvisioning(this, 'AccessProvisioning', {
      config,
      accessRequests: tables.accessRequests,
      notifications: notifications.findings,
      sailPointCredentials,
    });
    this.absenceReassignment = new AbsenceReassignment(this, 'AbsenceReassignment', {
      config,
      absences: tables.absences,
      notifications: notifications.findings,
      sailPointCredentials,
      scheduleGroup: schedules,
    });
    if (cognigyAuditEnabled(config)) {
      this.cognigyAudit = new CognigyAudit(this, 'CognigyAudit', {
        config,
        findings: tables.findings,
        notifications: notifications.findings,
        cognigyApiKey: referenceSecret(this, 'CognigyApiKey', config.cognigy.apiKeySecret),
        scheduleGroup: schedules,
      });
    }

    // Operations: alarms to the alarms topic, one dashboard.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmTopic: notifications.alarms,
      scheduleGroup: schedules,
      oldestMessageAgeSeconds: config.alarms.oldestMessageAgeSeconds,
      workflows: [this.staleTokenSweep, this.accessProvisioning, this.absenceReassignment, this.cognigyAudit]
        .filter((w) => w !== undefined)
        .map((w) => w.monitoring),
    });

    if (!config.sailPoint.tenant && !config.sailPoint.apiUrl) {
      Annotations.of(this).addWarningV2(
        'iga-autopilot:sailpoint-tenant-unset',
        'igaAutopilot.sailPoint.tenant is not set: the SailPoint functions will refuse to start until it is ' +
          '(npx cdk deploy -c igaAutopilot.sailPoint.tenant=<tenant>, see docs/deployment.md)',
      );
    }

    // What operators need after a deploy.
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    /** `<name>QueueUrl` and `<name>DeadLetterQueueUrl` of a work queue. */
    const queueOutputs = (name: string, workQueue: WorkQueue, sendWhat: string, deadWhat: string) => {
      output(`${name}QueueUrl`, workQueue.queue.queueUrl, `Send ${sendWhat} here`);
      output(
        `${name}DeadLetterQueueUrl`,
        workQueue.deadLetterQueue.queueUrl,
        `${deadWhat} that could not be processed, with a reason attribute`,
      );
    };
    queueOutputs(
      'AccessRequest',
      this.accessProvisioning.intake,
      'access-request intents',
      'Access requests',
    );
    queueOutputs('AbsenceEvent', this.absenceReassignment.events, 'HR absence events', 'Absence events');
    output(
      'StaleTokenSweepFunctionName',
      this.staleTokenSweep.function.functionName,
      'Invoke for an on-demand sweep',
    );
    output(
      'AbsenceReassignmentFunctionName',
      this.absenceReassignment.function.functionName,
      'Invoke with {"task":"recheck-deferred"} to re-check deferred absences now',
    );
    if (this.cognigyAudit) {
      output(
        'CognigyAuditFunctionName',
        this.cognigyAudit.function.functionName,
        'Invoke for an on-demand audit',
      );
    }
    // The tables, for the operator CLI (`iga --stack <name>`, docs/operations.md).
    output(
      'FindingsTableName',
      tables.findings.tableName,
      'Findings and exemptions (iga findings, iga exemptions)',
    );
    output(
      'AccessRequestsTableName',
      tables.accessRequests.tableName,
      'Access-request outcomes (iga status)',
    );
    output('AbsencesTableName', tables.absences.tableName, 'Recorded absences (iga absences)');
    output('FindingsTopicArn', notifications.findings.topicArn, 'Subscribe to hear about findings');
    output('AlarmsTopicArn', notifications.alarms.topicArn, 'Subscribe to hear about alarms');
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.reports) {
      output(
        'ReportBucketName',
        this.reports.bucket.bucketName,
        'Governance reports: reports/latest/report.html',
      );
    }
  }
}
