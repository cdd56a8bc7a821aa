/**
 * What every route module receives. A route module is one file exporting
 * `registerXxxRoutes(app: FastifyInstance, ctx: SandboxContext): void`, listed once in
 * ROUTE_MODULES in sandbox/server.ts.
 *
 * Before a route runs, the server has already: logged the request, applied injected faults,
 * and for SailPoint API paths (/beta, /v3, /v2024 …) checked the bearer token and the rate
 * limit. `getCaller(request)` tells the route which client called.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FaultInjector } from './faults';
import type { RateLimitSettings } from './rate-limit';
import type { RequestLog } from './request-log';
import type { OAuthClient, SandboxSeed } from './seed';
import type { SandboxState } from './state';

/** SandboxOptions with defaults applied. */
export interface ResolvedSandboxOptions {
  readonly port: number;
  readonly seed: SandboxSeed;
  readonly clients: readonly OAuthClient[];
  readonly rateLimit: RateLimitSettings | false;
  readonly tokenTtlSeconds: number;
}

export interface SandboxContext {
  readonly state: SandboxState;
  readonly faults: FaultInjector;
  readonly requestLog: RequestLog;
  readonly options: ResolvedSandboxOptions;
  /** The sandbox clock: use it for every data rule (ages, expiry, created/modified stamps). */
  readonly now: () => Date;
}

export type RouteModule = (app: FastifyInstance, ctx: SandboxContext) => void;

/** The client behind the bearer token of a SailPoint API request. */
export interface Caller {
  readonly clientId: string;
  /** Set for PAT-like clients (user context); absent for pure API clients. */
  readonly identityId?: string;
  readonly authorities: readonly string[];
  readonly scope: string;
  /** The token's jti. */
  readonly tokenId: string;
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** Records the authenticated caller (done by the server's auth hook). */
export function setCaller(request: FastifyRequest, caller: Caller): void {
  callers.set(request, caller);
}

/** The caller, or undefined on routes outside the SailPoint API (e.g. /oauth/token, Cognigy). */
export function findCaller(request: FastifyRequest): Caller | undefined {
  return callers.get(request);
}

/** The caller of a SailPoint API route (always authenticated there). */
export function getCaller(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no authenticated caller for ${request.method} ${request.url}`);
  return caller;
}

/** SailPoint API version of a path (/beta/…, /v3/…, /v2024/…), or undefined for other paths. */
export function sailpointApiVersion(path: string): string | undefined {
  return /^\/(beta|v\d{1,4})(?=\/|$)/.exec(path)?.[1];
}
