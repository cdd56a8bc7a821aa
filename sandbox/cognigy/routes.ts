/**
 * The sandbox's Cognigy.AI API, under the `/new` prefix of Cognigy's server URL:
 *
 *   GET /new/v2.0/users/me/acl        the caller's rights and roles (organisation-wide, per project)
 *   GET /new/v2.1/users/me/apikeys    the caller's API keys: metadata and a masked preview only
 *
 * - Authentication: `X-API-Key` header (or `api_key` query parameter), looked up among the users'
 *   keys; a missing or unknown key → 401 in the RFC 7807 shape.
 * - Rate limit per user (default 1,000 per 5 minutes, Cognigy's documented default) → 429 with
 *   Retry-After. Kept apart from the SailPoint gateway limit, which counts /beta and /v3 only.
 * - Every response carries an `x-trace-id` header; error bodies carry the same traceId.
 * - `Accept: application/json` gets plain JSON; without it the key list comes back as hal+json
 *   (`_embedded`), Cognigy's default media type on list routes.
 * - v2.0 of the key list (which returns keys in plain text) is deliberately not served.
 * Injected faults (sandbox.faults) on these paths answer in the same RFC 7807 shape (server.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context';
import { RateLimiter, type RateLimitSettings } from '../rate-limit';
import { newTraceId, problemBody } from './errors';
import { ORGANISATION_RESOURCES, PROJECT_RESOURCES, RIGHT_OPERATIONS } from './resources';
import { keyPreview, type CognigyGrants, type SandboxCognigyApiKey, type SandboxCognigyUser } from './state';

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

/** resource → { create, read, update, delete, …any other operation granted } */
function renderRights(
  grants: CognigyGrants,
  listed: readonly string[],
): Record<string, Record<string, boolean>> {
  const rights: Record<string, Record<string, boolean>> = {};
  for (const resource of listed) {
    rights[resource] = Object.fromEntries(RIGHT_OPERATIONS.map((op) => [op, false]));
  }
  for (const right of grants.rights) {
    const dot = right.lastIndexOf('.');
    const resource = right.slice(0, dot);
    const operation = right.slice(dot + 1);
    (rights[resource] ??= Object.fromEntries(RIGHT_OPERATIONS.map((op) => [op, false])))[operation] = true;
  }
  return rights;
}

function renderAcl(user: SandboxCognigyUser) {
  return {
    organisationWide: {
      rights: renderRights(user.organisationWide, ORGANISATION_RESOURCES),
      roles: [...user.organisationWide.roles],
    },
    projectWide: Object.fromEntries(
      [...user.projectWide].map(([projectId, grants]) => [
        projectId,
        { rights: renderRights(grants, PROJECT_RESOURCES), roles: [...grants.roles], allowedLocales: [] },
      ]),
    ),
  };
}

function renderKey(key: SandboxCognigyApiKey) {
  return { _id: key.id, name: key.name, createdAt: key.createdAt, keyPreview: keyPreview(key.key) };
}

function wantsPlainJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').split(',').some((t) => t.trim().split(';')[0] === 'application/json');
}

export function registerCognigyRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const cognigy = ctx.state.cognigy;
  let limiter: { settings: RateLimitSettings; limiter: RateLimiter } | undefined;

  const fail = (
    reply: FastifyReply,
    request: FastifyRequest,
    status: number,
    detail: string,
    traceId: string,
  ) =>
    reply
      .code(status)
      .type('application/json')
      .send(problemBody(status, request.url.split('?', 1)[0]!, detail, traceId));

  /** Authenticates and rate-limits; answers the error itself and returns undefined on failure. */
  const authenticate = (request: FastifyRequest, reply: FastifyReply) => {
    const traceId = newTraceId();
    reply.header('x-trace-id', traceId);
    const header = request.headers['x-api-key'];
    const fromQuery = (request.query as Record<string, unknown>).api_key;
    const key =
      (Array.isArray(header) ? header[0] : header) ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
    const found = cognigy.findByKey(key);
    if (!found) {
      fail(reply, request, 401, key ? 'The provided API Key is invalid.' : 'No API Key provided.', traceId);
      return undefined;
    }
    const settings = cognigy.rateLimit;
    if (settings) {
      if (limiter?.settings !== settings) limiter = { settings, limiter: new RateLimiter(settings) };
      const decision = limiter.limiter.hit(found.user.id, 'cognigy');
      if (!decision.allowed) {
        reply.header('retry-after', String(decision.retryAfterSeconds));
        fail(reply, request, 429, 'Too many requests. Please try again later.', traceId);
        return undefined;
      }
    }
    return { ...found, traceId };
  };

  app.get('/new/v2.0/users/me/acl', async (request, reply) => {
    const caller = authenticate(request, reply);
    if (!caller) return reply;
    return reply.type('application/json').send(renderAcl(caller.user));
  });

  app.get('/new/v2.1/users/me/apikeys', async (request, reply) => {
    const caller = authenticate(request, reply);
    if (!caller) return reply;
    const query = request.query as Record<string, string | undefined>;
    const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit);
    const skip =
      query.next === undefined
        ? Number(query.skip ?? 0)
        : Number(Buffer.from(query.next, 'base64url').toString());
    if (
      !Number.isInteger(limit) ||
      limit < 1 ||
      limit > MAX_PAGE_SIZE ||
      !Number.isInteger(skip) ||
      skip < 0
    ) {
      return fail(
        reply,
        request,
        400,
        `limit must be 1..${MAX_PAGE_SIZE}; skip/next must point into the list.`,
        caller.traceId,
      );
    }
    const keys = [...caller.user.apiKeys].sort(
      (a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id),
    );
    const items = keys.slice(skip, skip + limit).map(renderKey);
    const nextCursor =
      skip + limit < keys.length ? Buffer.from(String(skip + limit)).toString('base64url') : null;
    if (!wantsPlainJson(request)) {
      return reply
        .type('application/hal+json')
        .send({ _embedded: { apikeys: items }, _links: { self: { href: request.url } }, total: keys.length });
    }
    return reply
      .type('application/json')
      .send({ items, total: keys.length, nextCursor, previousCursor: null });
  });
}
