/**
 * Stage 2 — claim: decide each unit from the state recorded for its access slot (slot-policy.ts) and
 * claim it with a conditional write. Duplicates stop here and cost no SailPoint call; a unit in flight
 * elsewhere or waiting for the opposite request type is retried; a slot whose conditional write lost
 * a race is read again (a few rounds). The output: the units this invocation now holds, each with what
 * a takeover must reconcile, and a result for every other unit.
 */
import { randomUUID } from 'node:crypto';
import {
  errorText,
  iso,
  mapLimit,
  writeConcurrency,
  type ProcessorSettings,
  type StageDeps,
  type UnitResult,
  type UnitResults,
} from './batch';
import type { ClaimLedger } from './claims';
import { transient } from './failure-policy';
import type { PlannedUnit } from './plan';
import { oppositeCutoff, statusOf } from './reconcile';
import {
  attemptUntilOf,
  carriedSubmissions,
  decideSlot,
  latestChangeOf,
  latestSubmissionAt,
  oppositeOf,
  type LatestChange,
  type OppositeStatus,
  type SlotDecision,
  type SlotPolicy,
  type SlotRecord,
} from './slot-policy';
import type { StatusReader } from './status-reader';

const MAX_CLAIM_ROUNDS = 4;

/** An unfinished attempt this claim took over: did it reach SailPoint? (reconcile.ts) */
export interface Takeover {
  /** The earliest start of that attempt. */
  readonly since: number;
  /** The latest moment it may have sent its POST. */
  readonly until: number;
  /** Its message. */
  readonly messageId: string;
}

export interface ClaimedUnit {
  readonly planned: PlannedUnit;
  /** The earliest start of an attempt of this claim that may reach SailPoint (reconciliation window). */
  readonly attemptSince: number;
  /** When the slot's latest request of the opposite type was submitted: nothing older is this attempt. */
  readonly latestOpposite?: number;
  /** The latest change of this access the deployment knows of (for trusting Search, access-check.ts). */
  readonly latestChange: LatestChange;
  readonly takeover?: Takeover;
}

export interface ClaimDeps extends StageDeps {
  readonly claims: ClaimLedger;
  readonly statuses: StatusReader;
  readonly newToken?: () => string;
}

export async function claimUnits(
  units: readonly PlannedUnit[],
  deps: ClaimDeps,
): Promise<{ claimed: ClaimedUnit[]; results: UnitResults; inFlight: PlannedUnit[] }> {
  const { settings } = deps;
  const inFlight: PlannedUnit[] = [];
  const newToken = deps.newToken ?? randomUUID;
  const claimed: ClaimedUnit[] = [];
  const results: UnitResults = new Map();
  const settle = (unit: PlannedUnit, outcome: Parameters<UnitResults['set']>[1]) =>
    results.set(unit.unit.key, outcome);

  let pending = [...units];
  for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length > 0; round++) {
    const now = deps.clock();
    let records: Map<string, SlotRecord>;
    try {
      records = await deps.store.readSlots(pending.map((u) => u.unit.slot));
    } catch (error) {
      for (const unit of pending)
        settle(unit, { outcome: transient(settings, `could not read the state: ${errorText(error)}`) });
      return { claimed, results, inFlight };
    }
    const policy = slotPolicyOf(settings);
    const context = (unit: PlannedUnit) => ({ ownMessageIds: new Set(unit.owners), now, policy });
    const decisions = new Map<PlannedUnit, SlotDecision>();
    const oppositeStatus = new Map<PlannedUnit, OppositeStatus>();
    const needStatus = new Map<PlannedUnit, number>();
    for (const unit of pending) {
      const decision = decideSlot(records.get(unit.unit.slot.key), unit.unit, context(unit));
      if (decision.kind === 'needs-opposite-status') needStatus.set(unit, decision.since);
      else decisions.set(unit, decision);
    }
    await deps.statuses.fetch(
      [...needStatus].map(([u, since]) => ({ identityId: u.unit.identityId, since })),
    );
    for (const [unit, since] of needStatus) {
      const record = records.get(unit.unit.slot.key)!;
      const entries = deps.statuses.entries(unit.unit.identityId);
      if (!entries) {
        settle(unit, { outcome: transient(settings, 'could not read SailPoint access request status') });
        continue;
      }
      const { slot } = unit.unit;
      const oppositeUnit = {
        identityId: slot.identityId,
        itemType: slot.itemType,
        itemId: slot.itemId,
        requestType: oppositeOf(unit.unit.requestType),
      };
      // The opposite request is the slot's; one of its type older than our own latest is not it.
      const after = oppositeCutoff(entries, oppositeUnit, latestSubmissionAt(record, unit.unit.requestType));
      const opposite = statusOf(entries, oppositeUnit, since, after);
      oppositeStatus.set(unit, opposite);
      decisions.set(unit, decideSlot(record, unit.unit, context(unit), opposite));
    }

    const lost: PlannedUnit[] = [];
    await mapLimit([...decisions], writeConcurrency(settings), async ([unit, decision]) => {
      switch (decision.kind) {
        case 'claim': {
          const record = records.get(unit.unit.slot.key);
          const takeover = decision.reconcileSince !== undefined && record !== undefined;
          // A taken-over attempt keeps its end until this one decides to POST (then it is extended,
          // conditional on the claim): waiting to reconcile must not push the settle time forward.
          const attemptUntil = takeover ? attemptUntilOf(record) : deps.attemptDeadline;
          const attemptSince = takeover ? Math.min(decision.reconcileSince!, now) : now;
          const latestOpposite = latestSubmissionAt(record, oppositeOf(unit.unit.requestType));
          try {
            const won = await deps.claims.acquire(
              unit.unit.key,
              unit.unit.slot,
              {
                operation: unit.unit.requestType,
                claimToken: newToken(),
                messageId: unit.owners[0]!,
                ...(unit.requestId ? { requestId: unit.requestId } : {}),
                now,
                leaseMs: settings.claimLeaseMs,
                attemptSince,
                attemptUntil,
                submissions: carriedSubmissions(record, now, decision.recordOpposite),
              },
              decision.expect,
            );
            if (!won) {
              lost.push(unit);
              return;
            }
            claimed.push({
              planned: unit,
              attemptSince,
              latestChange: latestChangeOf(record, unit.unit.requestType, oppositeStatus.get(unit)),
              ...(latestOpposite === undefined ? {} : { latestOpposite }),
              ...(takeover
                ? {
                    takeover: {
                      since: decision.reconcileSince!,
                      until: attemptUntil,
                      messageId: record.messageId,
                    },
                  }
                : {}),
            });
          } catch (error) {
            settle(unit, { outcome: transient(settings, `could not claim the unit: ${errorText(error)}`) });
          }
          return;
        }
        case 'in-flight':
          inFlight.push(unit);
          settle(unit, outcomeOfDecision(decision, settings));
          return;
        case 'already-submitted':
        case 'duplicate':
        case 'wait':
          settle(unit, outcomeOfDecision(decision, settings));
          return;
        case 'needs-opposite-status':
          settle(unit, {
            outcome: transient(settings, 'the status of the opposite request could not be decided'),
          });
          return;
      }
    });
    pending = lost;
  }
  for (const unit of pending) {
    settle(unit, {
      outcome: transient(settings, 'the unit was changed concurrently several times; retrying'),
    });
  }
  return { claimed, results, inFlight };
}

type Settled = Extract<SlotDecision, { kind: 'already-submitted' | 'duplicate' | 'in-flight' | 'wait' }>;

/** The result of a decision that settles the unit without a claim. */
function outcomeOfDecision(decision: Settled, settings: ProcessorSettings): UnitResult {
  switch (decision.kind) {
    case 'already-submitted':
      return {
        submitter: decision.messageId,
        outcome: {
          kind: 'submitted',
          detail: `submitted at ${iso(decision.submittedAt)} by an earlier receive of this message`,
          ...(decision.accessRequestIds ? { accessRequestIds: decision.accessRequestIds } : {}),
        },
      };
    case 'duplicate':
      return { outcome: { kind: 'duplicate', detail: `duplicate: ${decision.reason}` } };
    case 'in-flight':
      // Waiting on another message's attempt is not a failed attempt of this one: it comes back,
      // uncharged, to look again every IN_FLIGHT_RETRY_SECONDS (no SailPoint call: a slot read).
      return {
        outcome: {
          kind: 'retrying',
          detail: decision.reason,
          delaySeconds: Math.min(decision.delaySeconds, settings.inFlightRetrySeconds),
          uncharged: true,
        },
      };
    case 'wait':
      return { outcome: { kind: 'waiting', detail: decision.reason, delaySeconds: decision.delaySeconds } };
  }
}

/**
 * Units found in flight in another attempt are looked at once more before the batch is settled: the
 * other attempt has often finished meanwhile (then they are duplicates, or submitted by an earlier
 * receive), and the message need not come back. Anything else stays as it was. A slot read, no claim.
 */
export async function recheckInFlight(
  units: readonly PlannedUnit[],
  deps: Pick<StageDeps, 'store' | 'settings' | 'clock' | 'log'>,
): Promise<UnitResults> {
  const results: UnitResults = new Map();
  if (units.length === 0) return results;
  let records: Map<string, SlotRecord>;
  try {
    records = await deps.store.readSlots(units.map((u) => u.unit.slot));
  } catch (error) {
    deps.log?.warn('could not look at in-flight units again', { error: errorText(error) });
    return results;
  }
  const now = deps.clock();
  // The event wait only turns a status read into a wait; only duplicates and submissions count here.
  const policy = slotPolicyOf(deps.settings);
  for (const unit of units) {
    const decision = decideSlot(records.get(unit.unit.slot.key), unit.unit, {
      ownMessageIds: new Set(unit.owners),
      now,
      policy,
    });
    if (decision.kind === 'duplicate' || decision.kind === 'already-submitted') {
      results.set(unit.unit.key, outcomeOfDecision(decision, deps.settings));
    }
  }
  return results;
}

/** The slot policy of these settings (slot-policy.ts). */
function slotPolicyOf(
  settings: Pick<ProcessorSettings, 'statusSettleMs' | 'conflictRetrySeconds' | 'eventWaitMs'>,
): SlotPolicy {
  return {
    statusSettleMs: settings.statusSettleMs,
    conflictRetrySeconds: settings.conflictRetrySeconds,
    ...(settings.eventWaitMs ? { eventWaitMs: settings.eventWaitMs } : {}),
  };
}
