/**
 * ISC event triggers: partner event source → partner event bus (or an existing bus) → one rule per
 * trigger → the trigger queue (with its DLQ) → the event-triggers function, which feeds the absence
 * queue (Identity Attributes Changed), closes findings (Identity Deleted), and records what became of
 * access requests in the access-provisioning table (Access Request Decision, Provisioning Completed).
 *
 * - Each rule matches its partner event source exactly (functions/event-triggers/triggers.ts); the
 *   function validates the payload, so a malformed event lands in the DLQ with the reason instead of
 *   matching no rule.
 * - What EventBridge cannot deliver to the queue (after its retries, up to 24 h) goes to the same DLQ,
 *   with EventBridge's ERROR_CODE/ERROR_MESSAGE attributes.
 * - The function may: read and write its attribute snapshots in the absences table (and query a deleted
 *   person's absences, scan for absences delegating to them and mark those due for a re-plan), query
 *   and update findings, send to the absence queue, record access events in the access table and
 *   publish findings of rejected / failed requests. Nothing else.
 * - With the access triggers, EventBridge Scheduler also invokes the function (hourly by default) with
 *   {"task": "reconcile-access-events"}: the reconciliation of events that never arrived reads the
 *   sparse index of awaited outcomes and SailPoint's access request status with the access workflow's
 *   credential, drawing on the shared SailPoint rate budget (UpdateItem on the RateBudget table)
 *   (functions/event-triggers/access-reconciliation.ts); its failures go to the schedule DLQ.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
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
import { EventBus, Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { EVENTS_AWAITED_INDEX } from '../../functions/access-provisioning/state-store';
import { RECONCILE_TASK } from '../../functions/event-triggers/access-reconciliation';
import { METRICS_NAMESPACE } from '../../functions/shared/observability';
import { rulePattern, TRIGGERS, type TriggerKey } from '../../functions/event-triggers/triggers';
import { sailPoint } from '../function-environment';
import type { StackConfig } from '../stack-config';
import { accessEventsEnabled, configuredSources } from './event-triggers-config';
import { grantRateBudget, grantTable, STORE_ACTIONS } from './grants';
import type { MonitoredWorkflow } from './monitoring';
import type { ScheduleFailures } from './schedule-failures';
import { ScheduledInvoke } from './scheduled-invoke';
import { WorkflowFunction } from './workflow-function';
import { WorkQueue } from './work-queue';

export interface EventTriggersProps {
  readonly config: StackConfig;
  readonly absences: Table;
  readonly findings: Table;
  /** The absence-event queue the mapper feeds. */
  readonly absenceQueue: WorkQueue;
  /** The access-provisioning table: the access triggers record what became of its requests there. */
  readonly accessRequests: Table;
  /** Findings of rejected / failed access requests are announced here. */
  readonly notifications: ITopic;
  /** The access workflow's SailPoint credential: the reconciliation of lost access events reads statuses with it. */
  readonly accessCredentials: ISecret;
  /** The shared SailPoint rate budget (TABLES.rateBudget), which the reconciliation draws on. */
  readonly rateBudget: Table;
  /** The stack's schedule group (its failures are alarmed) and the retries/DLQ of scheduled runs. */
  readonly scheduleGroup: ScheduleGroup;
  readonly failures: ScheduleFailures;
}

const pascal = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}`;

export class EventTriggers extends Construct {
  readonly function: NodejsFunction;
  readonly queue: WorkQueue;
  readonly rules: Partial<Record<TriggerKey, Rule>> = {};
  /** The buses the rules are on, by trigger (partner event buses, or the existing bus). */
  readonly buses: Partial<Record<TriggerKey, IEventBus>> = {};
  readonly monitoring: MonitoredWorkflow;
  /** The reconciliation of lost access events (with the access triggers). */
  readonly reconcileSchedule?: Schedule;

  constructor(scope: Construct, id: string, props: EventTriggersProps) {
    super(scope, id);
    const { config } = props;
    const settings = config.eventTriggers;
    const sources = configuredSources(settings);
    const accessEvents = accessEventsEnabled(settings);

    this.queue = new WorkQueue(this, 'Events', {
      fifo: false,
      maxReceiveCount: config.queues.maxReceiveCount,
      retentionDays: config.queues.retentionDays,
      functionTimeoutSeconds: settings.timeoutSeconds,
      batchSize: settings.batchSize,
      maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    });
    this.function = new WorkflowFunction(this, 'Handler', {
      dir: 'event-triggers',
      description:
        'Turns SailPoint event triggers into absence events and closes findings of deleted identities',
      timeoutSeconds: settings.timeoutSeconds,
      environment: eventTriggersEnvironment(config, {
        queueUrl: this.queue.queue.queueUrl,
        deadLetterQueueUrl: this.queue.deadLetterQueue.queueUrl,
        absencesTable: props.absences.tableName,
        findingsTable: props.findings.tableName,
        absenceQueueUrl: props.absenceQueue.queue.queueUrl,
        accessRequestsTable: props.accessRequests.tableName,
        notificationsTopicArn: props.notifications.topicArn,
        rateBudgetTable: props.rateBudget.tableName,
      }),
      lambda: config.lambda,
      // The scheduled reconciliation's failed runs: retried, then the schedule DLQ.
      ...(accessEvents ? { asyncFailure: props.failures.function } : {}),
      vpc: config.vpc,
    }).function;
    this.queue.consumeWith(this.function, settings.maxConcurrency);
    // The attribute snapshots (attribute-snapshots.ts): get, put, delete; a deleted person's absences: query.
    grantTable(props.absences, this.function, [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      // Identity Deleted: absences delegating to the deleted identity are found (one Scan: no index by
      // delegate) and made due for a re-plan (delegate-absences.ts).
      ...(sources.identityDeleted ? (['dynamodb:Scan', 'dynamodb:UpdateItem'] as const) : []),
    ]);
    grantTable(props.findings, this.function, STORE_ACTIONS.findings);
    if (sources.identityAttributesChanged || sources.identityDeleted) {
      props.absenceQueue.addInternalProducer(this.function);
    }
    if (accessEvents) {
      // access-event-store.ts: events on slots (update, returning the slot), a unit's events and
      // early provisioning results (put), an identity's slots and a request's results (query).
      grantTable(props.accessRequests, this.function, [
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
      props.notifications.grantPublish(this.function);
      // The reconciliation: the sparse index of awaited outcomes (Query on that index only), and the
      // access workflow's credential for /access-request-status.
      Grant.addToPrincipal({
        grantee: this.function,
        actions: ['dynamodb:Query'],
        resourceArns: [`${props.accessRequests.tableArn}/index/${EVENTS_AWAITED_INDEX}`],
      });
      props.accessCredentials.grantRead(this.function);
      grantRateBudget(props.rateBudget, this.function);
      this.reconcileSchedule = new Schedule(this, 'AccessReconciliation', {
        description: 'Records what SailPoint says of submitted access requests whose events never arrived',
        schedule: ScheduleExpression.expression(settings.accessReconcileSchedule, TimeZone.of('UTC')),
        scheduleGroup: props.scheduleGroup,
        target: new ScheduledInvoke(this.function, {
          input: ScheduleTargetInput.fromObject({ task: RECONCILE_TASK, trigger: 'schedule' }),
          ...props.failures.target,
        }),
      });
    }

    const existing = settings.eventBus
      ? settings.eventBus.startsWith('arn:')
        ? EventBus.fromEventBusArn(this, 'ExistingBus', settings.eventBus)
        : EventBus.fromEventBusName(this, 'ExistingBus', settings.eventBus)
      : undefined;
    for (const [trigger, source] of Object.entries(sources) as [TriggerKey, string][]) {
      // A partner event bus must carry the name of its partner event source: creating it associates them.
      const bus = existing ?? new EventBus(this, `${pascal(trigger)}Bus`, { eventSourceName: source });
      this.buses[trigger] = bus;
      this.rules[trigger] = new Rule(this, `${pascal(trigger)}Rule`, {
        description: `${TRIGGERS[trigger].name} (${TRIGGERS[trigger].id}) → the trigger queue`,
        eventBus: bus,
        eventPattern: rulePattern(source) as { source: string[] },
        targets: [
          new SqsQueue(this.queue.queue, {
            deadLetterQueue: this.queue.deadLetterQueue,
            maxEventAge: Duration.hours(24),
            retryAttempts: 185,
          }),
        ],
      });
    }

    this.monitoring = {
      title: 'Event triggers',
      service: 'event-triggers',
      function: this.function,
      queue: this.queue,
      metrics: [
        'TriggerEvents',
        'AbsenceEventsSent',
        'AttributeChangesIgnored',
        'FindingsClosed',
        'DeadLettered',
        ...(accessEvents ? ['ReconciledRejected', 'ReconciledFailed', 'ReconcileStillPending'] : []),
      ],
    };
  }
}

/** What the function's environment refers to. */
export interface EventTriggersRefs {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly absencesTable: string;
  readonly findingsTable: string;
  readonly absenceQueueUrl: string;
  readonly accessRequestsTable: string;
  readonly notificationsTopicArn: string;
  readonly rateBudgetTable: string;
}

/** The function's environment (functions/event-triggers/settings.ts), from the stack settings. */
export function eventTriggersEnvironment(
  config: StackConfig,
  refs: EventTriggersRefs,
): Record<string, string> {
  const settings = config.eventTriggers;
  const sources = configuredSources(settings);
  return {
    LOG_LEVEL: config.lambda.logLevel,
    POWERTOOLS_SERVICE_NAME: 'event-triggers',
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    QUEUE_URL: refs.queueUrl,
    DEAD_LETTER_QUEUE_URL: refs.deadLetterQueueUrl,
    MAX_RECEIVE_COUNT: String(config.queues.maxReceiveCount),
    EVENT_TRIGGER_SOURCES: JSON.stringify(sources),
    ABSENCES_TABLE: refs.absencesTable,
    FINDINGS_TABLE: refs.findingsTable,
    ...(sources.identityAttributesChanged || sources.identityDeleted
      ? { ABSENCE_QUEUE_URL: refs.absenceQueueUrl }
      : {}),
    ...(accessEventsEnabled(settings)
      ? {
          ACCESS_REQUESTS_TABLE: refs.accessRequestsTable,
          NOTIFICATIONS_TOPIC_ARN: refs.notificationsTopicArn,
          // The reconciliation of lost access events: the access workflow's tenant, credential and budget.
          ...sailPoint(config, 'accessProvisioning', refs.rateBudgetTable),
          ACCESS_RECONCILE_GRACE_SECONDS: String(settings.accessReconcileGraceSeconds),
          ACCESS_RECONCILE_MAX_MESSAGES: String(settings.accessReconcileMaxMessages),
        }
      : {}),
    ...(sources.identityAttributesChanged && settings.absenceMapping
      ? { ABSENCE_ATTRIBUTE_MAPPING: JSON.stringify(settings.absenceMapping) }
      : {}),
  };
}
