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
import {
  errorText,
  iso,
  mapLimit,
  type ProcessorSettings,
  type StageDeps,
  type UnitResult,
  type UnitResults,
} from './batch';
import type { ClaimedUnit } from './claim';
import type { ClaimLedger } from './claims';
import type { AccessItemType, RequestType } from './contract';
import { transient } from './failure-policy';
import type { UnitOutcome } from './outcomes';
import type { OppositeStatus } from './slot-policy';
import type { StatusReader } from './status-reader';

/** Allowance for clock difference between this function and SailPoint's `created` stamps. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * RequestedItemStatusRequestState values after which nothing more happens to the request (the event
 * reconciliation's outcome per state has exactly these keys: access-reconciliation.ts).
 */
export const FINAL_STATE_NAMES = [
  'REQUEST_COMPLETED',
  'CANCELLED',
  'TERMINATED',
  'REJECTED',
  'PROVISIONING_FAILED',
  'NOT_ALL_ITEMS_PROVISIONED',
  'ERROR',
] as const;
export type FinalState = (typeof FINAL_STATE_NAMES)[number];
export const FINAL_STATES: ReadonlySet<string> = new Set<string>(FINAL_STATE_NAMES);

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
  /** Epoch ms of the entry's last change (for a final entry: when it finished). */
  readonly modified?: number;
  readonly accessRequestId?: string;
}

export interface UnitRef {
  readonly requestType: RequestType;
  readonly identityId: string;
  readonly itemType: AccessItemType;
  readonly itemId: string;
}

/**
 * Status entries that are this unit's request, created at or after `since` (less skew) and — when the
 * slot had a request of the opposite type since — after that one (`after`, see oppositeCutoff): an
 * older request of the same access is a different intent, never this attempt.
 */
export function findRequests(
  entries: readonly RequestStatusEntry[],
  unit: UnitRef,
  since: number,
  after?: number,
) {
  return entries.filter(
    (e) =>
      matchesUnit(e, unit) &&
      e.requestType === unit.requestType &&
      e.created >= since - CLOCK_SKEW_MS &&
      (after === undefined || e.created > after),
  );
}

/**
 * When the slot's latest request of the opposite type was created, in SailPoint's clock: the entry of
 * that request (the newest opposite entry created no later than our record of it, plus skew), or, if
 * SailPoint does not list it, our own record of it (`latestOpposite`, epoch ms). Undefined when this
 * deployment never submitted the opposite type for the slot.
 */
export function oppositeCutoff(
  entries: readonly RequestStatusEntry[],
  unit: UnitRef,
  latestOpposite: number | undefined,
): number | undefined {
  if (latestOpposite === undefined) return undefined;
  const opposite = unit.requestType === 'GRANT_ACCESS' ? 'REVOKE_ACCESS' : 'GRANT_ACCESS';
  const created = entries
    .filter(
      (e) =>
        matchesUnit(e, unit) && e.requestType === opposite && e.created <= latestOpposite + CLOCK_SKEW_MS,
    )
    .map((e) => e.created);
  return created.length > 0 ? Math.max(...created) : latestOpposite;
}

/** What matching reads of a status entry (a RequestStatusEntry, or a raw entry mapped to it). */
export interface UnitMatchFields {
  readonly requestedForId?: string;
  readonly itemType?: string;
  readonly id?: string;
  /**
   * The item marker as the entry has it. Only `<type>:<id>` names the unit; only an absent marker
   * lets the entry's `id` stand in (a null or non-string one does not).
   */
  readonly marker?: unknown;
}

/**
 * Whether a status entry is of the unit's identity and item (the request type and creation time are
 * the caller's to check): the identity and item type agree where the entry names them, and the
 * marker, or without one the entry's `id` (older API versions), names the item.
 */
export function matchesUnit(
  e: UnitMatchFields,
  unit: { readonly identityId: string; readonly itemType: string; readonly itemId: string },
): boolean {
  const marker = `${unit.itemType}:${unit.itemId}`;
  return (
    (e.requestedForId === undefined || e.requestedForId === unit.identityId) &&
    (e.itemType === undefined || e.itemType === unit.itemType) &&
    (e.marker === marker || (e.marker === undefined && e.id === unit.itemId))
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
  after?: number,
): OppositeStatus {
  const found = findRequests(entries, unit, since, after);
  const pending = found.find((e) => isPending(e.state));
  const newest = found.reduce<RequestStatusEntry | undefined>(
    (a, e) => (!a || e.created > a.created ? e : a),
    undefined,
  );
  const shown = pending ?? newest;
  return {
    found: found.length > 0,
    pending: pending !== undefined,
    ...(shown?.state ? { state: shown.state } : {}),
    ...(!pending && newest?.modified !== undefined ? { finishedAt: newest.modified } : {}),
  };
}

/** Distinct access request ids named by the entries. */
export function requestIdsOf(entries: readonly RequestStatusEntry[]): string[] {
  return [...new Set(entries.map((e) => e.accessRequestId).filter((id): id is string => !!id))];
}

// ---------------------------------------------------------------------------------------------
// Stage 3 — reconcile: a unit taken over from an unfinished attempt — did that attempt reach SailPoint?
// - listed → recorded as submitted (by that attempt), no second POST;
// - not listed, and SailPoint may not list it yet (less than STATUS_SETTLE_SECONDS since the attempt
//   could last have sent its POST) → retried once it can tell, the claim kept, uncharged;
// - not listed after that → the unit goes on to be submitted.

export async function reconcileTakenOver(
  units: readonly ClaimedUnit[],
  deps: StageDeps & { readonly claims: ClaimLedger; readonly statuses: StatusReader },
): Promise<{ proceed: ClaimedUnit[]; results: UnitResults }> {
  const proceed: ClaimedUnit[] = [];
  const results: UnitResults = new Map();
  if (units.length === 0) return { proceed, results };
  const { settings } = deps;
  await deps.statuses.fetch(
    units.map((u) => ({ identityId: u.planned.unit.identityId, since: u.takeover!.since })),
  );
  const now = deps.clock();
  await mapLimit(units, settings.concurrency, async (claimed) => {
    const { unit, owners } = claimed.planned;
    const takeover = claimed.takeover!;
    const entries = deps.statuses.entries(unit.identityId);
    if (!entries) {
      // Keep the claim: it is the record that an attempt may have been made.
      results.set(unit.key, {
        outcome: transient(
          settings,
          'could not read SailPoint access request status to reconcile an earlier attempt',
        ),
      });
      return;
    }
    const found = attemptsOf(entries, claimed, takeover.since);
    if (found.length > 0) {
      results.set(
        unit.key,
        await recordFound(claimed, owners[0]!, found, now, deps, {
          attemptOf: takeover.messageId,
          detail: (created) =>
            `submitted by an earlier attempt (found in SailPoint's access request status, created ${created}); ` +
            'not submitted again',
        }),
      );
      return;
    }
    // SailPoint's listing lag counts from when that attempt may last have sent its POST.
    const settlesAt = takeover.until + settings.statusSettleMs;
    if (now < settlesAt) {
      // Waiting for SailPoint's listing is not a failed attempt of this message (the earlier attempt
      // may well have succeeded): it comes back uncharged, once SailPoint can tell — so it is never
      // dead-lettered for this on its last receive. Bounded: by then the lookup decides.
      results.set(unit.key, {
        outcome: {
          kind: 'retrying',
          delaySeconds: Math.max(1, Math.ceil((settlesAt - now) / 1000)),
          detail:
            `an earlier attempt (${iso(takeover.since)} to ${iso(takeover.until)}) may have reached ` +
            'SailPoint and is not listed yet; retrying before submitting again',
          uncharged: true,
        },
      });
      return;
    }
    proceed.push(claimed);
  });
  return { proceed, results };
}

/**
 * The last receive of a message cannot leave a POST's outcome to a redelivery: a claim kept after a
 * POST whose outcome is unknown is looked up at once.
 * - listed → submitted (never dead-lettered: SailPoint took it);
 * - not listed, and SailPoint has had STATUS_SETTLE_SECONDS since the POST → not taken: the claim is
 *   given back (the message then gives up with the POST's error);
 * - otherwise it stays unknown: the outcome says the request may have reached SailPoint, and the
 *   claim is handed over when the message is dead-lettered (workflow.ts), so whoever asks for the
 *   unit next reconciles before submitting.
 */
export async function reconcileLastReceive(
  units: readonly { readonly claimed: ClaimedUnit; readonly owners: readonly string[] }[],
  previous: UnitResults,
  deps: StageDeps & { readonly claims: ClaimLedger; readonly statuses: StatusReader },
): Promise<UnitResults> {
  const results: UnitResults = new Map();
  if (units.length === 0) return results;
  const { settings } = deps;
  await deps.statuses.fetch(
    units.map((u) => ({ identityId: u.claimed.planned.unit.identityId, since: u.claimed.attemptSince })),
    { fresh: true },
  );
  const now = deps.clock();
  await mapLimit(units, settings.concurrency, async ({ claimed, owners }) => {
    const { unit } = claimed.planned;
    const before = previous.get(unit.key)?.outcome;
    const entries = deps.statuses.entries(unit.identityId);
    const found = entries ? attemptsOf(entries, claimed, claimed.attemptSince) : [];
    if (found.length > 0) {
      results.set(
        unit.key,
        await recordFound(claimed, owners[0]!, found, now, deps, {
          detail: (created) =>
            `submitted to SailPoint (its answer was lost; found in SailPoint's access request status, ` +
            `created ${created})`,
        }),
      );
      return;
    }
    if (entries && now >= deps.claims.attemptUntil(unit.key) + settings.statusSettleMs) {
      await deps.claims.release(unit.key); // SailPoint did not take it
      return;
    }
    results.set(unit.key, {
      outcome: transient(
        settings,
        `${before?.detail ?? 'the outcome of its POST is unknown'}; the request may have reached SailPoint ` +
          '(not listed yet): whoever asks for this unit next reconciles before submitting it',
      ),
    });
  });
  return results;
}

/** The status entries that are this claim's attempt (since `since`, after the latest opposite request). */
function attemptsOf(entries: readonly RequestStatusEntry[], claimed: ClaimedUnit, since: number) {
  const { unit } = claimed.planned;
  const ref = {
    requestType: unit.requestType,
    identityId: unit.identityId,
    itemType: unit.item.type,
    itemId: unit.item.id,
  };
  return findRequests(entries, ref, since, oppositeCutoff(entries, ref, claimed.latestOpposite));
}

/** An attempt SailPoint lists: recorded as submitted (reconciled), credited to `messageId`. */
async function recordFound(
  claimed: ClaimedUnit,
  messageId: string,
  found: readonly RequestStatusEntry[],
  now: number,
  deps: Pick<StageDeps, 'settings' | 'counts'> & { readonly claims: ClaimLedger },
  how: { readonly attemptOf?: string; readonly detail: (created: string) => string },
): Promise<UnitResult> {
  deps.counts.reconciled++;
  const accessRequestIds = requestIdsOf(found);
  try {
    await deps.claims.recordSubmitted(claimed.planned.unit.key, {
      messageId,
      at: now,
      accessRequestIds,
      reconciled: true,
      ...(how.attemptOf ? { attemptOf: how.attemptOf } : {}),
    });
    return {
      submitter: messageId,
      outcome: {
        kind: 'submitted',
        detail: how.detail(iso(found[0]!.created)),
        ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
      },
    };
  } catch (error) {
    return { outcome: notRecorded(deps.settings, error) };
  }
}

/** SailPoint has the request, our record does not: the claim stays, and the retry reconciles. */
export function notRecorded(settings: ProcessorSettings, error: unknown): UnitOutcome {
  return transient(
    settings,
    `submitted to SailPoint, but recording that failed (${errorText(error)}); the retry reconciles`,
  );
}
