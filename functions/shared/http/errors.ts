/**
 * The part every typed error of our HTTP clients shares: the logical operation, the HTTP status
 * (absent when no response arrived) and whether the same call may succeed later, which each error
 * class defaults (a rate limit is retryable, a 404 is not). The clients' own classes
 * (sailpoint/errors.ts, cognigy/errors.ts) add their service's fields and write their messages.
 */

export interface ServiceCallErrorInit {
  operation: string;
  status?: number;
  /** Overrides the error class's default. */
  retryable?: boolean;
  cause?: unknown;
}

export class ServiceCallError extends Error {
  readonly operation: string;
  readonly status?: number;
  /** The failure is transient: the same request may succeed later. */
  readonly retryable: boolean;

  constructor(message: string, init: ServiceCallErrorInit, retryableByDefault: boolean) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.operation = init.operation;
    this.status = init.status;
    this.retryable = init.retryable ?? retryableByDefault;
  }
}

/**
 * Puts each class's `name` (the object key) on its prototype, so it is already right when V8
 * captures the stack header, and survives bundlers that rename classes.
 */
export function nameErrorClasses(classes: Record<string, abstract new (...args: never[]) => Error>): void {
  for (const [name, cls] of Object.entries(classes)) {
    Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  }
}

/** What a client needs to build its error for a call its deadline prevented (see ResilientHttp). */
export interface DeadlineInit {
  operation: string;
  /** Why nothing (more) was sent, e.g. 'the Retry-After wait of 30000 ms ends after the deadline'. */
  detail: string;
  /** The wait the deadline cut short (Retry-After, backoff or the rate budget), when known. */
  waitMs?: number;
  /** The failure of the previous attempt, if the deadline prevented its retry. */
  cause?: unknown;
}

/**
 * A call (or its retry) that was not sent because its deadline came first: nothing reached the
 * service in the attempt it prevented, so the caller can give its work back without charging it a
 * failure. The generic form; clients with their own error hierarchy build their own (RetryRules).
 */
export class DeadlineExceededError extends ServiceCallError {
  readonly deadlineExceeded = true;
  readonly waitMs?: number;
  constructor(service: string, init: DeadlineInit) {
    super(`${service} ${init.operation}: not sent before its deadline: ${init.detail}`, init, true);
    this.waitMs = init.waitMs;
  }
}

nameErrorClasses({ ServiceCallError, DeadlineExceededError });
