/**
 * Search (ops-v3.yaml; sailpoint-v3-search-get-document-by-id.txt), as of the index: identities show
 * with Search's indexing lag (../search-index.ts) — an identity created less than `state.search.lagMs`
 * ago is not found yet, and access provisioned or removed within the lag is not shown yet.
 *
 * GET /v3/search/{index}/{id} (searchGet):
 * - identities: the identity document (manager, isManager, access, counts, attributes …)
 * - roles, accessprofiles, entitlements: documents built from the access catalog
 * - the other index names ISC knows (accountactivities, accounts, aggregations, events) hold no
 *   documents in the sandbox: 404
 * - any other index name: 400
 *
 * POST /v3/search (searchPost) on the identities index, with the query forms of search-query.ts;
 * paging by `limit` (0–10,000, default 250 as ops-v3.yaml's searchlimit says) and `offset`, with
 * offset + limit within Elasticsearch's 10,000-result window (beyond it: `searchAfter`), and `count`
 * (X-Total-Count: every match, whatever limit, offset and searchAfter). Without `sort` documents come
 * in the tenant's own order, which is no order to page on: use `sort` (e.g. ["id"]) to page.
 *
 * Open to pure API clients and user-context clients alike (userAuth or applicationAuth). Calls count
 * against the v3 rate limit like every /v3 path (server.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context';
import { type IndexedIdentity, indexedIdentity } from '../search-index';
import type {
  SandboxAccessItem,
  SandboxAccessRef,
  SandboxIdentity,
  SandboxSourceRef,
  SandboxState,
} from '../state';
import { SailpointError } from './errors';
import { booleanParam, integerParam } from './params';
import { type IdentitySearch, compareBySort, filterDocument, readIdentitySearch } from './search-query';

export const SEARCH_INDICES = [
  'accessprofiles',
  'accountactivities',
  'accounts',
  'aggregations',
  'entitlements',
  'events',
  'identities',
  'roles',
] as const;

const INDEX_TYPES = { accessprofiles: 'ACCESS_PROFILE', roles: 'ROLE', entitlements: 'ENTITLEMENT' } as const;
const DOC_TYPES = { ACCESS_PROFILE: 'accessprofile', ROLE: 'role', ENTITLEMENT: 'entitlement' } as const;
const HR_SOURCE_NAME = 'HR Global';

function accessEntry(ref: SandboxAccessRef, state: SandboxState): Record<string, unknown> {
  const item = state.accessItems.get(ref.id);
  const entry: Record<string, unknown> = {
    id: ref.id,
    name: ref.name,
    displayName: ref.displayName ?? item?.displayName ?? ref.name,
    type: ref.type,
    description: item?.description ?? null,
  };
  const source = ref.source ?? item?.source;
  if (source) entry.source = { id: source.id, name: source.name };
  if (ref.type === 'ENTITLEMENT') {
    Object.assign(entry, {
      privileged: item?.privileged ?? false,
      attribute: item?.attribute ?? null,
      value: item?.value ?? ref.name,
      standalone: false,
    });
  }
  if (ref.type === 'ROLE') entry.disabled = false;
  return entry;
}

/** What every identity document needs from the rest of the tenant, computed once per request. */
export interface DocumentContext {
  /** Ids of identities that manage someone. */
  readonly managers: ReadonlySet<string>;
  readonly hrSource?: SandboxSourceRef;
}

export function documentContext(state: SandboxState): DocumentContext {
  const managers = new Set<string>();
  for (const identity of state.identities.values()) {
    if (identity.managerId !== undefined) managers.add(identity.managerId);
  }
  const hrSource = [...state.sources.values()].find((s) => s.name === HR_SOURCE_NAME);
  return { managers, ...(hrSource ? { hrSource } : {}) };
}

/**
 * The identities-index document for an identity: as Search shows it (`indexed`, see
 * ../search-index.ts) or, without it, as the identity is now.
 */
export function identityDocument(
  identity: SandboxIdentity,
  state: SandboxState,
  indexed?: IndexedIdentity,
  context: DocumentContext = documentContext(state),
): Record<string, unknown> {
  const access = indexed?.access ?? identity.access;
  const manager = identity.managerId === undefined ? undefined : state.identities.get(identity.managerId);
  const { hrSource } = context;
  const count = (type: SandboxAccessRef['type']) => access.filter((a) => a.type === type).length;
  return {
    id: identity.id,
    name: identity.name,
    _type: 'identity',
    type: 'identity',
    _version: 'v2',
    pod: state.tenant.pod,
    org: state.tenant.org,
    firstName: identity.firstName,
    lastName: identity.lastName,
    displayName: identity.displayName,
    email: identity.email,
    created: identity.created,
    modified: indexed?.modified ?? identity.created,
    synced: indexed?.synced ?? identity.created,
    inactive: identity.inactive,
    protected: false,
    status: identity.status,
    employeeNumber: identity.employeeNumber ?? null,
    manager: manager ? { id: manager.id, name: manager.name, displayName: manager.displayName } : null,
    isManager: context.managers.has(identity.id),
    ...(hrSource
      ? {
          identityProfile: { id: hrSource.id, name: hrSource.name },
          source: { id: hrSource.id, name: hrSource.name },
        }
      : {}),
    attributes: {
      uid: identity.name,
      firstname: identity.firstName,
      lastname: identity.lastName,
      displayName: identity.displayName,
      email: identity.email,
      cloudLifecycleState: identity.inactive ? 'inactive' : 'active',
      identityState: identity.inactive ? 'INACTIVE_LONG_TERM' : 'ACTIVE',
      ...identity.attributes,
    },
    processingState: null,
    processingDetails: null,
    accounts: [],
    accountCount: 0,
    apps: [],
    appCount: 0,
    access: access.map((ref) => accessEntry(ref, state)),
    accessCount: access.length,
    accessProfileCount: count('ACCESS_PROFILE'),
    entitlementCount: count('ENTITLEMENT'),
    roleCount: count('ROLE'),
    tags: [],
  };
}

/** The roles / accessprofiles / entitlements document for a catalog item. */
export function accessItemDocument(item: SandboxAccessItem): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    id: item.id,
    name: item.name,
    _type: DOC_TYPES[item.type],
    description: item.description,
    ...(item.source ? { source: { id: item.source.id, name: item.source.name } } : {}),
    tags: [],
  };
  if (item.type === 'ENTITLEMENT') {
    Object.assign(doc, {
      displayName: item.displayName,
      attribute: item.attribute ?? null,
      value: item.value ?? item.name,
      privileged: item.privileged,
    });
  } else {
    Object.assign(doc, { enabled: true, requestable: item.requestable, requestCommentsRequired: false });
  }
  return doc;
}

/** The standard window of Elasticsearch: offset + limit may not go beyond it (then: searchAfter). */
const RESULT_WINDOW = 10_000;
const NESTED_FIELDS = ['access', 'accounts', 'apps'] as const;

function sortValues(doc: Record<string, unknown>, search: IdentitySearch): string[] {
  return search.sort.map(({ field }) => String(doc[field] ?? ''));
}

/** POST /v3/search on the identities index. */
function searchIdentities(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply) {
  const q = request.query as Record<string, string | undefined>;
  const limit = integerParam(q.limit, 'limit', 0, RESULT_WINDOW, 250);
  const offset = integerParam(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
  const count = booleanParam(q.count, 'count');
  if (offset + limit > RESULT_WINDOW) {
    throw new SailpointError(
      400,
      `Result window is too large: offset + limit must be at most ${RESULT_WINDOW} (page further with searchAfter)`,
    );
  }
  const search = readIdentitySearch(request.body);
  const { state } = ctx;
  const now = ctx.now();
  const context = documentContext(state);
  const candidates: SandboxIdentity[] = [];
  if (search.ids) {
    for (const id of search.ids) {
      const identity = state.identities.get(id);
      if (identity) candidates.push(identity);
    }
  } else {
    candidates.push(...state.identities.values());
  }
  let docs: Record<string, unknown>[] = [];
  for (const identity of candidates) {
    if (search.only && !search.only.has(identity.id)) continue;
    if (search.except?.has(identity.id)) continue;
    const indexed = indexedIdentity(state.search, identity, now);
    if (indexed) docs.push(identityDocument(identity, state, indexed, context));
  }
  const total = docs.length;
  if (search.sort.length > 0) {
    docs.sort((a, b) => compareBySort(search.sort, sortValues(a, search), sortValues(b, search)));
    const after = search.searchAfter;
    if (after) docs = docs.filter((doc) => compareBySort(search.sort, sortValues(doc, search), after) > 0);
  }
  if (count) reply.header('x-total-count', String(total));
  return docs.slice(offset, offset + limit).map((doc) => {
    if (!search.includeNested) for (const field of NESTED_FIELDS) delete doc[field];
    return filterDocument(doc, search.includes, search.excludes);
  });
}

export function registerSearchRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: { index: string; id: string } }>('/v3/search/:index/:id', async (request) => {
    const { index, id } = request.params;
    if (!(SEARCH_INDICES as readonly string[]).includes(index)) {
      throw new SailpointError(
        400,
        `Invalid index '${index}'. Supported indices: ${SEARCH_INDICES.join(', ')}.`,
      );
    }
    const notFound = () =>
      new SailpointError(404, `No document with id ${id} in index ${index}.`, '404 Not found');
    if (index === 'identities') {
      const identity = ctx.state.identities.get(id);
      const indexed = identity && indexedIdentity(ctx.state.search, identity, ctx.now());
      if (!identity || !indexed) throw notFound();
      return identityDocument(identity, ctx.state, indexed);
    }
    const type = INDEX_TYPES[index as keyof typeof INDEX_TYPES] as SandboxAccessItem['type'] | undefined;
    const item = ctx.state.accessItems.get(id);
    if (type === undefined || !item || item.type !== type) throw notFound();
    return accessItemDocument(item);
  });
  app.post('/v3/search', async (request, reply) => searchIdentities(ctx, request, reply));
}
