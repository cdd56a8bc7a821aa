/**
 * The one HTTP client every workflow uses to talk to SailPoint Identity Security Cloud (ISC).
 *
 * - OAuth2 client credentials (`POST /oauth/token`), token cached until shortly before it expires;
 *   concurrent callers share one in-flight token request; a 401 from the API drops the token,
 *   fetches a new one and replays the call once.
 * - Credentials from a SecretSource (../secrets.ts): read at each token request, and when the source
 *   hands out a new credential (rotated, past its max age) the token of the old one is replaced. When
 *   the token endpoint rejects the credential, the source is re-read at once and, if it changed, the
 *   token request is repeated with the new one: a rotation never needs an instance recycle.
 * - Every response body parsed with the caller's zod schema; failures become typed errors
 *   (errors.ts) whose messages are safe to log.
 * - Retries with cockatiel, bounded by attempts and elapsed time; optional client-side rate limit
 *   (bottleneck) wrapping each API attempt; per-attempt timeout (AbortSignal.timeout). That
 *   machinery is shared with the Cognigy client (../http); the rules below are SailPoint's.
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
 *
 * Deadline: a call may carry one (`ApiRequest.deadline`, or every call of `withDeadline(at)`), epoch
 * ms on the client's clock — e.g. the Lambda invocation's end less a reserve. It bounds every wait
 * of the call: the client-side rate budget's queue, the token request, Retry-After and backoff waits
 * and each attempt's timeout, so a call never outlives it. When the deadline prevents an attempt, the
 * call fails with SailPointDeadlineError (nothing was sent in that attempt: give the work back
 * uncharged). The rules above still hold: a POST is never re-sent after a 5xx or timeout.
 */
import * as z from 'zod';
import {
  ResilientHttp,
  parseJsonBody,
  parseRetryAfter,
  readErrorBody,
  redactBearerTokens,
  redactSecrets,
  unsafePathSegment,
  schemaIssues,
  summarizeSchemaIssues,
  type HttpLogger,
  type HttpOptions,
  type CallBounds,
  type HttpResult,
  type RateLimit,
  type RetryOptions,
} from '../http';
import {
  SailPointAuthError,
  SailPointDeadlineError,
  SailPointError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointValidationError,
  type SailPointErrorInit,
} from './errors';
import type { SecretSource } from '../secrets';
import { resolveSailPointApiUrl } from './api-url';

export { resolveSailPointApiUrl } from './api-url';

/** Retry-After values above `maxRetryAfterSeconds` are capped to it. */
export type SailPointRetryOptions = RetryOptions;

export const DEFAULT_RETRY: SailPointRetryOptions = Object.freeze({
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterSeconds: 60,
});

export const DEFAULT_TIMEOUT_MS = 10_000;

export type SailPointLogger = HttpLogger;

/** A SailPoint OAuth client: a PAT's client id and secret, or an API client's. */
export interface SailPointCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** `retry`, `logger`, `sleep` and `fetch` as in HttpOptions (../http). */
export interface SailPointClientOptions extends HttpOptions {
  /** e.g. https://acme.api.identitynow.com or http://127.0.0.1:PORT (sandbox); see resolveSailPointApiUrl. */
  apiUrl: string;
  /** Hosts besides SailPoint's API domains and loopback that apiUrl may name (SAILPOINT_EXTRA_API_HOSTS). */
  extraApiHosts?: readonly string[];
  /** A fixed credential; or give `credentials`. */
  clientId?: string;
  clientSecret?: string;
  /** Where the credential comes from when it may be rotated (wins over clientId/clientSecret). */
  credentials?: SecretSource<SailPointCredentials>;
  /** Per HTTP attempt (token or API call, body included). Default 10 s. */
  timeoutMs?: number;
  /** Client-side limiter for API calls (not token calls): at most maxRequests per perMs. Off by default.
   *  ISC's gateway allows 100 requests per 10 s per client_id and API version. */
  rateLimit?: RateLimit | false;
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
  /** Epoch ms (client clock) that bounds every wait of this call; see "Deadline" at the top. */
  deadline?: number;
}

/** What API functions (api/*.ts) need: the client itself, or any fake with the same `send`. */
export interface SailPointTransport {
  send<T>(request: ApiRequest<T>): Promise<T>;
}

/**
 * A SailPoint client as a workflow holds it — the client itself or a wrapper around it (the rights
 * preflight, the access handler's stop after a refusal). A wrapper passes on what its client has:
 * a copy bound to an invocation's deadline (every wait must end by it), and reservations of send
 * times in the shared rate budget (a chunk's POSTs in one block).
 */
export interface SailPointCaller extends SailPointTransport {
  tokenInfo(): Promise<TokenInfo>;
  reserveCalls?(path: string, count: number): Promise<void>;
  withDeadline?(deadline: number): SailPointCaller;
}

export interface TokenInfo {
  /** Absent for a pure API client (client credentials without user context); set for a PAT. */
  identityId?: string;
  tenantId?: string;
  /** e.g. ['ORG_ADMIN'] for a PAT of an admin, ['API'] for an API client; [] when unknown. */
  authorities: string[];
  /**
   * The token's scopes (rights) when it names them, e.g. ['sp:scopes:all'] or
   * ['idn:access-request:manage', 'sp:search:read'] for a PAT created with narrower scopes;
   * undefined when the token response and JWT name none SailPoint-style.
   */
  scopes?: string[];
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
  /** OAuth scope: space-separated (RFC 6749). */
  scope: z.string().nullish().catch(undefined),
});

/** Claims we read from the access token (a JWT) when the token response lacks them. */
const JwtClaimsSchema = z.looseObject({
  identity_id: z.string().nullish(),
  tenant_id: z.string().nullish(),
  client_id: z.string().nullish(),
  authorities: z.array(z.string()).nullish(),
  scope: z
    .union([z.array(z.string()), z.string()])
    .nullish()
    .catch(undefined),
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
  /** The credential it was issued for: a rotated credential replaces it. */
  credentials: SailPointCredentials;
}

/** Per-call state shared by the attempts of one `send`. */
interface CallState {
  readonly bounds: CallBounds;
  /** Set once the API request of the current attempt has left; reset at each attempt. */
  apiRequestSent: boolean;
  /** The one 401 refresh per call has been used. */
  refreshed: boolean;
}

const IDEMPOTENT_METHODS = new Set<HttpMethod>(['GET', 'PUT', 'DELETE']);
const TOKEN_OPERATION = 'oauthToken';

export class SailPointClient implements SailPointTransport {
  readonly stats: SailPointClientStats = { httpRequests: 0, tokenRequests: 0, retries: 0 };

  private readonly apiUrl: string;
  private readonly credentials: SecretSource<SailPointCredentials>;
  /** Every client secret this client has used, so error texts can be scrubbed of them. */
  private readonly knownSecrets = new Set<string>();
  /** Timeout, rate limit and retry loop; the retry rules are SailPoint's (see the file header). */
  private readonly http: ResilientHttp<SailPointError>;

  private token?: CachedToken;
  private tokenInFlight?: Promise<CachedToken>;
  /** Every access token this client has held, so error texts can be scrubbed of them. */
  private readonly knownTokens = new Set<string>();
  /** Removes the client secret, any access token we held, bearer values and JWT-looking strings. */
  private readonly redact = (text: string): string =>
    redactBearerTokens(redactSecrets(text, [...this.knownSecrets, ...this.knownTokens]));

  constructor(options: SailPointClientOptions) {
    this.apiUrl = resolveSailPointApiUrl({ apiUrl: options.apiUrl, extraHosts: options.extraApiHosts });
    if (options.credentials) {
      this.credentials = options.credentials;
    } else if (options.clientId && options.clientSecret) {
      const fixed = { clientId: options.clientId, clientSecret: options.clientSecret };
      this.credentials = { get: async () => fixed, refresh: async () => fixed };
    } else {
      throw new Error('SailPoint client id and client secret are required.');
    }
    this.http = new ResilientHttp(
      {
        service: 'SailPoint',
        errorType: SailPointError,
        retryAfterSeconds: (error) =>
          error instanceof SailPointRateLimitError && error.hasRetryAfter
            ? error.retryAfterSeconds
            : undefined,
        longRetryAfter: 'cap',
        failureLogFields: (error, operation, attempts) => ({
          operation,
          attempts,
          status: error.status,
          error: error.name,
          retryable: error.retryable,
          trackingId: error.trackingId,
        }),
        stats: this.stats,
        deadlineError: (init) => new SailPointDeadlineError(init),
      },
      options,
      { retry: DEFAULT_RETRY, timeoutMs: DEFAULT_TIMEOUT_MS },
    );
  }

  /** Sends one API call with token handling, retries and response parsing. See the file header. */
  async send<T>(request: ApiRequest<T>): Promise<T> {
    if (!request.path.startsWith('/')) {
      throw new Error(`SailPoint ${request.operation}: path must start with '/', got '${request.path}'.`);
    }
    const unsafe = unsafePathSegment(request.path);
    if (unsafe) {
      // Refused before any token or API request: a path parameter is not an id.
      throw new SailPointValidationError({
        operation: request.operation,
        request: `${request.method} ${request.path.slice(0, 200)}`,
        detail: `refused before sending: the path has ${unsafe}`,
      });
    }
    const idempotent = request.idempotent ?? IDEMPOTENT_METHODS.has(request.method);
    const url = this.apiUrl + request.path + buildQuery(request.query);
    const bounds: CallBounds = { deadline: request.deadline, operation: request.operation };
    const state: CallState = { bounds, apiRequestSent: false, refreshed: false };
    // 429 and failures before the API request left: ISC did not act, safe for any method.
    // Otherwise (5xx, timeout, dropped connection after sending) only idempotent calls are retried.
    const mayRetry = idempotent
      ? undefined
      : (error: SailPointError) => error instanceof SailPointRateLimitError || !state.apiRequestSent;
    return this.http.withRetry(
      request.operation,
      (attempt) => this.attemptApiCall(request, url, state, attempt),
      mayRetry,
      request.deadline,
    );
  }

  /**
   * This client with a deadline on every call (the earlier one wins over a call's own): hand it to
   * the code of one invocation, e.g. `client.withDeadline(Date.now() + remainingMs - reserveMs)`.
   */
  withDeadline(deadline: number): SailPointCaller {
    return {
      send: <T>(request: ApiRequest<T>) =>
        this.send({ ...request, deadline: Math.min(deadline, request.deadline ?? Infinity) }),
      tokenInfo: () => this.tokenInfo(deadline),
      reserveCalls: (path: string, count: number) => this.reserveCalls(path, count, deadline),
    };
  }

  /**
   * Tells the shared rate budget (if any) that `count` calls to `path`'s API version are about to be
   * made, so it sets their send times aside in one block (shared-budget.ts). Best effort, no call.
   */
  async reserveCalls(path: string, count: number, deadline?: number): Promise<void> {
    const gate = this.http.gate;
    if (!gate?.reserve || count <= 0) return;
    const token = await this.getToken({ deadline, operation: TOKEN_OPERATION });
    await gate.reserve(
      budgetKey(token, path),
      count,
      deadline === undefined ? undefined : deadline - this.http.minAttemptMs,
    );
  }

  /** Identity behind the credentials; fetches a token if none is cached. */
  async tokenInfo(deadline?: number): Promise<TokenInfo> {
    const bounds: CallBounds = { deadline, operation: TOKEN_OPERATION };
    const token = await this.http.withRetry(
      TOKEN_OPERATION,
      () => this.getToken(bounds),
      undefined,
      deadline,
    );
    return { ...token.info, authorities: [...token.info.authorities] };
  }

  private async attemptApiCall<T>(
    request: ApiRequest<T>,
    url: string,
    state: CallState,
    attempt: number,
  ): Promise<T> {
    state.apiRequestSent = false;
    let token = await this.getToken(state.bounds);
    let result = await this.callApi(request, url, token, state, attempt);
    if (result.status === 401 && !state.refreshed) {
      // The token may have been revoked or expired early: the server did not act on the call.
      state.refreshed = true;
      this.stats.retries++;
      this.http.logger?.debug('SailPoint token rejected, refreshing once', {
        operation: request.operation,
        attempt,
      });
      this.dropToken(token);
      state.apiRequestSent = false;
      token = await this.getToken(state.bounds);
      result = await this.callApi(request, url, token, state, attempt);
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
    token: CachedToken,
    state: CallState,
    attempt: number,
  ): Promise<HttpResult> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token.accessToken}`,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['Content-Type'] =
        request.contentType ??
        (request.method === 'PATCH' ? 'application/json-patch+json' : 'application/json');
      body = JSON.stringify(request.body);
    }
    const exchange = async (): Promise<HttpResult> => {
      this.http.assertAttemptFits(state.bounds); // before it counts as sent
      state.apiRequestSent = true;
      this.stats.httpRequests++;
      return this.fetchOnce(
        request.operation,
        `${request.method} ${request.path}`,
        url,
        { method: request.method, headers, body },
        state.bounds,
      );
    };
    const startedAt = this.http.now();
    const result = await this.http.limited(exchange, state.bounds, budgetKey(token, request.path));
    this.http.logger?.debug('SailPoint request', {
      operation: request.operation,
      method: request.method,
      path: request.path,
      status: result.status,
      attempt,
      durationMs: this.http.now() - startedAt,
    });
    return result;
  }

  /** One HTTP exchange under the per-attempt timeout; no response is a SailPointTimeoutError. */
  private fetchOnce(
    operation: string,
    requestLabel: string,
    url: string,
    init: RequestInit,
    bounds: CallBounds,
  ): Promise<HttpResult> {
    return this.http.fetchOnce(
      url,
      init,
      (failure) =>
        new SailPointTimeoutError({
          operation,
          request: requestLabel,
          outcomeUnknown: true,
          detail: failure.networkCode ? `${failure.detail} (${failure.networkCode})` : failure.detail,
          cause: failure.cause,
        }),
      bounds,
    );
  }

  // ---- token -----------------------------------------------------------------------------------

  /**
   * The cached token, or the one being fetched (shared by concurrent callers, each within its
   * deadline). A token of a credential the source no longer hands out (rotated) is replaced.
   */
  private async getToken(bounds: CallBounds = {}): Promise<CachedToken> {
    const credentials = await this.currentCredentials();
    const token = this.token;
    if (token && this.http.now() < token.refreshAt && sameCredentials(token.credentials, credentials)) {
      return token;
    }
    if (!this.tokenInFlight) {
      const inFlight = this.fetchToken(credentials, bounds).finally(() => {
        if (this.tokenInFlight === inFlight) this.tokenInFlight = undefined;
      });
      this.tokenInFlight = inFlight;
    }
    return this.http.untilDeadline(this.tokenInFlight, bounds, () =>
      this.http.deadlineError({
        operation: bounds.operation ?? TOKEN_OPERATION,
        detail: 'the access token did not arrive before the deadline',
      }),
    );
  }

  /** Forgets `rejected` unless another caller already replaced it. */
  private dropToken(rejected: CachedToken): void {
    if (this.token === rejected) this.token = undefined;
  }

  /** The credential to use now (the source re-reads it once past its max age). */
  private async currentCredentials(): Promise<SailPointCredentials> {
    const credentials = await this.credentials.get();
    this.knownSecrets.add(credentials.clientSecret);
    return credentials;
  }

  private async fetchToken(used: SailPointCredentials, bounds: CallBounds): Promise<CachedToken> {
    let credentials = used;
    let requestedAt = this.http.now();
    let result = await this.requestToken(credentials, bounds);
    if (isRejectedCredential(result)) {
      // Rotated since it was read? Re-read the secret now, and try once more if it changed.
      const fresh = await this.credentials.refresh();
      this.knownSecrets.add(fresh.clientSecret);
      if (!sameCredentials(fresh, credentials)) {
        this.http.logger?.debug('SailPoint credentials rejected; the secret has changed, retrying with it', {
          operation: TOKEN_OPERATION,
          rejectedClientId: credentials.clientId,
          clientId: fresh.clientId,
        });
        credentials = fresh;
        requestedAt = this.http.now();
        result = await this.requestToken(credentials, bounds);
      }
    }
    if (result.status < 200 || result.status >= 300) {
      throw this.tokenError(result, credentials.clientId);
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
      const issues = schemaIssues(parsed.error);
      throw new SailPointResponseError({
        operation: TOKEN_OPERATION,
        request: 'POST /oauth/token',
        status: result.status,
        detail: `token response did not match the expected shape: ${summarizeSchemaIssues(issues)}`,
        issues,
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
        scopes: scopesOf(body.scope ?? claims?.scope),
        clientId: body.client_id || claims?.client_id || credentials.clientId,
        expiresAt,
      },
      credentials,
    };
    this.knownTokens.add(token.accessToken);
    this.token = token;
    this.http.logger?.debug('SailPoint token acquired', {
      expiresInSeconds: body.expires_in,
      userContext: token.info.identityId !== undefined,
    });
    return token;
  }

  /** One POST /oauth/token (client credentials grant), within the call's deadline. */
  private async requestToken(credentials: SailPointCredentials, bounds: CallBounds): Promise<HttpResult> {
    this.http.assertAttemptFits(bounds);
    this.stats.tokenRequests++;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    });
    const result = await this.fetchOnce(
      TOKEN_OPERATION,
      'POST /oauth/token',
      `${this.apiUrl}/oauth/token`,
      {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      { deadline: bounds.deadline, operation: TOKEN_OPERATION },
    );
    // Never log token bodies or headers: status only.
    this.http.logger?.debug('SailPoint token request', { operation: TOKEN_OPERATION, status: result.status });
    return result;
  }

  private tokenError(result: HttpResult, clientId: string): SailPointError {
    const init: SailPointErrorInit = {
      operation: TOKEN_OPERATION,
      request: 'POST /oauth/token',
      status: result.status,
    };
    if (isRejectedCredential(result)) {
      // Only the OAuth error code (e.g. invalid_client) is taken from the body, never free text.
      const code = oauthErrorCode(result.text);
      return new SailPointAuthError({
        ...init,
        detail:
          `SailPoint rejected the client credentials for client id '${clientId}'` +
          `${code ? ` (${code})` : ''}; check the configured client id and secret (the secret is not shown)`,
      });
    }
    return this.errorFromResponse(TOKEN_OPERATION, 'POST /oauth/token', result, { tokenCall: true });
  }

  // ---- responses -------------------------------------------------------------------------------

  private parseBody<T>(request: ApiRequest<T>, result: HttpResult): T {
    const hasBody = result.status !== 204 && result.text.trim() !== '';
    const parsed = parseJsonBody(hasBody ? result.text : undefined, request.responseSchema, this.redact);
    if (parsed.ok) return parsed.data;
    throw new SailPointResponseError({
      operation: request.operation,
      request: `${request.method} ${request.path}`,
      status: result.status,
      detail: parsed.detail,
      issues: parsed.issues,
    });
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
      const retryAfterSeconds = parseRetryAfter(result.headers, this.http.now());
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
    const { fields: dto, snippet } = readErrorBody(result.text, ErrorBodySchema, this.redact);
    if (!dto) return snippet === undefined ? {} : { detail: snippet };
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

/** The token endpoint's answer to a client id/secret it does not accept. */
function isRejectedCredential(result: HttpResult): boolean {
  return result.status === 400 || result.status === 401 || result.status === 403;
}

function sameCredentials(a: SailPointCredentials, b: SailPointCredentials): boolean {
  return a.clientId === b.clientId && a.clientSecret === b.clientSecret;
}

/** Scopes named the OAuth way (space-separated text) or as a JWT array; only SailPoint-style names. */
function scopesOf(scope: string | string[] | null | undefined): string[] | undefined {
  if (scope === null || scope === undefined) return undefined;
  const names = (Array.isArray(scope) ? scope : [scope])
    .flatMap((s) => s.split(/\s+/))
    .filter((s) => /^[a-z]+(:[a-z0-9-]+)+$/i.test(s));
  return names.length > 0 ? names : undefined;
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

/** A shared budget's key for a call: the gateway counts per client id and API version, so does it. */
function budgetKey(token: CachedToken, path: string): string {
  return `${token.credentials.clientId} ${apiVersionOf(path)}`;
}

/** The API version a path is counted under by the gateway: its first segment ('/v3/search' → 'v3'). */
function apiVersionOf(path: string): string {
  return path.split('/')[1] ?? '';
}
