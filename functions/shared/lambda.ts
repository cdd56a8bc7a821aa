/**
 * The one way a Lambda handler is exported (docs/handlers.md):
 *
 *   export const handler = lambdaEntryPoint({
 *     service: SERVICE_NAME,
 *     // No I/O: settings and what can be checked from them. In Lambda this runs at init, so a bad
 *     // setting fails the cold start with a ConfigError naming it.
 *     init: (tools, env) => loadMySettings(env),
 *     // May do I/O (read a secret, check a topic). Runs on the first invocation; a failure is not
 *     // kept: the next invocation runs it again (a Secrets Manager hiccup does not break the instance).
 *     start: (settings, tools) => createMyHandler({ ...settings, log: tools.log, metrics: tools.metrics }),
 *   });
 *
 * Every invocation then runs inside the same middleware: Powertools Logger with the Lambda context
 * (function_request_id, cold_start, function_name, xray_trace_id on every line; keys appended during
 * an invocation removed after it), metrics flushed after it, and, when POWERTOOLS_TRACE_ENABLED is
 * true, an X-Ray subsegment per invocation (responses are not recorded). An invocation that throws
 * is logged once with what the shared failure policy makes of the error (failure-policy.ts), then
 * rethrown so Lambda's retries, DLQs and alarms see it.
 *
 * Outside Lambda (tests, the local runner) nothing runs at import: `init` runs on the first call.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Env } from './config';
import { decideFailure } from './failure-policy';
import { createLogger, createMetrics, createTracer, logSinkOf, type LogSink } from './observability';

/** What a handler logs, measures and traces with: one set per function instance. */
export interface HandlerTools {
  /** Carries the Lambda context on every line (the entry point injects it per invocation). */
  readonly logger: Logger;
  /** The same logger, as the narrow sink domain code takes. */
  readonly log: LogSink;
  /** Flushed after every invocation. */
  readonly metrics: Metrics;
  /** Set only while tracing is on (POWERTOOLS_TRACE_ENABLED=true). */
  readonly tracer?: Tracer;
}

export type LambdaFunction<E, R> = (event: E, context: Context) => Promise<R>;

export interface EntryPoint<S, E, R> {
  /** The Powertools service name (log field `service`, metrics dimension, X-Ray segment). */
  readonly service: string;
  /** No I/O; in Lambda at init. Throw ConfigError for a bad setting. */
  init(tools: HandlerTools, env: Env): S;
  /** Builds the handler; may do I/O. On the first invocation, again after a failure. */
  start(initialised: S, tools: HandlerTools): LambdaFunction<E, R> | Promise<LambdaFunction<E, R>>;
}

/** Tools for `service`, from the environment (LOG_LEVEL, POWERTOOLS_TRACE_ENABLED; ConfigError when bad). */
export function handlerTools(service: string, env: Env = process.env): HandlerTools {
  const logger = createLogger(service, env);
  const tracer = createTracer(service, env);
  return { logger, log: logSinkOf(logger), metrics: createMetrics(service), ...(tracer ? { tracer } : {}) };
}

/**
 * `create` run once and its result reused by every later call. A failure is not kept: the next call
 * runs `create` again, so a transient error (e.g. reading a secret) does not break the instance for good.
 */
export function reuseUntilFailure<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * The function's handler (see the top of this file). `env` and `tools` are for the local runner and
 * tests, which build the same handler with their own environment.
 */
export function lambdaEntryPoint<S, E, R>(
  entry: EntryPoint<S, E, R>,
  env: Env = process.env,
  tools: HandlerTools = handlerTools(entry.service, env),
): LambdaFunction<E, R> {
  const initialise = () => entry.init(tools, env);
  let initialised: { value: S } | undefined = env.AWS_LAMBDA_FUNCTION_NAME
    ? { value: initialise() }
    : undefined;
  const started = reuseUntilFailure(async () => {
    initialised ??= { value: initialise() };
    return entry.start(initialised.value, tools);
  });

  const invoke = async (event: E, context: Context): Promise<R> => {
    try {
      return await (
        await started()
      )(event, context);
    } catch (error) {
      const failure = decideFailure(error);
      tools.logger.error('invocation failed', { failure, error });
      throw error;
    }
  };

  const wrapped = middy(invoke);
  if (tools.tracer) wrapped.use(captureLambdaHandler(tools.tracer, { captureResponse: false }));
  wrapped.use(injectLambdaContext(tools.logger, { resetKeys: true })).use(logMetrics(tools.metrics));
  return wrapped as unknown as LambdaFunction<E, R>;
}
