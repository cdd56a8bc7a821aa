/**
 * Each function's environment, built from the stack config and the resources it uses. The variable
 * names and their validation belong to the workflows (functions/<workflow>/settings.ts): the stack
 * imports those schemas, so a threshold passed through `igaAutopilot.<workflow>.settings` is checked
 * at synth by the same code that reads it at cold start.
 */
import type { z } from 'zod';
import { ConfigError, parseSettings } from '../functions/shared/config';
import { METRICS_NAMESPACE } from '../functions/shared/observability';
import { TABLES, type TableKey } from '../functions/shared/tables';
import { staleTokenSweepSettings } from '../functions/stale-token-sweep/settings';
import { accessProvisioningSettings } from '../functions/access-provisioning/settings';
import { accessEventsEnabled } from './constructs/event-triggers-config';
import { absenceReassignmentSettings } from '../functions/absence-reassignment/settings';
import { cognigyAuditSettings } from '../functions/cognigy-audit/settings';
import type { StackConfig } from './stack-config';

export type WorkflowName = 'staleTokenSweep' | 'accessProvisioning' | 'absenceReassignment' | 'cognigyAudit';
/** The workflows that call SailPoint, each with its own (or the shared) credential. */
export type SailPointWorkflow = Exclude<WorkflowName, 'cognigyAudit'>;
export const SAILPOINT_WORKFLOWS: readonly SailPointWorkflow[] = [
  'staleTokenSweep',
  'accessProvisioning',
  'absenceReassignment',
];

/** What a function's environment refers to: real CloudFormation tokens in the stack, placeholders at validation. */
export interface ResourceRefs {
  readonly tableName: string;
  readonly notificationsTopicArn: string;
  /** The shared SailPoint rate budget (TABLES.rateBudget): required by the functions that call SailPoint. */
  readonly rateBudgetTableName?: string;
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
}

export interface WorkflowDefinition {
  /** functions/<dir>/handler.ts; also the Powertools service name (metrics dimension). */
  readonly dir: string;
  readonly table: TableKey;
  readonly schema: z.ZodObject;
  readonly callsSailPoint: boolean;
  /** Variables the stack sets (everything but the pass-through settings). */
  environment(config: StackConfig, refs: ResourceRefs): Record<string, string>;
}

/** Values that must never be in an environment variable: they live in Secrets Manager. */
const SECRET_VARIABLES = new Set([
  'SAILPOINT_CLIENT_ID',
  'SAILPOINT_CLIENT_SECRET',
  'SAILPOINT_CLIENT_SECRET_FILE',
  'COGNIGY_API_KEY',
  'COGNIGY_API_KEY_FILE',
]);

function common(
  config: StackConfig,
  dir: string,
  table: TableKey,
  refs: ResourceRefs,
): Record<string, string> {
  return {
    LOG_LEVEL: config.lambda.logLevel,
    POWERTOOLS_SERVICE_NAME: dir,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    [TABLES[table].envVar]: refs.tableName,
    NOTIFICATIONS_TOPIC_ARN: refs.notificationsTopicArn,
  };
}

/**
 * Where the tenant is, which credential, and its rate budget: the whole budget of the credential
 * (per API version), drawn from by every instance using it through one schedule in the RateBudget
 * table, and the instance's fair share of it, what it is guaranteed when all of them are busy.
 */
export function sailPoint(
  config: StackConfig,
  workflow: SailPointWorkflow,
  rateBudgetTableName: string | undefined,
): Record<string, string> {
  const { tenant, apiUrl, extraApiHosts, requestsPer10s } = config.sailPoint;
  if (!rateBudgetTableName) throw new Error(`${workflow} calls SailPoint: give it the RateBudget table`);
  return {
    ...(apiUrl ? { SAILPOINT_API_URL: apiUrl } : tenant ? { SAILPOINT_TENANT: tenant } : {}),
    ...(extraApiHosts.length > 0 ? { SAILPOINT_EXTRA_API_HOSTS: extraApiHosts.join(',') } : {}),
    SAILPOINT_CREDENTIALS_SECRET_ID: sailPointCredentialOf(config, workflow),
    SAILPOINT_RATE_BUDGET_TABLE: rateBudgetTableName,
    SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: String(requestsPer10s),
    SAILPOINT_REQUESTS_PER_10S: String(perInstanceSailPointBudget(config, workflow)),
  };
}

/** The secret (name or ARN) of a workflow's SailPoint credential: its own, or the shared one. */
export function sailPointCredentialOf(config: StackConfig, workflow: SailPointWorkflow): string {
  return config[workflow].credentialsSecret ?? config.sailPoint.credentialsSecret;
}

/** The SailPoint workflows using the same credential as `workflow` (itself included). */
export function workflowsSharingCredential(
  config: StackConfig,
  workflow: SailPointWorkflow,
): SailPointWorkflow[] {
  const credential = sailPointCredentialOf(config, workflow);
  return SAILPOINT_WORKFLOWS.filter((w) => sailPointCredentialOf(config, w) === credential);
}

function queue(config: StackConfig, refs: ResourceRefs): Record<string, string> {
  return {
    QUEUE_URL: refs.queueUrl ?? '',
    DEAD_LETTER_QUEUE_URL: refs.deadLetterQueueUrl ?? '',
    MAX_RECEIVE_COUNT: String(config.queues.maxReceiveCount),
  };
}

/**
 * Each instance's fair share of its credential's budget (SAILPOINT_REQUESTS_PER_10S): ISC limits each
 * client id, so each credential has its own budget (`sailPoint.requestsPer10s`). Every instance using
 * it draws from that whole budget through the shared schedule (first come, first served), so an
 * instance gets more when the others are idle, and never less than this even split over every
 * instance that can call SailPoint at once with that credential: the synth-time progress check
 * (stack-config.ts) counts on that guarantee, and a client without the shared table uses it as its
 * local limit.
 */
export function sailPointInstances(config: StackConfig): Record<SailPointWorkflow, number> {
  return {
    // Unreserved, a scheduled run can overlap an on-demand one: count two.
    staleTokenSweep: config.lambda.reserveScheduledConcurrency ? 1 : 2,
    // With the access triggers, the scheduled reconciliation of lost events (the event-triggers
    // function, one run at a time) reads statuses with this credential too.
    accessProvisioning:
      config.accessProvisioning.maxConcurrency + (accessEventsEnabled(config.eventTriggers) ? 1 : 0),
    // The queue's consumers, plus the scheduled re-check of deferred absences (same function, outside
    // the event source mapping's maximumConcurrency).
    absenceReassignment: config.absenceReassignment.maxConcurrency + 1,
  };
}

/** Instances that may call SailPoint at once with `workflow`'s credential. */
export function instancesSharingCredential(config: StackConfig, workflow: SailPointWorkflow): number {
  const instances = sailPointInstances(config);
  return workflowsSharingCredential(config, workflow).reduce((sum, w) => sum + instances[w], 0);
}

export function perInstanceSailPointBudget(config: StackConfig, workflow: SailPointWorkflow): number {
  return Math.floor(config.sailPoint.requestsPer10s / instancesSharingCredential(config, workflow));
}

export const WORKFLOWS: Record<WorkflowName, WorkflowDefinition> = {
  staleTokenSweep: {
    dir: 'stale-token-sweep',
    table: 'findings',
    schema: staleTokenSweepSettings,
    callsSailPoint: true,
    environment: (config, refs) => ({
      ...common(config, 'stale-token-sweep', 'findings', refs),
      ...sailPoint(config, 'staleTokenSweep', refs.rateBudgetTableName),
    }),
  },
  accessProvisioning: {
    dir: 'access-provisioning',
    table: 'accessRequests',
    schema: accessProvisioningSettings,
    callsSailPoint: true,
    environment: (config, refs) => {
      const perInstance = perInstanceSailPointBudget(config, 'accessProvisioning');
      const { maxConcurrency } = config.accessProvisioning;
      return {
        ...common(config, 'access-provisioning', 'accessRequests', refs),
        ...sailPoint(config, 'accessProvisioning', refs.rateBudgetTableName),
        ...queue(config, refs),
        // With the shared budget the function plans its chunks for the credential's budget over
        // ACCESS_MAX_CONCURRENCY; without the table, its local limit is SAILPOINT_REQUESTS_PER_10S,
        // else these two (functions/access-provisioning/settings.ts, perInstanceRequestsPer10s).
        ACCESS_MAX_CONCURRENCY: String(maxConcurrency),
        SAILPOINT_RATE_BUDGET_PER_10S: String(perInstance * maxConcurrency),
        // ISC's access event triggers end GRANT/REVOKE waits (docs/event-triggers.md).
        ...(accessEventsEnabled(config.eventTriggers)
          ? { ACCESS_EVENTS_WAIT_SECONDS: String(config.eventTriggers.accessEventWaitSeconds) }
          : {}),
      };
    },
  },
  absenceReassignment: {
    dir: 'absence-reassignment',
    table: 'absences',
    schema: absenceReassignmentSettings,
    callsSailPoint: true,
    environment: (config, refs) => {
      const { delegatePolicy, delegateAllowList, maxAbsenceDays } = config.absenceReassignment;
      return {
        ...common(config, 'absence-reassignment', 'absences', refs),
        ...sailPoint(config, 'absenceReassignment', refs.rateBudgetTableName),
        ...queue(config, refs),
        DELEGATE_POLICY: delegatePolicy,
        ...(delegateAllowList.length > 0 ? { DELEGATE_ALLOW_LIST: delegateAllowList.join(',') } : {}),
        MAX_ABSENCE_DAYS: String(maxAbsenceDays),
      };
    },
  },
  cognigyAudit: {
    dir: 'cognigy-audit',
    table: 'findings',
    schema: cognigyAuditSettings,
    callsSailPoint: false,
    environment: (config, refs) => ({
      ...common(config, 'cognigy-audit', 'findings', refs),
      ...(config.cognigy.apiUrl ? { COGNIGY_API_URL: config.cognigy.apiUrl } : {}),
      ...(config.cognigy.extraApiHosts.length > 0
        ? { COGNIGY_EXTRA_API_HOSTS: config.cognigy.extraApiHosts.join(',') }
        : {}),
      COGNIGY_API_KEY_SECRET_ID: config.cognigy.apiKeySecret,
    }),
  },
};

/** The full environment of a workflow's function: what the stack sets plus the pass-through settings. */
export function functionEnvironment(
  workflow: WorkflowName,
  config: StackConfig,
  refs: ResourceRefs,
): Record<string, string> {
  return { ...config[workflow].settings, ...WORKFLOWS[workflow].environment(config, refs) };
}

/** Variables the stack derives from its own settings: errors name the stack setting. */
const STACK_SETTING_OF: Record<string, string> = {
  SAILPOINT_TENANT: 'igaAutopilot.sailPoint.tenant',
  SAILPOINT_API_URL: 'igaAutopilot.sailPoint.apiUrl',
  SAILPOINT_EXTRA_API_HOSTS: 'igaAutopilot.sailPoint.extraApiHosts',
  SAILPOINT_CREDENTIALS_SECRET_ID:
    'igaAutopilot.<workflow>.credentialsSecret or igaAutopilot.sailPoint.credentialsSecret',
  SAILPOINT_REQUESTS_PER_10S: 'igaAutopilot.sailPoint.requestsPer10s',
  SAILPOINT_CREDENTIAL_REQUESTS_PER_10S: 'igaAutopilot.sailPoint.requestsPer10s',
  COGNIGY_API_URL: 'igaAutopilot.cognigy.apiUrl',
  COGNIGY_EXTRA_API_HOSTS: 'igaAutopilot.cognigy.extraApiHosts',
  COGNIGY_API_KEY_SECRET_ID: 'igaAutopilot.cognigy.apiKeySecret',
  POWERTOOLS_TRACE_ENABLED: 'igaAutopilot.lambda.tracing',
  LOG_LEVEL: 'igaAutopilot.lambda.logLevel',
  DELEGATE_POLICY: 'igaAutopilot.absenceReassignment.delegatePolicy',
  DELEGATE_ALLOW_LIST: 'igaAutopilot.absenceReassignment.delegateAllowList',
  MAX_ABSENCE_DAYS: 'igaAutopilot.absenceReassignment.maxAbsenceDays',
  // The report's settings (lib/constructs/report-bucket.ts): set together with its bucket and grants.
  REPORT_BUCKET: 'igaAutopilot.report.enabled',
  REPORT_PREFIX: 'igaAutopilot.report.enabled',
  REPORT_PERIOD_DAYS: 'igaAutopilot.report.periodDays',
};

/** A function's message in the stack's terms: variables the stack sets are named by their stack setting. */
function inStackTerms(message: string): string {
  return Object.entries(STACK_SETTING_OF).reduce(
    (text, [variable, stackSetting]) => text.replace(new RegExp(`\\b${variable}\\b`, 'g'), stackSetting),
    message,
  );
}

/** Stand-ins for resource references, where a function's environment is needed without a stack. */
export const PLACEHOLDER_REFS: ResourceRefs = {
  tableName: 'placeholder-table',
  notificationsTopicArn: 'arn:aws:sns:us-east-1:123456789012:placeholder',
  rateBudgetTableName: 'placeholder-rate-budget-table',
  queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder',
  deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder-dlq',
};

/**
 * Checks `igaAutopilot.<workflow>.settings` with the workflow's own schema, in the environment the
 * function will really get, so cross-field rules (e.g. warn-after < stale-after) apply too.
 */
export function checkWorkflowSettings(
  workflow: WorkflowName,
  config: StackConfig,
  prefix: string,
): { setting: string; message: string }[] {
  const definition = WORKFLOWS[workflow];
  const given = config[workflow].settings;
  const managed = definition.environment(config, PLACEHOLDER_REFS);
  const known = Object.keys(definition.schema.shape);
  const problems: { setting: string; message: string }[] = [];

  for (const key of Object.keys(given)) {
    if (SECRET_VARIABLES.has(key)) {
      problems.push({
        setting: `${prefix}.${key}`,
        message:
          'secrets are never put in environment variables: store them in the Secrets Manager secret (docs/deployment.md)',
      });
    } else if (key in managed || key in STACK_SETTING_OF) {
      problems.push({
        setting: `${prefix}.${key}`,
        message: `is set by the stack${key in STACK_SETTING_OF ? ` from ${STACK_SETTING_OF[key]}` : ''} (docs/deployment.md)`,
      });
    } else if (!known.includes(key)) {
      problems.push({
        setting: `${prefix}.${key}`,
        message: `unknown setting; ${definition.dir} reads: ${known.filter((k) => !(k in managed) && !(k in STACK_SETTING_OF) && !SECRET_VARIABLES.has(k)).join(', ')}`,
      });
    }
  }
  if (problems.length > 0) return problems;

  let parsed: Record<string, unknown>;
  try {
    parsed = parseSettings(definition.schema, { ...given, ...managed });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => ({
      setting: STACK_SETTING_OF[p.setting] ?? (p.setting in managed ? p.setting : `${prefix}.${p.setting}`),
      message: inStackTerms(p.message),
    }));
  }

  // One call's worst case (its retries plus the last attempt's timeout) must fit in the invocation,
  // or the function times out mid-batch and every message of the batch comes back.
  const client = definition.callsSailPoint ? 'SAILPOINT' : 'COGNIGY';
  const worstCallMs =
    (parsed[`${client}_MAX_RETRY_MS`] as number) + (parsed[`${client}_TIMEOUT_MS`] as number);
  const timeoutSeconds = config[workflow].timeoutSeconds;
  if (worstCallMs >= timeoutSeconds * 1000) {
    problems.push({
      setting: `${prefix}.${client}_MAX_RETRY_MS`,
      message:
        `with ${client}_TIMEOUT_MS, one call may take ${worstCallMs} ms, not less than the function timeout ` +
        `(${workflow}.timeoutSeconds = ${timeoutSeconds}): lower it or raise the timeout`,
    });
  }

  if (workflow === 'accessProvisioning') {
    // A claim must outlive the invocation that holds it, or a retry could take over a unit still in flight.
    const lease = parsed.CLAIM_LEASE_SECONDS as number;
    const timeout = config.accessProvisioning.timeoutSeconds;
    if (lease <= timeout) {
      problems.push({
        setting: `${prefix}.CLAIM_LEASE_SECONDS`,
        message: `must be greater than accessProvisioning.timeoutSeconds (${timeout}); it is ${lease}`,
      });
    }
  }
  return problems;
}
