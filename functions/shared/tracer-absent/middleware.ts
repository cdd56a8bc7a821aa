/** `@aws-lambda-powertools/tracer/middleware` in a bundle built without tracing (see ./index.ts): never reached. */
export { Tracer as captureLambdaHandler } from './index';
