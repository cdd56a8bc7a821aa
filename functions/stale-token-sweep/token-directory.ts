/**
 * The sweep's view of SailPoint's personal access tokens: the port the sweep depends on, and its
 * adapter over the shared SailPoint client (GET/DELETE /beta/personal-access-tokens).
 */
import {
  SailPointNotFoundError,
  deletePersonalAccessToken,
  listPersonalAccessTokens,
  type SailPointTransport,
} from '../shared/sailpoint';
import type { TokenView } from './policy';

export interface TokenDirectory {
  /** One call: every token matching the filters (and owner, if given). The endpoint has no paging. */
  list(query: { readonly filters?: string; readonly ownerId?: string }): Promise<TokenView[]>;
  /** Deletes the token; 'not-found' when it was already gone. */
  delete(id: string): Promise<'deleted' | 'not-found'>;
}

export function sailPointTokenDirectory(client: SailPointTransport): TokenDirectory {
  return {
    async list(query) {
      const tokens = await listPersonalAccessTokens(client, query);
      return tokens.map((t) => ({
        id: t.id,
        name: t.name,
        // The spec leaves the owner's id optional: '' is an owner no exemption or notice can name.
        owner: { id: t.owner.id ?? '', ...(t.owner.name ? { name: t.owner.name } : {}) },
        created: t.created,
        lastUsed: t.lastUsed,
        managed: t.managed,
      }));
    },
    async delete(id) {
      try {
        await deletePersonalAccessToken(client, id);
        return 'deleted';
      } catch (error) {
        // DELETE is retried after 5xx/timeouts, so 404 may also mean our own earlier attempt worked.
        if (error instanceof SailPointNotFoundError) return 'not-found';
        throw error;
      }
    },
  };
}
