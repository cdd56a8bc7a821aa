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
 * Timeout, rate budget and the retry loop are shared with the SailPoint client (../http).
 */
import * as z from 'zod';
import { requireAllowedHost, type HostAllowList } from '../http/hosts';
import { isLoopbackHost } from '../http/loopback';
import {
  ResilientHttp,
  parseJsonBody,
  parseRetryAfter,
  readErrorBody,
  redactSecrets,
  unsafePathSegment,
  type HttpLogger,
  type HttpOptions,
  type HttpResult,
  type RateLimit,
  type RetryOptions,
} from '../http';
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

/** A 429 asking for a longer wait than `maxRetryAfterSeconds` is not retried. */
export type CognigyRetryOptions = RetryOptions;

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

export type CognigyLogger = HttpLogger;

/** `retry`, `logger`, `sleep`, `fetch` and `now` as in HttpOptions (../http). */
export interface CognigyClientOptions extends HttpOptions {
  /** e.g. https://api-trial.cognigy.ai/new, or http://127.0.0.1:PORT/new (sandbox). */
  apiUrl: string;
  /** Hosts besides Cognigy's SaaS API hosts and loopback that apiUrl may name (COGNIGY_EXTRA_API_HOSTS). */
  extraApiHosts?: readonly string[];
  apiKey: string;
  /** Per HTTP attempt, body included. Default 10 s. */
  timeoutMs?: number;
  /** Client-side budget; default 1,000 per 5 min (Cognigy's documented default); false turns it off. */
  rateLimit?: RateLimit | false;
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

export class CognigyClient implements CognigyApi {
  readonly stats: CognigyClientStats = { httpRequests: 0, retries: 0 };

  private readonly apiUrl: string;
  private readonly apiKey: string;
  /** Timeout, rate budget and retry loop; the retry rules are Cognigy's (see the file header). */
  private readonly http: ResilientHttp<CognigyError>;
  /** Scrubs the API key from any text that goes into an error. */
  private readonly redact = (text: string): string => redactSecrets(text, [this.apiKey]);

  constructor(options: CognigyClientOptions) {
    this.apiUrl = resolveCognigyApiUrl(options.apiUrl, options.extraApiHosts ?? []);
    if (!options.apiKey) throw new Error('Cognigy API key is required.');
    this.apiKey = options.apiKey;
    this.http = new ResilientHttp(
      {
        service: 'Cognigy',
        errorType: CognigyError,
        retryAfterSeconds: (error) =>
          error instanceof CognigyRateLimitError ? error.retryAfterSeconds : undefined,
        // The quota window is spent: waiting less and asking again only burns more of it.
        longRetryAfter: 'give-up',
        logFields: (error) => ({ traceId: error.traceId }),
        failureLogFields: (error, _operation, attempts) => ({ ...error.toLog(), attempts }),
        stats: this.stats,
      },
      options,
      {
        retry: DEFAULT_COGNIGY_RETRY,
        timeoutMs: DEFAULT_COGNIGY_TIMEOUT_MS,
        rateLimit: DEFAULT_COGNIGY_RATE_LIMIT,
      },
    );
  }

  async get<T>(request: CognigyRequest<T>): Promise<CognigyResponse<T>> {
    if (!request.path.startsWith('/')) {
      throw new Error(`Cognigy ${request.operation}: path must start with '/', got '${request.path}'.`);
    }
    const unsafe = unsafePathSegment(request.path);
    if (unsafe) {
      throw new CognigyError({
        operation: request.operation,
        request: `GET ${request.path.slice(0, 200)}`,
        detail: `refused before sending: the path has ${unsafe}`,
      });
    }
    const label = `GET ${request.path}`;
    const url = this.apiUrl + request.path + buildQuery(request.query);
    return this.http.withRetry(request.operation, async (attempt) => {
      const result = await this.exchange(request.operation, label, url, attempt);
      const traceId = traceIdFrom(result.headers);
      if (result.status >= 200 && result.status < 300) {
        return { data: this.parseBody(request, label, result, traceId), traceId };
      }
      throw this.errorFromResponse(request.operation, label, result, traceId);
    });
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
      return this.http.fetchOnce(
        url,
        { method: 'GET', headers: { Accept: 'application/json', 'X-API-Key': this.apiKey } },
        (failure) =>
          new CognigyTimeoutError({
            operation,
            request: label,
            detail: failure.detail,
            cause: failure.cause,
          }),
      );
    };
    const startedAt = this.http.now();
    const result = await this.http.limited(send);
    this.http.logger?.debug('Cognigy request', {
      operation,
      request: label,
      status: result.status,
      attempt,
      durationMs: this.http.now() - startedAt,
      traceId: traceIdFrom(result.headers),
    });
    return result;
  }

  private parseBody<T>(request: CognigyRequest<T>, label: string, result: HttpResult, traceId?: string): T {
    const parsed = parseJsonBody(result.text, request.responseSchema, this.redact);
    if (parsed.ok) return parsed.data;
    throw new CognigyResponseError({
      operation: request.operation,
      request: label,
      status: result.status,
      traceId,
      detail: parsed.detail,
      issues: parsed.issues,
    });
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
        retryAfterSeconds: parseRetryAfter(result.headers, this.http.now()),
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
    const { fields: p, snippet } = readErrorBody(text, ProblemSchema, this.redact);
    if (!p) return { snippet };
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
}

/**
 * Cognigy.AI's SaaS API hosts: `api-<environment>.cognigy.ai` (api-trial, api-app, api-app-us, …).
 * Dedicated and on-premises installations name theirs in COGNIGY_EXTRA_API_HOSTS.
 */
export const COGNIGY_HOSTS: HostAllowList = {
  urlSetting: 'COGNIGY_API_URL',
  extraHostsSetting: 'COGNIGY_EXTRA_API_HOSTS',
  serviceHosts: [/^api-[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.cognigy\.ai$/],
  described: 'api-<environment>.cognigy.ai, e.g. api-trial.cognigy.ai',
};

/**
 * Validates the base URL: https (plain http only to a loopback host, for the sandbox), no
 * credentials, query or fragment, a host that is Cognigy's, loopback or in `extraHosts`; trailing
 * slashes removed. Keeps the `/new` prefix as given.
 */
export function resolveCognigyApiUrl(raw: string, extraHosts: readonly string[] = []): string {
  const url = parseCognigyApiUrl(raw);
  requireAllowedHost(url.hostname, extraHosts, COGNIGY_HOSTS);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The URL's form alone (protocol, no credentials/query/fragment); the host is checked by resolveCognigyApiUrl. */
export function parseCognigyApiUrl(raw: string): URL {
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
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`COGNIGY_API_URL must use https (http only for loopback hosts); got ${url.origin}`);
  }
  return url;
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
