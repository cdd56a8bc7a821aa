/**
 * Reconciliation: bring SailPoint in line with every absence of one person, record what it holds,
 * and publish the person's pending notices.
 *
 * Reconciliations of one person never overlap: each holds the person's lease (absence-store.ts) from
 * before its GET until it has recorded what SailPoint holds and published the notices. SailPoint has
 * no conditional writes, so two reconciliations working from different reads could otherwise leave
 * whichever wrote last — and the one that recorded last would claim the person was in sync. A holder
 * that fails leaves the person "unfinished": its redelivery, the next reconciliation of the person,
 * or the scheduled re-check finishes it.
 *
 * In rounds: read the absences, one GET of the person's configurations, then per work type create,
 * replace or delete (reconcileType); re-read the absences, and run another round when a decision
 * landed meanwhile (decisions take no lease). When SailPoint refuses a configuration as a loop, the
 * absence that wanted it is re-planned without that delegate (`onLoopRefused`, a decision) and the
 * next round applies the new one.
 */
import { randomUUID } from 'node:crypto';
import type { Notifier } from '../shared/notifier';
import type { LogSink } from '../shared/observability';
import { RetryLaterError } from '../shared/queue/outcomes';
import {
  CONFIG_TYPES,
  SailPointValidationError,
  configDetailOf,
  type ConfigType,
  type ReassignmentConfiguration,
} from '../shared/sailpoint';
import type { AbsenceStore } from './absence-store';
import type { AbsenceRecord, ConfigurationsByType } from './model';
import { NOTICE_KINDS, deliverNotices, withNotice } from './notices';
import {
  actualConfiguration,
  configurationMatches,
  createdByUs,
  describeWindow,
  desiredConfigurations,
  requestStartDate,
  slotFreesAt,
  wantsConfigurations,
  type ActualConfiguration,
  type DesiredConfiguration,
} from './policy';
import { ReassignmentLoopError, UnknownIdentityError, type ReassignmentGateway } from './sailpoint-gateway';

/** Time left of the running Lambda invocation (context.getRemainingTimeInMillis). */
export type RemainingTime = () => number;

export interface ConfigurationChanges {
  created: number;
  updated: number;
  deleted: number;
}

export const noChanges = (): ConfigurationChanges => ({ created: 0, updated: 0, deleted: 0 });

export interface ReconcilerDeps {
  readonly sailpoint: ReassignmentGateway;
  readonly store: AbsenceStore;
  readonly notifier: Notifier;
  readonly now: () => Date;
  readonly log: LogSink;
  /** How long to wait for another reconciliation of the same person before giving up (default 10 s). */
  readonly leaseWaitMs?: number;
  /** Waits between looks at a held lease (default: setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * SailPoint refused `absence`'s configuration as a loop: re-plan it without that delegate and
   * commit the decision. The round that follows applies it.
   */
  readonly onLoopRefused: (absence: AbsenceRecord, refusal: ReassignmentLoopError) => Promise<void>;
}

/** Rounds before giving up (each re-plan after a loop refusal takes one). */
const MAX_RECONCILE_ROUNDS = 5;
/** Lease length without a Lambda context: Lambda's longest timeout. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the holder's remaining time: clocks of two Lambda hosts may differ by this much. */
const LEASE_CLOCK_MARGIN_MS = 10_000;
const LEASE_POLL_MS = 200;
const DEFAULT_LEASE_WAIT_MS = 10_000;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** A reconciliation of the person began and nobody finished it (its holder failed, or its lease ran out). */
  async unfinished(identityId: string): Promise<boolean> {
    return (await this.deps.store.reconcileState(identityId, this.deps.now().toISOString())).unfinished;
  }

  /**
   * Brings SailPoint in line with every absence of the person, records what it holds and publishes
   * their pending notices, holding the person's lease throughout.
   */
  async reconcile(identityId: string, remaining?: RemainingTime): Promise<ConfigurationChanges> {
    const { store, log } = this.deps;
    const holder = await this.claimLease(identityId, remaining);
    let changes: ConfigurationChanges;
    try {
      const after = await this.rounds(identityId, (changes = noChanges()));
      await deliverNotices(after, this.deps.notifier, store);
    } catch (error) {
      // Leaves the person unfinished (and due for the re-check): whoever comes next reconciles.
      await store
        .releaseReconciliation(identityId, holder, false, this.deps.now().toISOString())
        .catch((releaseError: unknown) =>
          log.warn('could not release the reconciliation lease; it ends on its own', {
            identityId,
            error: releaseError instanceof Error ? releaseError.message : String(releaseError),
          }),
        );
      throw error;
    }
    if (!(await store.releaseReconciliation(identityId, holder, true, this.deps.now().toISOString()))) {
      log.warn('the reconciliation lease ran out before the reconciliation finished', { identityId });
    }
    return changes;
  }

  /**
   * Takes the person's reconciliation lease, until the end of this invocation (plus a margin for
   * clocks): a holder cannot outlive it. Waits up to `leaseWaitMs` for another holder, then gives up
   * with a RetryLaterError (its message is retried when that lease ends).
   */
  private async claimLease(identityId: string, remaining?: RemainingTime): Promise<string> {
    const { store } = this.deps;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const holder = randomUUID();
    const looks = Math.max(1, Math.ceil((this.deps.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS) / LEASE_POLL_MS));
    for (let look = 1; ; look++) {
      const now = this.deps.now();
      const until = new Date(now.getTime() + (remaining?.() ?? MAX_INVOCATION_MS) + LEASE_CLOCK_MARGIN_MS);
      const claim = await store.claimReconciliation(
        identityId,
        holder,
        until.toISOString(),
        now.toISOString(),
      );
      if (claim.claimed) return holder;
      if (look >= looks) {
        const waitSeconds = Math.ceil((Date.parse(claim.heldUntil) - now.getTime()) / 1000);
        throw new RetryLaterError(
          `the absences of ${identityId} are being reconciled by another invocation (lease until ${claim.heldUntil}); will retry`,
          Math.min(900, Math.max(1, waitSeconds)),
        );
      }
      await sleep(LEASE_POLL_MS);
    }
  }

  /** Rounds until a round's records hold; returns the absences as recorded. */
  private async rounds(identityId: string, changes: ConfigurationChanges): Promise<AbsenceRecord[]> {
    const { store, log } = this.deps;
    for (let round = 1; round <= MAX_RECONCILE_ROUNDS; round++) {
      const absences = await store.listForIdentity(identityId);
      const now = this.deps.now();
      const desired = desiredConfigurations(absences, now);
      const held = new Map<ConfigType, ActualConfiguration>();
      // Nothing wanted and nothing we could have created: no need to ask SailPoint.
      const nothingToDo = desired.size === 0 && absences.every((a) => a.delegateHistory.length === 0);
      let actual: ReassignmentConfiguration | undefined;
      try {
        actual = nothingToDo ? undefined : await this.deps.sailpoint.configurations(identityId);
      } catch (error) {
        // A person SailPoint does not know holds nothing there; only wanting something is an error.
        if (!(error instanceof UnknownIdentityError) || desired.size > 0) throw error;
      }
      let replanned = false;
      for (const type of actual ? CONFIG_TYPES : []) {
        try {
          const holding = await this.reconcileType(
            identityId,
            type,
            desired.get(type),
            actual,
            absences,
            changes,
          );
          if (holding) held.set(type, holding);
        } catch (error) {
          if (!(error instanceof ReassignmentLoopError)) throw error;
          const owner = absences.find((a) => a.absenceId === desired.get(type)?.absenceId);
          if (!owner) throw error;
          log.info('SailPoint refused the delegate as a loop; re-planning the absence', {
            identityId,
            absenceId: owner.absenceId,
            configType: type,
            delegateId: error.reassignedToId,
          });
          await this.deps.onLoopRefused(owner, error);
          replanned = true;
          break;
        }
      }
      if (replanned) continue;
      const after = await store.listForIdentity(identityId);
      if (versions(after) !== versions(absences)) {
        log.info('absences changed while reconciling; reconciling again', { identityId, round });
        continue;
      }
      const recorded = await this.record(after, desired, held, now);
      if (!recorded) {
        // A decision landed after the re-read: what was recorded may be wrong for it.
        log.info('an absence changed while recording; reconciling again', { identityId, round });
        continue;
      }
      return recorded;
    }
    throw new Error(`absences of ${identityId} kept changing while reconciling; will retry`);
  }

  private async reconcileType(
    identityId: string,
    type: ConfigType,
    desired: DesiredConfiguration | undefined,
    actualConfig: ReassignmentConfiguration | undefined,
    absences: readonly AbsenceRecord[],
    changes: ConfigurationChanges,
  ): Promise<ActualConfiguration | undefined> {
    const { sailpoint, log } = this.deps;
    const now = this.deps.now();
    const detail = configDetailOf(actualConfig, type);
    const actual = detail ? actualConfiguration(detail) : undefined;

    if (!desired) {
      if (actual && createdByUs(actual, absences)) {
        const result = await sailpoint.remove(identityId, type);
        if (result === 'deleted') changes.deleted++;
        log.info('reassignment configuration deleted', { identityId, configType: type, result });
        return undefined;
      }
      return actual;
    }
    if (actual && configurationMatches(actual, desired, now)) return actual;

    const body = {
      reassignedFromId: identityId,
      reassignedToId: desired.reassignedToId,
      configType: type,
      startDate: requestStartDate(desired, now),
      endDate: desired.endDate,
    };
    const sent: ActualConfiguration = {
      reassignedToId: body.reassignedToId,
      startDate: body.startDate,
      endDate: body.endDate,
    };
    if (actual) {
      const updated = await sailpoint.replace(identityId, body);
      changes.updated++;
      log.info('reassignment configuration replaced', {
        identityId,
        configType: type,
        to: body.reassignedToId,
      });
      return heldAfter(updated, type, sent);
    }
    try {
      const created = await sailpoint.create(body);
      changes.created++;
      log.info('reassignment configuration created', {
        identityId,
        configType: type,
        to: body.reassignedToId,
      });
      return heldAfter(created, type, sent);
    } catch (error) {
      // A 400 here can mean a configuration appeared since we read (the person's own, or a holder
      // whose lease ran out): read again, and adopt or replace it; otherwise it is a real refusal.
      if (!(error instanceof SailPointValidationError) || error.status !== 400) throw error;
      const again = await sailpoint.configurations(identityId);
      const appeared = configDetailOf(again, type);
      if (!appeared) throw error;
      if (configurationMatches(actualConfiguration(appeared), desired, now))
        return actualConfiguration(appeared);
      const updated = await sailpoint.replace(identityId, body);
      changes.updated++;
      return heldAfter(updated, type, sent);
    }
  }

  /**
   * Stores, per absence, the configurations it holds in SailPoint and whether it waits for a slot;
   * an absence that starts waiting gets an `absence.deferred` notice in the same write. Returns the
   * absences as recorded, or undefined when one's version moved on since it was read.
   */
  private async record(
    absences: AbsenceRecord[],
    desired: Map<ConfigType, DesiredConfiguration>,
    held: Map<ConfigType, ActualConfiguration>,
    now: Date,
  ): Promise<AbsenceRecord[] | undefined> {
    const at = now.toISOString();
    const byId = new Map(absences.map((a) => [a.absenceId, a]));
    const recorded: AbsenceRecord[] = [];
    for (const absence of absences) {
      const configurations: ConfigurationsByType = {};
      const heldByOthers: string[] = [];
      const holders: DesiredConfiguration[] = [];
      for (const type of CONFIG_TYPES) {
        const slot = desired.get(type);
        const config = held.get(type);
        if (slot?.absenceId === absence.absenceId && config) {
          const landsOn = absence.landsOn?.[type];
          configurations[type] = {
            reassignedToId: config.reassignedToId ?? slot.reassignedToId,
            startDate: config.startDate ?? slot.startDate,
            endDate: config.endDate,
            ...(landsOn ? { landsOn } : {}),
          };
        } else if (slot && wantsConfigurations(absence, now) && absence.configTypes.includes(type)) {
          const owner = byId.get(slot.absenceId);
          heldByOthers.push(
            `${type} is held by absence ${slot.absenceId} (${describeWindow(owner ?? slot)})`,
          );
          holders.push(slot);
        }
      }
      const deferred = heldByOthers.length
        ? `SailPoint keeps one configuration per work type: ${heldByOthers.join('; ')}`
        : null;
      const deferredUntil = holders.length ? slotFreesAt(holders) : null;
      let next: AbsenceRecord = {
        ...absence,
        configurations,
        deferred,
        deferredUntil,
        reconciledVersion: absence.version,
      };
      const startsWaiting = deferred !== null && absence.deferred === null;
      if (startsWaiting) {
        next = withNotice(
          next,
          NOTICE_KINDS.deferred,
          `Absence ${absence.absenceId} of ${absence.identityId} waits for a SailPoint configuration slot`,
          { deferred },
          at,
        );
      }
      const unchanged =
        JSON.stringify(configurations) === JSON.stringify(absence.configurations) &&
        deferred === absence.deferred &&
        deferredUntil === absence.deferredUntil &&
        absence.reconciledVersion >= absence.version;
      if (!unchanged) {
        const ok = await this.deps.store.recordReconciliation(
          absence.identityId,
          absence.absenceId,
          absence.version,
          {
            configurations,
            deferred,
            deferredUntil,
            replanAt: absence.replanAt,
            reconciledVersion: absence.version,
            ...(startsWaiting ? { notices: next.notices } : {}),
          },
          at,
        );
        if (!ok) return undefined;
      }
      recorded.push(next);
    }
    return recorded;
  }
}

const versions = (records: readonly AbsenceRecord[]) =>
  records
    .map((r) => `${r.absenceId}@${r.version}`)
    .sort()
    .join();

/** What SailPoint holds for `type` after a create or replace: its answer, else what we sent. */
function heldAfter(
  response: ReassignmentConfiguration,
  type: ConfigType,
  sent: ActualConfiguration,
): ActualConfiguration {
  const detail = configDetailOf(response, type);
  return detail ? actualConfiguration(detail) : sent;
}
