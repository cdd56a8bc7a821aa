/**
 * Cognigy's RFC 7807 problem bodies (the ACL page's error responses): every error carries a
 * traceId, which the sandbox also sends as the `x-trace-id` header on every Cognigy response.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

export interface CognigyProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  traceId: string;
  details: Record<string, unknown>;
}

/** The sandbox's Cognigy API lives under this prefix, as in the spec's server URL. */
export const COGNIGY_PREFIX = '/new/';

export function isCognigyPath(path: string): boolean {
  return path.startsWith(COGNIGY_PREFIX);
}

/** 'api--<uuid>', the format of the spec's examples. */
export function newTraceId(): string {
  return `api--${randomUUID()}`;
}

export function problemBody(
  status: number,
  instance: string,
  detail: string,
  traceId: string,
): CognigyProblemBody {
  const type = STATUS_CODES[status] ?? 'Error';
  return {
    type,
    title: status === 500 || status === 503 ? type : `${type} Error`, // as in the spec's examples
    status,
    detail,
    instance: instance.startsWith(COGNIGY_PREFIX) ? instance.slice(COGNIGY_PREFIX.length - 1) : instance,
    code: String(status === 401 || status === 429 || status === 503 ? status : 1000),
    traceId,
    details: {},
  };
}

/**
 * For the server's fault injector: the header and default body of an injected fault on a Cognigy
 * path (undefined for other paths, which keep SailPoint's shapes).
 */
export function cognigyFaultResponse(
  path: string,
  status: number,
): { traceId: string; body: CognigyProblemBody | undefined } | undefined {
  if (!isCognigyPath(path)) return undefined;
  const traceId = newTraceId();
  return {
    traceId,
    body: status >= 400 ? problemBody(status, path, `Injected fault (HTTP ${status}).`, traceId) : undefined,
  };
}
