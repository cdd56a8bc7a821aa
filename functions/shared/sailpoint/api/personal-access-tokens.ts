/**
 * Personal access tokens (beta API): list and delete, used by the stale-PAT sweep.
 * Spec: /work/shared/reference/official/ops-beta.yaml (GetPersonalAccessTokenResponse).
 *
 * Parsed strictly where a decision depends on it (id, created, lastUsed: a garbage date must not
 * pass as "never used"); every other field is tolerated as the spec allows it — optional where the
 * spec does not require it, and, when no workflow reads it, whatever it holds.
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { isoDateTime, openEnum } from './common';

/** PatOwner: every field optional in the spec. */
export const PatOwnerSchema = z.looseObject({
  type: openEnum(['IDENTITY']).nullish(),
  id: z.string().nullish(),
  name: z.string().nullish(),
});

export const PersonalAccessTokenSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  /** null (or absent) means the default scope sp:scopes:all. */
  scope: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? null),
  owner: PatOwnerSchema,
  created: isoDateTime,
  /** null when never used (also when the field is absent). Updated at most once a day by ISC. */
  lastUsed: isoDateTime.nullish().transform((v) => v ?? null),
  /** Platform-managed (e.g. created by Workflows) and hidden in the UI; false when absent or null. */
  managed: z
    .boolean()
    .nullish()
    .transform((v) => v ?? false),
  // Read by no decision: tolerated whatever they hold (an unreadable value becomes null rather than
  // failing the whole list).
  accessTokenValiditySeconds: z.number().int().nullish().catch(null),
  /** When the PAT itself expires (newer tenants); null when absent or unreadable. */
  expirationDate: isoDateTime.nullish().catch(null),
});
export type PersonalAccessToken = z.infer<typeof PersonalAccessTokenSchema>;

/**
 * GET /beta/personal-access-tokens. Without `ownerId` every PAT of the tenant is returned (needs
 * idn:all-personal-access-tokens:read). `filters` supports `lastUsed le <ISO>` and `lastUsed isnull`.
 * The endpoint has no paging parameters: one call returns the whole collection.
 */
export async function listPersonalAccessTokens(
  client: SailPointTransport,
  params: { ownerId?: string; filters?: string } = {},
): Promise<PersonalAccessToken[]> {
  return client.send({
    operation: 'listPersonalAccessTokens',
    method: 'GET',
    path: '/beta/personal-access-tokens',
    query: { 'owner-id': params.ownerId, filters: params.filters },
    responseSchema: z.array(PersonalAccessTokenSchema),
  });
}

/**
 * DELETE /beta/personal-access-tokens/{id} (204). DELETE is retried on 5xx/timeouts, so a
 * SailPointNotFoundError can also mean an earlier attempt already deleted it: treat it as "gone".
 */
export async function deletePersonalAccessToken(client: SailPointTransport, id: string): Promise<void> {
  await client.send({
    operation: 'deletePersonalAccessToken',
    method: 'DELETE',
    path: `/beta/personal-access-tokens/${encodeURIComponent(id)}`,
    responseSchema: z.unknown(),
  });
}
