/**
 * A small Cognigy.AI REST client: API-key authentication, zod-parsed responses, typed RFC 7807
 * errors that always carry Cognigy's traceId, and bounded retries.
 *
 * - Base URL includes the `/new` prefix, as in Cognigy's OpenAPI server
 *   (`https://api-trial.cognigy.ai/new`); paths start with the version: `/v2.0/users/me/acl`.
 * - Every request sends `X-API-Key` and `Accept: application/json` (Cognigy's default media type is
 *   hal+json on some routes; we always ask for plain JSON).
 * - Only GETs: the audit reads, it never changes Cognigy.
 * - Retries (cockatiel) on 408, 429, 5xx, timeouts and dropped connections, bounded by attempts and
 *   elapsed time. A 429 waits exactly Retry-After; when Retry-After is longer than
 *   `maxRetryAfterSeconds` the call gives up at once (the quota window is spent: waiting less and
 *   asking again only burns more of it), and the error carries `retryAfterSeconds` for the caller.
 *   Other failures back off exponentially with jitter.
 * - Client-side budget (bottleneck): by default Cognigy's documented default limit, 1,000 requests
 *   per 5 minutes.
 * - The API key is never logged and never appears in an error: it is scrubbed from any error text.
 */
import Bottleneck from 'bottleneck';
import { ConstantBackoff, ExponentialBackoff, handleWhen, retry, type IBackoff } from 'cockatiel';
import * as z from 'zod';
import {
  CognigyAuthError,
  CognigyError,
  CognigyRateLimitError,
  CognigyResponseError,
  CognigyServerError,
  CognigyTimeoutError,
  type CognigyErrorInit,
  type CognigyProblem,
} from './errors';

export interface CognigyRetryOptions {
  /** Total attempts per call, the first one included. */
  maxAttempts: number;
  /** No retry is started when elapsed time plus the next delay would exceed this. */
  maxElapsedMs: number;
  /** Initial delay of the exponential backoff (decorrelated jitter). */
  baseDelayMs: number;
  /** Upper bound of a single backoff delay. */
  maxDelayMs: number;
  /** A 429 asking for a longer wait than this is not retried. */
  maxRetryAfterSeconds: number;
}

export const DEFAULT_COGNIGY_RETRY: CognigyRetryOptions = Object.freeze({
  maxAttempts: 4,
  maxElapsedMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterSeconds: 60,
});

export const DEFAULT_COGNIGY_TIMEOUT_MS = 10_000;
/** Cognigy's documented default limit: 1,000 requests per 5 minutes. */
export const DEFAULT_COGNIGY_RATE_LIMIT = Object.freeze({ maxRequests: 1000, perMs: 5 * 60_000 });

export interface CognigyLogger {
  debug(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
}

export interface CognigyClientOptions {
  /** e.g. https://api-trial.cognigy.ai/new, or http://127.0.0.1:PORT/new (sandbox). */
  apiUrl: string;
  apiKey: string;
  /** Per HTTP attempt, body included. Default 10 s. */
  timeoutMs?: number;
  retry?: Partial<CognigyRetryOptions>;
  /** Client-side budget; default 1,000 per 5 min (Cognigy's documented default); false turns it off. */
  rateLimit?: { maxRequests: number; perMs: number } | false;
  logger?: CognigyLogger;
  /** Waits between retries; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Clock for the elapsed-time budget and HTTP-date Retry-After; default Date.now. */
  now?: () => number;
}

export interface CognigyRequest<T> {
  /** e.g. 'getCurrentUserAcl' — used in errors and logs. */
  operation: string;
  /** Starts with the API version: '/v2.0/users/me/acl'. */
  path: string;
  query?: Record<string, string | undefined>;
  responseSchema: z.ZodType<T>;
}

export interface CognigyResponse<T> {
  data: T;
  /** Cognigy's trace id for this response, when it sent one (header `x-trace-id` or `traceid`). */
  traceId?: string;
}

/** What API functions (api/*.ts) need: the client itself, or any fake with the same `get`. */
export interface CognigyApi {
  get<T>(request: CognigyRequest<T>): Promise<CognigyResponse<T>>;
}

export interface CognigyClientStats {
  /** HTTP requests sent (every attempt). */
  httpRequests: number;
  retries: number;
}

/** RFC 7807 problem body; every field tolerant, since gateways and proxies may answer instead. */
const ProblemSchema = z.looseObject({
  type: z.string().optional().catch(undefined),
  title: z.string().optional().catch(undefined),
  status: z.number().optional().catch(undefined),
  detail: z.string().optional().catch(undefined),
  code: z
    .union([z.string(), z.number().transform(String)])
    .optional()
    .catch(undefined),
  traceId: z.string().optional().catch(undefined),
});

const TRACE_HEADERS = ['x-trace-id', 'traceid', 'x-traceid'];
const MAX_DETAIL_CHARS = 300;

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

export class CognigyClient implements CognigyApi {
  readonly stats: CognigyClientStats = { httpRequests: 0, retries: 0 };

  private readonly apiUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retryOptions: CognigyRetryOptions;
  private readonly limiter?: Bottleneck;
  private readonly logger?: CognigyLogger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(options: CognigyClientOptions) {
    this.apiUrl = resolveCognigyApiUrl(options.apiUrl);
    if (!options.apiKey) throw new Error('Cognigy API key is required.');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_COGNIGY_TIMEOUT_MS;
    this.retryOptions = { ...DEFAULT_COGNIGY_RETRY, ...options.retry };
    const r = this.retryOptions;
    if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
      throw new Error(`Cognigy retry.maxAttempts must be an integer >= 1, got ${r.maxAttempts}.`);
    }
    if ([r.maxElapsedMs, r.baseDelayMs, r.maxDelayMs, r.maxRetryAfterSeconds].some((v) => !(v >= 0))) {
      throw new Error('Cognigy retry delays and budgets must be numbers >= 0.');
    }
    if (!(this.timeoutMs > 0)) throw new Error(`Cognigy timeoutMs must be > 0, got ${this.timeoutMs}.`);
    const rateLimit = options.rateLimit === undefined ? DEFAULT_COGNIGY_RATE_LIMIT : options.rateLimit;
    if (rateLimit) {
      if (!(rateLimit.maxRequests >= 1) || !(rateLimit.perMs > 0)) {
        throw new Error('Cognigy rateLimit needs maxRequests >= 1 and perMs > 0.');
      }
      this.limiter = new Bottleneck({
        reservoir: rateLimit.maxRequests,
        reservoirRefreshAmount: rateLimit.maxRequests,
        reservoirRefreshInterval: rateLimit.perMs,
      });
    }
    this.logger = options.logger;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  async get<T>(request: CognigyRequest<T>): Promise<CognigyResponse<T>> {
    if (!request.path.startsWith('/')) {
      throw new Error(`Cognigy ${request.operation}: path must start with '/', got '${request.path}'.`);
    }
    const label = `GET ${request.path}`;
    const url = this.apiUrl + request.path + buildQuery(request.query);
    return this.withRetry(request.operation, async (attempt) => {
      const result = await this.exchange(request.operation, label, url, attempt);
      const traceId = traceIdFrom(result.headers);
      if (result.status >= 200 && result.status < 300) {
        return { data: this.parseBody(request, label, result, traceId), traceId };
      }
      throw this.errorFromResponse(request.operation, label, result, traceId);
    });
  }

  /**
   * Runs `fn` under a cockatiel retry policy. The filter decides and computes the delay; the delay
   * is awaited through the injectable `sleep` at the start of the next attempt (as the SailPoint
   * client does), so tests observe exact delays without real waiting.
   */
  private async withRetry<T>(operation: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    const opts = this.retryOptions;
    const started = this.now();
    let attempt = 0;
    let nextDelayMs = 0;
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
      if (!(error instanceof CognigyError) || !error.retryable) return false;
      if (attempt >= opts.maxAttempts) return false;
      let delayMs: number;
      if (error instanceof CognigyRateLimitError && error.retryAfterSeconds !== undefined) {
        if (error.retryAfterSeconds > opts.maxRetryAfterSeconds) {
          this.logger?.debug('Cognigy Retry-After beyond bound, not retrying', {
            operation,
            attempt,
            retryAfterSeconds: error.retryAfterSeconds,
            traceId: error.traceId,
          });
          return false;
        }
        delayMs = error.retryAfterSeconds * 1000;
      } else {
        delayMs = nextBackoffMs();
      }
      const elapsedMs = this.now() - started;
      if (elapsedMs + delayMs > opts.maxElapsedMs) {
        this.logger?.debug('Cognigy retry budget exhausted', {
          operation,
          attempt,
          elapsedMs,
          delayMs,
          traceId: error.traceId,
        });
        return false;
      }
      nextDelayMs = delayMs;
      this.stats.retries++;
      this.logger?.debug('Cognigy retrying', {
        operation,
        attempt,
        status: error.status,
        error: error.name,
        delayMs,
        traceId: error.traceId,
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
      if (error instanceof CognigyError) {
        const log = error.retryable ? this.logger?.warn : this.logger?.debug;
        log?.call(this.logger, 'Cognigy call failed', { ...error.toLog(), attempts: attempt });
      }
      throw error;
    }
  }

  /** One HTTP exchange under the client-side budget and the per-attempt timeout. */
  private async exchange(
    operation: string,
    label: string,
    url: string,
    attempt: number,
  ): Promise<HttpResult> {
    const send = async (): Promise<HttpResult> => {
      this.stats.httpRequests++;
      const signal = AbortSignal.timeout(this.timeoutMs);
      try {
        const response = await this.fetchImpl(url, {
          method: 'GET',
          headers: { Accept: 'application/json', 'X-API-Key': this.apiKey },
          signal,
          redirect: 'manual',
        });
        const text = await response.text();
        return { status: response.status, headers: response.headers, text };
      } catch (error) {
        const timedOut = signal.aborted || (error instanceof Error && error.name === 'TimeoutError');
        throw new CognigyTimeoutError({
          operation,
          request: label,
          detail: timedOut
            ? `no response within ${this.timeoutMs} ms`
            : 'connection failed or dropped before a response',
          cause: error,
        });
      }
    };
    const startedAt = this.now();
    const result = await (this.limiter ? this.limiter.schedule(send) : send());
    this.logger?.debug('Cognigy request', {
      operation,
      request: label,
      status: result.status,
      attempt,
      durationMs: this.now() - startedAt,
      traceId: traceIdFrom(result.headers),
    });
    return result;
  }

  private parseBody<T>(request: CognigyRequest<T>, label: string, result: HttpResult, traceId?: string): T {
    let json: unknown;
    try {
      json = JSON.parse(result.text);
    } catch {
      throw new CognigyResponseError({
        operation: request.operation,
        request: label,
        status: result.status,
        traceId,
        detail: `response body is not JSON: ${this.snippet(result.text)}`,
      });
    }
    const parsed = request.responseSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(root)',
        message: issue.message,
      }));
      const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
      throw new CognigyResponseError({
        operation: request.operation,
        request: label,
        status: result.status,
        traceId,
        detail: `response did not match the expected schema: ${shown.join('; ')}${issues.length > 5 ? `; … ${issues.length - 5} more` : ''}`,
        issues,
      });
    }
    return parsed.data;
  }

  private errorFromResponse(
    operation: string,
    label: string,
    result: HttpResult,
    headerTraceId?: string,
  ): CognigyError {
    const problem = this.problemFrom(result.text);
    const init: CognigyErrorInit = {
      operation,
      request: label,
      status: result.status,
      problem: problem.fields,
      traceId: problem.fields?.traceId ?? headerTraceId,
      detail: problem.snippet,
    };
    const { status } = result;
    if (status === 401 || status === 403) return new CognigyAuthError(init);
    if (status === 429) {
      return new CognigyRateLimitError({
        ...init,
        retryAfterSeconds: parseRetryAfter(result.headers, this.now()),
      });
    }
    if (status === 408 || status >= 500) return new CognigyServerError(init);
    if (status === 404 && !/\/new$/.test(this.apiUrl)) {
      return new CognigyError({
        ...init,
        detail: `not found; does COGNIGY_API_URL (${this.apiUrl}) lack the /new prefix?`,
      });
    }
    if (status >= 300 && status < 400) return new CognigyError({ ...init, detail: 'unexpected redirect' });
    return new CognigyError(init);
  }

  /** The RFC 7807 fields, scrubbed of the API key; a short snippet when the body is not a problem. */
  private problemFrom(text: string): { fields?: CognigyProblem; snippet?: string } {
    if (text.trim() === '') return {};
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { snippet: this.snippet(text) };
    }
    const parsed = ProblemSchema.safeParse(json);
    if (!parsed.success) return { snippet: this.snippet(text) };
    const p = parsed.data;
    const clean = (v: string | undefined) => (v === undefined ? undefined : this.redact(v));
    return {
      fields: {
        type: clean(p.type),
        title: clean(p.title),
        status: p.status,
        detail: clean(p.detail),
        code: clean(p.code),
        traceId: clean(p.traceId),
      },
    };
  }

  private snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    return this.redact(flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS)}…` : flat);
  }

  private redact(text: string): string {
    return text.split(this.apiKey).join('[redacted]');
  }
}

/**
 * Validates the base URL: https (plain http only to a loopback host, for the sandbox), no
 * credentials, query or fragment; trailing slashes removed. Keeps the `/new` prefix as given.
 */
export function resolveCognigyApiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(
      'COGNIGY_API_URL is not a valid absolute URL (expected e.g. https://api-trial.cognigy.ai/new).',
    );
  }
  if (url.username || url.password) throw new Error('COGNIGY_API_URL must not contain credentials.');
  if (url.search || url.hash)
    throw new Error('COGNIGY_API_URL must not have a query or fragment (never put api_key in it).');
  const loopback =
    ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`COGNIGY_API_URL must use https (http only for loopback hosts); got ${url.origin}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function buildQuery(query: CognigyRequest<unknown>['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, value);
  const encoded = params.toString();
  return encoded ? `?${encoded}` : '';
}

function traceIdFrom(headers: Headers): string | undefined {
  for (const name of TRACE_HEADERS) {
    const value = headers.get(name)?.trim();
    if (value) return value.slice(0, 200);
  }
  return undefined;
}

/** Retry-After in seconds: delta-seconds or an HTTP date; undefined when absent or unparseable. */
function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
