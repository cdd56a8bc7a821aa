/**
 * What a failure means, decided in one place for every workflow:
 *
 *   retry        the same work may succeed later (a 5xx, a timeout, a 429 — after its Retry-After —,
 *                DynamoDB hiccups, anything unknown: never dropped);
 *   dead-letter  retrying cannot help: the item itself is refused (invalid input, SailPoint's 400 or
 *                404, an answer we cannot read); it goes aside with the reason;
 *   fail-run     nothing else in this run can succeed either (credentials refused, missing rights, a
 *                bad setting): stop, and let the invocation fail so its alarm fires.
 *
 * A queue handler turns the decision into its message's outcome (`messageOutcomeOf`: a failed run
 * keeps the message, which is not to blame); a scheduled run goes on with its next item after a
 * retry or dead-letter, and stops at once on fail-run. A workflow with a rule of its own passes it
 * first (`decideFailure(error, [myRule])`); rules answer undefined for errors they do not know.
 */
import { ConfigError } from './config';
import { ServiceCallError } from './http';
import { PermanentMessageError, RetryLaterError, type MessageOutcome } from './queue/outcomes';
import { SailPointAuthError } from './sailpoint/errors';

export type FailureDecision =
  | { readonly action: 'retry'; readonly reason: string; readonly delaySeconds?: number }
  | { readonly action: 'dead-letter'; readonly reason: string }
  | { readonly action: 'fail-run'; readonly reason: string };

/** One rule: a decision for the errors it recognises, undefined for the others. */
export type FailureRule = (error: unknown) => FailureDecision | undefined;

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A service's "wait this long" (SailPoint's and Cognigy's rate-limit errors carry it). */
function retryAfterOf(error: ServiceCallError): number | undefined {
  const e = error as { hasRetryAfter?: boolean; retryAfterSeconds?: number };
  if (e.hasRetryAfter === false) return undefined; // SailPoint's: 0 stands for "no header"
  return typeof e.retryAfterSeconds === 'number' ? e.retryAfterSeconds : undefined;
}

/** The rules every workflow shares, in order. */
export const DEFAULT_FAILURE_RULES: readonly FailureRule[] = [
  (error) =>
    error instanceof PermanentMessageError ? { action: 'dead-letter', reason: error.message } : undefined,
  (error) =>
    error instanceof RetryLaterError
      ? {
          action: 'retry',
          reason: error.message,
          ...(error.delaySeconds === undefined ? {} : { delaySeconds: error.delaySeconds }),
        }
      : undefined,
  (error) => (error instanceof ConfigError ? { action: 'fail-run', reason: error.message } : undefined),
  (error) => {
    if (!(error instanceof ServiceCallError)) return undefined;
    // Credentials or rights: every other call of the run would be refused the same way.
    if (error instanceof SailPointAuthError || error.status === 401 || error.status === 403) {
      return { action: 'fail-run', reason: error.message };
    }
    if (error.status === 429) {
      const delaySeconds = retryAfterOf(error);
      return {
        action: 'retry',
        reason: error.message,
        ...(delaySeconds === undefined ? {} : { delaySeconds }),
      };
    }
    // 5xx, timeouts, dropped connections: transient. 400, 404, an unreadable answer: not.
    return error.retryable
      ? { action: 'retry', reason: error.message }
      : { action: 'dead-letter', reason: error.message };
  },
];

/** The decision for `error`: the workflow's own rules first, then the shared ones; unknown errors retry. */
export function decideFailure(error: unknown, rules: readonly FailureRule[] = []): FailureDecision {
  for (const rule of [...rules, ...DEFAULT_FAILURE_RULES]) {
    const decision = rule(error);
    if (decision) return decision;
  }
  return { action: 'retry', reason: reasonOf(error) };
}

/**
 * A queue message's outcome. fail-run keeps the message for a retry (on its last receive the shared
 * settlement dead-letters it with the reason): the message is fine, the run could not work.
 */
export function messageOutcomeOf(decision: FailureDecision): MessageOutcome {
  switch (decision.action) {
    case 'dead-letter':
      return { status: 'dead-letter', reason: decision.reason };
    case 'retry':
      return {
        status: 'retry',
        reason: decision.reason,
        ...(decision.delaySeconds === undefined ? {} : { delaySeconds: decision.delaySeconds }),
      };
    case 'fail-run':
      return { status: 'retry', reason: decision.reason };
  }
}
