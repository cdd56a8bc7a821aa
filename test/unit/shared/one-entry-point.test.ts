/**
 * Every Lambda handler is exported one way (docs/handlers.md): `export const handler =
 * lambdaEntryPoint(…)`, which gives it the Lambda context in its logs, metrics flushing, optional
 * tracing, and the shared failure policy's log of a failed invocation. Nothing else wraps a handler.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';

const FUNCTIONS = path.join(__dirname, '..', '..', '..', 'functions');

/** Handlers still on their own entry code, with who moves them (see the notes of issue #12). */
const PENDING: Record<string, string> = {};

const handlers = readdirSync(FUNCTIONS)
  .filter((dir) => existsSync(path.join(FUNCTIONS, dir, 'handler.ts')))
  .map((dir) => [dir, readFileSync(path.join(FUNCTIONS, dir, 'handler.ts'), 'utf8')] as const);

describe('one way to export a handler', () => {
  it('finds the handlers', () => {
    expect(handlers.map(([dir]) => dir)).toEqual(
      expect.arrayContaining([
        'stale-token-sweep',
        'cognigy-audit',
        'absence-reassignment',
        'access-provisioning',
      ]),
    );
  });

  it.each(handlers.filter(([dir]) => !(dir in PENDING)))(
    '%s: `handler` is lambdaEntryPoint(…), and no middleware of its own',
    (_, source) => {
      expect(source).toMatch(/^export const handler = lambdaEntryPoint\(/m);
      expect(source).not.toMatch(/from '@middy\/core'|injectLambdaContext|logMetrics|captureLambdaHandler/);
      // No instance built by hand (the entry point builds, reuses and rebuilds after a failure).
      expect(source).not.toMatch(/\binstance \?\?=|reuseUntilFailure\(\(\) => create/);
    },
  );
});
