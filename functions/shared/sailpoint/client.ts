/**
 * The one HTTP client every workflow uses to talk to SailPoint Identity Security Cloud (ISC).
 *
 * - OAuth2 client credentials (`POST /oauth/token`), token cached until shortly before it expires;
 *   concurrent callers share one in-flight token request; a 401 from the API drops the token,
 *   fetches a new one and replays the call once.
 * - Every response body parsed with the caller's zod schema; failures become typed errors
 *   (errors.ts) whose messages are safe to log.
 * - Retries with cockatiel, bounded by attempts and elapsed time; optional client-side rate limit
 *   (bottleneck) wrapping each API attempt; per-attempt timeout (AbortSignal.timeout).
 *
 * Retry rules (the reason they differ by method):
 * - 429: wait exactly Retry-After seconds (capped at `maxRetryAfterSeconds`; exponential backoff with
 *   jitter when the header is missing), for every method: the gateway refused the call, ISC did not act.
 * - 5xx, timeout, dropped connection: exponential backoff with jitter, ONLY for idempotent requests
 *   (GET/PUT/DELETE by default, or `idempotent: true`). A POST/PATCH that failed this way may have
 *   been carried out by ISC (an access request may have been created); blindly re-sending could
 *   duplicate it, so the typed error (`outcomeUnknown: true`) goes back to the caller, which must
 *   reconcile first (the access-request workflow does).
 * - Failures before the API call is sent (token endpoint 5xx/429/timeout) and the single 401 refresh
 *   are retried for every method: the API server has not acted on the request.
 * - Anything else (400, 403, 404, schema mismatch, rejected credentials) is not retried.
 * When retries are exhausted (attempts or elapsed budget) the last typed error is thrown.
 */
import Bottleneck from 'bottleneck';
import { ConstantBackoff, ExponentialBackoff, handleWhen, retry, type IBackoff } from 'cockatiel';
import * as z from 'zod';
import {
  SailPointAuthError,
  SailPointError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointValidationError,
  type SailPointErrorInit,
} from './errors';
import { resolveSailPointApiUrl } from './api-url';

export { resolveSailPointApiUrl } from './api-url';

export interface SailPointRetryOptions {
  /** Total attempts per call, the first one included. */
  maxAttempts: number;
  /** No retry is started when elapsed time plus the next delay would exceed this. */
  maxElapsedMs: number;
  /** Initial delay of the exponential backoff (decorrelated jitter). */
  baseDelayMs: number;
  /** Upper bound of a single backoff delay. */
  maxDelayMs: number;
  /** Retry-After values above this are capped to it. */
  maxRetryAfterSeconds: number;
}

export const DEFAULT_RETRY: SailPointRetryOptions = Object.freeze({
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterSeconds: 60,
});

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface SailPointLogger {
  debug(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
}

export interface SailPointClientOptions {
  /** e.g. https://acme.api.identitynow.com or http://127.0.0.1:PORT (sandbox); see resolveSailPointApiUrl. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Per HTTP attempt (token or API call, body included). Default 10 s. */
  timeoutMs?: number;
  retry?: Partial<SailPointRetryOptions>;
  /** Client-side limiter for API calls (not token calls): at most maxRequests per perMs. Off by default.
   *  ISC's gateway allows 100 requests per 10 s per client_id and API version. */
  rateLimit?: { maxRequests: number; perMs: number } | false;
  logger?: SailPointLogger;
  /** Waits between retries; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Clock for token expiry and the elapsed-time budget; injectable for tests. Default Date.now. */
  now?: () => number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest<T> {
  /** e.g. 'listPersonalAccessTokens' — used in errors and logs. */
  operation: string;
  method: HttpMethod;
  /** Starts with '/', includes the API version: '/beta/personal-access-tokens'. Encode path params yourself. */
  path: string;
  /** Undefined values are skipped. Encoded with URLSearchParams, spaces as %20. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Serialized as JSON when not undefined. */
  body?: unknown;
  /** Default 'application/json', 'application/json-patch+json' for PATCH (ISC PATCH endpoints take JSON Patch). */
  contentType?: string;
  /**
   * Applied to the parsed JSON body. An empty body (204, or an empty 2xx such as some 202s) is parsed
   * as `undefined`: use z.undefined() / z.unknown() / `.optional()` (or z.preprocess to a default)
   * for endpoints that can answer without a body.
   */
  responseSchema: z.ZodType<T>;
  /** Default: true for GET/PUT/DELETE, false for POST/PATCH. See the retry rules at the top of this file. */
  idempotent?: boolean;
}

/** What API functions (api/*.ts) need: the client itself, or any fake with the same `send`. */
export interface SailPointTransport {
  send<T>(request: ApiRequest<T>): Promise<T>;
}

export interface TokenInfo {
  /** Absent for a pure API client (client credentials without user context); set for a PAT. */
  identityId?: string;
  tenantId?: string;
  /** e.g. ['ORG_ADMIN'] for a PAT of an admin, ['API'] for an API client; [] when unknown. */
  authorities: string[];
  clientId?: string;
  /** Epoch ms at which the current access token expires. */
  expiresAt: number;
}

export interface SailPointClientStats {
  /** HTTP requests sent to the API (every attempt and replay; token requests not included). */
  httpRequests: number;
  /** Requests to /oauth/token. */
  tokenRequests: number;
  /** Retries started by the retry policy plus 401 token-refresh replays. */
  retries: number;
}

/** Token response of POST /oauth/token (official docs); unknown fields tolerated. */
const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().positive()),
  identity_id: z.string().nullish(),
  tenant_id: z.string().nullish(),
  client_id: z.string().nullish(),
  authorities: z.array(z.string()).nullish(),
});

/** Claims we read from the access token (a JWT) when the token response lacks them. */
const JwtClaimsSchema = z.looseObject({
  identity_id: z.string().nullish(),
  tenant_id: z.string().nullish(),
  client_id: z.string().nullish(),
  authorities: z.array(z.string()).nullish(),
});

/** SailPoint's ErrorResponseDto, plus the `error` / `message` shapes of 401 and 429 bodies. */
const ErrorBodySchema = z.looseObject({
  detailCode: z.string().nullish().catch(undefined),
  trackingId: z.string().nullish().catch(undefined),
  messages: z
    .array(z.looseObject({ text: z.string().nullish() }))
    .nullish()
    .catch(undefined),
  causes: z
    .array(z.looseObject({ text: z.string().nullish() }))
    .nullish()
    .catch(undefined),
  error: z.unknown().optional(),
  message: z.unknown().optional(),
});

interface CachedToken {
  accessToken: string;
  /** After this instant the token is refreshed before use. */
  refreshAt: number;
  info: TokenInfo;
}

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

/** Per-call state shared by the attempts of one `send`. */
interface CallState {
  /** Set once the API request of the current attempt has left; reset at each attempt. */
  apiRequestSent: boolean;
  /** The one 401 refresh per call has been used. */
  refreshed: boolean;
}

const IDEMPOTENT_METHODS = new Set<HttpMethod>(['GET', 'PUT', 'DELETE']);
const TOKEN_OPERATION = 'oauthToken';
const MAX_DETAIL_CHARS = 300;

export class SailPointClient implements SailPointTransport {
  readonly stats: SailPointClientStats = { httpRequests: 0, tokenRequests: 0, retries: 0 };

  private readonly apiUrl: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly timeoutMs: number;
  private readonly retryOptions: SailPointRetryOptions;
  private readonly limiter?: Bottleneck;
  private readonly logger?: SailPointLogger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  private token?: CachedToken;
  private tokenInFlight?: Promise<CachedToken>;
  /** Every access token this client has held, so error texts can be scrubbed of them. */
  private readonly knownTokens = new Set<string>();

  constructor(options: SailPointClientOptions) {
    this.apiUrl = resolveSailPointApiUrl({ apiUrl: options.apiUrl });
    if (!options.clientId || !options.clientSecret) {
      throw new Error('SailPoint client id and client secret are required.');
    }
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retryOptions = { ...DEFAULT_RETRY, ...options.retry };
    const r = this.retryOptions;
    if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < 1) {
      throw new Error(`SailPoint retry.maxAttempts must be an integer >= 1, got ${r.maxAttempts}.`);
    }
    if ([r.maxElapsedMs, r.baseDelayMs, r.maxDelayMs, r.maxRetryAfterSeconds].some((v) => !(v >= 0))) {
      throw new Error('SailPoint retry delays and budgets must be numbers >= 0.');
    }
    if (!(this.timeoutMs > 0)) throw new Error(`SailPoint timeoutMs must be > 0, got ${this.timeoutMs}.`);
    if (options.rateLimit) {
      const { maxRequests, perMs } = options.rateLimit;
      if (!(maxRequests >= 1) || !(perMs > 0)) {
        throw new Error('SailPoint rateLimit needs maxRequests >= 1 and perMs > 0.');
      }
      this.limiter = new Bottleneck({
        reservoir: maxRequests,
        reservoirRefreshAmount: maxRequests,
        reservoirRefreshInterval: perMs,
      });
    }
    this.logger = options.logger;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  /** Sends one API call with token handling, retries and response parsing. See the file header. */
  async send<T>(request: ApiRequest<T>): Promise<T> {
    if (!request.path.startsWith('/')) {
      throw new Error(`SailPoint ${request.operation}: path must start with '/', got '${request.path}'.`);
    }
    const idempotent = request.idempotent ?? IDEMPOTENT_METHODS.has(request.method);
    const url = this.apiUrl + request.path + buildQuery(request.query);
    const state: CallState = { apiRequestSent: false, refreshed: false };
    return this.withRetry(request.operation, idempotent, state, (attempt) =>
      this.attemptApiCall(request, url, state, attempt),
    );
  }

  /** Identity behind the credentials; fetches a token if none is cached. */
  async tokenInfo(): Promise<TokenInfo> {
    const state: CallState = { apiRequestSent: false, refreshed: false };
    const token = await this.withRetry(TOKEN_OPERATION, true, state, () => this.getToken());
    return { ...token.info, authorities: [...token.info.authorities] };
  }

  /**
   * Runs `fn` under a cockatiel retry policy. The error filter decides (rules in the file header)
   * and computes the delay; the delay itself is awaited through the injectable `sleep` at the start
   * of the next attempt, so tests observe exact delays without real waiting.
   */
  private async withRetry<T>(
    operation: string,
    idempotent: boolean,
    state: CallState,
    fn: (attempt: number) => Promise<T>,
  ): Promise<T> {
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
      if (!(error instanceof SailPointError) || !error.retryable) return false;
      if (attempt >= opts.maxAttempts) return false;
      const isRateLimit = error instanceof SailPointRateLimitError;
      // 429 and pre-send failures: ISC did not act, safe for any method. Otherwise only idempotent calls.
      if (!idempotent && !isRateLimit && state.apiRequestSent) return false;
      const delayMs =
        isRateLimit && error.hasRetryAfter
          ? Math.min(error.retryAfterSeconds, opts.maxRetryAfterSeconds) * 1000
          : nextBackoffMs();
      const elapsedMs = this.now() - started;
      if (elapsedMs + delayMs > opts.maxElapsedMs) {
        this.logger?.debug('SailPoint retry budget exhausted', { operation, attempt, elapsedMs, delayMs });
        return false;
      }
      nextDelayMs = delayMs;
      this.stats.retries++;
      this.logger?.debug('SailPoint retrying', {
        operation,
        attempt,
        status: error.status,
        error: error.name,
        delayMs,
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
      if (error instanceof SailPointError) {
        // Transient failures that survived the retries are worth a warning; a 404 or 400 is the
        // caller's business (it may be expected), so it is only a debug line here.
        const log = error.retryable ? this.logger?.warn : this.logger?.debug;
        log?.call(this.logger, 'SailPoint call failed', {
          operation,
          attempts: attempt,
          status: error.status,
          error: error.name,
          retryable: error.retryable,
          trackingId: error.trackingId,
        });
      }
      throw error;
    }
  }

  private async attemptApiCall<T>(
    request: ApiRequest<T>,
    url: string,
    state: CallState,
    attempt: number,
  ): Promise<T> {
    state.apiRequestSent = false;
    let token = await this.getToken();
    let result = await this.callApi(request, url, token.accessToken, state, attempt);
    if (result.status === 401 && !state.refreshed) {
      // The token may have been revoked or expired early: the server did not act on the call.
      state.refreshed = true;
      this.stats.retries++;
      this.logger?.debug('SailPoint token rejected, refreshing once', {
        operation: request.operation,
        attempt,
      });
      this.dropToken(token);
      state.apiRequestSent = false;
      token = await this.getToken();
      result = await this.callApi(request, url, token.accessToken, state, attempt);
    }
    if (result.status >= 200 && result.status < 300) {
      return this.parseBody(request, result);
    }
    throw this.errorFromResponse(request.operation, `${request.method} ${request.path}`, result, {
      tokenRefreshed: state.refreshed,
    });
  }

  private async callApi(
    request: ApiRequest<unknown>,
    url: string,
    accessToken: string,
    state: CallState,
    attempt: number,
  ): Promise<HttpResult> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${accessToken}`,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['Content-Type'] =
        request.contentType ??
        (request.method === 'PATCH' ? 'application/json-patch+json' : 'application/json');
      body = JSON.stringify(request.body);
    }
    const exchange = async (): Promise<HttpResult> => {
      state.apiRequestSent = true;
      this.stats.httpRequests++;
      return this.fetchOnce(request.operation, `${request.method} ${request.path}`, url, {
        method: request.method,
        headers,
        body,
      });
    };
    const startedAt = this.now();
    const result = await (this.limiter ? this.limiter.schedule(exchange) : exchange());
    this.logger?.debug('SailPoint request', {
      operation: request.operation,
      method: request.method,
      path: request.path,
      status: result.status,
      attempt,
      durationMs: this.now() - startedAt,
    });
    return result;
  }

  /** One HTTP exchange, body read included, under the per-attempt timeout. */
  private async fetchOnce(
    operation: string,
    requestLabel: string,
    url: string,
    init: RequestInit,
  ): Promise<HttpResult> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.fetchImpl(url, { ...init, signal, redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      const timedOut = signal.aborted || (error instanceof Error && error.name === 'TimeoutError');
      const code = networkErrorCode(error);
      throw new SailPointTimeoutError({
        operation,
        request: requestLabel,
        outcomeUnknown: true,
        detail: timedOut
          ? `no response within ${this.timeoutMs} ms`
          : `connection failed or dropped before a response${code ? ` (${code})` : ''}`,
        cause: error,
      });
    }
  }

  // ---- token -----------------------------------------------------------------------------------

  private async getToken(): Promise<CachedToken> {
    if (this.token && this.now() < this.token.refreshAt) return this.token;
    if (!this.tokenInFlight) {
      const inFlight = this.fetchToken().finally(() => {
        if (this.tokenInFlight === inFlight) this.tokenInFlight = undefined;
      });
      this.tokenInFlight = inFlight;
    }
    return this.tokenInFlight;
  }

  /** Forgets `rejected` unless another caller already replaced it. */
  private dropToken(rejected: CachedToken): void {
    if (this.token === rejected) this.token = undefined;
  }

  private async fetchToken(): Promise<CachedToken> {
    this.stats.tokenRequests++;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId,
      client_secret: this.clientSecret,
    });
    const requestedAt = this.now();
    const result = await this.fetchOnce(TOKEN_OPERATION, 'POST /oauth/token', `${this.apiUrl}/oauth/token`, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    // Never log token bodies or headers: status only.
    this.logger?.debug('SailPoint token request', { operation: TOKEN_OPERATION, status: result.status });
    if (result.status < 200 || result.status >= 300) {
      throw this.tokenError(result);
    }
    let json: unknown;
    try {
      json = JSON.parse(result.text);
    } catch {
      throw new SailPointResponseError({
        operation: TOKEN_OPERATION,
        request: 'POST /oauth/token',
        status: result.status,
        detail: 'token response is not JSON',
      });
    }
    const parsed = TokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new SailPointResponseError({
        operation: TOKEN_OPERATION,
        request: 'POST /oauth/token',
        status: result.status,
        detail: `token response did not match the expected shape: ${summarizeIssues(parsed.error)}`,
        issues: issueList(parsed.error),
      });
    }
    const body = parsed.data;
    const claims = decodeJwtClaims(body.access_token);
    const lifetimeMs = body.expires_in * 1000;
    const expiresAt = requestedAt + lifetimeMs;
    const token: CachedToken = {
      accessToken: body.access_token,
      // Refresh 60 s early, or 10 % of the lifetime for short-lived tokens.
      refreshAt: expiresAt - Math.min(60_000, lifetimeMs * 0.1),
      info: {
        identityId: body.identity_id || claims?.identity_id || undefined,
        tenantId: body.tenant_id || claims?.tenant_id || undefined,
        authorities: body.authorities ?? claims?.authorities ?? [],
        clientId: body.client_id || claims?.client_id || this.clientId,
        expiresAt,
      },
    };
    this.knownTokens.add(token.accessToken);
    this.token = token;
    this.logger?.debug('SailPoint token acquired', {
      expiresInSeconds: body.expires_in,
      userContext: token.info.identityId !== undefined,
    });
    return token;
  }

  private tokenError(result: HttpResult): SailPointError {
    const init: SailPointErrorInit = {
      operation: TOKEN_OPERATION,
      request: 'POST /oauth/token',
      status: result.status,
    };
    if (result.status === 400 || result.status === 401 || result.status === 403) {
      // Only the OAuth error code (e.g. invalid_client) is taken from the body, never free text.
      const code = oauthErrorCode(result.text);
      return new SailPointAuthError({
        ...init,
        detail:
          `SailPoint rejected the client credentials for client id '${this.clientId}'` +
          `${code ? ` (${code})` : ''}; check the configured client id and secret (the secret is not shown)`,
      });
    }
    return this.errorFromResponse(TOKEN_OPERATION, 'POST /oauth/token', result, { tokenCall: true });
  }

  // ---- responses -------------------------------------------------------------------------------

  private parseBody<T>(request: ApiRequest<T>, result: HttpResult): T {
    const label = `${request.method} ${request.path}`;
    let json: unknown = undefined;
    if (result.status !== 204 && result.text.trim() !== '') {
      try {
        json = JSON.parse(result.text);
      } catch {
        throw new SailPointResponseError({
          operation: request.operation,
          request: label,
          status: result.status,
          detail: `response body is not JSON: ${this.snippet(result.text)}`,
        });
      }
    }
    const parsed = request.responseSchema.safeParse(json);
    if (!parsed.success) {
      throw new SailPointResponseError({
        operation: request.operation,
        request: label,
        status: result.status,
        detail: `response did not match the expected schema: ${summarizeIssues(parsed.error)}`,
        issues: issueList(parsed.error),
      });
    }
    return parsed.data;
  }

  private errorFromResponse(
    operation: string,
    requestLabel: string,
    result: HttpResult,
    context: { tokenRefreshed?: boolean; tokenCall?: boolean },
  ): SailPointError {
    const { status } = result;
    const init: SailPointErrorInit = {
      operation,
      request: requestLabel,
      status,
      ...this.describeBody(result, context),
    };
    if (status === 400) return new SailPointValidationError(init);
    if (status === 401) {
      return new SailPointAuthError({
        ...init,
        detail: [
          context.tokenRefreshed ? 'access token rejected even after a refresh' : 'access token rejected',
          init.detail,
        ]
          .filter(Boolean)
          .join(': '),
      });
    }
    if (status === 403) return new SailPointAuthError(init);
    if (status === 404) return new SailPointNotFoundError(init);
    if (status === 429) {
      const retryAfterSeconds = parseRetryAfter(result.headers, this.now());
      const wait = retryAfterSeconds === undefined ? 'no Retry-After' : `Retry-After ${retryAfterSeconds} s`;
      return new SailPointRateLimitError({
        ...init,
        retryAfterSeconds,
        detail: init.detail ? `${init.detail} (${wait})` : `rate limited (${wait})`,
      });
    }
    if (status >= 500) return new SailPointServerError({ ...init, outcomeUnknown: true });
    if (status >= 300 && status < 400) {
      return new SailPointError({
        ...init,
        detail: `unexpected redirect${init.detail ? `: ${init.detail}` : ''}`,
      });
    }
    return new SailPointError(init);
  }

  /** ErrorResponseDto fields (or a short snippet of a non-JSON body), scrubbed of credentials. */
  private describeBody(
    result: HttpResult,
    context: { tokenCall?: boolean },
  ): Pick<SailPointErrorInit, 'detailCode' | 'trackingId' | 'messages' | 'causes' | 'detail'> {
    if (context.tokenCall) {
      const code = oauthErrorCode(result.text);
      return code ? { detail: code } : {};
    }
    if (result.text.trim() === '') return {};
    let json: unknown;
    try {
      json = JSON.parse(result.text);
    } catch {
      return { detail: this.snippet(result.text) };
    }
    const parsed = ErrorBodySchema.safeParse(json);
    if (!parsed.success) return { detail: this.snippet(result.text) };
    const dto = parsed.data;
    const texts = (items: { text?: string | null }[] | null | undefined): string[] =>
      (items ?? [])
        .map((m) => m.text)
        .filter((t): t is string => !!t)
        .map((t) => this.redact(t));
    const plain = [dto.error, dto.message].filter(
      (v): v is string => typeof v === 'string' && v.trim() !== '',
    );
    return {
      detailCode: dto.detailCode ? this.redact(dto.detailCode) : undefined,
      trackingId: dto.trackingId ? this.redact(dto.trackingId) : undefined,
      messages: texts(dto.messages),
      causes: texts(dto.causes),
      detail: plain.length > 0 ? this.redact(plain.map((s) => s.trim()).join('; ')) : undefined,
    };
  }

  private snippet(text: string): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    const cut = flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS)}…` : flat;
    return this.redact(cut);
  }

  /** Removes the client secret, any access token we held, bearer values and JWT-looking strings. */
  private redact(text: string): string {
    let out = text;
    for (const secret of [this.clientSecret, ...this.knownTokens]) {
      if (secret) out = out.split(secret).join('[redacted]');
    }
    return out
      .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
      .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted]');
  }
}

/** `?a=1&filters=lastUsed%20le%20…`: URLSearchParams, with spaces as %20 rather than '+' (a literal
 *  '+' is already %2B), so every server decodes the value the same way. */
export function buildQuery(query: ApiRequest<unknown>['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const encoded = params.toString().replace(/\+/g, '%20');
  return encoded ? `?${encoded}` : '';
}

/** Retry-After in seconds: delta-seconds or an HTTP date; undefined when absent or unparseable. */
function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function oauthErrorCode(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    const code = (body as { error?: unknown } | null)?.error;
    return typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function decodeJwtClaims(token: string): z.infer<typeof JwtClaimsSchema> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const parsed = JwtClaimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function networkErrorCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

function issueList(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

function summarizeIssues(error: z.ZodError): string {
  const list = issueList(error);
  const shown = list.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  return shown.join('; ') + (list.length > 5 ? `; … ${list.length - 5} more` : '');
}
