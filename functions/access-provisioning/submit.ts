/**
 * Stage 5 — submit: coalesce the units that need a POST into API-legal requests (coalesce.ts), POST
 * them, and record each accepted unit on its slot.
 *
 * - A claim taken over from an earlier attempt first moves its attempt end to this invocation's
 *   deadline, conditional on the claim, so a concurrent taker either sees it or has the claim already.
 * - A 4xx for a request spanning several messages is resubmitted per message to find the one SailPoint
 *   objects to; a unit several messages asked for goes with the earliest, then the next.
 * - A 5xx, timeout or dropped connection may have created the request: the claim stays (it is the
 *   attempt record) and the retry reconciles. A 429 or 4xx did not: the units are given back.
 * - No POST starts once the invocation is out of time; those units are given back and retried.
 */
import { SailPointResponseError } from '../shared/sailpoint/errors';
import { groupBy } from '../shared/collections';
import {
  errorText,
  iso,
  mapLimit,
  outOfTime,
  writeConcurrency,
  type StageDeps,
  type UnitResults,
} from './batch';
import type { ClaimedUnit } from './claim';
import type { ClaimLedger } from './claims';
import { coalesce, type PlannedRequest } from './coalesce';
import { failureOutcome, mayHaveReachedSailPoint, outOfTimeOutcome, transient } from './failure-policy';
import type { TrackedRequest } from './gateway';
import type { UnitOutcome } from './outcomes';
import { notRecorded } from './reconcile';

export interface SubmitUnit {
  readonly claimed: ClaimedUnit;
  /** The valid messages asking for the unit, earliest first (the first is credited). */
  readonly owners: readonly string[];
  /** Why it is submitted although Search suggests it need not be (access-check.ts), for its outcome. */
  readonly note?: string;
}

type SubmitDeps = StageDeps & { readonly claims: ClaimLedger };

type SendResult =
  | { tracked: readonly TrackedRequest[] }
  | { error: unknown; outcome: UnitOutcome & { kind: 'failed' | 'retrying' } }
  | undefined;

export async function submitUnits(units: readonly SubmitUnit[], deps: SubmitDeps): Promise<UnitResults> {
  const results: UnitResults = new Map();
  if (units.length === 0) return results;
  const ready: SubmitUnit[] = [];
  await mapLimit(units, writeConcurrency(deps.settings), async (unit) => {
    if (await extendTakenOver(unit, deps, results)) ready.push(unit);
  });
  const requests = plan(ready, deps);
  // The chunk's POSTs go out back to back at the budget's rate (a block of send times), so while this
  // instance sends, the others prepare and record instead of all sending slowly and idling together.
  await reserveSubmits(requests.length, deps);
  await mapLimit(requests, deps.settings.concurrency, ({ request, units: group }) =>
    post(group, request, deps, results),
  );
  return results;
}

async function reserveSubmits(count: number, deps: SubmitDeps): Promise<void> {
  if (count === 0 || !deps.gateway.reserveSubmits) return;
  try {
    await deps.gateway.reserveSubmits(count);
  } catch (error) {
    // Best effort: each POST still waits for its own send time.
    deps.log?.warn('could not reserve send times for the POSTs', { error: errorText(error) });
  }
}

function plan(units: readonly SubmitUnit[], deps: SubmitDeps) {
  const byUnit = new Map(units.map((u) => [u.claimed.planned.unit.key, u]));
  return coalesce(
    units.map((u) => u.claimed.planned.unit),
    { maxRecipients: deps.settings.maxRecipients, maxItems: deps.settings.maxItems },
  ).map((request) => ({ request, units: request.units.map((u) => byUnit.get(u.key)!) }));
}

/**
 * A claim taken over from an earlier attempt still carries that attempt's end; before this one may
 * POST, the end moves to this invocation's deadline — conditional on the claim, so a concurrent
 * taker (another delivery of the same message) either sees it or has already taken the claim.
 */
async function extendTakenOver(unit: SubmitUnit, deps: SubmitDeps, results: UnitResults): Promise<boolean> {
  const key = unit.claimed.planned.unit.key;
  if (!unit.claimed.takeover || deps.claims.attemptUntil(key) >= deps.attemptDeadline) return true;
  try {
    if (await deps.claims.extend(key, deps.attemptDeadline)) return true;
    // A concurrent attempt (e.g. another delivery of this message) took the unit over meanwhile: it
    // submits the unit or gives it back. A lost race, not a failed attempt of this message — so, like a
    // unit in flight elsewhere, it is looked at again (before the batch settles, then uncharged).
    results.set(key, {
      outcome: {
        kind: 'retrying',
        detail: 'in flight: the unit was taken over by a concurrent attempt; looking again',
        delaySeconds: deps.settings.inFlightRetrySeconds,
        uncharged: true,
      },
    });
  } catch (error) {
    results.set(key, {
      outcome: transient(deps.settings, `could not record the attempt: ${errorText(error)}`),
    });
  }
  return false;
}

async function post(
  units: readonly SubmitUnit[],
  request: PlannedRequest,
  deps: SubmitDeps,
  results: UnitResults,
): Promise<void> {
  const result = await send(units, request, deps, results);
  if (result === undefined) return;
  if ('tracked' in result) {
    await recordAccepted(units, result.tracked, (u) => u.owners[0]!, deps, results);
    return;
  }
  const owners = new Set(units.flatMap((u) => u.owners));
  if (result.outcome.kind === 'failed' && owners.size > 1) {
    // One message's unit may be what SailPoint refused: resubmit per message to find it.
    deps.log?.warn('access request refused; resubmitting per message', {
      messages: owners.size,
      error: errorText(result.error),
    });
    await isolate(units, deps, results);
    return;
  }
  await fail(units, result.error, result.outcome, deps, results);
}

/**
 * After a refusal of a request spanning several messages: each unit is sent again with the units
 * of one message that asked for it (the earliest first). A message whose request is refused is
 * blamed; its units that other messages also asked for move on to the next of those messages, so
 * a valid message is never dead-lettered for another's item, and no unit is in two requests.
 */
async function isolate(units: readonly SubmitUnit[], deps: SubmitDeps, results: UnitResults): Promise<void> {
  const candidates = new Map(units.map((u) => [u, [...u.owners]]));
  let remaining = [...units];
  while (remaining.length > 0) {
    const groups = groupBy(remaining, (unit) => candidates.get(unit)![0]!);
    const next: SubmitUnit[] = [];
    const requests = [...groups].flatMap(([owner, group]) =>
      plan(group, deps).map((planned) => ({ owner, ...planned })),
    );
    await mapLimit(requests, deps.settings.concurrency, async ({ owner, request, units: group }) => {
      const result = await send(group, request, deps, results);
      if (result === undefined) return;
      if ('tracked' in result) {
        await recordAccepted(group, result.tracked, () => owner, deps, results);
        return;
      }
      if (result.outcome.kind !== 'failed') {
        await fail(group, result.error, result.outcome, deps, results);
        return;
      }
      const refused: SubmitUnit[] = [];
      for (const unit of group) {
        const left = candidates.get(unit)!;
        left.shift();
        if (left.length > 0) next.push(unit);
        else refused.push(unit);
      }
      await fail(refused, result.error, result.outcome, deps, results);
    });
    remaining = next;
  }
}

/** One POST; undefined when it was not sent (out of time: the units are given back). */
async function send(
  units: readonly SubmitUnit[],
  request: PlannedRequest,
  deps: SubmitDeps,
  results: UnitResults,
): Promise<SendResult> {
  const keys = units.map((u) => u.claimed.planned.unit.key);
  if (outOfTime(deps)) {
    for (const key of keys) results.set(key, { outcome: outOfTimeOutcome() });
    await deps.claims.releaseAll(keys);
    return undefined;
  }
  deps.claims.markPosted(keys);
  try {
    deps.counts.requestsPosted++;
    return { tracked: await deps.gateway.submit(request.body) };
  } catch (error) {
    if (error instanceof SailPointResponseError && error.status !== undefined && error.status < 300) {
      return { tracked: [] }; // accepted (2xx), only the body was unexpected
    }
    return { error, outcome: failureOutcome(deps.settings, error, 'submitting the access request') };
  }
}

async function fail(
  units: readonly SubmitUnit[],
  error: unknown,
  outcome: UnitOutcome,
  deps: SubmitDeps,
  results: UnitResults,
): Promise<void> {
  const keys = units.map((u) => u.claimed.planned.unit.key);
  for (const key of keys) results.set(key, { outcome });
  // A request that may exist keeps its claims: they are the attempt record the retry reconciles.
  if (!mayHaveReachedSailPoint(error)) await deps.claims.releaseAll(keys);
}

async function recordAccepted(
  units: readonly SubmitUnit[],
  tracked: readonly TrackedRequest[],
  creditedTo: (unit: SubmitUnit) => string,
  deps: SubmitDeps,
  results: UnitResults,
): Promise<void> {
  const at = deps.clock();
  await mapLimit(units, deps.settings.concurrency, async (unit) => {
    const { key, identityId, item } = unit.claimed.planned.unit;
    const accessRequestIds = [
      ...new Set(
        tracked
          .filter((t) => t.requestedFor === identityId && t.itemId === item.id)
          .flatMap((t) => t.accessRequestIds),
      ),
    ];
    const submitter = creditedTo(unit);
    try {
      await deps.claims.recordSubmitted(key, {
        messageId: submitter,
        at,
        accessRequestIds,
        reconciled: false,
      });
      results.set(key, {
        submitter,
        outcome: {
          kind: 'submitted',
          detail: `submitted to SailPoint at ${iso(at)}${unit.note ? ` (${unit.note})` : ''}`,
          ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
        },
      });
    } catch (error) {
      results.set(key, { submitter, outcome: notRecorded(deps.settings, error) });
    }
  });
}
