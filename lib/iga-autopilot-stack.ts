/**
 * IGA Autopilot on one screen:
 *
 *   EventBridge Scheduler ──► stale-token sweep ──┐                    ┌──► SailPoint ISC
 *    (retried; schedule DLQ)└► Cognigy audit ─────┤ findings table     │
 *   access-request queue ──► access provisioning ─┤ accessRequests     ├─(client id/secret from Secrets Manager,
 *   HR absence queue ──────► absence reassignment ┘ absences           │  one per workflow or one shared)
 *        (each queue with a DLQ; only `producers` may send)  findings topic ──► subscribers
 *   SailPoint callers draw on one rate budget per credential and API version (rateBudget table)
 *   CloudWatch alarms (DLQs, backlog, errors, throttles, schedules) ──► alarms topic; one dashboard
 *
 * Settings: lib/stack-config.ts (docs/deployment.md). Each construct grants its function only what it uses.
 */
import { Annotations, CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { ManagedPolicy, PermissionsBoundary } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { sailPointCredentialOf, type SailPointWorkflow } from './function-environment';
import { AbsenceReassignment } from './constructs/absence-reassignment';
import { AccessProvisioning } from './constructs/access-provisioning';
import { CognigyAudit } from './constructs/cognigy-audit';
import { EventTriggers } from './constructs/event-triggers';
import { eventTriggersEnabled } from './constructs/event-triggers-config';
import { Monitoring } from './constructs/monitoring';
import { Notifications } from './constructs/notifications';
import { ReportBucket } from './constructs/report-bucket';
import { ScheduleFailures } from './constructs/schedule-failures';
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
  readonly eventTriggers?: EventTriggers;
  readonly reports?: ReportBucket;
  readonly monitoring: Monitoring;
  readonly scheduleFailures: ScheduleFailures;

  constructor(scope: Construct, id: string, props: IgaAutopilotStackProps) {
    const { config } = props;
    super(scope, id, { ...props, terminationProtection: config.terminationProtection });

    // What regulated accounts ask of every resource and role.
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
    if (config.permissionsBoundary) {
      const boundary = config.permissionsBoundary;
      PermissionsBoundary.of(this).apply(
        boundary.startsWith('arn:')
          ? ManagedPolicy.fromManagedPolicyArn(this, 'PermissionsBoundary', boundary)
          : ManagedPolicy.fromManagedPolicyName(this, 'PermissionsBoundary', boundary),
      );
    }

    // State, notifications and credentials (the secrets are created by operators and only referenced).
    const { tables } = new StateTables(this, 'Tables', { retainOnDelete: config.data.retainOnDelete });
    const notifications = new Notifications(this, 'Notifications', { emails: config.notifications.emails });
    const sailPointCredentials = this.sailPointCredentials(config);
    const schedules = new ScheduleGroup(this, 'Schedules');
    this.scheduleFailures = new ScheduleFailures(this, 'ScheduleFailures', {
      schedules: config.schedules,
      retentionDays: config.queues.retentionDays,
    });
    const failures = this.scheduleFailures;

    // The workflows.
    this.staleTokenSweep = new StaleTokenSweep(this, 'StaleTokenSweep', {
      config,
      findings: tables.findings,
      notifications: notifications.findings,
      sailPointCredentials: sailPointCredentials('staleTokenSweep'),
      rateBudget: tables.rateBudget,
      scheduleGroup: schedules,
      failures,
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
      sailPointCredentials: sailPointCredentials('accessProvisioning'),
      rateBudget: tables.rateBudget,
    });
    this.absenceReassignment = new AbsenceReassignment(this, 'AbsenceReassignment', {
      config,
      absences: tables.absences,
      notifications: notifications.findings,
      sailPointCredentials: sailPointCredentials('absenceReassignment'),
      rateBudget: tables.rateBudget,
      scheduleGroup: schedules,
      failures,
    });
    if (cognigyAuditEnabled(config)) {
      this.cognigyAudit = new CognigyAudit(this, 'CognigyAudit', {
        config,
        findings: tables.findings,
        notifications: notifications.findings,
        cognigyApiKey: referenceSecret(this, 'CognigyApiKey', config.cognigy.apiKeySecret),
        scheduleGroup: schedules,
        failures,
      });
    }

    // ISC event triggers (opt-in): partner event sources → rules → the trigger queue → absences, findings.
    if (eventTriggersEnabled(config.eventTriggers)) {
      this.eventTriggers = new EventTriggers(this, 'EventTriggers', {
        config,
        absences: tables.absences,
        findings: tables.findings,
        absenceQueue: this.absenceReassignment.events,
        accessRequests: tables.accessRequests,
        notifications: notifications.findings,
        accessCredentials: sailPointCredentials('accessProvisioning'),
        rateBudget: tables.rateBudget,
        scheduleGroup: schedules,
        failures,
      });
    }

    // Operations: alarms to the alarms topic, one dashboard.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmTopic: notifications.alarms,
      scheduleGroup: schedules,
      scheduleDeadLetterQueue: failures.deadLetterQueue,
      oldestMessageAgeSeconds: config.alarms.oldestMessageAgeSeconds,
      workflows: [
        this.staleTokenSweep,
        this.accessProvisioning,
        this.absenceReassignment,
        this.cognigyAudit,
        this.eventTriggers,
      ]
        .filter((w) => w !== undefined)
        .map((w) => w.monitoring),
    });

    // Synth refuses a missing tenant unless allowIncomplete says it is intended (stack-config.ts).
    if (!config.sailPoint.tenant && !config.sailPoint.apiUrl) {
      Annotations.of(this).addWarningV2(
        'iga-autopilot:sailpoint-tenant-unset',
        'igaAutopilot.sailPoint.tenant is not set (allowIncomplete): the SailPoint functions will refuse to ' +
          'start until it is (npx cdk deploy -c igaAutopilot.sailPoint.tenant=<tenant>, see docs/deployment.md)',
      );
    }
    for (const [workflow, name] of [
      ['accessProvisioning', 'access-request'],
      ['absenceReassignment', 'absence-event'],
    ] as const) {
      if (config[workflow].producers) continue;
      Annotations.of(this).addWarningV2(
        `iga-autopilot:${workflow}-producers-unset`,
        `igaAutopilot.${workflow}.producers is not set: any principal whose IAM policy allows sqs:SendMessage ` +
          `can send work to the ${name} queue (docs/deployment.md, "Who may send work")`,
      );
    }

    // What operators need after a deploy.
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    /** `<name>QueueUrl`/`Arn` and `<name>DeadLetterQueueUrl`/`Arn` of a work queue (ARNs: to grant producers). */
    const queueOutputs = (name: string, workQueue: WorkQueue, sendWhat: string, deadWhat: string) => {
      output(`${name}QueueUrl`, workQueue.queue.queueUrl, `Send ${sendWhat} here`);
      output(
        `${name}QueueArn`,
        workQueue.queue.queueArn,
        `Grant producers of ${sendWhat} sqs:SendMessage on it`,
      );
      output(
        `${name}DeadLetterQueueUrl`,
        workQueue.deadLetterQueue.queueUrl,
        `${deadWhat} that could not be processed, with a reason attribute`,
      );
      output(
        `${name}DeadLetterQueueArn`,
        workQueue.deadLetterQueue.queueArn,
        `${deadWhat} dead-letter queue`,
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
    if (this.eventTriggers) {
      output(
        'TriggerEventQueueUrl',
        this.eventTriggers.queue.queue.queueUrl,
        'ISC trigger events from the rules, for the event-triggers function',
      );
      output(
        'TriggerEventDeadLetterQueueUrl',
        this.eventTriggers.queue.deadLetterQueue.queueUrl,
        'Trigger events that failed validation or delivery, with the reason',
      );
      if (this.eventTriggers.reconcileSchedule) {
        output(
          'EventTriggersFunctionName',
          this.eventTriggers.function.functionName,
          'Invoke with {"task":"reconcile-access-events"} to reconcile lost access events now',
        );
      }
    }
    output(
      'ScheduleDeadLetterQueueUrl',
      failures.deadLetterQueue.queueUrl,
      'Scheduled runs that failed after all retries (sweep, Cognigy audit, absence re-check, access-event reconciliation)',
    );
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
    output(
      'RateBudgetTableName',
      tables.rateBudget.tableName,
      "The SailPoint credentials' shared rate budget (iga report draws on it to name people)",
    );
    output('FindingsTopicArn', notifications.findings.topicArn, 'Subscribe to hear about findings');
    output('AlarmsTopicArn', notifications.alarms.topicArn, 'Subscribe to hear about alarms');
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    if (this.reports) {
      output(
        'ReportBucketName',
        this.reports.bucket.bucketName,
        'Governance reports: reports/report.html (earlier reports are its versions)',
      );
    }
  }

  /**
   * Each SailPoint workflow's credential: one reference per distinct secret, so a function is granted
   * only its own. The shared secret keeps the construct id it always had.
   */
  private sailPointCredentials(config: StackConfig): (workflow: SailPointWorkflow) => ISecret {
    const secrets = new Map<string, ISecret>();
    return (workflow) => {
      const ref = sailPointCredentialOf(config, workflow);
      let secret = secrets.get(ref);
      if (!secret) {
        const id =
          ref === config.sailPoint.credentialsSecret
            ? 'SailPointCredentials'
            : `${workflow[0]!.toUpperCase()}${workflow.slice(1)}SailPointCredentials`;
        secret = referenceSecret(this, id, ref);
        secrets.set(ref, secret);
      }
      return secret;
    };
  }
}
