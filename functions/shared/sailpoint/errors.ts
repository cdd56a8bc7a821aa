/**
 * Typed errors of the SailPoint client. Every failure of `SailPointClient.send` is one of these,
 * so a workflow can decide with `instanceof` (and `retryable` / `outcomeUnknown`) what to do next.
 *
 * Messages are written for an operator reading a log or a dead-letter record: they name the
 * operation, the HTTP request, the status, SailPoint's detailCode, trackingId and message texts.
 * They never contain tokens, client secrets, headers or request bodies: the client builds them
 * from the ErrorResponseDto fields only, after redacting anything that looks like a credential.
 */
import { ServiceCallError, nameErrorClasses, type SchemaIssue } from '../http';

export interface SailPointErrorInit {
  /** Logical operation, e.g. 'listPersonalAccessTokens' ('oauthToken' for the token endpoint). */
  operation: string;
  /** HTTP status, absent when no response was received (timeout, connection) or the request was refused locally. */
  status?: number;
  /** Overrides the class default (see each class). */
  retryable?: boolean;
  /** True when a request was sent and SailPoint may have acted on it without us seeing the result. */
  outcomeUnknown?: boolean;
  /** ErrorResponseDto.trackingId: quote it to SailPoint support. */
  trackingId?: string;
  /** ErrorResponseDto.detailCode, e.g. '400.1 Bad Request Content'. */
  detailCode?: string;
  /** ErrorResponseDto.messages[].text. */
  messages?: string[];
  /** ErrorResponseDto.causes[].text. */
  causes?: string[];
  /** 'GET /beta/personal-access-tokens' — no query string (filters may be long), never headers. */
  request?: string;
  /** Free text explaining the failure; must already be free of secrets. */
  detail?: string;
  cause?: unknown;
}

const DEFAULTS = {
  base: { retryable: false, fallback: 'unexpected response' },
  validation: { retryable: false, fallback: 'the request was rejected as invalid' },
  auth: { retryable: false, fallback: 'not authorized' },
  notFound: { retryable: false, fallback: 'not found' },
  rateLimit: { retryable: true, fallback: 'rate limited' },
  server: { retryable: true, fallback: 'SailPoint server error' },
  timeout: { retryable: true, fallback: 'no response' },
  response: { retryable: false, fallback: 'the response did not match the expected schema' },
  deadline: { retryable: true, fallback: 'not sent before the deadline' },
} as const;

function describe(init: SailPointErrorInit, fallback: string): string {
  const head = `SailPoint ${init.operation}${init.request ? ` (${init.request})` : ''} failed`;
  const parts: string[] = [];
  if (init.status !== undefined) parts.push(`HTTP ${init.status}`);
  if (init.detailCode) parts.push(`[${init.detailCode}]`);
  const texts = [...(init.messages ?? []), ...(init.causes ?? [])].filter((t) => t.trim() !== '');
  const what = [init.detail ?? (texts.length === 0 ? fallback : undefined), ...texts]
    .filter(Boolean)
    .join(' | ');
  let message = `${head}: ${parts.join(' ')}${parts.length > 0 && what ? ' ' : ''}${what}`;
  if (init.trackingId) message += ` (trackingId ${init.trackingId})`;
  return message;
}

/**
 * `operation`, `status` and `retryable` come from ServiceCallError. `retryable` says the failure is
 * transient; for a non-idempotent request a retry is only safe after reconciling (see `outcomeUnknown`).
 */
export class SailPointError extends ServiceCallError {
  /** A request was sent and SailPoint may have acted on it (5xx, timeout, dropped connection). */
  readonly outcomeUnknown: boolean;
  readonly trackingId?: string;
  readonly detailCode?: string;
  readonly messages: string[];
  readonly causes: string[];

  constructor(init: SailPointErrorInit, defaults: { retryable: boolean; fallback: string } = DEFAULTS.base) {
    super(describe(init, defaults.fallback), init, defaults.retryable);
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.trackingId = init.trackingId;
    this.detailCode = init.detailCode;
    this.messages = init.messages ?? [];
    this.causes = init.causes ?? [];
  }
}

/** 400 (parsed from ErrorResponseDto), or a request body refused locally before sending (no status). */
export class SailPointValidationError extends SailPointError {
  constructor(init: SailPointErrorInit) {
    super(init, DEFAULTS.validation);
  }
}

/** 401 (after one token refresh), 403, or client credentials rejected by the token endpoint. */
export class SailPointAuthError extends SailPointError {
  constructor(init: SailPointErrorInit) {
    super(init, DEFAULTS.auth);
  }
}

/** 404. After a retried DELETE this can also mean the first attempt already succeeded. */
export class SailPointNotFoundError extends SailPointError {
  constructor(init: SailPointErrorInit) {
    super(init, DEFAULTS.notFound);
  }
}

/** 429. */
export class SailPointRateLimitError extends SailPointError {
  /** Seconds the server asked us to wait (Retry-After, uncapped); 0 when it sent none (see `hasRetryAfter`). */
  readonly retryAfterSeconds: number;
  readonly hasRetryAfter: boolean;
  constructor(init: SailPointErrorInit & { retryAfterSeconds?: number }) {
    super(init, DEFAULTS.rateLimit);
    this.hasRetryAfter = init.retryAfterSeconds !== undefined;
    this.retryAfterSeconds = init.retryAfterSeconds ?? 0;
  }
}

/** 5xx. */
export class SailPointServerError extends SailPointError {
  constructor(init: SailPointErrorInit) {
    super(init, DEFAULTS.server);
  }
}

/** Per-attempt timeout, or the connection failed / was dropped before a response arrived. */
export class SailPointTimeoutError extends SailPointError {
  constructor(init: SailPointErrorInit) {
    super(init, DEFAULTS.timeout);
  }
}

/** A 2xx body that is not JSON or does not match the zod schema. */
export class SailPointResponseError extends SailPointError {
  /** Zod issues reduced to path and message (never the offending values). */
  readonly issues: SchemaIssue[];
  constructor(init: SailPointErrorInit & { issues?: SchemaIssue[] }) {
    super(init, DEFAULTS.response);
    this.issues = init.issues ?? [];
  }
}

/**
 * The call's deadline (e.g. the invocation's end) came before the call, or its retry, could be sent:
 * the attempt it prevented never reached SailPoint (`outcomeUnknown` false), so a workflow may put
 * the work back on its queue without charging it a failed attempt. `cause`: the failure whose retry
 * it prevented, if any; `waitMs`: the wait that did not fit (Retry-After, backoff or the rate budget).
 */
export class SailPointDeadlineError extends SailPointError {
  readonly deadlineExceeded = true;
  readonly waitMs?: number;
  constructor(init: SailPointErrorInit & { waitMs?: number }) {
    super({ ...init, outcomeUnknown: false }, DEFAULTS.deadline);
    this.waitMs = init.waitMs;
  }
}

nameErrorClasses({
  SailPointError,
  SailPointDeadlineError,
  SailPointValidationError,
  SailPointAuthError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointResponseError,
});
