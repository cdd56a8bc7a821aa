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
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
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
import { RecordingNotifier, SnsNotifier, type Notifier } from '../shared/notifier';
import { createLogger, createMetrics, logSinkOf } from '../shared/observability';
import { lambdaEntryPoint } from '../shared/lambda';
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

/** A scheduled event, or an on-demand one; anything that is not an object is refused. */
const AuditEventSchema = z.looseObject({
  'detail-type': z.string().optional(),
  trigger: z.string().max(100).optional(),
});

export function createCognigyAuditHandler(deps: CognigyAuditHandlerDeps) {
  const { connect, logger, metrics } = deps;
  const log = logSinkOf(logger);

  const audit = async (event: unknown): Promise<CognigyAuditSummary> => {
    const parsed = AuditEventSchema.safeParse(event ?? {});
    if (!parsed.success) {
      throw new Error(
        `cognigy-audit: the event must be a JSON object (a schedule event or {"trigger": "…"})`,
      );
    }
    const trigger =
      parsed.data.trigger ?? (parsed.data['detail-type'] === 'Scheduled Event' ? 'schedule' : 'on-demand');
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
      logger.error(
        'Cognigy audit failed',
        error instanceof CognigyError ? error.toLog() : { error: String(error) },
      );
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

  return middy(audit).use(injectLambdaContext(logger)).use(logMetrics(metrics));
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

/** Dependencies from process.env, built once per cold start; invalid settings throw ConfigError here. */
export function depsFromEnvironment(env = process.env): CognigyAuditHandlerDeps {
  const settings = parseCognigyAuditSettings(env);
  const logger = createLogger(SERVICE_NAME);
  const log = logSinkOf(logger);
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
    metrics: createMetrics(SERVICE_NAME),
  };
}

export const handler = lambdaEntryPoint(() => createCognigyAuditHandler(depsFromEnvironment()));
