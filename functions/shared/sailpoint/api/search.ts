/**
 * Search (v3): single documents by id. Spec: ops-v3.yaml `GET /search/{index}/{id}` and
 * /work/shared/reference/sailpoint-v3-search-get-document-by-id.txt.
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { openEnum } from './common';

export type SearchIndex =
  | 'accessprofiles'
  | 'accountactivities'
  | 'accounts'
  | 'aggregations'
  | 'entitlements'
  | 'events'
  | 'identities'
  | 'roles';

/** GET /v3/search/{index}/{id}, parsed with `schema` (make it loose: documents carry many fields). */
export async function getSearchDocument<T>(
  client: SailPointTransport,
  index: SearchIndex,
  id: string,
  schema: z.ZodType<T>,
): Promise<T> {
  return client.send({
    operation: 'getSearchDocument',
    method: 'GET',
    path: `/v3/search/${encodeURIComponent(index)}/${encodeURIComponent(id)}`,
    responseSchema: schema,
  });
}

export const AccessItemTypeSchema = openEnum(['ACCESS_PROFILE', 'ROLE', 'ENTITLEMENT']);

export const IdentityAccessItemSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  displayName: z.string().nullish(),
  type: AccessItemTypeSchema,
  source: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
});
export type IdentityAccessItem = z.infer<typeof IdentityAccessItemSchema>;

export const IdentityManagerSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  displayName: z.string().nullish(),
});

/** An identity document of the `identities` index; fields not listed are kept as they come. */
export const IdentityDocumentSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  displayName: z.string().nullish(),
  email: z.string().nullish(),
  /** null / absent when the identity has no manager. */
  manager: IdentityManagerSchema.nullish(),
  inactive: z.boolean().optional(),
  /** Assigned access items; [] when absent or null. */
  access: z
    .array(IdentityAccessItemSchema)
    .nullish()
    .transform((v) => v ?? []),
});
export type IdentityDocument = z.infer<typeof IdentityDocumentSchema>;

/** GET /v3/search/identities/{identityId}. A missing identity is a SailPointNotFoundError. */
export async function getIdentityDocument(
  client: SailPointTransport,
  identityId: string,
): Promise<IdentityDocument> {
  return getSearchDocument(client, 'identities', identityId, IdentityDocumentSchema);
}
