/**
 * Every request the sandbox answered (or dropped), in arrival order of completion. The JSON bodies of
 * SailPoint API writes (POST/PUT/PATCH under /beta, /v3 …) are kept, so what SailPoint accepted can be
 * counted from them (accepted-units.ts); token requests (credentials) and Cognigy calls are not.
 */

export interface RequestLogEntry {
  readonly method: string;
  /** URL path without the query string, as sent. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[]>>;
  /** HTTP status sent; 0 when the connection was dropped by a fault. */
  readonly status: number;
  /** What the route answered when an afterRoute fault replaced it (or dropped the connection). */
  readonly routeStatus?: number;
  /** The parsed JSON body of a SailPoint API POST/PUT/PATCH. */
  readonly body?: unknown;
  /** The authenticated client (for /oauth/token: the client whose credentials were accepted). */
  readonly clientId?: string;
  /** SailPoint API version from the path prefix: 'beta', 'v3', 'v2024' … */
  readonly apiVersion?: string;
  /** Sandbox clock at arrival. */
  readonly at: Date;
  /** Wall-clock time from arrival to response. */
  readonly durationMs: number;
  /** True when an injected fault matched the request (status, latency or drop). */
  readonly fault?: boolean;
}

export interface RequestLogFilter {
  method?: string;
  /** Exact path, or a pattern tested against the path. */
  path?: string | RegExp;
  status?: number;
  clientId?: string;
  apiVersion?: string;
}

/** The status the service itself answered: the route's, even when a fault replaced it on the wire. */
export function serviceStatus(entry: RequestLogEntry): number {
  return entry.routeStatus ?? entry.status;
}

export function matchesPath(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern === 'string') return pattern === path;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];

  get entries(): readonly RequestLogEntry[] {
    return this.#entries;
  }

  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
  }

  filter(filter: RequestLogFilter = {}): RequestLogEntry[] {
    return this.#entries.filter(
      (e) =>
        (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
        (filter.path === undefined || matchesPath(filter.path, e.path)) &&
        (filter.status === undefined || e.status === filter.status) &&
        (filter.clientId === undefined || e.clientId === filter.clientId) &&
        (filter.apiVersion === undefined || e.apiVersion === filter.apiVersion),
    );
  }

  count(filter?: RequestLogFilter): number {
    return this.filter(filter).length;
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
