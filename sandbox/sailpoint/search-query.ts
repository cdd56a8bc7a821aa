/**
 * The request body of POST /v3/search (ops-v3.yaml `Search`) as far as the sandbox serves it: what
 * the workflows send to read many identities at once. Everything else in the official schema is a
 * 400 that says so, never silently ignored.
 *
 * Served: `indices: ["identities"]`; `queryType` SAILPOINT (the default) with `query.query` being
 * `*`, or id terms — `id:X`, `id:"X"`, `id:(X OR Y …)`, several joined by OR — or bare terms with
 * `query.fields` naming only `id`; `filters` of type TERMS on `id` (with `exclude`); `sort` on id,
 * name, displayName, created, modified (`-` descending, `+` or nothing ascending); `searchAfter`
 * with one value per sort field; `queryResultFilter` includes/excludes (dotted paths into nested
 * objects, e.g. `access.id`); `includeNested` (false drops access, accounts and apps).
 * Limits: at most MAX_QUERY_IDS ids per query (the spec: "approximately 800 objects").
 */
import * as z from 'zod';
import { SailpointError } from './errors';

/** The spec: "the search query itself has a size limitation of approximately 800 objects". */
export const MAX_QUERY_IDS = 800;

export const SORT_FIELDS = ['id', 'name', 'displayName', 'created', 'modified'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

const INDICES = [
  'accessprofiles',
  'accountactivities',
  'entitlements',
  'events',
  'identities',
  'roles',
  '*',
] as const;

/** Official fields the sandbox does not implement: refused by name rather than ignored. */
const UNSUPPORTED_FIELDS = [
  'queryDsl',
  'textQuery',
  'typeAheadQuery',
  'aggregationType',
  'aggregationsVersion',
  'aggregationsDsl',
  'aggregations',
] as const;

const FilterSchema = z.strictObject({
  type: z.enum(['EXISTS', 'RANGE', 'TERMS']).optional(),
  range: z.unknown().optional(),
  terms: z.array(z.string()).optional(),
  exclude: z.boolean().default(false),
});

const SearchBodySchema = z.strictObject({
  indices: z.array(z.enum(INDICES)).optional(),
  queryType: z.enum(['DSL', 'SAILPOINT', 'TEXT', 'TYPEAHEAD']).default('SAILPOINT'),
  queryVersion: z.string().optional(),
  query: z
    .strictObject({
      query: z.string(),
      fields: z.union([z.string(), z.array(z.string())]).optional(),
      timeZone: z.string().optional(),
      innerHit: z.unknown().optional(),
    })
    .optional(),
  includeNested: z.boolean().default(true),
  queryResultFilter: z
    .strictObject({
      includes: z.array(z.string().min(1)).optional(),
      excludes: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  sort: z.array(z.string().min(1)).optional(),
  searchAfter: z.array(z.string()).optional(),
  filters: z.record(z.string(), FilterSchema).optional(),
  queryDsl: z.unknown().optional(),
  textQuery: z.unknown().optional(),
  typeAheadQuery: z.unknown().optional(),
  aggregationType: z.unknown().optional(),
  aggregationsVersion: z.unknown().optional(),
  aggregationsDsl: z.unknown().optional(),
  aggregations: z.unknown().optional(),
});

export interface SortKey {
  readonly field: SortField;
  readonly descending: boolean;
}

export interface IdentitySearch {
  /** undefined: every identity (`*`); otherwise the ids the query names. */
  readonly ids?: ReadonlySet<string>;
  /** TERMS filters on id: `only` keeps, `except` drops. */
  readonly only?: ReadonlySet<string>;
  readonly except?: ReadonlySet<string>;
  readonly sort: readonly SortKey[];
  readonly searchAfter?: readonly string[];
  readonly includeNested: boolean;
  readonly includes?: readonly string[];
  readonly excludes?: readonly string[];
}

function unsupported(what: string): SailpointError {
  return new SailpointError(400, `The sandbox's POST /v3/search does not support ${what}.`);
}

const BARE_ID = /^[A-Za-z0-9_.@-]+$/;

function idValue(raw: string): string {
  const text = raw.trim();
  if (/^"[^"]*"$/.test(text)) return text.slice(1, -1);
  if (BARE_ID.test(text)) return text;
  throw unsupported(`the query term '${text}' (ids are bare words or "quoted")`);
}

/** `X OR Y OR …` → [X, Y, …] (also a single term, or one group in parentheses). */
function orTerms(text: string): string[] {
  const inner = /^\((.*)\)$/s.exec(text.trim())?.[1] ?? text;
  return inner.split(/\s+OR\s+/).map(idValue);
}

/** The ids of a SAILPOINT query string: `*`, or OR-ed `id:` clauses (bare terms when fields = id). */
export function parseIdQuery(query: string, fields: readonly string[] | undefined): string[] | undefined {
  const text = query.trim();
  if (text === '*') return undefined;
  if (fields !== undefined) {
    if (fields.length !== 1 || fields[0] !== 'id') {
      throw unsupported(`query.fields other than ["id"] (got ${JSON.stringify(fields)})`);
    }
    return orTerms(text);
  }
  // Clauses: id:X | id:"X" | id:(X OR Y …), joined by OR.
  const clause = /\s*id:(\([^()]*\)|"[^"]*"|[^\s()"]+)(?:\s+OR\s+(?=\S)|\s*$)/gy;
  const ids: string[] = [];
  let consumed = 0;
  for (let match = clause.exec(text); match; match = clause.exec(text)) {
    ids.push(...orTerms(match[1]!));
    consumed = clause.lastIndex;
    if (consumed >= text.length) break;
  }
  if (ids.length === 0 || consumed < text.length) {
    throw unsupported(`the query '${text.slice(0, 80)}' (use *, id:X, or id:(X OR Y …))`);
  }
  return ids;
}

function sortKeys(sort: readonly string[] | undefined): SortKey[] {
  return (sort ?? []).map((raw) => {
    const descending = raw.startsWith('-');
    const field = raw.replace(/^[-+]/, '');
    if (!(SORT_FIELDS as readonly string[]).includes(field)) {
      throw new SailpointError(
        400,
        `Invalid sort field '${field}': the sandbox sorts identities by ${SORT_FIELDS.join(', ')}`,
      );
    }
    return { field: field as SortField, descending };
  });
}

/** Validates a POST /v3/search body (400 naming each problem) into what the route needs. */
export function readIdentitySearch(body: unknown): IdentitySearch {
  const input = SearchBodySchema.parse(body ?? {});
  for (const name of UNSUPPORTED_FIELDS) if (input[name] !== undefined) throw unsupported(name);
  if (input.indices === undefined || input.indices.length !== 1 || input.indices[0] !== 'identities') {
    throw unsupported(`indices ${JSON.stringify(input.indices ?? '(all)')}: send ["identities"]`);
  }
  if (input.queryType !== 'SAILPOINT') throw unsupported(`queryType ${input.queryType}`);
  if (!input.query) {
    throw new SailpointError(400, 'query is required when queryType is SAILPOINT');
  }
  if (input.query.innerHit !== undefined) throw unsupported('query.innerHit');
  const fields =
    input.query.fields === undefined
      ? undefined
      : typeof input.query.fields === 'string'
        ? input.query.fields.split(',').map((f) => f.trim())
        : input.query.fields;
  const queried = parseIdQuery(input.query.query, fields);

  let only: Set<string> | undefined;
  let except: Set<string> | undefined;
  for (const [field, filter] of Object.entries(input.filters ?? {})) {
    if (field !== 'id' || filter.type !== 'TERMS' || filter.terms === undefined) {
      throw unsupported(`the filter on '${field}' (only TERMS filters on id)`);
    }
    if (filter.exclude) except = new Set([...(except ?? []), ...filter.terms]);
    else only = new Set(filter.terms);
  }
  const idCount = (queried?.length ?? 0) + (only?.size ?? 0) + (except?.size ?? 0);
  if (idCount > MAX_QUERY_IDS) {
    throw new SailpointError(
      400,
      `The search query names ${idCount} ids; Search takes at most about ${MAX_QUERY_IDS} per query: split the ids over several searches.`,
    );
  }

  const sort = sortKeys(input.sort);
  if (input.searchAfter !== undefined && input.searchAfter.length !== sort.length) {
    throw new SailpointError(
      400,
      `searchAfter needs one value per sort field (sort has ${sort.length}, searchAfter ${input.searchAfter.length})`,
    );
  }
  return {
    ...(queried === undefined ? {} : { ids: new Set(queried) }),
    ...(only === undefined ? {} : { only }),
    ...(except === undefined ? {} : { except }),
    sort,
    ...(input.searchAfter === undefined ? {} : { searchAfter: input.searchAfter }),
    includeNested: input.includeNested,
    ...(input.queryResultFilter?.includes ? { includes: input.queryResultFilter.includes } : {}),
    ...(input.queryResultFilter?.excludes ? { excludes: input.queryResultFilter.excludes } : {}),
  };
}

/** Compares two documents' sort tuples (strings; ISO dates sort as text). */
export function compareBySort(keys: readonly SortKey[], a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < keys.length; i++) {
    const [x, y] = [a[i] ?? '', b[i] ?? ''];
    if (x !== y) return (x < y ? -1 : 1) * (keys[i]!.descending ? -1 : 1);
  }
  return 0;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Keeps the dotted `paths` of `value` (into arrays element-wise), as Elasticsearch source filtering does. */
function pick(value: unknown, paths: readonly string[][]): unknown {
  if (Array.isArray(value)) return value.map((element) => pick(element, paths));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, child] of Object.entries(value)) {
    const below = paths.filter((p) => p[0] === key);
    if (below.length === 0) continue;
    out[key] = below.some((p) => p.length === 1)
      ? child
      : pick(
          child,
          below.map((p) => p.slice(1)),
        );
  }
  return out;
}

function drop(value: unknown, paths: readonly string[][]): unknown {
  if (Array.isArray(value)) return value.map((element) => drop(element, paths));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, child] of Object.entries(value)) {
    const below = paths.filter((p) => p[0] === key);
    if (below.some((p) => p.length === 1)) continue;
    out[key] =
      below.length === 0
        ? child
        : drop(
            child,
            below.map((p) => p.slice(1)),
          );
  }
  return out;
}

/** Applies `queryResultFilter` to one document. */
export function filterDocument(doc: Json, includes?: readonly string[], excludes?: readonly string[]): Json {
  const split = (paths: readonly string[]) => paths.map((p) => p.split('.'));
  let out: unknown = doc;
  if (includes && includes.length > 0) out = pick(out, split(includes));
  if (excludes && excludes.length > 0) out = drop(out, split(excludes));
  return out as Json;
}
