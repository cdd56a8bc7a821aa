/**
 * What SailPoint accepted, counted honestly: from the request log's POST bodies of access requests
 * that the service answered 202 (also when an afterRoute fault kept the answer from the client).
 *
 * The sandbox's own records cannot show a duplicate: like ISC, it quietly absorbs a re-POST (a GRANT
 * of access already held creates no record; an item already pending is answered under
 * `existingRequests`). Each accepted body counts once per unit it names — identity × item ×
 * request type — so "units POSTed twice" is simply a count above one.
 */
import { type RequestLog, serviceStatus } from './request-log';

const ACCESS_REQUEST_PATHS = new Set(['/beta/access-requests', '/v3/access-requests']);

/** `GRANT_ACCESS|<identityId>|<itemType>|<itemId>` — the same form as the workflow's unit keys. */
export function acceptedUnitKey(requestType: string, identityId: string, itemType: string, itemId: string) {
  return `${requestType}|${identityId}|${itemType}|${itemId}`;
}

interface AccessRequestBody {
  requestedFor?: unknown;
  requestType?: unknown;
  requestedItems?: unknown;
}

/** Unit key → how many POST bodies answered 202 named it (in log order). */
export function acceptedAccessRequestUnits(log: RequestLog): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of log.entries) {
    if (entry.method !== 'POST' || !ACCESS_REQUEST_PATHS.has(entry.path)) continue;
    if (serviceStatus(entry) !== 202) continue;
    const body = (entry.body ?? {}) as AccessRequestBody;
    const requestType = typeof body.requestType === 'string' ? body.requestType : 'GRANT_ACCESS';
    const identities = Array.isArray(body.requestedFor) ? body.requestedFor : [];
    const items = Array.isArray(body.requestedItems) ? body.requestedItems : [];
    for (const identityId of identities) {
      for (const item of items as { type?: unknown; id?: unknown }[]) {
        const key = acceptedUnitKey(requestType, String(identityId), String(item?.type), String(item?.id));
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  return counts;
}

export interface AcceptedUnitsReport {
  /** Units accepted more than once, with their count. */
  readonly postedTwice: ReadonlyMap<string, number>;
  /** Expected units never accepted. */
  readonly missing: readonly string[];
  /** Units accepted that were not expected (e.g. of invalid messages). */
  readonly unexpected: readonly string[];
}

/** Compares what SailPoint accepted with the units a workload should have submitted once each. */
export function compareAcceptedUnits(
  accepted: ReadonlyMap<string, number>,
  expected: Iterable<string>,
): AcceptedUnitsReport {
  const wanted = new Set(expected);
  return {
    postedTwice: new Map([...accepted].filter(([, n]) => n > 1)),
    missing: [...wanted].filter((key) => !accepted.has(key)),
    unexpected: [...accepted.keys()].filter((key) => !wanted.has(key)),
  };
}
