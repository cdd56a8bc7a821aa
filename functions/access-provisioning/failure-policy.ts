/**
 * Failure policy: how an error settles the units it concerns, and after how long a retry comes. The
 * decision is the shared one (functions/shared/failure-policy.ts, docs/handlers.md) with the access
 * rules first:
 *
 * - a deadline that stopped a call before it was sent: retried uncharged, after what did not fit;
 * - 429: retried after its Retry-After (capped by MAX_RETRY_AFTER_SECONDS); nothing was done;
 * - then the shared policy: dead-letter (400, 404, 422, a body refused before sending …) → `failed`,
 *   the message is dead-lettered with the API's text; retry (5xx, timeout, 408/409/425, DynamoDB,
 *   anything unknown) → `retrying` after TRANSIENT_RETRY_SECONDS; fail-run (401, 403, a refused
 *   credential or failed preflight) → `retrying`: the message is not to blame, so it waits on the
 *   queue (dead-lettered with the reason, which names the rights the call needs, on its last
 *   receive), and the handler stops the batch's SailPoint calls and says so (handler.ts).
 */
import { decideFailure } from '../shared/failure-policy';
import { SailPointDeadlineError, SailPointError, SailPointRateLimitError } from '../shared/sailpoint/errors';
import { errorText, iso, type ProcessorSettings } from './batch';
import type { UnitOutcome } from './outcomes';

type Settings = Pick<ProcessorSettings, 'transientRetrySeconds' | 'maxRetryAfterSeconds'>;

export function transient(
  settings: Pick<ProcessorSettings, 'transientRetrySeconds'>,
  detail: string,
  delaySeconds = settings.transientRetrySeconds,
): UnitOutcome {
  return { kind: 'retrying', detail, delaySeconds };
}

/** A unit this invocation did not reach before its deadline: returned at once, not charged. */
export function outOfTimeOutcome(
  detail = 'the invocation ran out of time before this unit was reached; retrying it',
): UnitOutcome {
  return { kind: 'retrying', detail, delaySeconds: 0, uncharged: true };
}

/** How a SailPoint (or other) error settles the units it concerns. */
export function failureOutcome(
  settings: Settings,
  error: unknown,
  doing: string,
): UnitOutcome & { kind: 'failed' | 'retrying' } {
  if (error instanceof SailPointDeadlineError) {
    // Nothing was sent: the invocation's deadline came first (a Retry-After, backoff or the rate
    // budget's queue did not fit before it).
    return {
      kind: 'retrying',
      detail: `${doing} was not sent before the invocation's deadline (${error.message}); retrying it`,
      // What did not fit (a Retry-After, a backoff) is waited out before the message comes back.
      delaySeconds: Math.min(settings.maxRetryAfterSeconds, Math.ceil((error.waitMs ?? 0) / 1000)),
      uncharged: true,
    };
  }
  if (error instanceof SailPointRateLimitError) {
    const delay = Math.min(settings.maxRetryAfterSeconds, Math.max(1, error.retryAfterSeconds || 1));
    return {
      kind: 'retrying',
      delaySeconds: delay,
      detail: `rate limited while ${doing}; retry after ${delay} s`,
    };
  }
  const decision = decideFailure(error);
  switch (decision.action) {
    case 'dead-letter':
      return { kind: 'failed', detail: `SailPoint refused it: ${decision.reason}` };
    case 'fail-run':
      return {
        kind: 'retrying',
        delaySeconds: settings.transientRetrySeconds,
        detail: `the SailPoint credential was refused while ${doing}: ${decision.reason}`,
      };
    case 'retry':
      return {
        kind: 'retrying',
        delaySeconds: settings.transientRetrySeconds,
        detail: error instanceof SailPointError ? decision.reason : `${doing} failed: ${errorText(error)}`,
      };
  }
}

/** Whether a failed POST may still have created the request (5xx, timeout, unknown error). */
export function mayHaveReachedSailPoint(error: unknown): boolean {
  return !(error instanceof SailPointError) || error.outcomeUnknown;
}

/**
 * The retry of a unit whose POST may have reached SailPoint reconciles it: it comes no earlier than
 * SailPoint can list the request (STATUS_SETTLE_SECONDS after the attempt's end), or the receive is
 * wasted on "not listed yet".
 */
export function retryOnceDecidable(
  outcome: UnitOutcome & { kind: 'retrying' | 'waiting' },
  attemptUntil: number,
  deps: { readonly settings: Pick<ProcessorSettings, 'statusSettleMs'>; readonly clock: () => number },
): UnitOutcome {
  const decidableIn = Math.ceil((attemptUntil + deps.settings.statusSettleMs - deps.clock()) / 1000);
  return { ...outcome, delaySeconds: Math.max(outcome.delaySeconds ?? 0, decidableIn) };
}

/**
 * A message naming an identity Search has no document for: Search lags (a joiner shows minutes after
 * being created), so it is retried with backoff until UNKNOWN_IDENTITY_RETRY_MINUTES after it was
 * sent, the delays doubling so that its receives left span the rest of the window; after that, or on
 * its last receive, it is invalid (dead-lettered as naming an unknown identity).
 */
export function unknownIdentityVerdict(
  message: { readonly sentAt: number; readonly receiveCount: number },
  identityId: string,
  now: number,
  settings: Pick<ProcessorSettings, 'unknownIdentityWindowMs' | 'maxReceiveCount'>,
): { readonly invalid: string } | { readonly retry: string; readonly delaySeconds: number } {
  const until = message.sentAt + settings.unknownIdentityWindowMs;
  const receivesLeft = settings.maxReceiveCount - message.receiveCount;
  if (now >= until || receivesLeft <= 0) {
    const waited =
      settings.unknownIdentityWindowMs > 0
        ? `, ${Math.round((now - message.sentAt) / 60_000)} min after the message was sent`
        : '';
    return {
      invalid: `invalid message: unknown identity ${identityId} (SailPoint Search has no such identity${waited})`,
    };
  }
  // Delays d, 2d, 4d … over the receives left add up to the rest of the window.
  const delaySeconds = Math.max(1, Math.ceil((until - now) / (2 ** receivesLeft - 1) / 1000));
  return {
    retry:
      `identity ${identityId} is not in SailPoint Search yet (a new identity shows there minutes after it is ` +
      `created): retrying until ${iso(until)}, then the message is dead-lettered as naming an unknown identity`,
    delaySeconds,
  };
}
