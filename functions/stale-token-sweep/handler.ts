/**
 * Lambda entry point of the stale personal-access-token sweep: invoked daily by an EventBridge
 * schedule, or on demand (`{}` or `{"dryRun": true}` to force a dry run even when revocation is on).
 *
 * Thin: parse the event, run the sweep (sweep.ts), log the summary, emit one metric per count.
 * The invocation fails (so Lambda's Errors metric and alarms see it) when the sweep reports errors;
 * everything the run could write is written first, and rerunning is always safe.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { createDocumentClient, createSnsClient } from '../shared/aws';
import type { Env } from '../shared/config';
import { FindingsStore, sailPointOwnerDirectory, type OwnerDirectory } from '../shared/findings';
import { isScheduledRuleEvent, parseInvocation, ScheduledRuleEventSchema } from '../shared/invocation';
import { lambdaEntryPoint, reuseUntilFailure, handlerTools, type HandlerTools } from '../shared/lambda';
import { SnsNotifier, verifyTopic, type Notifier } from '../shared/notifier';
import { logSinkOf } from '../shared/observability';
import {
  createSailPointClientFromEnv,
  sailPointApiUrlFromSettings,
  withRightsPreflight,
  WORKFLOW_OPERATIONS,
  type SailPointClientStats,
} from '../shared/sailpoint';
import { TABLES } from '../shared/tables';
import { compileExemption } from './exemptions';
import { DynamoExemptionStore, type ExemptionSource } from './exemption-store';
import type { StaleTokenPolicy } from './policy';
import { parseStaleTokenSweepSettings, policyFromSettings } from './settings';
import { runStaleTokenSweep, type SweepCounts, type SweepSummary } from './sweep';
import { sweepReportWriter, type SweepReportWriter } from './report';
import { sailPointTokenDirectory, type TokenDirectory } from './token-directory';

export const SERVICE_NAME = 'stale-token-sweep';

export interface SailPointConnection {
  readonly tokens: TokenDirectory;
  /** Owners' display names and e-mails (identity documents); findings name the token owner without it. */
  readonly owners?: OwnerDirectory;
  /** The client's counters, logged per run when present. */
  readonly stats?: SailPointClientStats;
}

export interface StaleTokenSweepHandlerDeps {
  readonly policy: StaleTokenPolicy;
  /** Builds the SailPoint side (reads the credentials secret in AWS); called once, then reused. */
  readonly connect: () => Promise<SailPointConnection>;
  readonly findings: FindingsStore;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Exemptions kept as data (`iga exemptions`), read on every run on top of the policy's own. */
  readonly exemptions?: ExemptionSource;
  readonly clock?: () => Date;
  readonly newRunId?: () => string;
  /** Writes the governance report after each run (REPORT_BUCKET); unset: no report. */
  readonly writeReport?: SweepReportWriter;
}

/**
 * What may invoke the sweep, strictly and bounded (shared/invocation.ts): an unknown key or a
 * non-boolean `dryRun` is refused, never ignored — a misspelt `{"dry_run": true}` must not run in
 * revoke mode.
 *   - the stack's schedule, an operator or the local runner: {"trigger"?: "schedule" | "manual", "dryRun"?: boolean}
 *   - an EventBridge rule's scheduled event: its envelope, "detail-type": "Scheduled Event"
 */
const OnDemandEventSchema = z.strictObject({
  trigger: z.enum(['schedule', 'manual']).optional(),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
});

/** Parses the invocation payload; refuses anything else, naming what is wrong. */
export function parseSweepEvent(event: unknown): { readonly dryRun: boolean } {
  const input = event ?? {};
  const parsed = parseInvocation(
    isScheduledRuleEvent(input) ? ScheduledRuleEventSchema : OnDemandEventSchema,
    input,
    'stale-token-sweep: the event must be {"trigger": "schedule"}, {} or {"dryRun": true|false}, or an ' +
      'EventBridge "Scheduled Event"',
  );
  return { dryRun: 'dryRun' in parsed && parsed.dryRun === true };
}

export class StaleTokenSweepFailedError extends Error {
  override readonly name = 'StaleTokenSweepFailedError';
  constructor(readonly summary: SweepSummary) {
    super(
      `stale-token sweep ${summary.runId} failed (${summary.errors.length} error(s); findings written so far are kept, ` +
        `rerunning is safe): ${summary.errors.slice(0, 3).join('; ')}`,
    );
  }
}

export type StaleTokenSweepHandler = (
  event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<SweepSummary>;

/** The sweep as a function of its dependencies; the Lambda entry point (below) adds logging context and metrics flushing. */
export function createStaleTokenSweepHandler(deps: StaleTokenSweepHandlerDeps): StaleTokenSweepHandler {
  const connect = reuseUntilFailure(deps.connect); // a failed secret read is retried by the next invocation
  const { logger, metrics } = deps;

  const sweep: StaleTokenSweepHandler = async (event, context) => {
    const { dryRun } = parseSweepEvent(event);
    const base = dryRun
      ? { ...deps.policy, revocation: { ...deps.policy.revocation, enabled: false } }
      : deps.policy;
    // Read before anything else: a sweep that cannot read its exemptions must not flag or revoke.
    const stored = (await deps.exemptions?.load()) ?? [];
    const policy = { ...base, exemptions: [...base.exemptions, ...stored.map(compileExemption)] };
    const { tokens, owners, stats } = await connect();
    const before = stats ? { ...stats } : undefined;

    const summary = await runStaleTokenSweep({
      tokens,
      owners,
      findings: deps.findings,
      notifier: deps.notifier,
      policy,
      log: logSinkOf(logger),
      clock: deps.clock,
      newRunId: deps.newRunId,
      ...(context?.getRemainingTimeInMillis
        ? { remainingTimeMs: () => context.getRemainingTimeInMillis() }
        : {}),
    });

    emitMetrics(metrics, summary.counts, summary.status);
    const http =
      stats && before
        ? { httpRequests: stats.httpRequests - before.httpRequests, retries: stats.retries - before.retries }
        : undefined;
    logger.info('stale-token sweep summary', { summary, ...(http ? { sailPointHttp: http } : {}) });
    // A run cut short for time keeps its last seconds (the reserve) for the timeout, not for a report:
    // it fails, and the run that finishes the work writes the report.
    const cutShort = summary.counts.leftForNextRun > 0;
    if (deps.writeReport && cutShort)
      logger.warn('report left to the next run: this run stopped short of time');
    const reportFailure =
      deps.writeReport && !cutShort ? await writeReport(deps.writeReport, owners) : undefined;
    if (summary.status === 'failed') throw new StaleTokenSweepFailedError(summary);
    if (reportFailure) throw reportFailure;
    return summary;
  };

  /**
   * The report shows the state the run left. A failure is logged and returned: it fails the invocation
   * (so alarms see it) once the run's own work is done, without hiding a failure of the run itself.
   */
  const writeReport = async (
    write: SweepReportWriter,
    owners: OwnerDirectory | undefined,
  ): Promise<Error | undefined> => {
    try {
      const keys = await write({
        now: (deps.clock ?? (() => new Date()))(),
        revocation: deps.policy.revocation,
        ...(owners ? { people: owners } : {}),
      });
      metrics.addMetric('ReportWritten', MetricUnit.Count, 1);
      logger.info('governance report written', { objects: keys.length, report: keys[0] });
      return undefined;
    } catch (error) {
      metrics.addMetric('ReportWritten', MetricUnit.Count, 0);
      const failure = new Error(
        `stale-token sweep: the run's work is done, but writing the report failed (the next run writes it): ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
      logger.error(failure.message);
      return failure;
    }
  };

  return sweep;
}

/** Metric names are the summary's count names, capitalised (e.g. NewFindings, FindingWrites). */
function emitMetrics(metrics: Metrics, counts: SweepCounts, status: SweepSummary['status']): void {
  for (const [name, value] of Object.entries(counts)) {
    metrics.addMetric(name[0]!.toUpperCase() + name.slice(1), MetricUnit.Count, value);
  }
  metrics.addMetric('SweepFailed', MetricUnit.Count, status === 'failed' ? 1 : 0);
}

/**
 * Dependencies from the environment, built once per instance (no I/O: the SailPoint side is
 * connected on the first invocation); invalid settings, the API host included, throw ConfigError.
 */
export function depsFromEnvironment(
  env: Env = process.env,
  tools: HandlerTools = handlerTools(SERVICE_NAME, env),
): StaleTokenSweepHandlerDeps {
  const settings = parseStaleTokenSweepSettings(env);
  sailPointApiUrlFromSettings(settings); // a host not allowed stops the cold start, before any secret is read
  const { logger, metrics, log } = tools;
  const sns = createSnsClient();
  return {
    policy: policyFromSettings(settings),
    connect: async () => {
      // A topic that does not exist stops the first invocation with a ConfigError naming the setting.
      await verifyTopic(sns, settings.NOTIFICATIONS_TOPIC_ARN);
      const client = await createSailPointClientFromEnv(env, { logger: log });
      // Preflight: a credential without the rights the sweep needs fails here, naming them.
      const checked = withRightsPreflight(
        client,
        WORKFLOW_OPERATIONS.staleTokenSweep(settings.STALE_TOKEN_REVOKE),
      );
      await checked.tokenInfo();
      return {
        tokens: sailPointTokenDirectory(checked),
        // Optional (not in the preflight): without Search read, owners stay unnamed and the run goes on.
        owners: sailPointOwnerDirectory(checked, log),
        stats: client.stats,
      };
    },
    findings: new FindingsStore({
      doc: createDocumentClient(),
      tableName: settings[TABLES.findings.envVar] as string,
      log,
    }),
    exemptions: new DynamoExemptionStore(createDocumentClient(), settings[TABLES.findings.envVar] as string),
    notifier: new SnsNotifier(sns, settings.NOTIFICATIONS_TOPIC_ARN),
    logger,
    metrics,
    writeReport: sweepReportWriter(settings, env.AWS_LAMBDA_FUNCTION_NAME ?? SERVICE_NAME),
  };
}

export const handler = lambdaEntryPoint({
  service: SERVICE_NAME,
  init: (tools, env) => depsFromEnvironment(env, tools),
  start: (deps) => createStaleTokenSweepHandler(deps),
});
