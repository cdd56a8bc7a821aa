/**
 * Lambda entry point of the Cognigy.AI credential audit: invoked by the sweep's EventBridge
 * schedule, or on demand (`{"trigger": "on-demand"}`, the local runner, a console test event).
 *
 * Thin: parse the event, run the audit (audit.ts), log the summary, emit metrics. The invocation
 * fails (so Lambda's Errors metric and alarms see it) when the preflight fails — the message names
 * the missing rights and the traceId — when Cognigy cannot be read, or when a finding or
 * notification could not be written; every rerun is safe (findings are reconciled, notifications
 * sent once).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { createDocumentClient, createSnsClient } from '../shared/aws';
import {
  CognigyAuthError,
  CognigyError,
  cognigyConnector,
  cognigyCredentialSource,
  createCognigyClient,
  type CognigyConnection,
} from '../shared/cognigy';
import { FindingsStore } from '../shared/findings';
import { decideFailure } from '../shared/failure-policy';
import { isScheduledRuleEvent, parseInvocation, ScheduledRuleEventSchema } from '../shared/invocation';
import { handlerTools, lambdaEntryPoint, type HandlerTools } from '../shared/lambda';
import { RecordingNotifier, SnsNotifier, type Notifier } from '../shared/notifier';
import { logSinkOf } from '../shared/observability';
import { TABLES } from '../shared/tables';
import { runCognigyAudit, type CognigyAuditSummary } from './audit';
import { keyPolicyOf, parseCognigyAuditSettings, type CognigyAuditSettings } from './settings';

export const SERVICE_NAME = 'cognigy-audit';

export type { CognigyConnection };

export interface CognigyAuditHandlerDeps {
  readonly settings: CognigyAuditSettings;
  /**
   * The Cognigy client for the current key, asked on every invocation: it reads the key from its
   * source (Secrets Manager in AWS, re-read after its max age) and reuses the client while the key is
   * unchanged. A failed read is retried by the next invocation.
   */
  readonly connect: () => Promise<CognigyConnection>;
  /** Cognigy refused the key (401): the next connect re-reads the secret at once. */
  readonly credentialRejected?: () => void;
  readonly findings: FindingsStore;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
  readonly newRunId?: () => string;
}

/**
 * What may invoke the audit, strictly and bounded (shared/invocation.ts): {"trigger"?: "<label>"}
 * (the stack's schedule sends "schedule", `iga audit` "iga"), or an EventBridge rule's "Scheduled Event".
 */
const OnDemandEventSchema = z.strictObject({
  trigger: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be a label of at most 64 letters, digits and ._:-')
    .optional(),
});

/** The run's trigger label, from the invocation payload; anything else is refused, naming what is wrong. */
export function parseAuditEvent(event: unknown): string {
  const input = event ?? {};
  const refusal =
    'cognigy-audit: the event must be a JSON object {"trigger": "<label>"} or an EventBridge "Scheduled Event"';
  if (isScheduledRuleEvent(input)) {
    parseInvocation(ScheduledRuleEventSchema, input, refusal);
    return 'schedule';
  }
  return parseInvocation(OnDemandEventSchema, input, refusal).trigger ?? 'on-demand';
}

export type CognigyAuditHandler = (event: unknown, context?: unknown) => Promise<CognigyAuditSummary>;

/** The audit as a function of its dependencies; the Lambda entry point (below) adds logging context and metrics flushing. */
export function createCognigyAuditHandler(deps: CognigyAuditHandlerDeps): CognigyAuditHandler {
  const { connect, logger, metrics } = deps;
  const log = logSinkOf(logger);

  return async (event) => {
    const trigger = parseAuditEvent(event);
    const { cognigy, credential, stats } = await connect();
    const requestsBefore = stats ? { ...stats } : undefined;

    let outcome;
    try {
      outcome = await runCognigyAudit(
        {
          cognigy,
          apiKey: credential.apiKey,
          apiKeyId: credential.apiKeyId,
          manifest: deps.settings.COGNIGY_RIGHTS_MANIFEST,
          keyPolicy: keyPolicyOf(deps.settings),
          findings: deps.findings,
          notifier: deps.notifier,
          now: deps.now ?? (() => new Date()),
          log,
          newRunId: deps.newRunId,
          ...(deps.settings.COGNIGY_CREDENTIAL_OWNER
            ? { owner: deps.settings.COGNIGY_CREDENTIAL_OWNER }
            : {}),
        },
        trigger,
      );
    } catch (error) {
      if (error instanceof CognigyAuthError && error.status === 401) deps.credentialRejected?.();
      metrics.addMetric('AuditFailed', MetricUnit.Count, 1);
      logger.error('Cognigy audit failed', {
        ...(error instanceof CognigyError ? error.toLog() : { error: String(error) }),
        failure: decideFailure(error),
      });
      throw error;
    } finally {
      if (stats && requestsBefore) {
        metrics.addMetric(
          'CognigyRequests',
          MetricUnit.Count,
          stats.httpRequests - requestsBefore.httpRequests,
        );
        metrics.addMetric('CognigyRetries', MetricUnit.Count, stats.retries - requestsBefore.retries);
      }
    }

    const { summary, preflightError } = outcome;
    emitMetrics(metrics, summary);
    logger.info('Cognigy audit summary', { summary });
    if (preflightError) throw preflightError;
    if (summary.failures.length > 0) {
      throw new Error(
        `cognigy-audit: ${summary.failures.length} finding write(s)/notification(s) failed; ` +
          `the next run completes them: ${summary.failures.slice(0, 3).join('; ')}`,
      );
    }
    return summary;
  };
}

function emitMetrics(metrics: Metrics, summary: CognigyAuditSummary): void {
  const add = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  add('PreflightFailed', summary.preflight.passed ? 0 : 1);
  add('MissingRights', summary.preflight.missing.length);
  add('OverPrivilegedScopes', summary.privilege.overPrivileged.length);
  const opened =
    summary.privilege.findings.opened + (summary.apiKeys.checked ? summary.apiKeys.findings.opened : 0);
  const resolved =
    summary.privilege.findings.resolved + (summary.apiKeys.checked ? summary.apiKeys.findings.resolved : 0);
  add('FindingsOpened', opened);
  add('FindingsResolved', resolved);
  if (summary.apiKeys.checked) {
    add('ApiKeys', summary.apiKeys.total);
    add('ApiKeysWarned', summary.apiKeys.warned);
    add('ApiKeysFlagged', summary.apiKeys.flagged);
    add('MultipleActiveKeys', summary.apiKeys.multipleActive ? 1 : 0);
  }
  add('NotificationsSent', summary.notifications.sent);
  add('NotificationsFailed', summary.notifications.failed);
}

/** Dependencies from the environment, built once per instance (no I/O); invalid settings throw ConfigError here. */
export function depsFromEnvironment(
  env = process.env,
  tools: HandlerTools = handlerTools(SERVICE_NAME, env),
): CognigyAuditHandlerDeps {
  const settings = parseCognigyAuditSettings(env);
  const { logger, metrics, log } = tools;
  const tableName = settings[TABLES.findings.envVar] as string;
  const connector = cognigyConnector(cognigyCredentialSource(settings, env), (credential) => {
    const client = createCognigyClient(settings, credential, { logger: log });
    return { cognigy: client, credential, stats: client.stats };
  });
  return {
    settings,
    connect: connector.connect,
    credentialRejected: connector.credentialRejected,
    findings: new FindingsStore({ doc: createDocumentClient(), tableName, log }),
    notifier: settings.NOTIFICATIONS_TOPIC_ARN
      ? new SnsNotifier(createSnsClient(), settings.NOTIFICATIONS_TOPIC_ARN)
      : new RecordingNotifier((line) => logger.info(line)),
    logger,
    metrics,
  };
}

export const handler = lambdaEntryPoint({
  service: SERVICE_NAME,
  init: (tools, env) => depsFromEnvironment(env, tools),
  start: (deps) => createCognigyAuditHandler(deps),
});
