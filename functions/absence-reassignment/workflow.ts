/**
 * One HR absence event, end to end:
 *   1. read the absence's record; a known eventId is a duplicate, an event not newer than the last
 *      applied one (occurredAt, then eventId) is ignored and recorded;
 *   2. decide: the new window/status, and for a window that is not over, the delegate;
 *   3. commit the decision (conditional on the record's version);
 *   4. reconcile SailPoint with every absence of that person: read their configurations once,
 *      then create, replace or delete per work type, and record what SailPoint holds.
 * Steps 1–3 make the event count exactly once; step 4 is idempotent and re-runs after a crash
 * (a duplicate delivery finds `reconciledVersion` behind `version`, or the person's reconciliation
 * unfinished, and finishes the job).
 *
 * Reconciliations of one person never overlap: each holds the person's lease (absence-store.ts) from
 * before its GET until it has recorded what SailPoint holds. SailPoint has no conditional writes, so
 * two reconciliations working from different reads could otherwise leave whichever wrote last — and
 * the one that recorded last would claim the person was in sync. A holder that fails leaves the
 * person "unfinished": its redelivery, the next reconciliation of the person, or the scheduled
 * re-check finishes it.
 */
import type { LogSink } from '../shared/observability';
import type { Notifier } from '../shared/notifier';
import { PermanentMessageError, RetryLaterError } from '../shared/queue/outcomes';
import {
  CONFIG_TYPES,
  SailPointNotFoundError,
  SailPointValidationError,
  configDetailOf,
  createReassignmentConfiguration,
  deleteReassignmentConfiguration,
  evaluateReassignmentConfiguration,
  getIdentityDocument,
  getReassignmentConfiguration,
  updateReassignmentConfiguration,
  type ConfigType,
  type ReassignmentConfiguration,
  type SailPointTransport,
} from '../shared/sailpoint';
import { randomUUID } from 'node:crypto';
import type { AbsenceStore, IgnoredEventRecord } from './absence-store';
import {
  describeTrail,
  resolveDelegate,
  type DelegateDirectory,
  type DirectoryIdentity,
  type Landing,
} from './delegate-chain';
import { eventOrderKey, type AbsenceEvent, type AbsenceWindowEvent } from './event';
import type { AbsenceRecord, AbsenceWindow, ConfigurationsByType } from './model';
import {
  actualConfiguration,
  configurationMatches,
  type ActualConfiguration,
  createdByUs,
  deferralDue,
  describeWindow,
  desiredConfigurations,
  requestStartDate,
  slotFreesAt,
  wantsConfigurations,
  windowEnded,
  windowsOverlap,
  type DesiredConfiguration,
} from './policy';

export interface AbsenceWorkflowOptions {
  /** Candidates examined when looking for a delegate (SailPoint itself follows chains to depth 5). */
  readonly maxDelegateHops: number;
  /** How long a reconciliation waits for another one of the same person before its message is retried (default 10 s). */
  readonly leaseWaitMs?: number;
}

/** Time left of the running Lambda invocation (context.getRemainingTimeInMillis). */
export type RemainingTime = () => number;

export interface AbsenceWorkflowDeps {
  readonly sailpoint: SailPointTransport;
  readonly store: AbsenceStore;
  readonly notifier: Notifier;
  readonly now: () => Date;
  readonly log: LogSink;
  readonly options: AbsenceWorkflowOptions;
  /** Waits between looks at a held lease (default: setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type EventOutcome =
  'configured' | 'deferred' | 'cancelled' | 'window-over' | 'duplicate' | 'stale-ignored';

export interface ConfigurationChanges {
  created: number;
  updated: number;
  deleted: number;
}

export interface EventResult {
  readonly outcome: EventOutcome;
  readonly detail: string;
  readonly changes: ConfigurationChanges;
  /** The delegate differs from the first candidate (explicit delegate or manager). */
  readonly delegateSubstituted: boolean;
}

/** What the scheduled re-check did for one person. */
export interface RecheckResult {
  readonly identityId: string;
  /** Deferred absences whose awaited slot had freed up. */
  readonly due: string[];
  /** Work types each of them took at this run. */
  readonly slotsTaken: { absenceId: string; configTypes: ConfigType[] }[];
  /** Due absences still deferred afterwards (another absence of the person is ahead of them). */
  readonly stillWaiting: string[];
  readonly changes: ConfigurationChanges;
  /** The person's last reconciliation had not finished, and this run finished it. */
  readonly repaired?: boolean;
}

const MAX_COMMIT_ATTEMPTS = 4;
const MAX_RECONCILE_ROUNDS = 3;
const KEPT_IGNORED_EVENTS = 20;
/** Lease length without a Lambda context: Lambda's longest timeout. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the holder's remaining time: clocks of two Lambda hosts may differ by this much. */
const LEASE_CLOCK_MARGIN_MS = 10_000;
const LEASE_POLL_MS = 200;
const DEFAULT_LEASE_WAIT_MS = 10_000;

const noChanges = (): ConfigurationChanges => ({ created: 0, updated: 0, deleted: 0 });

export class AbsenceWorkflow {
  constructor(private readonly deps: AbsenceWorkflowDeps) {}

  async handle(event: AbsenceEvent, remaining?: RemainingTime): Promise<EventResult> {
    const { store } = this.deps;
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const current = await store.get(event.identityId, event.absenceId);

      if (current?.processedEventIds.includes(event.eventId)) {
        if (current.reconciledVersion >= current.version && !(await this.unfinished(event.identityId))) {
          return this.result('duplicate', `event ${event.eventId} was already processed`);
        }
        // An earlier delivery committed the decision but did not finish with SailPoint (or another
        // reconciliation of the person failed half-way).
        const changes = await this.reconcile(event.identityId, remaining);
        return this.result(
          'duplicate',
          `event ${event.eventId} was already recorded; finished applying it`,
          changes,
        );
      }

      if (current && eventOrderKey(event) <= current.lastEventKey) {
        if (!(await store.recordIgnoredEvent(current, this.ignore(current, event)))) continue;
        const behind =
          current.reconciledVersion < current.version || (await this.unfinished(event.identityId));
        const changes = behind ? await this.reconcile(event.identityId, remaining) : noChanges();
        return this.result(
          'stale-ignored',
          `event ${event.eventId} (${event.type}, occurred ${event.occurredAt}) is older than the last applied ` +
            `${current.lastEventType} (occurred ${current.lastOccurredAt}): ignored`,
          changes,
        );
      }

      const next = await this.decide(current, event);
      if (!(await store.saveDecision(next, current))) continue;
      const changes = await this.reconcile(event.identityId, remaining, next);
      const saved = await store.get(event.identityId, event.absenceId);
      return this.report(next, saved ?? next, changes);
    }
    throw new Error(
      `absence ${event.absenceId} of ${event.identityId} kept changing under concurrent deliveries; will retry`,
    );
  }

  /**
   * The scheduled re-check for one person: deferred absences whose awaited slot has freed up (its
   * holder ended) take it. Each commits a decision first (a version bump, conditional like an
   * event's), then the person is reconciled as after an event. The commit precedes every SailPoint
   * call, so a reconciliation running at the same time (a queue event of the same person) sees a
   * version change and runs another round with a fresh clock: both end wanting the same. A crash
   * after the commit leaves `reconciledVersion` behind and the absence still in the index: the next
   * run (or the person's next event) finishes the reconciliation without committing again.
   * A person listed for an unfinished reconciliation (its holder failed) is reconciled once.
   */
  async recheckDeferred(identityId: string, remaining?: RemainingTime): Promise<RecheckResult> {
    const { store } = this.deps;
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const absences = await store.listForIdentity(identityId);
      const now = this.deps.now();
      const due = absences.filter((a) => deferralDue(a, now));
      if (due.length === 0) {
        const none = { identityId, due: [], slotsTaken: [], stillWaiting: [] };
        // The index lags, or an event got there first: nothing to write, nothing to ask SailPoint…
        if (!(await this.unfinished(identityId))) return { ...none, changes: noChanges() };
        // …unless a reconciliation of this person failed half-way and nobody has finished it.
        return { ...none, changes: await this.reconcile(identityId, remaining), repaired: true };
      }
      const desired = desiredConfigurations(absences, now);
      const at = now.toISOString();
      let lostRace = false;
      for (const absence of due) {
        if (absence.reconciledVersion < absence.version) continue; // decided already: only SailPoint is left
        const takes = absence.configTypes.filter(
          (type) => desired.get(type)?.absenceId === absence.absenceId && !absence.configurations[type],
        );
        // Still behind another absence: the reconciliation below moves its deferredUntil on.
        if (takes.length === 0) continue;
        const decision = `re-check ${at}: the slot it waited for is free; takes ${takes.join(', ')}`;
        const next = { ...absence, decision, version: absence.version + 1, updatedAt: at };
        if (!(await store.saveDecision(next, absence))) {
          lostRace = true;
          break;
        }
      }
      if (lostRace) continue;

      const changes = await this.reconcile(identityId, remaining);
      const after = new Map((await store.listForIdentity(identityId)).map((a) => [a.absenceId, a]));
      const slotsTaken: RecheckResult['slotsTaken'] = [];
      const stillWaiting: string[] = [];
      for (const before of due) {
        const saved = after.get(before.absenceId);
        if (!saved) continue;
        const configTypes = CONFIG_TYPES.filter((t) => saved.configurations[t] && !before.configurations[t]);
        if (configTypes.length) {
          slotsTaken.push({ absenceId: saved.absenceId, configTypes });
          await this.deps.notifier.publish({
            kind: 'absence.deferred-applied',
            key: `${saved.identityId}/${saved.absenceId}/v${saved.version}`,
            subject: `Absence ${saved.absenceId} of ${saved.identityId} now has its SailPoint configuration slot`,
            detail: { ...summary(saved), configTypes, deferred: saved.deferred },
          });
        }
        if (saved.deferred !== null) stillWaiting.push(saved.absenceId);
      }
      return { identityId, due: due.map((a) => a.absenceId), slotsTaken, stillWaiting, changes };
    }
    throw new Error(`absences of ${identityId} kept changing during the re-check; the next run retries`);
  }

  private result(
    outcome: EventOutcome,
    detail: string,
    changes: ConfigurationChanges = noChanges(),
    delegateSubstituted = false,
  ): EventResult {
    return { outcome, detail, changes, delegateSubstituted };
  }

  /**
   * Records an out-of-order event without applying it. No version bump: an ignored event is no
   * decision, and a bump would make a running reconciliation's record of this absence fail.
   */
  private ignore(current: AbsenceRecord, event: AbsenceEvent): IgnoredEventRecord {
    const at = this.deps.now().toISOString();
    return {
      processedEventIds: [...current.processedEventIds, event.eventId],
      ignoredEvents: [
        ...current.ignoredEvents,
        {
          eventId: event.eventId,
          type: event.type,
          occurredAt: event.occurredAt,
          reason: `older than the applied ${current.lastEventType} ${current.lastEventId} (occurred ${current.lastOccurredAt})`,
          at,
        },
      ].slice(-KEPT_IGNORED_EVENTS),
      updatedAt: at,
    };
  }

  /** A reconciliation of the person began and nobody finished it (its holder failed, or its lease ran out). */
  private async unfinished(identityId: string): Promise<boolean> {
    return (await this.deps.store.reconcileState(identityId, this.deps.now().toISOString())).unfinished;
  }

  /** The absence's next state. Throws PermanentMessageError when nobody can cover it. */
  private async decide(current: AbsenceRecord | undefined, event: AbsenceEvent): Promise<AbsenceRecord> {
    const now = this.deps.now();
    const at = now.toISOString();
    const base: AbsenceRecord = current ?? {
      identityId: event.identityId,
      absenceId: event.absenceId,
      status: 'ACTIVE',
      startDate: null,
      endDate: null,
      configTypes: [...CONFIG_TYPES],
      requestedDelegateId: null,
      delegateId: null,
      delegateTrail: [],
      landsOn: {},
      delegateHistory: [],
      lastEventKey: '',
      lastEventId: '',
      lastEventType: event.type,
      lastOccurredAt: '',
      processedEventIds: [],
      ignoredEvents: [],
      decision: '',
      configurations: {},
      deferred: null,
      deferredUntil: null,
      version: 0,
      reconciledVersion: 0,
      createdAt: at,
      updatedAt: at,
    };
    const applied = {
      ...base,
      lastEventKey: eventOrderKey(event),
      lastEventId: event.eventId,
      lastEventType: event.type,
      lastOccurredAt: event.occurredAt,
      processedEventIds: [...base.processedEventIds, event.eventId],
      version: base.version + 1,
      updatedAt: at,
    };

    if (event.type === 'ABSENCE_CANCELLED') {
      return {
        ...applied,
        status: 'CANCELLED',
        startDate: base.startDate ?? event.startDate ?? null,
        endDate: base.startDate !== null ? base.endDate : (event.endDate ?? null),
        decision: current
          ? 'cancelled'
          : 'cancelled before its start arrived (a later, older start will be ignored)',
      };
    }

    const window: AbsenceWindow = { startDate: event.startDate, endDate: event.endDate };
    const next: AbsenceRecord = {
      ...applied,
      status: 'ACTIVE',
      ...window,
      configTypes: event.configTypes,
      requestedDelegateId: event.delegateId,
    };
    if (windowEnded(window, now)) {
      return { ...next, decision: `window already over (${describeWindow(window)}): nothing to configure` };
    }
    if (current && this.sameRequest(current, event)) {
      return { ...next, decision: `${event.type === 'ABSENCE_STARTED' ? 'started' : 'updated'}: unchanged` };
    }

    const resolution = await resolveDelegate(
      {
        absentId: event.identityId,
        absenceId: event.absenceId,
        requestedDelegateId: event.delegateId,
        window,
        configTypes: event.configTypes,
        maxHops: this.deps.options.maxDelegateHops,
      },
      new SailPointDirectory(this.deps.sailpoint, this.deps.store),
    );
    if (!resolution.ok) {
      throw new PermanentMessageError(
        `no delegate for absence ${event.absenceId} of ${event.identityId}: ${resolution.reason}`,
      );
    }
    return {
      ...next,
      delegateId: resolution.delegateId,
      delegateTrail: resolution.trail,
      landsOn: resolution.landsOn,
      delegateHistory: [...new Set([...base.delegateHistory, resolution.delegateId])],
      decision: `${event.type === 'ABSENCE_STARTED' ? 'started' : 'updated'}: delegate ${resolution.delegateId}`,
    };
  }

  /** Same window, work types and requested delegate as already applied: the resolved delegate stands. */
  private sameRequest(current: AbsenceRecord, event: AbsenceWindowEvent): boolean {
    return (
      current.status === 'ACTIVE' &&
      current.delegateId !== null &&
      current.startDate === event.startDate &&
      current.endDate === event.endDate &&
      current.requestedDelegateId === event.delegateId &&
      current.configTypes.join() === event.configTypes.join()
    );
  }

  /**
   * Brings SailPoint in line with every absence of the person, then records what it holds, holding
   * the person's lease throughout. Re-reads the absences afterwards: when a concurrent decision
   * landed meanwhile (decisions take no lease), another round runs.
   */
  private async reconcile(
    identityId: string,
    remaining?: RemainingTime,
    trigger?: AbsenceRecord,
  ): Promise<ConfigurationChanges> {
    const { store, log } = this.deps;
    const holder = await this.claimLease(identityId, remaining);
    let changes: ConfigurationChanges;
    try {
      changes = await this.reconcileRounds(identityId, trigger);
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
    const { store, options } = this.deps;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const holder = randomUUID();
    const looks = Math.max(1, Math.ceil((options.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS) / LEASE_POLL_MS));
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

  private async reconcileRounds(identityId: string, trigger?: AbsenceRecord): Promise<ConfigurationChanges> {
    const changes = noChanges();
    for (let round = 1; round <= MAX_RECONCILE_ROUNDS; round++) {
      const absences = await this.deps.store.listForIdentity(identityId);
      const now = this.deps.now();
      const desired = desiredConfigurations(absences, now);
      const held = new Map<ConfigType, ActualConfiguration>();
      // Nothing wanted and nothing we could have created: no need to ask SailPoint.
      const nothingToDo = desired.size === 0 && absences.every((a) => a.delegateHistory.length === 0);
      const actual = nothingToDo
        ? undefined
        : await getReassignmentConfiguration(this.deps.sailpoint, identityId);
      for (const type of nothingToDo ? [] : CONFIG_TYPES) {
        const holding = await this.reconcileType(
          identityId,
          type,
          desired.get(type),
          actual,
          absences,
          changes,
        );
        if (holding) held.set(type, holding);
      }
      const after = await this.deps.store.listForIdentity(identityId);
      const versions = (records: AbsenceRecord[]) =>
        records
          .map((r) => `${r.absenceId}@${r.version}`)
          .sort()
          .join();
      if (versions(after) !== versions(absences)) {
        this.deps.log.info('absences changed while reconciling; reconciling again', { identityId, round });
        continue;
      }
      if (!(await this.record(after, desired, held, now))) {
        // A decision landed after the re-read: what was recorded may be wrong for it.
        this.deps.log.info('an absence changed while recording; reconciling again', { identityId, round });
        continue;
      }
      return changes;
    }
    throw new Error(
      `absences of ${identityId}${trigger ? ` (absence ${trigger.absenceId})` : ''} kept changing while reconciling; will retry`,
    );
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
        const result = await deleteReassignmentConfiguration(sailpoint, identityId, type);
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
      const updated = await updateReassignmentConfiguration(sailpoint, identityId, body);
      changes.updated++;
      log.info('reassignment configuration replaced', {
        identityId,
        configType: type,
        to: body.reassignedToId,
      });
      return heldAfter(updated, type, sent);
    }
    try {
      const created = await createReassignmentConfiguration(sailpoint, body);
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
      const again = await getReassignmentConfiguration(sailpoint, identityId);
      const appeared = configDetailOf(again, type);
      if (!appeared) throw error;
      if (configurationMatches(actualConfiguration(appeared), desired, now))
        return actualConfiguration(appeared);
      const updated = await updateReassignmentConfiguration(sailpoint, identityId, body);
      changes.updated++;
      return heldAfter(updated, type, sent);
    }
  }

  /**
   * Stores, per absence, the configurations it holds in SailPoint and whether it waits for a slot.
   * False when an absence's version moved on since it was read (nothing recorded for it).
   */
  private async record(
    absences: AbsenceRecord[],
    desired: Map<ConfigType, DesiredConfiguration>,
    held: Map<ConfigType, ActualConfiguration>,
    now: Date,
  ): Promise<boolean> {
    let allRecorded = true;
    const at = now.toISOString();
    const byId = new Map(absences.map((a) => [a.absenceId, a]));
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
      const unchanged =
        JSON.stringify(configurations) === JSON.stringify(absence.configurations) &&
        deferred === absence.deferred &&
        deferredUntil === absence.deferredUntil &&
        absence.reconciledVersion >= absence.version;
      if (unchanged) continue;
      const recorded = await this.deps.store.recordReconciliation(
        absence.identityId,
        absence.absenceId,
        absence.version,
        { configurations, deferred, deferredUntil, reconciledVersion: absence.version },
        at,
      );
      if (!recorded) allRecorded = false;
    }
    return allRecorded;
  }

  private async report(
    decided: AbsenceRecord,
    saved: AbsenceRecord,
    changes: ConfigurationChanges,
  ): Promise<EventResult> {
    const substituted = decided.delegateTrail.some((step) => step.skipped !== undefined);
    const key = `${decided.identityId}/${decided.absenceId}/v${decided.version}`;
    if (substituted && decided.delegateId) {
      await this.deps.notifier.publish({
        kind: 'absence.delegate-substituted',
        key,
        subject: `Absence ${decided.absenceId} of ${decided.identityId}: work goes to ${decided.delegateId}`,
        detail: { ...summary(decided), trail: describeTrail(decided.delegateTrail) },
      });
    }
    const counts = `${changes.created} created, ${changes.updated} replaced, ${changes.deleted} deleted`;
    if (decided.status === 'CANCELLED') {
      return this.result('cancelled', `${decided.decision} (${counts})`, changes);
    }
    if (windowEnded(decided, this.deps.now()))
      return this.result('window-over', `${decided.decision} (${counts})`, changes);
    if (saved.deferred) {
      await this.deps.notifier.publish({
        kind: 'absence.deferred',
        key,
        subject: `Absence ${decided.absenceId} of ${decided.identityId} waits for a SailPoint configuration slot`,
        detail: { ...summary(decided), deferred: saved.deferred },
      });
      return this.result(
        'deferred',
        `${decided.decision}; ${saved.deferred} (${counts})`,
        changes,
        substituted,
      );
    }
    return this.result('configured', `${decided.decision} (${counts})`, changes, substituted);
  }
}

/** What SailPoint holds for `type` after a create or replace: its answer, else what we sent. */
function heldAfter(
  response: ReassignmentConfiguration,
  type: ConfigType,
  sent: ActualConfiguration,
): ActualConfiguration {
  const detail = configDetailOf(response, type);
  return detail ? actualConfiguration(detail) : sent;
}

function summary(record: AbsenceRecord): Record<string, unknown> {
  return {
    identityId: record.identityId,
    absenceId: record.absenceId,
    window: describeWindow(record),
    requestedDelegateId: record.requestedDelegateId,
    delegateId: record.delegateId,
    configTypes: record.configTypes,
  };
}

/** Delegate lookups for one event: SailPoint for people and routing, our table for absences. */
class SailPointDirectory implements DelegateDirectory {
  private readonly identities = new Map<string, Promise<DirectoryIdentity>>();

  constructor(
    private readonly sailpoint: SailPointTransport,
    private readonly store: AbsenceStore,
  ) {}

  identity(identityId: string): Promise<DirectoryIdentity> {
    let found = this.identities.get(identityId);
    if (!found) {
      found = getIdentityDocument(this.sailpoint, identityId).then(
        (doc) => ({ exists: true, inactive: doc.inactive === true, managerId: doc.manager?.id ?? null }),
        (error: unknown) => {
          if (error instanceof SailPointNotFoundError)
            return { exists: false, inactive: false, managerId: null };
          this.identities.delete(identityId);
          throw error;
        },
      );
      this.identities.set(identityId, found);
    }
    return found;
  }

  async absenceOverlapping(identityId: string, window: AbsenceWindow, excludeAbsenceId: string) {
    const absences = await this.store.listForIdentity(identityId);
    const overlapping = absences.find(
      (a) =>
        a.absenceId !== excludeAbsenceId &&
        a.status === 'ACTIVE' &&
        a.startDate !== null &&
        windowsOverlap({ startDate: a.startDate, endDate: a.endDate }, window),
    );
    if (!overlapping) return undefined;
    return {
      absenceId: overlapping.absenceId,
      startDate: overlapping.startDate!,
      endDate: overlapping.endDate,
      delegateId: overlapping.delegateId ?? overlapping.requestedDelegateId,
    };
  }

  async landing(identityId: string, configType: ConfigType): Promise<Landing> {
    const evaluated = await evaluateReassignmentConfiguration(this.sailpoint, identityId, configType);
    return {
      reassignToId: evaluated.reassignToId,
      via: evaluated.lookupTrail.map((step) => step.reassignedToId),
    };
  }
}
