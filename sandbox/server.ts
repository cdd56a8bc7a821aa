/**
 * The sandbox tenant: a loopback HTTP server that behaves like SailPoint ISC's endpoints, with
 * in-memory data, a request log, fault injection, the gateway's bearer check and rate limit.
 *
 * Request pipeline (one onRequest hook, in this order):
 *   1. injected faults (answer, delay or drop; a faulted request never reaches its route)
 *   2. SailPoint API paths (/beta, /v3, /v2024 …): bearer token → 401, then rate limit → 429
 *   3. the route (from a route module, see ROUTE_MODULES)
 *   4. afterRoute faults: the route's answer replaced by a fault status, or the connection dropped
 * Every request ends up in the request log (as its response is sent, or at the drop).
 */
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import * as z from 'zod';
import {
  type ResolvedSandboxOptions,
  type RouteModule,
  type SandboxContext,
  findCaller,
  sailpointApiVersion,
  setCaller,
} from './context';
import { type Fault, FaultInjector } from './faults';
import { FilterError } from './filters';
import { RateLimiter } from './rate-limit';
import { RequestLog } from './request-log';
import { authenticateBearer, issueAccessToken, registerOAuthRoutes } from './sailpoint/auth';
import {
  RATE_LIMIT_BODY,
  SailpointError,
  defaultErrorBody,
  errorResponseDto,
  sailpointError,
  unauthorizedBody,
} from './sailpoint/errors';
import { registerPersonalAccessTokenRoutes } from './sailpoint/personal-access-tokens';
import { registerSearchRoutes } from './sailpoint/search';
import { registerAccessRequestRoutes } from './sailpoint/access-requests';
import { registerReassignmentConfigurationRoutes } from './sailpoint/reassignment-configurations';
import { registerCognigyRoutes } from './cognigy/routes';
import { registerTriggerSubscriptionRoutes } from './events/subscriptions';
import { cognigyFaultResponse } from './cognigy/errors';
import { OAuthClientSchema, type OAuthClient, type SandboxSeed, loadDefaultSeed, parseSeed } from './seed';
import { type SandboxState, createSandboxState } from './state';

export type { Caller, RouteModule, SandboxContext } from './context';
export type { FaultRule } from './faults';
export type { RequestLogEntry, RequestLogFilter } from './request-log';
export type { OAuthClient, SandboxSeed } from './seed';
export type { SandboxIdentity, SandboxPat, SandboxState } from './state';
export { DEFAULT_SEARCH_LAG_MS } from './search-index';
export { FaultInjector, RequestLog };
export { acceptedAccessRequestUnits, acceptedUnitKey, compareAcceptedUnits } from './accepted-units';

/** Route modules, registered in this order. Adding one: import it and list it here. */
const ROUTE_MODULES: readonly RouteModule[] = [
  registerOAuthRoutes,
  registerPersonalAccessTokenRoutes,
  registerSearchRoutes,
  registerAccessRequestRoutes,
  registerReassignmentConfigurationRoutes,
  registerTriggerSubscriptionRoutes,
  registerCognigyRoutes,
];

export interface SandboxOptions {
  /** Default 0 (a free port). The host is always 127.0.0.1. */
  port?: number;
  /** Default: sandbox/fixtures/default-tenant.json. Validated; throws a ZodError when invalid. */
  seed?: SandboxSeed;
  /** Default: the seed's clients. */
  clients?: OAuthClient[];
  /**
   * Default 100 requests per 10 000 ms, per client id and API version (official/rate-limit.md).
   * Counted over real time, not the sandbox clock. false: no rate limit.
   */
  rateLimit?: { limit: number; windowMs: number } | false;
  /**
   * How long Search (GET /v3/search/…, POST /v3/search) trails the system of record, on the sandbox
   * clock: a new identity or an access change shows this much later (search-index.ts). Default 5 min
   * (DEFAULT_SEARCH_LAG_MS); 0: Search is always current. Change it later via `state.search.lagMs`.
   */
  searchLagMs?: number;
  /** Access token lifetime; default 749 as in the docs example. */
  tokenTtlSeconds?: number;
  /** The sandbox clock, for data rules (seed ages, token expiry, timestamps). Default: system time. */
  now?: () => Date;
  /** Random source for fault probabilities; default Math.random. */
  random?: () => number;
  /** Fastify's request logging to stdout; default false. */
  logger?: boolean;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT — the SailPoint API base (/oauth/token, /beta/…, /v3/…). */
  readonly url: string;
  readonly state: SandboxState;
  readonly requestLog: RequestLog;
  readonly faults: FaultInjector;
  /** Mints an access token directly (no HTTP request, not logged); default: the first client. */
  issueToken(clientId?: string): string;
  stop(): Promise<void>;
}

interface RequestMeta {
  readonly started: number;
  readonly at: Date;
  readonly path: string;
  readonly apiVersion: string | undefined;
  fault: boolean;
  /** An afterRoute fault taken for this request, applied when the route's answer is sent. */
  afterRoute?: Fault;
  logged: boolean;
}

const KEPT_BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function resolveOptions(options: SandboxOptions): {
  resolved: ResolvedSandboxOptions;
  seed: ReturnType<typeof parseSeed>;
} {
  const seed = parseSeed(options.seed ?? loadDefaultSeed());
  const clients = z.array(OAuthClientSchema).parse(options.clients ?? seed.clients);
  for (const client of clients) {
    if (client.identityId !== undefined && !seed.identities.some((i) => i.id === client.identityId)) {
      throw new Error(`client ${client.clientId}: unknown identity ${client.identityId}`);
    }
  }
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 749;
  if (!(Number.isInteger(tokenTtlSeconds) && tokenTtlSeconds > 0))
    throw new RangeError('tokenTtlSeconds must be > 0');
  return {
    seed,
    resolved: {
      port: options.port ?? 0,
      seed,
      clients,
      rateLimit:
        options.rateLimit === false ? false : (options.rateLimit ?? { limit: 100, windowMs: 10_000 }),
      tokenTtlSeconds,
    },
  };
}

/** Resolves after `ms`, or at once when the sandbox stops. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function installBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer' },
    async (request: FastifyRequest, body: string | Buffer) => {
      const form = await new Response(body, {
        headers: { 'content-type': request.headers['content-type'] ?? '' },
      }).formData();
      return Object.fromEntries(
        [...form.entries()].filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
    },
  );
}

function installPipeline(
  app: FastifyInstance,
  ctx: SandboxContext,
  limiter: RateLimiter | undefined,
  signal: AbortSignal,
) {
  const metas = new WeakMap<FastifyRequest, RequestMeta>();

  const record = (request: FastifyRequest, status: number, routeStatus?: number) => {
    const meta = metas.get(request);
    if (!meta || meta.logged) return;
    meta.logged = true;
    const clientId = findCaller(request)?.clientId;
    const keepBody =
      meta.apiVersion !== undefined && KEPT_BODY_METHODS.has(request.method) && request.body !== undefined;
    ctx.requestLog.add({
      method: request.method,
      path: meta.path,
      query: { ...(request.query as Record<string, string | string[]>) },
      status,
      ...(routeStatus === undefined ? {} : { routeStatus }),
      ...(keepBody ? { body: structuredClone(request.body) } : {}),
      ...(clientId === undefined ? {} : { clientId }),
      ...(meta.apiVersion === undefined ? {} : { apiVersion: meta.apiVersion }),
      at: meta.at,
      durationMs: performance.now() - meta.started,
      ...(meta.fault ? { fault: true } : {}),
    });
  };

  const drop = (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    record(request, 0);
    request.raw.socket?.destroy();
  };

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const apiVersion = sailpointApiVersion(path);
    const meta: RequestMeta = {
      started: performance.now(),
      at: ctx.now(),
      path,
      apiVersion,
      fault: false,
      logged: false,
    };
    metas.set(request, meta);

    const fault = ctx.faults.take(request.method, path);
    if (fault) {
      meta.fault = true;
      if (fault.latencyMs > 0) await sleep(fault.latencyMs, signal);
      if (fault.dropConnection || signal.aborted) return drop(request, reply);
      if (fault.status !== undefined) {
        if (fault.retryAfterSeconds !== undefined)
          reply.header('retry-after', String(fault.retryAfterSeconds));
        const cognigy = cognigyFaultResponse(path, fault.status); // RFC 7807 + x-trace-id on /new/…
        if (cognigy) reply.header('x-trace-id', cognigy.traceId);
        const body =
          fault.body ?? (fault.status >= 400 ? (cognigy?.body ?? defaultErrorBody(fault.status)) : undefined);
        return reply.code(fault.status).send(body);
      }
    }

    if (apiVersion === undefined) return;
    const auth = authenticateBearer(ctx, request.headers.authorization);
    if ('error' in auth) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(unauthorizedBody(auth.error));
    }
    setCaller(request, auth.caller);
    const decision = limiter?.hit(auth.caller.clientId, apiVersion);
    if (decision && !decision.allowed) {
      return reply.code(429).header('retry-after', String(decision.retryAfterSeconds)).send(RATE_LIMIT_BODY);
    }
  });

  app.addHook('preHandler', async (request) => {
    const meta = metas.get(request);
    const fault = meta && ctx.faults.take(request.method, meta.path, true);
    if (!meta || !fault) return;
    meta.fault = true;
    meta.afterRoute = fault;
  });

  // Logged before the response leaves, so a client that got its answer always finds the entry.
  app.addHook('onSend', async (request, reply, payload) => {
    const fault = metas.get(request)?.afterRoute;
    if (!fault) {
      record(request, reply.statusCode);
      return payload;
    }
    // The route has acted; the client does not get its answer.
    const routeStatus = reply.statusCode;
    if (fault.latencyMs > 0) await sleep(fault.latencyMs, signal);
    if (fault.dropConnection || signal.aborted) {
      record(request, 0, routeStatus);
      request.raw.socket?.destroy();
      return payload;
    }
    const status = fault.status ?? 500;
    record(request, status, routeStatus);
    reply.code(status).header('content-type', 'application/json; charset=utf-8');
    if (fault.retryAfterSeconds !== undefined) reply.header('retry-after', String(fault.retryAfterSeconds));
    return JSON.stringify(fault.body ?? defaultErrorBody(status));
  });
  app.addHook('onResponse', async (request, reply) => record(request, reply.statusCode));
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof SailpointError) return reply.code(error.statusCode).send(error.toDto());
    if (error instanceof FilterError) {
      return reply.code(400).send(errorResponseDto(400, undefined, `Invalid filters: ${error.message}`));
    }
    if (error instanceof z.ZodError) {
      const causes = error.issues.map(
        (i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`,
      );
      return reply.code(400).send(errorResponseDto(400, undefined, undefined, causes));
    }
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send(errorResponseDto(status, undefined, (error as Error).message));
    }
    request.log.error(error);
    return reply.code(500).send(errorResponseDto(500));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    if (sailpointApiVersion(path) !== undefined) return sailpointError(reply, 404);
    return reply.code(404).send({ error: 'Not Found', message: `Route ${request.method}:${path} not found` });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? (() => new Date());
  const { resolved, seed } = resolveOptions(options);
  const state = createSandboxState(seed, resolved.clients, now(), options.searchLagMs);
  const requestLog = new RequestLog();
  const faults = new FaultInjector(options.random);
  const limiter = resolved.rateLimit === false ? undefined : new RateLimiter(resolved.rateLimit);
  const ctx: SandboxContext = { state, faults, requestLog, options: resolved, now };
  const shutdown = new AbortController();

  const app = fastify({ logger: options.logger ?? false, forceCloseConnections: true });
  installBodyParsers(app);
  installPipeline(app, ctx, limiter, shutdown.signal);
  installErrorHandling(app);
  for (const register of ROUTE_MODULES) register(app, ctx);

  await app.listen({ port: resolved.port, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('sandbox: no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    requestLog,
    faults,
    issueToken(clientId?: string) {
      const client =
        clientId === undefined ? state.clients.values().next().value : state.clients.get(clientId);
      if (!client) throw new Error(`sandbox: unknown client ${clientId ?? '(none configured)'}`);
      return issueAccessToken(ctx, client).access_token;
    },
    async stop() {
      shutdown.abort();
      await app.close();
    },
  };
}
