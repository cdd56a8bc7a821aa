/**
 * Reading SailPoint's `GET /v3/access-request-status` (filtered by requested-for) to learn whether an
 * access request for a unit exists, and whether it is still pending.
 *
 * POST /beta/access-requests answers an empty 202 in the beta page (no id), so a process that died
 * after the POST cannot know from its own records whether the request went through. Each submitted
 * item carries `clientMetadata.igaAutopilotItem = "<type>:<id>"` (coalesce.ts), which the status list
 * returns; a status entry matches a unit when the identity, request type and item type agree, the
 * marker (or, in older API versions, the entry's `id`) names the item, and it was created after the
 * attempt began (less a clock-skew allowance).
 */
import type { AccessItemType, RequestType } from './contract';
import type { OppositeStatus } from './slot-policy';

/** Allowance for clock difference between this function and SailPoint's `created` stamps. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** RequestedItemStatusRequestState values after which nothing more happens to the request. */
export const FINAL_STATES: ReadonlySet<string> = new Set([
  'REQUEST_COMPLETED',
  'CANCELLED',
  'TERMINATED',
  'REJECTED',
  'PROVISIONING_FAILED',
  'NOT_ALL_ITEMS_PROVISIONED',
  'ERROR',
]);

/** One RequestedItemStatus, reduced to what matching needs. */
export interface RequestStatusEntry {
  /** null in the API means GRANT_ACCESS (the default). */
  readonly requestType: string;
  readonly itemType?: string;
  /** The entry's `id`: the access request id in current API versions, the item id in older ones. */
  readonly id?: string;
  /** clientMetadata.igaAutopilotItem, when the request was ours. */
  readonly marker?: string;
  readonly requestedForId?: string;
  /** Epoch ms. */
  readonly created: number;
  readonly state?: string;
  readonly accessRequestId?: string;
}

export interface UnitRef {
  readonly requestType: RequestType;
  readonly identityId: string;
  readonly itemType: AccessItemType;
  readonly itemId: string;
}

/** Status entries that are this unit's request, created at or after `since` (less skew). */
export function findRequests(entries: readonly RequestStatusEntry[], unit: UnitRef, since: number) {
  const marker = `${unit.itemType}:${unit.itemId}`;
  return entries.filter(
    (e) =>
      e.requestType === unit.requestType &&
      (e.requestedForId === undefined || e.requestedForId === unit.identityId) &&
      (e.itemType === undefined || e.itemType === unit.itemType) &&
      (e.marker === marker || (e.marker === undefined && e.id === unit.itemId)) &&
      e.created >= since - CLOCK_SKEW_MS,
  );
}

/** A state we do not know is treated as pending: waiting is safe, racing is not. */
export function isPending(state: string | undefined): boolean {
  return state === undefined || !FINAL_STATES.has(state);
}

export function statusOf(
  entries: readonly RequestStatusEntry[],
  unit: UnitRef,
  since: number,
): OppositeStatus {
  const found = findRequests(entries, unit, since);
  const pending = found.find((e) => isPending(e.state));
  return {
    found: found.length > 0,
    pending: pending !== undefined,
    ...(pending?.state ? { state: pending.state } : found[0]?.state ? { state: found[0].state } : {}),
  };
}

/** Distinct access request ids named by the entries. */
export function requestIdsOf(entries: readonly RequestStatusEntry[]): string[] {
  return [...new Set(entries.map((e) => e.accessRequestId).filter((id): id is string => !!id))];
}
