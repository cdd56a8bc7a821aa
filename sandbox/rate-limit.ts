/**
 * The API gateway's rate limit (official/rate-limit.md): `limit` requests per `windowMs`, counted
 * separately per client id and API version. A sliding window over real time (not the sandbox
 * clock, so a frozen test clock never locks a client out); rejected requests do not count.
 */

export interface RateLimitSettings {
  limit: number;
  windowMs: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RateLimiter {
  readonly #hits = new Map<string, number[]>();

  constructor(
    readonly settings: RateLimitSettings,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(Number.isInteger(settings.limit) && settings.limit >= 1))
      throw new RangeError('limit must be >= 1');
    if (!(settings.windowMs > 0)) throw new RangeError('windowMs must be > 0');
  }

  /** Counts a request by this client against this API version, unless over the limit. */
  hit(clientId: string, apiVersion: string): RateLimitDecision {
    const key = `${clientId} ${apiVersion}`;
    const now = this.clock();
    const since = now - this.settings.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > since);
    if (hits.length >= this.settings.limit) {
      this.#hits.set(key, hits);
      const freesAt = hits[0]! + this.settings.windowMs;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now) / 1000)) };
    }
    hits.push(now);
    this.#hits.set(key, hits);
    return { allowed: true };
  }

  reset(): void {
    this.#hits.clear();
  }
}
