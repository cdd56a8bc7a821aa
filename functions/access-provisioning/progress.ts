/**
 * Whether a deployment can make progress: the model both the workflow (chunks.ts, workflow.ts) and the
 * stack's synth-time check (lib/stack-config.ts) use.
 *
 * An invocation with a full batch has, for SailPoint calls, its timeout less TIME_RESERVE_SECONDS and
 * the time kept to settle the batch (SETTLE_MS_PER_MESSAGE per message). In that window the instance's
 * client-side budget allows `requestsPer10s × window / 10 s` calls. Work is chunked so that any batch
 * moves forward as long as that is at least one chunk's worth: one Search call, one status read and one
 * POST (a message's units are submitted over as many invocations as they need).
 */
import { SETTLE_MS_PER_MESSAGE } from './batch';

/** The smallest chunk: one Search call, one status read, one POST. */
export const MIN_CALLS_PER_INVOCATION = 3;

export interface InvocationShape {
  readonly timeoutSeconds: number;
  readonly timeReserveSeconds: number;
  readonly batchSize: number;
  /** The instance's client-side budget (requests per 10 s); 0: none. */
  readonly requestsPer10s: number;
}

/** The time a full batch leaves for SailPoint calls, and the calls the budget allows in it. */
export function invocationCapacity(shape: InvocationShape): { callWindowMs: number; calls: number } {
  const callWindowMs =
    shape.timeoutSeconds * 1000 - shape.timeReserveSeconds * 1000 - SETTLE_MS_PER_MESSAGE * shape.batchSize;
  const calls =
    callWindowMs <= 0
      ? 0
      : shape.requestsPer10s > 0
        ? Math.floor((shape.requestsPer10s * callWindowMs) / 10_000)
        : Infinity;
  return { callWindowMs, calls };
}

/**
 * Why an invocation of this shape could not make progress, naming what to change: `names` maps each
 * input to the setting that holds it (as the caller's configuration spells it).
 */
export function progressProblems(
  shape: InvocationShape,
  names: Record<keyof InvocationShape, string>,
): { setting: string; message: string }[] {
  const { callWindowMs, calls } = invocationCapacity(shape);
  if (callWindowMs <= 0) {
    return [
      {
        setting: names.batchSize,
        message:
          `a batch of ${shape.batchSize} leaves no time for SailPoint calls: ${names.timeoutSeconds} ` +
          `(${shape.timeoutSeconds} s) less ${names.timeReserveSeconds} (${shape.timeReserveSeconds} s) and ` +
          `${SETTLE_MS_PER_MESSAGE} ms per message to settle the batch is ${callWindowMs} ms: lower the batch ` +
          'size or raise the timeout',
      },
    ];
  }
  if (calls < MIN_CALLS_PER_INVOCATION) {
    return [
      {
        setting: names.requestsPer10s,
        message:
          `${shape.requestsPer10s} requests per 10 s per instance allow ${calls} SailPoint call(s) in the ` +
          `${Math.floor(callWindowMs / 1000)} s an invocation has for them (${names.timeoutSeconds} less ` +
          `${names.timeReserveSeconds} and the time to settle a batch of ${shape.batchSize}); one chunk of work ` +
          `needs ${MIN_CALLS_PER_INVOCATION} (a Search read, a status read, a POST): raise the budget, lower the ` +
          'concurrency sharing it, or raise the timeout',
      },
    ];
  }
  return [];
}
