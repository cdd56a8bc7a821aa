/**
 * Personal access tokens (ops-beta.yaml):
 * - GET /beta/personal-access-tokens?owner-id=…&filters=…  all matching tokens, no paging
 *   (the endpoint has none). `owner-id` absent: every token; "me": the caller's; else that
 *   identity's. Filters: only `lastUsed` with `le` and `isnull`; anything else is a 400.
 * - DELETE /beta/personal-access-tokens/{id}  204, or 404 when unknown.
 *
 * Both are userAuth-only: a pure API client (no identity) gets 403.
 *
 * Managed tokens (created by the platform, e.g. for Workflows) are listed only when the caller's
 * token carries the right `idn:managed-personal-access-tokens:read` in its authorities, as the
 * owner-id description says; otherwise they are left out. The default sandbox-pat-client has it.
 */
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { SandboxContext } from '../context';
import { type FilterSpec, compileFilter } from '../filters';
import type { SandboxPat } from '../state';
import { hasAuthority, requireUserContext } from './auth';
import { sailpointError } from './errors';

export const MANAGED_PAT_READ_RIGHT = 'idn:managed-personal-access-tokens:read';

export const PAT_FILTERS: FilterSpec<SandboxPat> = {
  lastUsed: { type: 'date', operators: ['le', 'isnull'] },
};

const ListQuery = z.looseObject({
  'owner-id': z.string().min(1).optional(),
  filters: z.string().optional(),
});

export function registerPersonalAccessTokenRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/beta/personal-access-tokens', async (request) => {
    const caller = requireUserContext(request);
    const query = ListQuery.parse(request.query);
    const matches = compileFilter(query.filters, PAT_FILTERS);
    const ownerId = query['owner-id'] === 'me' ? caller.identityId : query['owner-id'];
    const withManaged = hasAuthority(caller, MANAGED_PAT_READ_RIGHT);
    return [...ctx.state.personalAccessTokens.values()]
      .filter((pat) => (ownerId === undefined || pat.owner.id === ownerId) && (withManaged || !pat.managed))
      .filter(matches)
      .map((pat) => structuredClone(pat));
  });

  app.delete<{ Params: { id: string } }>('/beta/personal-access-tokens/:id', async (request, reply) => {
    requireUserContext(request);
    const { id } = request.params;
    if (!ctx.state.personalAccessTokens.delete(id)) {
      return sailpointError(reply, 404, undefined, `The personal access token ${id} was not found.`);
    }
    return reply.code(204).send();
  });
}
