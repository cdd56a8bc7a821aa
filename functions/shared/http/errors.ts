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

nameErrorClasses({ ServiceCallError });
