/**
 * Personal access tokens (beta API): list and delete, used by the stale-PAT sweep.
 * Spec: /work/shared/reference/official/ops-beta.yaml (GetPersonalAccessTokenResponse).
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { isoDateTime, openEnum } from './common';

export const PatOwnerSchema = z.looseObject({
  type: openEnum(['IDENTITY']).optional(),
  id: z.string(),
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
  /** Platform-managed (e.g. created by Workflows) and hidden in the UI. */
  managed: z.boolean().default(false),
  accessTokenValiditySeconds: z.number().int().optional(),
  /** When the PAT itself expires (newer tenants); null/absent when unknown. */
  expirationDate: isoDateTime.nullish(),
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
