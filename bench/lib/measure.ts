/**
 * What the benchmarks count, from what SailPoint saw (the sandbox's request log) — never from the
 * sandbox's records, which absorb a re-POST — and the rate-limit lower bound of a workload.
 */
import { coalesce } from '../../functions/access-provisioning/coalesce';
import { DEFAULT_PROCESSOR_SETTINGS } from '../../functions/access-provisioning/settings';
import type { Unit } from '../../functions/access-provisioning/units';
import { identitySearchCalls } from '../../functions/shared/sailpoint/api/search';
import { acceptedAccessRequestUnits } from '../../sandbox/accepted-units';
import { type RequestLog, serviceStatus } from '../../sandbox/request-log';

/** ISC's gateway: 100 requests per 10 s per client id and API version (official/rate-limit.md). */
export const GATEWAY_REQUESTS_PER_SECOND = 10;
const ACCESS_REQUEST_PATHS = new Set(['/beta/access-requests', '/v3/access-requests']);

export interface VersionCalls {
  /** Requests sent (every attempt, whatever the answer). */
  calls: number;
  /** Answered 429 by the gateway. */
  rateLimited: number;
  /** Hit by an injected fault (fault run). */
  faulted: number;
}

export function callsPerVersion(log: RequestLog): Map<string, VersionCalls> {
  const versions = new Map<string, VersionCalls>();
  for (const entry of log.entries) {
    if (entry.apiVersion === undefined) continue;
    const v = versions.get(entry.apiVersion) ?? { calls: 0, rateLimited: 0, faulted: 0 };
    v.calls++;
    if (entry.status === 429 && !entry.fault) v.rateLimited++;
    if (entry.fault) v.faulted++;
    versions.set(entry.apiVersion, v);
  }
  return versions;
}

export function accessRequestPosts(log: RequestLog): {
  sent: number;
  accepted: number;
  /** When the first and the last were received (epoch ms); undefined without any. */
  first?: number;
  last?: number;
} {
  const posts = log.entries.filter((e) => e.method === 'POST' && ACCESS_REQUEST_PATHS.has(e.path));
  const times = posts.map((e) => e.at.getTime());
  return {
    sent: posts.length,
    accepted: posts.filter((e) => serviceStatus(e) === 202).length,
    ...(times.length > 0 ? { first: Math.min(...times), last: Math.max(...times) } : {}),
  };
}

/**
 * The fewest calls the workload needs per API version, and the time the gateway needs for them:
 * beta — the coalescing bound (every unique unit coalesced at once into API-legal requests);
 * v3 — the bulk access pre-check of every distinct identity at the page size (POST /v3/search).
 * Each version has its own 100 / 10 s; the bound is the slower of the two.
 */
export function rateLimitBound(units: readonly Unit[], pageSize?: number) {
  const posts = coalesce([...units], { maxRecipients: DEFAULT_PROCESSOR_SETTINGS.maxRecipients }).length;
  const identities = new Set(units.map((u) => u.identityId)).size;
  const searches = identitySearchCalls(identities, pageSize === undefined ? {} : { pageSize });
  const betaSeconds = posts / GATEWAY_REQUESTS_PER_SECOND;
  const v3Seconds = searches / GATEWAY_REQUESTS_PER_SECOND;
  return { posts, identities, searches, betaSeconds, v3Seconds, seconds: Math.max(betaSeconds, v3Seconds) };
}

/** Accepted units against the units that should each have been accepted once. */
export function unitCounts(log: RequestLog, expected: Iterable<string>) {
  const accepted = acceptedAccessRequestUnits(log);
  const wanted = new Set(expected);
  return {
    accepted,
    postedTwice: [...accepted.values()].filter((n) => n > 1).length,
    missing: [...wanted].filter((key) => !accepted.has(key)).length,
    unexpected: [...accepted.keys()].filter((key) => !wanted.has(key)),
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
