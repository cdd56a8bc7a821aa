/**
 * What a failure means, decided in one place for every workflow (docs/handlers.md, "Failure policy"):
 *
 *   retry        the same work may succeed later: 5xx, timeouts, dropped connections, 408/409/425,
 *                429 (after its Retry-After), a deadline that stopped a call before it was sent,
 *                DynamoDB or SQS hiccups, and anything unknown (never dropped);
 *   dead-letter  retrying cannot help: the item itself is refused — invalid input, SailPoint's or
 *                Cognigy's other 4xx (400, 404, 422…), an answer we cannot read; it goes aside with
 *                the reason;
 *   fail-run     nothing else in this run can succeed either: the credential is refused or lacks a
 *                right (401, 403, a failed rights preflight), a bad setting; stop, and let the
 *                invocation fail so its alarm fires.
 *
 * 403 is fail-run everywhere: SailPoint documents it as "the user you are running as doesn't have
 * access to this end-point" — the credential's fault, not the item's; the reason names the rights
 * the refused operation needs (sailpoint/rights.ts). A queue message therefore
 * waits (retried, then dead-lettered on its last receive with the reason) instead of every message
 * of the queue being dead-lettered until someone fixes the PAT.
 *
 * A queue handler turns the decision into its message's outcome (`messageOutcomeOf`, or
 * `outcomeOfError` in one step: a failed run keeps the message, which is not to blame); a scheduled
 * run goes on with its next item after a retry or dead-letter (the item is counted as failed and
 * the next run takes it up) and stops at once on fail-run. A workflow with a rule of its own passes
 * it first (`decideFailure(error, [myRule])`); rules answer undefined for errors they do not know.
 */
import { ConfigError } from './config';
import { ServiceCallError } from './http';
import type { MessageOutcome } from './queue/outcomes';
import { SailPointAuthError, SailPointError } from './sailpoint/errors';
import { isSailPointOperation, rightsNeededFor } from './sailpoint/rights';

export type FailureDecision =
  | { readonly action: 'retry'; readonly reason: string; readonly delaySeconds?: number }
  | { readonly action: 'dead-letter'; readonly reason: string }
  | { readonly action: 'fail-run'; readonly reason: string };

/** One rule: a decision for the errors it recognises, undefined for the others. */
export type FailureRule = (error: unknown) => FailureDecision | undefined;

/** Throw from per-item code when the item itself is bad: retrying cannot help (dead-letter). */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}

/** Throw when the item is fine but must wait (e.g. a rate limit with a known reset time). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    message: string,
    readonly delaySeconds?: number,
  ) {
    super(message);
  }
}

/** Throw when the credential cannot do this workflow's work at all (a failed preflight): fail-run. */
export class CredentialRefusedError extends Error {
  override readonly name: string = 'CredentialRefusedError';
}

/** Statuses that say "not now" rather than "never": timeout, conflicting change, too early. */
const TRANSIENT_CLIENT_STATUSES = new Set([408, 409, 425]);

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A service's "wait this long" (SailPoint's and Cognigy's rate-limit errors carry it). */
function retryAfterOf(error: ServiceCallError): number | undefined {
  const e = error as { hasRetryAfter?: boolean; retryAfterSeconds?: number };
  if (e.hasRetryAfter === false) return undefined; // SailPoint's: 0 stands for "no header"
  return typeof e.retryAfterSeconds === 'number' ? e.retryAfterSeconds : undefined;
}

const retry = (reason: string, delaySeconds?: number): FailureDecision => ({
  action: 'retry',
  reason,
  ...(delaySeconds === undefined ? {} : { delaySeconds }),
});

/**
 * A 403 from one of our SailPoint operations names the rights that operation needs (rights.ts), so
 * the log line and the dead letter say what to give the credential; other refusals keep their text.
 */
function refusalReason(error: ServiceCallError): string {
  if (error.status !== 403 || !(error instanceof SailPointError) || !isSailPointOperation(error.operation))
    return error.message;
  return (
    `${error.message} — the credential lacks a right ${error.operation} needs: ` +
    `${rightsNeededFor(error.operation)} (docs/deployment.md, "SailPoint rights")`
  );
}

/** The rules every workflow shares, in order. */
export const DEFAULT_FAILURE_RULES: readonly FailureRule[] = [
  (error) =>
    error instanceof PermanentMessageError ? { action: 'dead-letter', reason: error.message } : undefined,
  (error) => (error instanceof RetryLaterError ? retry(error.message, error.delaySeconds) : undefined),
  (error) =>
    error instanceof ConfigError || error instanceof CredentialRefusedError
      ? { action: 'fail-run', reason: error.message }
      : undefined,
  (error) => {
    if (!(error instanceof ServiceCallError)) return undefined;
    // Credentials or rights: also the token endpoint's refusal of the client (a SailPointAuthError,
    // whatever its status) and the rights preflight (a SailPointAuthError without a status).
    if (error instanceof SailPointAuthError || error.status === 401 || error.status === 403) {
      return { action: 'fail-run', reason: refusalReason(error) };
    }
    if (error.status === 429) return retry(error.message, retryAfterOf(error));
    if (error.status !== undefined && TRANSIENT_CLIENT_STATUSES.has(error.status))
      return retry(error.message);
    // 5xx, timeouts, dropped connections, deadlines: transient. 400, 404, an unreadable answer: not.
    return error.retryable ? retry(error.message) : { action: 'dead-letter', reason: error.message };
  },
];

/** The decision for `error`: the workflow's own rules first, then the shared ones; unknown errors retry. */
export function decideFailure(error: unknown, rules: readonly FailureRule[] = []): FailureDecision {
  for (const rule of [...rules, ...DEFAULT_FAILURE_RULES]) {
    const decision = rule(error);
    if (decision) return decision;
  }
  return retry(reasonOf(error));
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

/** An error thrown while handling one message, as that message's outcome (the policy above). */
export function outcomeOfError(error: unknown, rules: readonly FailureRule[] = []): MessageOutcome {
  return messageOutcomeOf(decideFailure(error, rules));
}
