/**
 * Logger and metrics, built once per workflow and imported by its handler and domain code.
 * Powertools writes structured JSON to stdout (CloudWatch in AWS, the terminal locally).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'IgaAutopilot';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/**
 * Emits the named counts as Count metrics. `names` maps a count to its metric name, PascalCase as
 * CloudWatch metrics are (e.g. duplicatesSuppressed → DuplicatesSuppressed); counts it leaves out
 * are not emitted. The dashboards in lib/constructs list the same names.
 */
export function addCountMetrics<K extends string>(
  metrics: Metrics,
  counts: Readonly<Record<K, number>>,
  names: Readonly<Partial<Record<K, string>>>,
): void {
  for (const [count, name] of Object.entries(names) as [K, string][]) {
    metrics.addMetric(name, MetricUnit.Count, counts[count]);
  }
}

/** The narrow logging surface domain code needs; tests pass a recorder, handlers a Powertools Logger. */
export interface LogSink {
  debug(message: string, extra?: object): void;
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

export const silentLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };

/** Powertools' Logger as the narrow LogSink that domain code (and the API clients) take. */
export function logSinkOf(logger: Logger): LogSink {
  return {
    debug: (message, extra) => logger.debug(message, { ...extra }),
    info: (message, extra) => logger.info(message, { ...extra }),
    warn: (message, extra) => logger.warn(message, { ...extra }),
    error: (message, extra) => logger.error(message, { ...extra }),
  };
}
