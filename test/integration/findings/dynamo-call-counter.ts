/**
 * Counts the DynamoDB calls that reach the wire, by operation, independently of the store's own
 * counters (a test that counted with the code under test could not catch it miscounting).
 * Can also fail chosen calls, to simulate a crash between two steps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const WRITE_OPERATIONS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

export interface DynamoCallCounter {
  readonly calls: Record<string, number>;
  writes(): number;
  reset(): void;
  /** The next `times` calls for which `match` is true throw `error` before reaching DynamoDB. */
  failNext(
    match: (operation: string, input: Record<string, unknown>) => boolean,
    error: Error,
    times?: number,
  ): void;
}

export function countDynamoCalls(client: DynamoDBClient): DynamoCallCounter {
  const calls: Record<string, number> = {};
  const failures: {
    match: (op: string, input: Record<string, unknown>) => boolean;
    error: Error;
    left: number;
  }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName);
      const failure = failures.find(
        (f) => f.left > 0 && f.match(operation, args.input as Record<string, unknown>),
      );
      if (failure) {
        failure.left--;
        throw failure.error;
      }
      calls[operation] = (calls[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'testCallCounter' },
  );
  return {
    calls,
    writes: () =>
      Object.entries(calls).reduce((n, [op, count]) => n + (WRITE_OPERATIONS.has(op) ? count : 0), 0),
    reset: () => {
      for (const key of Object.keys(calls)) delete calls[key];
    },
    failNext: (match, error, times = 1) => failures.push({ match, error, left: times }),
  };
}
