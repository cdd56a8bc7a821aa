/**
 * Search (v3). Spec: ops-v3.yaml `GET /search/{index}/{id}` (one document; also
 * /work/shared/reference/sailpoint-v3-search-get-document-by-id.txt) and `POST /search` (many
 * identities' access or contacts per call: searchIdentityAccess, searchIdentityContacts), with
 * official/standard-collection-parameters.md.
 *
 * Search is eventually consistent: a document may trail the system of record by minutes (a new
 * identity not found yet, access just provisioned not shown yet). `modified` says how current a
 * document is; decisions that depend on it read it.
 */
import * as z from 'zod';
import type { SailPointTransport } from '../client';
import { SailPointValidationError } from '../errors';
import { isoDateTime, openEnum } from './common';

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

/** An access item of an identity document; `id` is optional in the spec (decisions read IdentityAccessDocumentSchema). */
export const IdentityAccessItemSchema = z.looseObject({
  id: z.string().nullish(),
  name: z.string().nullish(),
  displayName: z.string().nullish(),
  type: AccessItemTypeSchema,
  source: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
});
export type IdentityAccessItem = z.infer<typeof IdentityAccessItemSchema>;

/** `id` is optional in the spec: a manager without one is a manager the caller cannot follow. */
export const IdentityManagerSchema = z.looseObject({
  id: z.string().nullish(),
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

// ---- many identities per call: POST /v3/search ------------------------------------------------

/** ops-v3.yaml searchlimit: at most 10,000 documents per page (default 250). */
export const SEARCH_MAX_PAGE_SIZE = 10_000;
export const DEFAULT_SEARCH_PAGE_SIZE = 250;
/** ops-v3.yaml searchPost: "a size limitation of approximately 800 objects" in one query. */
export const SEARCH_MAX_IDS_PER_QUERY = 800;

/**
 * What an access decision reads of an identity document, parsed strictly (a document without a
 * readable `modified`, or an access item without id or type, fails the read rather than pass as
 * "not held"); every other field is tolerated and kept.
 */
export const IdentityAccessDocumentSchema = z.looseObject({
  id: z.string().min(1),
  /** When the indexed document last changed: how current Search's picture of this identity is. */
  modified: isoDateTime,
  /** Assigned access items; [] when absent or null (an identity without access). */
  access: z
    .array(z.looseObject({ id: z.string().min(1), type: AccessItemTypeSchema }))
    .nullish()
    .transform((v) => v ?? []),
});
export type IdentityAccessDocument = z.infer<typeof IdentityAccessDocumentSchema>;

export interface IdentitySearchOptions {
  /** Documents per call (`limit`), 1–10,000; default 250. */
  pageSize?: number;
  /** Ids per search query, 1–800; default: the page size (capped at 800), so one call per query. */
  idsPerQuery?: number;
}

function searchShape(options: IdentitySearchOptions): { pageSize: number; idsPerQuery: number } {
  const pageSize = options.pageSize ?? DEFAULT_SEARCH_PAGE_SIZE;
  const idsPerQuery = options.idsPerQuery ?? Math.min(pageSize, SEARCH_MAX_IDS_PER_QUERY);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > SEARCH_MAX_PAGE_SIZE) {
    throw new RangeError(`search pageSize must be a whole number from 1 to ${SEARCH_MAX_PAGE_SIZE}`);
  }
  if (!Number.isInteger(idsPerQuery) || idsPerQuery < 1 || idsPerQuery > SEARCH_MAX_IDS_PER_QUERY) {
    throw new RangeError(`search idsPerQuery must be a whole number from 1 to ${SEARCH_MAX_IDS_PER_QUERY}`);
  }
  return { pageSize, idsPerQuery };
}

/** SailPoint calls searchIdentityAccess makes at most for `identityCount` distinct ids. */
export function identitySearchCalls(identityCount: number, options: IdentitySearchOptions = {}): number {
  const { pageSize, idsPerQuery } = searchShape(options);
  const fullQueries = Math.floor(identityCount / idsPerQuery);
  const rest = identityCount % idsPerQuery;
  return fullQueries * Math.ceil(idsPerQuery / pageSize) + Math.ceil(rest / pageSize);
}

/** Ids go into the query string quoted; one that could break out of the quotes is refused. */
const QUERYABLE_ID = /^[^"\\\s()]+$/;

/**
 * The current access of many identities: POST /v3/search on the identities index with a query on
 * their ids, only the fields a decision needs (id, modified, access id/type), sorted by id and paged
 * with `limit` and `searchAfter` (so any number of ids fits). Returns the documents by identity id;
 * an id without a document is absent — unknown to the tenant, or not indexed yet. A read, so the
 * client retries it like a GET (idempotent).
 */
export async function searchIdentityAccess(
  client: SailPointTransport,
  identityIds: Iterable<string>,
  options: IdentitySearchOptions = {},
): Promise<Map<string, IdentityAccessDocument>> {
  return searchIdentitiesById(
    client,
    identityIds,
    {
      operation: 'searchIdentityAccess',
      includes: ['id', 'modified', 'access.id', 'access.type'],
      schema: IdentityAccessDocumentSchema,
    },
    options,
  );
}

/** How to reach a person: an identity's display name and e-mail (either may be missing). */
export const IdentityContactSchema = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  email: z.string().nullish(),
});
export type IdentityContact = z.infer<typeof IdentityContactSchema>;

/**
 * Display names and e-mails of many identities, as searchIdentityAccess reads access: one POST
 * /v3/search per page of up to `pageSize` ids (fields id, displayName, email only). An id without a
 * document is absent from the result.
 */
export async function searchIdentityContacts(
  client: SailPointTransport,
  identityIds: Iterable<string>,
  options: IdentitySearchOptions = {},
): Promise<Map<string, IdentityContact>> {
  return searchIdentitiesById(
    client,
    identityIds,
    {
      operation: 'searchIdentityContacts',
      includes: ['id', 'displayName', 'email'],
      schema: IdentityContactSchema,
    },
    options,
  );
}

/** POST /v3/search on the identities index by id: queries of at most idsPerQuery ids, pages by id. */
async function searchIdentitiesById<T extends { id: string }>(
  client: SailPointTransport,
  identityIds: Iterable<string>,
  read: { readonly operation: string; readonly includes: readonly string[]; readonly schema: z.ZodType<T> },
  options: IdentitySearchOptions,
): Promise<Map<string, T>> {
  const { pageSize, idsPerQuery } = searchShape(options);
  const ids = [...new Set(identityIds)];
  const bad = ids.filter((id) => !QUERYABLE_ID.test(id));
  if (bad.length > 0) {
    throw new SailPointValidationError({
      operation: read.operation,
      detail: 'request refused before sending',
      messages: [`identity ids must not be empty nor contain quotes, backslashes, spaces or parentheses`],
    });
  }
  const found = new Map<string, T>();
  for (let start = 0; start < ids.length; start += idsPerQuery) {
    const chunk = ids.slice(start, start + idsPerQuery);
    const wanted = new Set(chunk);
    let searchAfter: string | undefined;
    let count = 0;
    for (;;) {
      const page = await client.send({
        operation: read.operation,
        method: 'POST',
        path: '/v3/search',
        query: { limit: pageSize },
        body: {
          indices: ['identities'],
          query: { query: `id:(${chunk.map((id) => `"${id}"`).join(' OR ')})` },
          queryResultFilter: { includes: [...read.includes] },
          sort: ['id'],
          ...(searchAfter === undefined ? {} : { searchAfter: [searchAfter] }),
        },
        responseSchema: z.array(read.schema),
        idempotent: true,
      });
      for (const doc of page) if (wanted.has(doc.id)) found.set(doc.id, doc);
      count += page.length;
      // A short page is the last; a full one may be too when every id of the query was found.
      if (page.length < pageSize || count >= chunk.length) break;
      searchAfter = page.at(-1)!.id;
    }
  }
  return found;
}
