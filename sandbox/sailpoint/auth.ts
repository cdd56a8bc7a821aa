/**
 * POST /oauth/token (client credentials, official/oauth-token.md) and the bearer-token check
 * the API gateway applies to every /beta, /v3 … request.
 *
 * Tokens look like ISC's (a JWT with the documented claims) but the sandbox only trusts its own
 * token map: a token is valid while it is in `state.accessTokens` and not expired by the sandbox
 * clock. Secrets and tokens are never logged.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Caller, type SandboxContext, getCaller, setCaller } from '../context';
import type { IssuedAccessToken, OAuthClient } from '../state';
import { SailpointError } from './errors';

const DEFAULT_SCOPE = 'sp:scopes:all';
const SIGNING_KEY = randomBytes(32);
const PRUNE_ABOVE = 10_000;

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
  tenant_id: string;
  pod: string;
  org: string;
  internal: boolean;
  strong_auth_supported: boolean;
  strong_auth: boolean;
  enabled: boolean;
  identity_id?: string;
  user_id?: string;
  authorities: string[];
  client_id: string;
  jti: string;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function authoritiesOf(client: OAuthClient): string[] {
  return client.authorities ? [...client.authorities] : client.identityId ? ['ORG_ADMIN'] : ['API'];
}

/** Mints a token for a client and remembers it; the body is what POST /oauth/token returns. */
export function issueAccessToken(ctx: SandboxContext, client: OAuthClient): TokenResponse {
  const { state, options } = ctx;
  const issuedAt = ctx.now();
  const expiresAt = new Date(issuedAt.getTime() + options.tokenTtlSeconds * 1000);
  const jti = randomUUID();
  const authorities = authoritiesOf(client);
  const scope = client.scope ?? DEFAULT_SCOPE;
  const userName = client.identityId ? state.identities.get(client.identityId)?.name : undefined;
  const claims = {
    tenant_id: state.tenant.tenantId,
    pod: state.tenant.pod,
    org: state.tenant.org,
    ...(client.identityId ? { identity_id: client.identityId, user_name: userName } : {}),
    authorities,
    client_id: client.clientId,
    strong_auth: false,
    scope: [scope],
    exp: Math.floor(expiresAt.getTime() / 1000),
    jti,
  };
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  const token = `${unsigned}.${createHmac('sha256', SIGNING_KEY).update(unsigned).digest('base64url')}`;

  if (state.accessTokens.size >= PRUNE_ABOVE) {
    for (const [key, issued] of state.accessTokens)
      if (issued.expiresAt <= issuedAt) state.accessTokens.delete(key);
  }
  const issued: IssuedAccessToken = {
    jti,
    clientId: client.clientId,
    ...(client.identityId ? { identityId: client.identityId } : {}),
    authorities,
    scope,
    issuedAt,
    expiresAt,
  };
  state.accessTokens.set(token, issued);

  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: options.tokenTtlSeconds,
    scope,
    tenant_id: state.tenant.tenantId,
    pod: state.tenant.pod,
    org: state.tenant.org,
    internal: false,
    strong_auth_supported: false,
    strong_auth: false,
    enabled: true,
    ...(client.identityId
      ? { identity_id: client.identityId, ...(userName ? { user_id: userName } : {}) }
      : {}),
    authorities,
    client_id: client.clientId,
    jti,
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function param(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header === undefined ? null : /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.post('/oauth/token', async (request, reply) => {
    // Parameters may come as a form body (urlencoded or multipart) or as query parameters.
    const read = (name: string) => param(request.body, name) ?? param(request.query, name);
    const basic = basicCredentials(request.headers.authorization);
    const clientId = read('client_id') ?? basic?.id;
    const clientSecret = read('client_secret') ?? basic?.secret;
    const client = clientId === undefined ? undefined : ctx.state.clients.get(clientId);
    if (!client || clientSecret === undefined || !sameSecret(clientSecret, client.clientSecret)) {
      return reply.code(401).send({ error: 'invalid_client', error_description: 'Bad client credentials' });
    }
    setCaller(request, {
      clientId: client.clientId,
      ...(client.identityId ? { identityId: client.identityId } : {}),
      authorities: authoritiesOf(client),
      scope: client.scope ?? DEFAULT_SCOPE,
      tokenId: '',
    });
    const grantType = read('grant_type');
    if (grantType === undefined) {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'Missing grant type' });
    }
    if (grantType !== 'client_credentials') {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grantType}` });
    }
    return reply.header('cache-control', 'no-store').send(issueAccessToken(ctx, client));
  });
}

/** The caller behind an Authorization header, or the gateway's 401 message. */
export function authenticateBearer(
  ctx: SandboxContext,
  authorization: string | undefined,
): { caller: Caller } | { error: string } {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return { error: 'JWT validation failed: no JWT provided' };
  const issued = ctx.state.accessTokens.get(match[1]!);
  if (!issued) return { error: 'JWT validation failed: JWT is invalid' };
  if (issued.expiresAt.getTime() <= ctx.now().getTime())
    return { error: 'JWT validation failed: JWT is expired' };
  return {
    caller: {
      clientId: issued.clientId,
      ...(issued.identityId ? { identityId: issued.identityId } : {}),
      authorities: issued.authorities,
      scope: issued.scope,
      tokenId: issued.jti,
    },
  };
}

/**
 * For endpoints whose only security scheme is userAuth (a PAT or authorization-code token):
 * a pure API client gets 403, as it has no user context.
 */
export function requireUserContext(request: FastifyRequest): Caller & { identityId: string } {
  const caller = getCaller(request);
  if (caller.identityId === undefined) {
    throw new SailpointError(403, 'This operation requires a user context (a personal access token).');
  }
  return caller as Caller & { identityId: string };
}

/** Whether the caller's token carries an authority or right. */
export function hasAuthority(caller: Caller, authority: string): boolean {
  return caller.authorities.includes(authority);
}
