/**
 * Logger, metrics and (optional) tracer: one set per function instance, built by the entry point
 * (lambda.ts) and handed to the handler and its domain code. Powertools writes structured JSON to
 * stdout (CloudWatch in AWS, the terminal locally).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import * as z from 'zod';
import { parseSettings, setting, type Env } from './config';

export const METRICS_NAMESPACE = 'IgaAutopilot';

/** Powertools' log levels (case-insensitive, as Powertools reads them). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** The settings every function reads for its logs and traces (the stack sets them; docs/handlers.md). */
export const observabilitySettings = z.object({
  LOG_LEVEL: z
    .string()
    .transform((level) => level.toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  /** X-Ray tracing through Powertools Tracer (the stack sets it with `lambda.tracing`, and turns on active tracing). */
  POWERTOOLS_TRACE_ENABLED: setting.boolean(false),
});
export type ObservabilitySettings = z.infer<typeof observabilitySettings>;

export function createLogger(serviceName: string, env: Env = process.env): Logger {
  const { LOG_LEVEL } = parseSettings(observabilitySettings, pick(env, 'LOG_LEVEL'));
  return new Logger({ serviceName, logLevel: LOG_LEVEL });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/**
 * The process's tracer while tracing is on (X-Ray is per process); AWS SDK clients created after it
 * are captured (`traced`), and `fetch` calls (SailPoint, Cognigy) become subsegments by themselves.
 */
let activeTracer: Tracer | undefined;

/** A Powertools Tracer when POWERTOOLS_TRACE_ENABLED is true, else undefined (no X-Ray work at all). */
export function createTracer(serviceName: string, env: Env = process.env): Tracer | undefined {
  const { POWERTOOLS_TRACE_ENABLED } = parseSettings(
    observabilitySettings,
    pick(env, 'POWERTOOLS_TRACE_ENABLED'),
  );
  if (!POWERTOOLS_TRACE_ENABLED) return undefined;
  // Loaded only when tracing is on: loading the X-Ray SDK installs a process-wide async hook
  // (cls-hooked) that makes every promise of the process ~10× dearer, traced or not. `require`, not
  // `import()`: esbuild inlines it (or, bundled without tracing, its stand-in), and jest's CommonJS
  // runtime can load it too.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Tracer } =
    require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
  /* eslint-enable @typescript-eslint/no-require-imports */
  activeTracer = new Tracer({ serviceName, enabled: true, captureHTTPsRequests: true });
  return activeTracer;
}

/** The client, its calls recorded as X-Ray subsegments while tracing is on; unchanged otherwise. */
export function traced<T>(client: T): T {
  return activeTracer ? activeTracer.captureAWSv3Client(client) : client;
}

const pick = (env: Env, key: string): Env => (env[key] === undefined ? {} : { [key]: env[key] });

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
