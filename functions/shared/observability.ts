/**
 * Logger and metrics, built once per workflow and imported by its handler and domain code.
 * Powertools writes structured JSON to stdout (CloudWatch in AWS, the terminal locally).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'IgaAutopilot';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
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
