/**
 * What a function bundle holds in place of `@aws-lambda-powertools/tracer` when the stack is
 * deployed without tracing (lib/bundling.ts aliases the package here): the X-Ray SDK is ~125 KB of
 * every bundle and of its cold start, for a setting that is off by default. Nothing here runs unless
 * a bundle built without tracing is told to trace (POWERTOOLS_TRACE_ENABLED set by hand): then the
 * cold start fails, naming the setting to change instead.
 */
import { ConfigError } from '../config';

export class Tracer {
  constructor() {
    throw new ConfigError([
      {
        setting: 'POWERTOOLS_TRACE_ENABLED',
        message:
          'this function was bundled without the tracer: deploy with igaAutopilot.lambda.tracing=true ' +
          'instead of setting the variable by hand',
      },
    ]);
  }
}
