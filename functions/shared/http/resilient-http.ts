/**
 * What both HTTP clients (SailPoint, Cognigy) do around each call, in one place: the per-attempt
 * timeout and the classification of a call that got no response, the client-side rate budget
 * (bottleneck), and the retry loop (cockatiel) bounded by attempts and elapsed time that waits
 * Retry-After or backs off exponentially with jitter.
 *
 * Which errors are retried, for which requests, stays with each client (`RetryRules`, `mayRetry`):
 * SailPoint never re-sends a POST/PATCH after a 5xx or timeout, Cognigy gives up on a Retry-After
 * beyond its bound, and so on.
 *
 * A call may carry a deadline (epoch ms on `now`, e.g. the Lambda invocation's end less a reserve).
 * It bounds every wait of the call: the queue of the rate budget, Retry-After and backoff waits, and
 * each attempt's timeout. An attempt is only sent with at least `minAttemptMs` left; when the deadline
 * prevents one, the call fails with the client's deadline error (`RetryRules.deadlineError`) — nothing
 * was sent in that attempt, so the caller may give its work back uncharged. An attempt already sent
 * is cut at the deadline like a timeout (for a POST: outcome unknown, as any timeout).
 */
import Bottleneck from 'bottleneck';
import { ConstantBackoff, ExponentialBackoff, handleWhen, retry, type IBackoff } from 'cockatiel';
import { DeadlineExceededError, type DeadlineInit, type ServiceCallError } from './errors';

export interface RetryOptions {
  /** Total attempts per call, the first one included. */
  maxAttempts: number;
  /** No retry is started when elapsed time plus the next delay would exceed this. */
  maxElapsedMs: number;
  /** Initial delay of the exponential backoff (decorrelated jitter). */
  baseDelayMs: number;
  /** Upper bound of a single backoff delay. */
  maxDelayMs: number;
  /** Longest Retry-After waited as sent; a longer one is capped or given up on, per the client's
   *  `RetryRules.longRetryAfter`. */
  maxRetryAfterSeconds: number;
}

/** At most `maxRequests` per `perMs`. */
export interface RateLimit {
  maxRequests: number;
  perMs: number;
}

/**
 * A rate budget shared with other processes (e.g. sailpoint/shared-budget.ts): it decides when a call
 * under `key` may be sent. Resolves true at that time, false when no time falls before `latestStart`.
 */
export interface RateGate {
  wait(key: string, latestStart?: number): Promise<boolean>;
  /**
   * Sets aside send times for `count` calls under `key` about to be made, in one block, so they go
   * out back to back at the full rate (the calls then `wait` for them). Best effort.
   */
  reserve?(key: string, count: number, latestStart?: number): Promise<void>;
}

export interface HttpLogger {
  debug(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
}

/** The options both clients take, with the same meaning. */
export interface HttpOptions {
  /** Per HTTP attempt, body included. */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Client-side budget; undefined: the client's default; false: none. */
  rateLimit?: RateLimit | false;
  /** A budget shared with other instances; calls given a gate key wait on it instead of `rateLimit`. */
  rateGate?: RateGate;
  logger?: HttpLogger;
  /** Waits between retries; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Clock for the elapsed-time budget, deadlines and HTTP-date Retry-After; default Date.now. */
  now?: () => number;
  /** With a deadline, an attempt is only sent when at least this much is left of it. Default 1,000 ms. */
  minAttemptMs?: number;
}

/** Bounds of one call: its deadline (epoch ms on the client's clock) and the operation, for errors. */
export interface CallBounds {
  readonly deadline?: number;
  readonly operation?: string;
}

export const DEFAULT_MIN_ATTEMPT_MS = 1_000;

export interface HttpDefaults {
  retry: RetryOptions;
  timeoutMs: number;
  /** Undefined: no client-side budget unless the caller sets one. */
  rateLimit?: RateLimit;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

/** Why an attempt got no response; the client turns it into its timeout error. */
export interface NoResponse {
  /** The per-attempt timeout fired (otherwise the connection failed or was dropped). */
  timedOut: boolean;
  /** 'no response within 10000 ms' or 'connection failed or dropped before a response'. */
  detail: string;
  /** The timeout was shortened to the call's deadline, and fired. */
  deadline?: boolean;
  /** e.g. 'ECONNRESET' for a failed or dropped connection, when the runtime gave one. */
  networkCode?: string;
  cause: unknown;
}

/** What a client decides about its own errors; the loop around them is shared. */
export interface RetryRules<E extends ServiceCallError> {
  /** 'SailPoint', 'Cognigy': starts log lines and configuration errors. */
  service: string;
  /** The client's error base class: only its instances with `retryable` set are retried. */
  errorType: abstract new (...args: never[]) => E;
  /** Seconds the server asked to wait (Retry-After) with this error; undefined: exponential backoff. */
  retryAfterSeconds(error: E): number | undefined;
  /** A Retry-After above `maxRetryAfterSeconds`: wait the bound ('cap') or give up at once ('give-up'). */
  longRetryAfter: 'cap' | 'give-up';
  /** Fields added to each retry log line (e.g. a trace id). */
  logFields?(error: E): object;
  /** Fields of the '<service> call failed' line logged when the last error is thrown. */
  failureLogFields(error: E, operation: string, attempts: number): object;
  /** The client's stats; `retries` counts each retry started. */
  stats: { retries: number };
  /** The client's error for a call its deadline prevented; default: DeadlineExceededError. */
  deadlineError?(init: DeadlineInit): E;
}

export class ResilientHttp<E extends ServiceCallError> {
  private readonly timeoutMs: number;
  readonly retryOptions: RetryOptions;
  readonly logger?: HttpLogger;
  readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;
  private readonly limiter?: Bottleneck;
  readonly gate?: RateGate;
  private readonly rules: RetryRules<E>;
  readonly minAttemptMs: number;

  /** Validates the options; errors name the service and the option. */
  constructor(rules: RetryRules<E>, options: HttpOptions, defaults: HttpDefaults) {
    const { service } = rules;
    this.rules = rules;
    this.timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
    this.retryOptions = { ...defaults.retry, ...options.retry };
    const r = this.retryOptions;
    if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
      throw new Error(`${service} retry.maxAttempts must be an integer >= 1, got ${r.maxAttempts}.`);
    }
    if ([r.maxElapsedMs, r.baseDelayMs, r.maxDelayMs, r.maxRetryAfterSeconds].some((v) => !(v >= 0))) {
      throw new Error(`${service} retry delays and budgets must be numbers >= 0.`);
    }
    if (!(this.timeoutMs > 0)) throw new Error(`${service} timeoutMs must be > 0, got ${this.timeoutMs}.`);
    const rateLimit = options.rateLimit === undefined ? defaults.rateLimit : options.rateLimit;
    if (rateLimit) {
      if (!(rateLimit.maxRequests >= 1) || !(rateLimit.perMs > 0)) {
        throw new Error(`${service} rateLimit needs maxRequests >= 1 and perMs > 0.`);
      }
      this.limiter = new Bottleneck({
        reservoir: rateLimit.maxRequests,
        reservoirRefreshAmount: rateLimit.maxRequests,
        reservoirRefreshInterval: rateLimit.perMs,
        // Evenly spaced, not in bursts at each refresh: the gateway counts a sliding window, in which
        // several instances' refreshes would otherwise add up to more than their shares (429s).
        minTime: Math.floor(rateLimit.perMs / rateLimit.maxRequests),
      });
    }
    this.gate = options.rateGate;
    this.logger = options.logger;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.minAttemptMs = options.minAttemptMs ?? DEFAULT_MIN_ATTEMPT_MS;
    if (!(this.minAttemptMs >= 0)) throw new Error(`${service} minAttemptMs must be >= 0.`);
  }

  /** Milliseconds left before `deadline` (Infinity without one). */
  remainingMs(deadline: number | undefined): number {
    return deadline === undefined ? Infinity : deadline - this.now();
  }

  /** The client's error for a call (or retry) its deadline prevented. */
  deadlineError(init: DeadlineInit): Error {
    return this.rules.deadlineError?.(init) ?? new DeadlineExceededError(this.rules.service, init);
  }

  /** Throws the deadline error unless an attempt still fits before the deadline. */
  assertAttemptFits(bounds: CallBounds): void {
    const left = this.remainingMs(bounds.deadline);
    if (left >= this.minAttemptMs) return;
    throw this.deadlineError({
      operation: bounds.operation ?? 'call',
      detail: `${Math.max(0, Math.round(left))} ms left, an attempt needs at least ${this.minAttemptMs} ms`,
    });
  }

  /**
   * Waits for `promise` until the deadline (less `minAttemptMs`, after which no attempt may start);
   * then `onExpired` decides: an error to fail with now, or undefined to keep waiting (the work has
   * started and is bounded by its own timeout).
   */
  untilDeadline<T>(promise: Promise<T>, bounds: CallBounds, onExpired: () => Error | undefined): Promise<T> {
    if (bounds.deadline === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const error = onExpired();
          if (error) reject(error);
        },
        Math.max(0, this.remainingMs(bounds.deadline) - this.minAttemptMs),
      );
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Runs `task` within the client-side rate budget (at once when there is none). With a deadline,
   * the wait in the budget's queue ends at the deadline with the deadline error; the queued job then
   * never sends, and gives its slot of the budget back.
   */
  limited<T>(task: () => Promise<T>, bounds: CallBounds = {}, gateKey?: string): Promise<T> {
    if (this.gate && gateKey !== undefined) return this.gated(this.gate, gateKey, task, bounds);
    const limiter = this.limiter;
    if (!limiter) return task();
    if (bounds.deadline === undefined) return limiter.schedule(task);
    let started = false;
    let expired = false;
    const job = limiter.schedule(async () => {
      if (expired || this.remainingMs(bounds.deadline) < this.minAttemptMs) {
        expired = true;
        await limiter.incrementReservoir(1); // nothing sent: the slot is not spent
        throw this.deadlineError({
          operation: bounds.operation ?? 'call',
          detail: 'the client-side rate budget had no slot before the deadline',
        });
      }
      started = true;
      return task();
    });
    return this.untilDeadline(job, bounds, () => {
      if (started) return undefined;
      expired = true;
      return this.deadlineError({
        operation: bounds.operation ?? 'call',
        detail: 'the client-side rate budget had no slot before the deadline',
      });
    });
  }

  /** Runs `task` at the send time the shared gate gives it; none before the deadline: the deadline error. */
  private async gated<T>(
    gate: RateGate,
    key: string,
    task: () => Promise<T>,
    bounds: CallBounds,
  ): Promise<T> {
    const latestStart = bounds.deadline === undefined ? undefined : bounds.deadline - this.minAttemptMs;
    if (!(await gate.wait(key, latestStart)) || this.remainingMs(bounds.deadline) < this.minAttemptMs) {
      throw this.deadlineError({
        operation: bounds.operation ?? 'call',
        detail: 'the shared rate budget had no send time before the deadline',
      });
    }
    return task();
  }

  /**
   * One HTTP exchange, body read included, under the per-attempt timeout; redirects are returned,
   * not followed. When no response arrives, `noResponse` builds the client's error to throw.
   */
  async fetchOnce(
    url: string,
    init: RequestInit,
    noResponse: (failure: NoResponse) => Error,
    bounds: CallBounds = {},
  ): Promise<HttpResult> {
    this.assertAttemptFits(bounds);
    const timeoutMs = Math.min(this.timeoutMs, Math.max(1, Math.floor(this.remainingMs(bounds.deadline))));
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await this.fetchImpl(url, { ...init, signal, redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      const timedOut = signal.aborted || (error instanceof Error && error.name === 'TimeoutError');
      const cut = timedOut && timeoutMs < this.timeoutMs;
      throw noResponse({
        timedOut,
        ...(cut ? { deadline: true } : {}),
        detail: timedOut
          ? `no response within ${timeoutMs} ms${cut ? " (the call's deadline)" : ''}`
          : 'connection failed or dropped before a response',
        networkCode: timedOut ? undefined : networkErrorCode(error),
        cause: error,
      });
    }
  }

  /**
   * Runs `fn` under a cockatiel retry policy. A failed attempt is retried when it is one of the
   * client's retryable errors, attempts remain, `mayRetry` (the client's per-request rule) agrees,
   * and the elapsed time plus the delay stays within `maxElapsedMs`. The delay (Retry-After, or
   * exponential backoff with jitter) is chosen in the error filter and awaited through the
   * injectable `sleep` at the start of the next attempt, so tests observe exact delays without
   * real waiting. When retries are exhausted the last error is thrown.
   *
   * With a `deadline`: no attempt starts with less than `minAttemptMs` left, and a retry whose wait
   * would end after that point is not started — the call fails with the client's deadline error
   * (cause: the last attempt's error). A retry `mayRetry` refuses (a POST after a 5xx) still throws
   * that error itself, deadline or not.
   */
  async withRetry<T>(
    operation: string,
    fn: (attempt: number) => Promise<T>,
    mayRetry?: (error: E) => boolean,
    deadline?: number,
  ): Promise<T> {
    const { rules, logger } = this;
    const opts = this.retryOptions;
    const started = this.now();
    this.assertAttemptFits({ deadline, operation });
    let attempt = 0;
    let nextDelayMs = 0;
    /** The error whose retry the deadline prevented, and the wait it would have needed. */
    let prevented: { error: E; waitMs: number } | undefined;
    let backoff: IBackoff<unknown> | undefined;
    const backoffFactory = new ExponentialBackoff({
      initialDelay: opts.baseDelayMs,
      maxDelay: opts.maxDelayMs,
    });
    const nextBackoffMs = (): number => {
      backoff = backoff ? backoff.next(undefined) : backoffFactory.next();
      return Math.round(backoff.duration);
    };

    const shouldRetry = (error: unknown): boolean => {
      if (!(error instanceof rules.errorType) || !error.retryable) return false;
      if ((error as { deadlineExceeded?: boolean }).deadlineExceeded) return false; // its deadline has come
      if (attempt >= opts.maxAttempts) return false;
      if (mayRetry && !mayRetry(error)) return false;
      const extra = rules.logFields?.(error);
      const retryAfterSeconds = rules.retryAfterSeconds(error);
      let delayMs: number;
      if (retryAfterSeconds === undefined) {
        delayMs = nextBackoffMs();
      } else if (retryAfterSeconds <= opts.maxRetryAfterSeconds || rules.longRetryAfter === 'cap') {
        delayMs = Math.min(retryAfterSeconds, opts.maxRetryAfterSeconds) * 1000;
      } else {
        logger?.debug(`${rules.service} Retry-After beyond bound, not retrying`, {
          operation,
          attempt,
          retryAfterSeconds,
          ...extra,
        });
        return false;
      }
      if (this.remainingMs(deadline) < delayMs + this.minAttemptMs) {
        prevented = { error, waitMs: delayMs };
        logger?.debug(`${rules.service} retry would end after the deadline, not retrying`, {
          operation,
          attempt,
          delayMs,
          remainingMs: Math.round(this.remainingMs(deadline)),
          ...extra,
        });
        return false;
      }
      const elapsedMs = this.now() - started;
      if (elapsedMs + delayMs > opts.maxElapsedMs) {
        logger?.debug(`${rules.service} retry budget exhausted`, {
          operation,
          attempt,
          elapsedMs,
          delayMs,
          ...extra,
        });
        return false;
      }
      nextDelayMs = delayMs;
      rules.stats.retries++;
      logger?.debug(`${rules.service} retrying`, {
        operation,
        attempt,
        status: error.status,
        error: error.name,
        delayMs,
        ...extra,
      });
      return true;
    };

    const policy = retry(handleWhen(shouldRetry), {
      maxAttempts: opts.maxAttempts - 1,
      backoff: new ConstantBackoff(0), // the real delay is awaited via `sleep`, see above
    });
    try {
      return await policy.execute(async (context) => {
        attempt = context.attempt + 1;
        if (context.attempt > 0 && nextDelayMs > 0) await this.sleep(nextDelayMs);
        return fn(attempt);
      });
    } catch (error) {
      if (prevented && prevented.error === error) {
        const deadlineError = this.deadlineError({
          operation,
          detail: `the next attempt, after a wait of ${prevented.waitMs} ms, would end after the deadline (last: ${prevented.error.message})`,
          waitMs: prevented.waitMs,
          cause: error,
        });
        logger?.debug(`${rules.service} call stopped by its deadline`, { operation, attempts: attempt });
        throw deadlineError;
      }
      if (error instanceof rules.errorType) {
        // Transient failures that survived the retries are worth a warning; a 404 or 400 is the
        // caller's business (it may be expected), so it is only a debug line here.
        const log = error.retryable ? logger?.warn : logger?.debug;
        log?.call(logger, `${rules.service} call failed`, rules.failureLogFields(error, operation, attempt));
      }
      throw error;
    }
  }
}

/** Retry-After in seconds: delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

function networkErrorCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
