/**
 * Typed errors of the Cognigy.AI client. Every failure of `CognigyClient.get` is one of these, so a
 * workflow decides with `instanceof` and `retryable` what to do next.
 *
 * Cognigy answers errors with an RFC 7807 problem body (type, title, status, detail, code, traceId).
 * The traceId is what Cognigy support asks for, so it is kept on every error and appears in every
 * message. Messages never contain the API key, request headers or response bodies beyond the
 * problem fields.
 */
import { ServiceCallError, nameErrorClasses, type SchemaIssue } from '../http';

/** The RFC 7807 fields Cognigy sends; all optional because proxies and gateways may send less. */
export interface CognigyProblem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** Cognigy's error code; documented as a string, sent as a number by some versions. */
  code?: string;
  traceId?: string;
}

export interface CognigyErrorInit {
  /** Logical operation, e.g. 'getCurrentUserAcl'. */
  operation: string;
  /** 'GET /v2.0/users/me/acl' — never the query string or headers. */
  request?: string;
  /** HTTP status; absent when no response arrived. */
  status?: number;
  problem?: CognigyProblem;
  /** Trace id from the problem body or the response header, whichever is known. */
  traceId?: string;
  retryable?: boolean;
  /** Free text that is already free of secrets. */
  detail?: string;
  cause?: unknown;
}

const DEFAULTS = {
  base: { retryable: false, fallback: 'unexpected response' },
  auth: { retryable: false, fallback: 'not authorized' },
  rateLimit: { retryable: true, fallback: 'rate limited' },
  server: { retryable: true, fallback: 'Cognigy server error' },
  timeout: { retryable: true, fallback: 'no response' },
  response: { retryable: false, fallback: 'the response did not match the expected schema' },
} as const;

function describe(init: CognigyErrorInit, fallback: string): string {
  const head = `Cognigy ${init.operation}${init.request ? ` (${init.request})` : ''} failed`;
  const status = init.status !== undefined ? `HTTP ${init.status}` : '';
  const code = init.problem?.code ? `[code ${init.problem.code}]` : '';
  const texts = [init.problem?.title, init.problem?.detail, init.detail].filter(
    (t): t is string => typeof t === 'string' && t.trim() !== '',
  );
  const what = texts.length > 0 ? [...new Set(texts)].join(': ') : fallback;
  const lead = [status, code].filter(Boolean).join(' ');
  return `${head}: ${lead}${lead ? ' ' : ''}${what} (traceId ${init.traceId ?? 'none'})`;
}

/** `operation`, `status` and `retryable` (transient: the same request may succeed later) come from
 *  ServiceCallError. */
export class CognigyError extends ServiceCallError {
  readonly request?: string;
  /** Quote this to Cognigy support. */
  readonly traceId?: string;
  readonly problem: CognigyProblem;

  constructor(init: CognigyErrorInit, defaults: { retryable: boolean; fallback: string } = DEFAULTS.base) {
    super(describe(init, defaults.fallback), init, defaults.retryable);
    this.request = init.request;
    this.traceId = init.traceId ?? init.problem?.traceId;
    this.problem = init.problem ?? {};
  }

  /** Structured fields for a log line: the traceId is always there, secrets never are. */
  toLog(): Record<string, unknown> {
    return {
      error: this.name,
      operation: this.operation,
      request: this.request,
      status: this.status,
      code: this.problem.code,
      traceId: this.traceId,
      message: this.message,
    };
  }
}

/** 401 (wrong, revoked or expired key) or 403 (the key lacks a right for the operation). */
export class CognigyAuthError extends CognigyError {
  constructor(init: CognigyErrorInit) {
    super(init, DEFAULTS.auth);
  }
}

/** 429 after retries were exhausted or the Retry-After exceeded the bound. */
export class CognigyRateLimitError extends CognigyError {
  /** Seconds the server asked us to wait; undefined when it sent no Retry-After. */
  readonly retryAfterSeconds?: number;
  constructor(init: CognigyErrorInit & { retryAfterSeconds?: number }) {
    super(init, DEFAULTS.rateLimit);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 408 or 5xx. */
export class CognigyServerError extends CognigyError {
  constructor(init: CognigyErrorInit) {
    super(init, DEFAULTS.server);
  }
}

/** Per-attempt timeout, or the connection failed before a response arrived. */
export class CognigyTimeoutError extends CognigyError {
  constructor(init: CognigyErrorInit) {
    super(init, DEFAULTS.timeout);
  }
}

/** A 2xx body that is not JSON or does not match the schema. */
export class CognigyResponseError extends CognigyError {
  /** Zod issues reduced to path and message (never the offending values, which could hold a key). */
  readonly issues: SchemaIssue[];
  constructor(init: CognigyErrorInit & { issues?: SchemaIssue[] }) {
    super(init, DEFAULTS.response);
    this.issues = init.issues ?? [];
  }
}

nameErrorClasses({
  CognigyError,
  CognigyAuthError,
  CognigyRateLimitError,
  CognigyServerError,
  CognigyTimeoutError,
  CognigyResponseError,
});
