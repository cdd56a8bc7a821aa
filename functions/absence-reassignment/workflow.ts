/**
 * One HR absence event, end to end:
 *   1. read the absence's record; a known eventId is a duplicate, an event not newer than the last
 *      applied one (occurredAt to the nanosecond, then eventId) is ignored and recorded; one that
 *      claims to have happened further ahead than the tolerance is refused (it would freeze the absence);
 *   2. decide (decision.ts): the new window/status, and for a window to cover, the delegate;
 *   3. commit the decision (conditional on the record's version), then check it against what was
 *      committed meanwhile (decisions that depend on each other — two people naming each other —
 *      see each other: at least one of them does, and re-plans);
 *   4. reconcile SailPoint with every absence of that person (reconciliation.ts) and publish the
 *      notices decided with it (notices.ts);
 *   5. re-plan the absences that passed this person over, now that their absence changed.
 * Steps 1–3 make the event count exactly once; step 4 is idempotent and re-runs after a crash
 * (a duplicate delivery finds `reconciledVersion` behind `version`, or the person's reconciliation
 * unfinished, and finishes the job). Step 5 marks those absences due first, so the scheduled
 * re-check re-plans whatever this invocation does not get to.
 *
 * The scheduled re-check (recheckDeferred, per person) gives a deferred absence its slot once the
 * holder ended, and re-plans absences that are due (someone they passed over is back).
 */
import type { LogSink } from '../shared/observability';
import type { Notifier } from '../shared/notifier';
import { PermanentMessageError } from '../shared/queue/outcomes';
import { CONFIG_TYPES, type ConfigType } from '../shared/sailpoint';
import type { AbsenceStore, IgnoredEventRecord } from './absence-store';
import { decide, replan, sameCover, type DecisionContext, type EventSource } from './decision';
import type { DelegatePolicy } from './delegate-policy';
import { AbsenceDirectory } from './directory';
import { eventOrderKey, type AbsenceEvent } from './event';
import type { AbsenceRecord } from './model';
import { NOTICE_KINDS, withNotice } from './notices';
import { deferralDue, desiredConfigurations, windowEnded } from './policy';
import { Reconciler, noChanges, type ConfigurationChanges, type RemainingTime } from './reconciliation';
import type { ReassignmentGateway, ReassignmentLoopError } from './sailpoint-gateway';

export type { ConfigurationChanges, RemainingTime } from './reconciliation';

export interface AbsenceWorkflowOptions {
  /** Candidates examined when looking for a delegate (SailPoint itself follows chains to depth 5). */
  readonly maxDelegateHops: number;
  /** How long a reconciliation waits for another one of the same person before its message is retried (default 10 s). */
  readonly leaseWaitMs?: number;
  /** How far ahead of now an event's occurredAt may be (default 5 minutes): HR clocks drift, years do not. */
  readonly occurredAtToleranceMs?: number;
  /** People whose absences one event re-plans at once (step 5); the rest wait for the re-check (default 5). */
  readonly maxInlineReplans?: number;
  /** Who may cover (DELEGATE_POLICY). */
  readonly delegatePolicy: DelegatePolicy;
  /** Configurations end at most this many days after they take effect (MAX_ABSENCE_DAYS). */
  readonly maxAbsenceDays: number;
}

export interface AbsenceWorkflowDeps {
  readonly sailpoint: ReassignmentGateway;
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
  /** Deferred absences whose awaited slot had freed up, and absences due for a re-plan. */
  readonly due: string[];
  /** Work types each of them took at this run. */
  readonly slotsTaken: { absenceId: string; configTypes: ConfigType[] }[];
  /** Due absences still deferred afterwards (another absence of the person is ahead of them). */
  readonly stillWaiting: string[];
  /** Absences whose delegate was chosen again (someone they passed over is back, or changed). */
  readonly replanned: string[];
  /** People whose absences passed this one's over and are now due for a re-plan too. */
  readonly alsoDue: string[];
  readonly changes: ConfigurationChanges;
  /** The person's last reconciliation had not finished, and this run finished it. */
  readonly repaired?: boolean;
}

const MAX_COMMIT_ATTEMPTS = 4;
/** Checks of a committed decision against decisions committed meanwhile. */
const MAX_SETTLE_CHECKS = 3;
const KEPT_IGNORED_EVENTS = 20;
/** Events one absence takes (their ids are kept on its item: 500 × 200 characters at most, 100 KB). */
export const MAX_EVENTS_PER_ABSENCE = 500;
const DEFAULT_OCCURRED_AT_TOLERANCE_MS = 5 * 60_000;
const DEFAULT_MAX_INLINE_REPLANS = 5;

export class AbsenceWorkflow {
  private readonly reconciler: Reconciler;

  constructor(private readonly deps: AbsenceWorkflowDeps) {
    this.reconciler = new Reconciler({
      sailpoint: deps.sailpoint,
      store: deps.store,
      notifier: deps.notifier,
      now: deps.now,
      log: deps.log,
      leaseWaitMs: deps.options.leaseWaitMs,
      sleep: deps.sleep,
      onLoopRefused: (absence, refusal) => this.refused(absence, refusal),
    });
  }

  async handle(
    event: AbsenceEvent,
    remaining?: RemainingTime,
    source: EventSource = { producer: null },
  ): Promise<EventResult> {
    const { store } = this.deps;
    this.refuseFarFuture(event);
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const current = await store.get(event.identityId, event.absenceId);

      if (current?.processedEventIds.includes(event.eventId)) {
        if (
          current.reconciledVersion >= current.version &&
          !(await this.reconciler.unfinished(event.identityId))
        ) {
          return this.result('duplicate', `event ${event.eventId} was already processed`);
        }
        // An earlier delivery committed the decision but did not finish with SailPoint (or another
        // reconciliation of the person failed half-way, or its notices are still to publish).
        const changes = await this.reconciler.reconcile(event.identityId, remaining);
        return this.result(
          'duplicate',
          `event ${event.eventId} was already recorded; finished applying it`,
          changes,
        );
      }

      // Every event's id is kept with its absence (idempotency): bounded, so one absence's item stays
      // far below DynamoDB's 400 KB however many events a producer sends for it.
      // (A cancellation of an active absence still goes through: it is the way out.)
      const cancelsActive = event.type === 'ABSENCE_CANCELLED' && current?.status === 'ACTIVE';
      if (current && current.processedEventIds.length >= MAX_EVENTS_PER_ABSENCE && !cancelsActive) {
        throw new PermanentMessageError(
          `absence ${event.absenceId} of ${event.identityId} has had ${current.processedEventIds.length} events, ` +
            `the most one absence takes (${MAX_EVENTS_PER_ABSENCE}): cancel it and send changes under a new absenceId`,
        );
      }

      if (current && eventOrderKey(event) <= current.lastEventKey) {
        if (!(await store.recordIgnoredEvent(current, this.ignore(current, event, source)))) continue;
        const behind =
          current.reconciledVersion < current.version || (await this.reconciler.unfinished(event.identityId));
        const changes = behind ? await this.reconciler.reconcile(event.identityId, remaining) : noChanges();
        return this.result(
          'stale-ignored',
          `event ${event.eventId} (${event.type}, occurred ${event.occurredAt}) is older than the last applied ` +
            `${current.lastEventType} (occurred ${current.lastOccurredAt}): ignored`,
          changes,
        );
      }

      const ctx = this.context();
      const decided = await decide(current, event, ctx, source);
      if (!(await this.commit(decided.record, current))) continue;
      const next = decided.resolved ? await this.settle(decided.record, ctx) : decided.record;
      const changes = await this.reconciler.reconcile(event.identityId, remaining);
      if (!current || coverChanged(current, next)) {
        await this.replanDependents(event.identityId, event.absenceId, remaining);
      }
      const saved = await store.get(event.identityId, event.absenceId);
      return this.report(next, saved ?? next, changes);
    }
    throw new Error(
      `absence ${event.absenceId} of ${event.identityId} kept changing under concurrent deliveries; will retry`,
    );
  }

  /**
   * The scheduled re-check for one person: deferred absences whose awaited slot has freed up (its
   * holder ended) take it, and absences due for a re-plan get their delegate chosen again. Each
   * commits a decision first (a version bump, conditional like an event's), then the person is
   * reconciled as after an event. The commit precedes every SailPoint call, so a reconciliation
   * running at the same time (a queue event of the same person) sees a version change and runs
   * another round with a fresh clock: both end wanting the same. A crash after the commit leaves
   * `reconciledVersion` behind and the absence still in the index: the next run (or the person's next
   * event) finishes the reconciliation without committing again. A person listed for an unfinished
   * reconciliation (its holder failed) is reconciled once.
   */
  async recheckDeferred(identityId: string, remaining?: RemainingTime): Promise<RecheckResult> {
    const { store } = this.deps;
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const absences = await store.listForIdentity(identityId);
      const now = this.deps.now();
      const replanDue = absences.filter(
        (a) => a.replanAt !== null && Date.parse(a.replanAt) <= now.getTime(),
      );
      const slotDue = absences.filter((a) => deferralDue(a, now) && !replanDue.includes(a));
      const none = { identityId, due: [], slotsTaken: [], stillWaiting: [], replanned: [], alsoDue: [] };
      if (replanDue.length === 0 && slotDue.length === 0) {
        // The index lags, or an event got there first: nothing to write, nothing to ask SailPoint…
        if (!(await this.reconciler.unfinished(identityId))) return { ...none, changes: noChanges() };
        // …unless a reconciliation of this person failed half-way and nobody has finished it.
        return { ...none, changes: await this.reconciler.reconcile(identityId, remaining), repaired: true };
      }
      let lostRace = false;
      const replanned: AbsenceRecord[] = [];
      for (const absence of replanDue) {
        const next = await replan(absence, this.context(), 'someone it passed over is back or changed');
        if (!(await this.commit(next, absence))) {
          lostRace = true;
          break;
        }
        if (!sameCover(absence, next)) replanned.push(next);
      }
      if (lostRace) continue;
      const at = now.toISOString();
      const desired = desiredConfigurations(absences, now);
      for (const absence of slotDue) {
        if (absence.reconciledVersion < absence.version) continue; // decided already: only SailPoint is left
        const takes = absence.configTypes.filter(
          (type) => desired.get(type)?.absenceId === absence.absenceId && !absence.configurations[type],
        );
        // Still behind another absence: the reconciliation below moves its deferredUntil on.
        if (takes.length === 0) continue;
        const decision = `re-check ${at}: the slot it waited for is free; takes ${takes.join(', ')}`;
        const bumped = { ...absence, decision, version: absence.version + 1, updatedAt: at };
        const next = withNotice(
          bumped,
          NOTICE_KINDS.deferredApplied,
          `Absence ${absence.absenceId} of ${absence.identityId} now has its SailPoint configuration slot`,
          { configTypes: takes, deferred: absence.deferred },
          at,
        );
        if (!(await this.commit(next, absence))) {
          lostRace = true;
          break;
        }
      }
      if (lostRace) continue;

      const changes = await this.reconciler.reconcile(identityId, remaining);
      const after = new Map((await store.listForIdentity(identityId)).map((a) => [a.absenceId, a]));
      const slotsTaken: RecheckResult['slotsTaken'] = [];
      const stillWaiting: string[] = [];
      for (const before of slotDue) {
        const saved = after.get(before.absenceId);
        if (!saved) continue;
        const configTypes = CONFIG_TYPES.filter((t) => saved.configurations[t] && !before.configurations[t]);
        if (configTypes.length) slotsTaken.push({ absenceId: saved.absenceId, configTypes });
        if (saved.deferred !== null) stillWaiting.push(saved.absenceId);
      }
      const alsoDue = new Set<string>();
      for (const absence of replanned) {
        for (const person of await this.markDependentsDue(identityId, absence.absenceId)) alsoDue.add(person);
      }
      return {
        identityId,
        due: [...replanDue, ...slotDue].map((a) => a.absenceId),
        slotsTaken,
        stillWaiting,
        replanned: replanned.map((a) => a.absenceId),
        alsoDue: [...alsoDue],
        changes,
      };
    }
    throw new Error(`absences of ${identityId} kept changing during the re-check; the next run retries`);
  }

  private context(): DecisionContext {
    const { sailpoint, store, now, options } = this.deps;
    return {
      directory: new AbsenceDirectory(sailpoint, store, now),
      now: now(),
      maxHops: options.maxDelegateHops,
      policy: options.delegatePolicy,
      maxAbsenceDays: options.maxAbsenceDays,
    };
  }

  /** Records who the decision passed over (for their later changes), then saves it conditionally. */
  private async commit(next: AbsenceRecord, read: AbsenceRecord | undefined): Promise<boolean> {
    if (next.dependsOn.length) await this.deps.store.saveDependents(next);
    return this.deps.store.saveDecision(next, read);
  }

  /** An occurredAt years ahead would make every real event after it look older, and be ignored. */
  private refuseFarFuture(event: AbsenceEvent): void {
    const tolerance = this.deps.options.occurredAtToleranceMs ?? DEFAULT_OCCURRED_AT_TOLERANCE_MS;
    const now = this.deps.now();
    if (Date.parse(event.occurredAt) > now.getTime() + tolerance) {
      throw new PermanentMessageError(
        `event ${event.eventId}: occurredAt ${event.occurredAt} is more than ${Math.round(tolerance / 1000)} s ` +
          `ahead of now (${now.toISOString()}); a change cannot have happened in the future`,
      );
    }
  }

  /**
   * Decisions that depend on each other see each other: after committing, the delegate is chosen
   * again with every absence as now recorded. Of two decisions committed at the same moment (X names
   * Y while Y names X), each writes before it reads again, so at least one sees the other and
   * re-plans; both may, and both then pass the other over. Stops when the choice holds.
   */
  private async settle(committed: AbsenceRecord, ctx: DecisionContext): Promise<AbsenceRecord> {
    let record = committed;
    for (let check = 1; check <= MAX_SETTLE_CHECKS; check++) {
      // The same directory: SailPoint is not asked again, only our absences are read afresh.
      const next = await replan(record, ctx, 'a decision committed at the same moment');
      if (sameCover(record, next)) return record;
      if (!(await this.commit(next, record))) return record; // a newer decision took over; it settles itself
      record = next;
    }
    return record;
  }

  /** SailPoint refused `absence`'s delegate as a loop: re-plan without them (the reconciler's next round applies it). */
  private async refused(absence: AbsenceRecord, refusal: ReassignmentLoopError): Promise<void> {
    const next = await replan(
      absence,
      this.context(),
      `SailPoint refused ${refusal.reassignedToId}: a loop`,
      {
        refuse: {
          identityId: refusal.reassignedToId,
          absenceId: null,
          why: 'refused',
          until: null,
          detail: refusal.refusal.messages.join(' ') || refusal.message,
        },
      },
    );
    await this.commit(next, absence); // lost to another decision: the next round reads that one
  }

  /**
   * The absence `absenceId` of `identityId` changed: absences of others that passed this person over
   * because of it (or because SailPoint routed or refused work through them) are marked due for a
   * re-plan, then re-planned here, a few people at most; the scheduled re-check does the rest.
   */
  private async replanDependents(
    identityId: string,
    absenceId: string,
    remaining?: RemainingTime,
  ): Promise<void> {
    const queue = await this.markDependentsDue(identityId, absenceId);
    const seen = new Set(queue);
    const limit = this.deps.options.maxInlineReplans ?? DEFAULT_MAX_INLINE_REPLANS;
    for (let done = 0; queue.length && done < limit; done++) {
      const person = queue.shift()!;
      try {
        const result = await this.recheckDeferred(person, remaining);
        for (const next of result.alsoDue.filter((p) => !seen.has(p))) {
          seen.add(next);
          queue.push(next);
        }
      } catch (error) {
        this.deps.log.warn(
          're-planning an absence that depends on this one failed; the re-check retries it',
          {
            identityId: person,
            after: `${identityId}/${absenceId}`,
            error: error instanceof Error ? error.message : String(error),
          },
        );
      }
    }
  }

  /** Marks due the active absences that passed over `identityId` for this absence (or for SailPoint's routing); returns their people. */
  private async markDependentsDue(identityId: string, absenceId: string): Promise<string[]> {
    const { store } = this.deps;
    const at = this.deps.now().toISOString();
    const people = new Set<string>();
    for (const ref of await store.listDependents(identityId)) {
      if (ref.identityId === identityId) continue;
      const dependent = await store.get(ref.identityId, ref.absenceId);
      const depends = dependent?.dependsOn.some(
        (d) => d.identityId === identityId && (d.absenceId === absenceId || d.absenceId === null),
      );
      if (depends && (await store.markReplanDue(ref.identityId, ref.absenceId, at)))
        people.add(ref.identityId);
    }
    return [...people];
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
  private ignore(current: AbsenceRecord, event: AbsenceEvent, source: EventSource): IgnoredEventRecord {
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
          producer: source.producer,
        },
      ].slice(-KEPT_IGNORED_EVENTS),
      updatedAt: at,
    };
  }

  private report(decided: AbsenceRecord, saved: AbsenceRecord, changes: ConfigurationChanges): EventResult {
    const substituted = decided.delegateTrail.some((step) => step.skipped !== undefined);
    const counts = `${changes.created} created, ${changes.updated} replaced, ${changes.deleted} deleted`;
    if (decided.status === 'CANCELLED')
      return this.result('cancelled', `${decided.decision} (${counts})`, changes);
    if (windowEnded(decided, this.deps.now()))
      return this.result('window-over', `${decided.decision} (${counts})`, changes);
    if (saved.deferred) {
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

/** What another absence's decision could depend on changed: status, window or delegate. */
function coverChanged(before: AbsenceRecord, after: AbsenceRecord): boolean {
  return (
    before.status !== after.status ||
    before.startDate !== after.startDate ||
    before.endDate !== after.endDate ||
    !sameCover(before, after)
  );
}
