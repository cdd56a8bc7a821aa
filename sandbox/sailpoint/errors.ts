/**
 * ISC error bodies, shaped as in ops-beta.yaml / ops-v3.yaml `components/responses`:
 * - 400, 403, 404, 500 and other errors: ErrorResponseDto { detailCode, trackingId, messages, causes }
 * - 401: { error } (the API gateway's JWT check)
 * - 429: { message: ' Rate Limit Exceeded ' } with a Retry-After header
 *
 * Route modules either call `sailpointError(reply, …)` or throw `SailpointError`; the sandbox
 * error handler renders a thrown one the same way.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

export interface ErrorMessageDto {
  locale: string;
  localeOrigin: 'DEFAULT' | 'REQUEST';
  text: string;
}

export interface ErrorResponseDto {
  detailCode: string;
  trackingId: string;
  messages: ErrorMessageDto[];
  causes: ErrorMessageDto[];
}

/** detailCode and message text per status, from the spec examples where the spec has one. */
const DEFAULTS: Readonly<Record<number, { detailCode: string; text: string }>> = {
  400: {
    detailCode: '400.1 Bad Request Content',
    text: 'The request was syntactically correct but its content is semantically invalid.',
  },
  403: {
    detailCode: '403 Forbidden',
    text: 'The server understood the request but refuses to authorize it.',
  },
  404: {
    detailCode: '404 Not found',
    text: 'The server did not find a current representation for the target resource.',
  },
  500: { detailCode: '500.0 Internal Fault', text: 'An internal fault occurred.' },
};

export const RATE_LIMIT_BODY = { message: ' Rate Limit Exceeded ' } as const;

/** 32 hex characters, like the trackingId and the object ids ISC returns. */
export function randomHexId(): string {
  return randomBytes(16).toString('hex');
}

function message(text: string): ErrorMessageDto {
  return { locale: 'en-US', localeOrigin: 'DEFAULT', text };
}

export function defaultDetailCode(status: number): string {
  return DEFAULTS[status]?.detailCode ?? `${status}.0 ${STATUS_CODES[status] ?? 'Error'}`;
}

/** An ErrorResponseDto; detailCode and text default per status. */
export function errorResponseDto(
  status: number,
  detailCode?: string,
  text?: string,
  causes: readonly string[] = [],
): ErrorResponseDto {
  return {
    detailCode: detailCode ?? defaultDetailCode(status),
    trackingId: randomHexId(),
    messages: [message(text ?? DEFAULTS[status]?.text ?? STATUS_CODES[status] ?? 'Error')],
    causes: causes.map(message),
  };
}

/** Sends an ErrorResponseDto. Return its result from the handler: `return sailpointError(reply, 404)`. */
export function sailpointError(
  reply: FastifyReply,
  status: number,
  detailCode?: string,
  text?: string,
  causes?: readonly string[],
): FastifyReply {
  return reply.code(status).send(errorResponseDto(status, detailCode, text, causes));
}

/** Thrown from a route (or a helper it calls) to answer with an ErrorResponseDto. */
export class SailpointError extends Error {
  constructor(
    readonly statusCode: number,
    text?: string,
    readonly detailCode?: string,
    readonly causes: readonly string[] = [],
  ) {
    super(text ?? DEFAULTS[statusCode]?.text ?? STATUS_CODES[statusCode] ?? 'Error');
    this.name = 'SailpointError';
  }

  toDto(): ErrorResponseDto {
    return errorResponseDto(this.statusCode, this.detailCode, this.message, this.causes);
  }
}

/** The gateway's 401 body. */
export function unauthorizedBody(error: string): { error: string } {
  return { error };
}

/** The body a fault or error of this status gets when none is given. */
export function defaultErrorBody(status: number): unknown {
  if (status === 401) return unauthorizedBody('JWT validation failed: JWT is invalid');
  if (status === 429) return RATE_LIMIT_BODY;
  return errorResponseDto(status);
}
