/**
 * Coalescing: turn the units of one batch into as few API-legal access requests as possible.
 *
 * A request is a rectangle: every identity in `requestedFor` receives every item in `requestedItems`,
 * with each item's comment/removeDate/clientMetadata and the request's clientMetadata. So units can
 * share a request only when they have the same request type and top-level clientMetadata, and an item
 * is shared across identities only with identical per-item attributes (nothing is lost or altered).
 *
 * Limits (ops-beta.yaml createAccessRequest, the current spec):
 * - with an entitlement: at most 25 entitlements and 10 recipients per request;
 * - without: the API states no limit; `maxItems` and `maxRecipients` (settings) keep one refused
 *   request from affecting too many units;
 * - REVOKE_ACCESS: one identity per request and at most one entitlement per request.
 *
 * Minimum rectangle cover is NP-hard; two cheap exact covers are built for GRANTs and the smaller is
 * kept: identities grouped by identical item sets, and items grouped by identical recipient sets.
 *
 * Each item carries `clientMetadata.igaAutopilotItem = "<type>:<id>"`: SailPoint returns per-item
 * clientMetadata in /access-request-status, which is how a crashed attempt is recognised there
 * (reconcile.ts). It is the same for every recipient of the item, so it never prevents coalescing.
 */
import { groupBy } from '../shared/collections';
import { MAX_ENTITLEMENTS_PER_REQUEST, type AccessItemType, type RequestType } from './contract';
import { canonicalJson, type ItemSpec, type Unit } from './units';

export const ITEM_MARKER_KEY = 'igaAutopilotItem';
export const MAX_RECIPIENTS_WITH_ENTITLEMENTS = 10;

export interface CoalesceLimits {
  /** Recipients of a GRANT without entitlements. */
  readonly maxRecipients: number;
  /** Items per request (entitlements: at most 25 whatever this says). Default 25. */
  readonly maxItems?: number;
}

export const DEFAULT_MAX_ITEMS_PER_REQUEST = 25;

export interface AccessRequestItemBody {
  type: AccessItemType;
  id: string;
  comment?: string;
  removeDate?: string;
  clientMetadata: Record<string, string>;
}

/** The POST /beta/access-requests body. */
export interface AccessRequestBody {
  requestedFor: string[];
  requestType: RequestType;
  requestedItems: AccessRequestItemBody[];
  clientMetadata?: Record<string, string>;
}

export interface PlannedRequest {
  readonly body: AccessRequestBody;
  /** The units this request submits (requestedFor × requestedItems). */
  readonly units: readonly Unit[];
}

export function itemMarker(type: AccessItemType, id: string): string {
  return `${type}:${id}`;
}

export function coalesce(units: readonly Unit[], limits: CoalesceLimits): PlannedRequest[] {
  const planned: PlannedRequest[] = [];
  for (const group of groupBy(
    units,
    (u) => `${u.requestType}\u0000${canonicalJson(u.requestMetadata)}`,
  ).values()) {
    if (group[0]!.requestType === 'REVOKE_ACCESS') {
      for (const perIdentity of groupBy(group, (u) => u.identityId).values())
        planned.push(...planRevokes(perIdentity, limits));
    } else {
      planned.push(...planGrants(group, limits));
    }
  }
  return planned;
}

/** The number of requests `coalesce` would make; used for the benchmark's lower bound. */
export function countRequests(units: readonly Unit[], limits: CoalesceLimits): number {
  return coalesce(units, limits).length;
}

interface Rectangle {
  readonly identities: string[];
  readonly specs: string[];
}

function planGrants(units: readonly Unit[], limits: CoalesceLimits): PlannedRequest[] {
  const specKey = (u: Unit) => canonicalJson(u.item);
  const byIdentity = groupBy(units, (u) => u.identityId);
  const bySpec = groupBy(units, specKey);

  const identityCentric = rectangles(
    byIdentity,
    (u) => specKey(u),
    (identities, specs) => ({ identities, specs }),
  );
  const itemCentric = rectangles(
    bySpec,
    (u) => u.identityId,
    (specs, identities) => ({ identities, specs }),
  );

  const specOf = new Map(units.map((u) => [specKey(u), u.item] as const));
  const unitAt = new Map(units.map((u) => [`${u.identityId}\u0000${specKey(u)}`, u] as const));
  const cost = (rects: Rectangle[]) => rects.reduce((n, r) => n + chunked(r, specOf, limits).length, 0);
  const chosen = cost(itemCentric) < cost(identityCentric) ? itemCentric : identityCentric;

  const requestMetadata = units[0]!.requestMetadata;
  return chosen.flatMap((rect) =>
    chunked(rect, specOf, limits).map(({ identities, specs }) => {
      const items = specs.map((s) => specOf.get(s)!);
      return {
        body: requestBody('GRANT_ACCESS', identities, items, requestMetadata),
        units: identities.flatMap((id) => specs.map((s) => unitAt.get(`${id}\u0000${s}`)!)),
      };
    }),
  );
}

/**
 * Groups the keys of `rows` (identity → its units, or spec → its units) by the identical set of
 * `column` values they have; each group is a rectangle rows × columns.
 */
function rectangles(
  rows: Map<string, Unit[]>,
  column: (u: Unit) => string,
  make: (rowKeys: string[], columns: string[]) => Rectangle,
): Rectangle[] {
  const byColumnSet = new Map<string, { rows: string[]; columns: string[] }>();
  for (const [rowKey, rowUnits] of rows) {
    const columns = [...new Set(rowUnits.map(column))].sort();
    const setKey = columns.join('\u0001');
    const entry = byColumnSet.get(setKey);
    if (entry) entry.rows.push(rowKey);
    else byColumnSet.set(setKey, { rows: [rowKey], columns });
  }
  return [...byColumnSet.values()].map((e) => make(e.rows, e.columns));
}

function chunked(rect: Rectangle, specOf: Map<string, ItemSpec>, limits: CoalesceLimits): Rectangle[] {
  const out: Rectangle[] = [];
  for (const specs of itemChunks(rect.specs, (s) => specOf.get(s)!.type === 'ENTITLEMENT', limits)) {
    const hasEntitlement = specs.some((s) => specOf.get(s)!.type === 'ENTITLEMENT');
    const maxRecipients = hasEntitlement
      ? Math.min(MAX_RECIPIENTS_WITH_ENTITLEMENTS, limits.maxRecipients)
      : limits.maxRecipients;
    for (const identities of chunks(rect.identities, maxRecipients)) out.push({ identities, specs });
  }
  return out;
}

function maxItemsOf(limits: CoalesceLimits): number {
  return limits.maxItems ?? DEFAULT_MAX_ITEMS_PER_REQUEST;
}

/** Items in request order, cut into requests of at most maxItems items and 25 entitlements. */
function itemChunks<T>(
  items: readonly T[],
  isEntitlement: (item: T) => boolean,
  limits: CoalesceLimits,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let entitlements = 0;
  for (const item of items) {
    const entitlement = isEntitlement(item);
    if (
      current.length >= maxItemsOf(limits) ||
      (entitlement && entitlements >= MAX_ENTITLEMENTS_PER_REQUEST)
    ) {
      out.push(current);
      current = [];
      entitlements = 0;
    }
    current.push(item);
    if (entitlement) entitlements++;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** One identity's revokes: at most one entitlement and maxItems items per request. */
function planRevokes(units: readonly Unit[], limits: CoalesceLimits): PlannedRequest[] {
  const entitlements = units.filter((u) => u.item.type === 'ENTITLEMENT');
  const others = units.filter((u) => u.item.type !== 'ENTITLEMENT');
  const count = Math.max(entitlements.length, Math.ceil(units.length / maxItemsOf(limits)));
  const buckets: Unit[][] = Array.from({ length: count }, (_, i) =>
    entitlements[i] ? [entitlements[i]] : [],
  );
  let bucket = 0;
  for (const unit of others) {
    while (buckets[bucket]!.length >= maxItemsOf(limits)) bucket++;
    buckets[bucket]!.push(unit);
  }
  const first = units[0]!;
  return buckets.map((bucketUnits) => ({
    body: requestBody(
      'REVOKE_ACCESS',
      [first.identityId],
      bucketUnits.map((u) => u.item),
      first.requestMetadata,
    ),
    units: bucketUnits,
  }));
}

function requestBody(
  requestType: RequestType,
  requestedFor: string[],
  items: readonly ItemSpec[],
  requestMetadata: Readonly<Record<string, string>> | undefined,
): AccessRequestBody {
  return {
    requestedFor: [...requestedFor],
    requestType,
    requestedItems: items.map((item) => ({
      type: item.type,
      id: item.id,
      ...(item.comment === undefined ? {} : { comment: item.comment }),
      ...(item.removeDate === undefined ? {} : { removeDate: item.removeDate }),
      clientMetadata: { ...item.clientMetadata, [ITEM_MARKER_KEY]: itemMarker(item.type, item.id) },
    })),
    ...(requestMetadata === undefined ? {} : { clientMetadata: { ...requestMetadata } }),
  };
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
