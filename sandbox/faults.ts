/**
 * Injected faults: a rule matches requests by method and path and answers them instead of the
 * route (a status with a body), delays them, or drops the connection. A faulted request never
 * reaches the route, so it changes no state (a latency-only rule delays, then lets it through).
 *
 * With `afterRoute: true` the request is handled first — authenticated, rate limited, and carried
 * out by the route (an access request is accepted) — and only then is the answer replaced by the
 * fault's status or the connection dropped: what a client sees when SailPoint acted but the
 * response was lost. The request log keeps what the route answered in `routeStatus`.
 */
import { matchesPath } from './request-log';

export interface FaultRule {
  method?: string;
  /** Exact path (no query string), or a pattern tested against the path. */
  path?: string | RegExp;
  /** Answer with this status. Default 500 when `body` is given without a status. */
  status?: number;
  /** Sets a Retry-After header (whole seconds). A 429 without it gets Retry-After: 1. */
  retryAfterSeconds?: number;
  /** Response body; default: ISC's body for the status (ErrorResponseDto, 401 or 429 shape). */
  body?: unknown;
  /** Delay before answering (or before letting the request through when nothing else is set). */
  latencyMs?: number;
  /** Destroy the socket without a response (after `latencyMs`). */
  dropConnection?: boolean;
  /** How many requests the rule applies to; default 1; Infinity allowed. */
  times?: number;
  /** Chance (0..1) that a matching request is faulted; default 1. A miss does not use up `times`. */
  probability?: number;
  /** Fault the answer after the route has run (see above); only requests that reach a route count. */
  afterRoute?: boolean;
}

export interface Fault {
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;
  readonly latencyMs: number;
  readonly dropConnection: boolean;
  readonly afterRoute: boolean;
}

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

export class FaultInjector {
  readonly #rules: ActiveRule[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  inject(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new RangeError('times must be a positive integer or Infinity');
    }
    const probability = rule.probability ?? 1;
    if (!(probability >= 0 && probability <= 1)) throw new RangeError('probability must be between 0 and 1');
    if (
      rule.status !== undefined &&
      !(Number.isInteger(rule.status) && rule.status >= 200 && rule.status <= 599)
    ) {
      throw new RangeError('status must be an HTTP status between 200 and 599');
    }
    if (
      rule.retryAfterSeconds !== undefined &&
      !(Number.isInteger(rule.retryAfterSeconds) && rule.retryAfterSeconds >= 0)
    ) {
      throw new RangeError('retryAfterSeconds must be a whole number of seconds');
    }
    if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0))
      throw new RangeError('latencyMs must be >= 0');
    if (rule.status === undefined && rule.body === undefined && !rule.latencyMs && !rule.dropConnection) {
      throw new RangeError('a fault needs a status, a body, a latency or dropConnection');
    }
    if (rule.afterRoute && rule.status === undefined && rule.body === undefined && !rule.dropConnection) {
      throw new RangeError('an afterRoute fault needs a status, a body or dropConnection');
    }
    this.#rules.push({ rule, remaining: times });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** Rules still able to fire. */
  get pending(): number {
    return this.#rules.length;
  }

  /**
   * The fault for this request, if a rule matches (and its probability draw succeeds); uses it up.
   * `afterRoute`: the rules that fault an answer after the route ran; otherwise the others.
   */
  take(method: string, path: string, afterRoute = false): Fault | undefined {
    const index = this.#rules.findIndex(
      ({ rule }) =>
        (rule.afterRoute ?? false) === afterRoute &&
        (rule.method === undefined || rule.method.toUpperCase() === method) &&
        (rule.path === undefined || matchesPath(rule.path, path)) &&
        (rule.probability === undefined || rule.probability >= 1 || this.random() < rule.probability),
    );
    if (index < 0) return undefined;
    const active = this.#rules[index]!;
    active.remaining -= 1;
    if (active.remaining <= 0) this.#rules.splice(index, 1);
    const { rule } = active;
    const status = rule.status ?? (rule.body === undefined ? undefined : 500);
    return {
      ...(status === undefined ? {} : { status }),
      ...(rule.retryAfterSeconds === undefined
        ? status === 429
          ? { retryAfterSeconds: 1 }
          : {}
        : { retryAfterSeconds: rule.retryAfterSeconds }),
      ...(rule.body === undefined ? {} : { body: rule.body }),
      latencyMs: rule.latencyMs ?? 0,
      dropConnection: rule.dropConnection ?? false,
      afterRoute: rule.afterRoute ?? false,
    };
  }
}
