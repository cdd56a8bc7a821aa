/**
 * The scheduled re-check of deferred absences: the absence function's second entry point, invoked by
 * EventBridge Scheduler (daily by default) with `{"task": "recheck-deferred", "trigger": "schedule"}`,
 * or on demand with `{"task": "recheck-deferred"}`.
 *
 * SailPoint keeps one configuration per person and work type, so a later absence waits ("deferred")
 * while an earlier one holds the slot. When the earlier one simply ends, no HR event follows: this run
 * finds the deferred absences whose awaited slot has freed up (one Query on the sparse index
 * `byDeferredUntil`, never a scan) and lets each of their people take it (AbsenceWorkflow.recheckDeferred:
 * a conditional decision, then the same reconciliation an event ends with).
 *
 * Idempotent: an absence that took its slot leaves the index, so a retried or overlapping run finds
 * nothing more to do; a person whose re-check failed stays due and is retried by the next run. The
 * index also lists people whose last reconciliation (an event's or a run's) failed half-way: the
 * run reconciles them once (`repaired`). The
 * invocation fails (Lambda's Errors metric and alarm see it) when any person failed, after every other
 * person was handled. People not started before the time reserve are left for the next run.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { decideFailure } from '../shared/failure-policy';
import { parseInvocation } from '../shared/invocation';
import { addCountMetrics, type LogSink } from '../shared/observability';
import type { ConfigType } from '../shared/sailpoint';
import type { AbsenceStore } from './absence-store';
import type { ConfigurationChanges } from './reconciliation';
import type { AbsenceWorkflow } from './workflow';

export const RECHECK_TASK = 'recheck-deferred';

/** What the schedule sends (and what an operator sends for a run on demand). */
export const DeferredRecheckEventSchema = z.strictObject({
  task: z.literal(RECHECK_TASK),
  trigger: z.enum(['schedule', 'manual']).optional(),
});
export type DeferredRecheckEvent = z.input<typeof DeferredRecheckEventSchema>;

export interface DeferredRecheckSummary {
  readonly runAt: string;
  /** Deferred absences the index listed as due. */
  readonly due: number;
  /** People they belong to, people with an unfinished reconciliation, and people made due by a re-plan (each re-checked once). */
  readonly people: number;
  /** People whose unfinished reconciliation this run finished. */
  readonly repaired: string[];
  readonly slotsTaken: { identityId: string; absenceId: string; configTypes: ConfigType[] }[];
  /** Due absences still deferred afterwards: another absence of the person is ahead of them. */
  readonly stillWaiting: { identityId: string; absenceId: string }[];
  /** Absences whose delegate was chosen again: someone they passed over is back, or changed their absence. */
  readonly replanned: { identityId: string; absenceId: string }[];
  /** People whose re-check failed; they stay due for the next run. */
  readonly failed: { identityId: string; reason: string }[];
  /** People not started because the invocation was close to its timeout; the next run takes them. */
  readonly leftForNextRun: number;
  readonly changes: ConfigurationChanges;
}

export class DeferredRecheckFailedError extends Error {
  override readonly name = 'DeferredRecheckFailedError';
  constructor(readonly summary: DeferredRecheckSummary) {
    super(
      `deferred-absence re-check at ${summary.runAt}: ${summary.failed.length} of ${summary.people} people failed ` +
        `(the others are done; the failed stay due and rerunning is safe): ` +
        summary.failed
          .slice(0, 3)
          .map((f) => `${f.identityId}: ${f.reason}`)
          .join('; '),
    );
  }
}

export interface DeferredRecheckDeps {
  readonly workflow: Pick<AbsenceWorkflow, 'recheckDeferred'>;
  readonly store: Pick<AbsenceStore, 'listDeferredDue'>;
  readonly now: () => Date;
  readonly log: LogSink;
  readonly metrics?: Metrics;
  /** No new person is started with less than this left of the invocation (default 30 s). */
  readonly timeReserveMs?: number;
}

/** Counts of one run and their metric names. */
const METRIC_NAMES = {
  due: 'RecheckDue',
  slotsTaken: 'DeferredApplied',
  stillWaiting: 'StillDeferred',
  replanned: 'Replanned',
  failed: 'RecheckFailed',
  created: 'ConfigurationsCreated',
  updated: 'ConfigurationsReplaced',
  deleted: 'ConfigurationsDeleted',
} as const;

const DEFAULT_TIME_RESERVE_MS = 30_000;

/** Parses the invocation payload (bounded, strict); anything else is refused with the reason (never silently ignored). */
export function parseDeferredRecheckEvent(event: unknown): DeferredRecheckEvent {
  return parseInvocation(
    DeferredRecheckEventSchema,
    event,
    `absence-reassignment: expected an SQS batch (Records) or {"task": "${RECHECK_TASK}"}`,
  );
}

export function createDeferredRecheck(deps: DeferredRecheckDeps) {
  const reserveMs = deps.timeReserveMs ?? DEFAULT_TIME_RESERVE_MS;

  return async (
    event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<DeferredRecheckSummary> => {
    const { trigger } = parseDeferredRecheckEvent(event);
    const runAt = deps.now();
    const due = await deps.store.listDeferredDue(runAt);
    const people = [...new Set(due.map((d) => d.identityId))];

    const slotsTaken: DeferredRecheckSummary['slotsTaken'] = [];
    const repaired: string[] = [];
    const stillWaiting: DeferredRecheckSummary['stillWaiting'] = [];
    const replanned: DeferredRecheckSummary['replanned'] = [];
    const failed: DeferredRecheckSummary['failed'] = [];
    const changes: ConfigurationChanges = { created: 0, updated: 0, deleted: 0 };
    let leftForNextRun = 0;

    // One person at a time: a handful are due on a typical day, and this keeps the run within the
    // function's share of the SailPoint request budget. Re-plans can make more people due (absences
    // that passed a re-planned one over): they are taken in the same run.
    const queue = [...people];
    const seen = new Set(people);
    for (let index = 0; index < queue.length; index++) {
      const identityId = queue[index]!;
      if (context.getRemainingTimeInMillis() < reserveMs) {
        leftForNextRun = queue.length - index;
        break;
      }
      try {
        const result = await deps.workflow.recheckDeferred(identityId, () =>
          context.getRemainingTimeInMillis(),
        );
        if (result.repaired) repaired.push(identityId);
        slotsTaken.push(...result.slotsTaken.map((taken) => ({ identityId, ...taken })));
        stillWaiting.push(...result.stillWaiting.map((absenceId) => ({ identityId, absenceId })));
        replanned.push(...result.replanned.map((absenceId) => ({ identityId, absenceId })));
        for (const person of result.alsoDue.filter((p) => !seen.has(p))) {
          seen.add(person);
          queue.push(person);
        }
        changes.created += result.changes.created;
        changes.updated += result.changes.updated;
        changes.deleted += result.changes.deleted;
        deps.log.info('deferred absences re-checked', { ...result });
      } catch (error) {
        const decision = decideFailure(error);
        failed.push({ identityId, reason: decision.reason });
        if (decision.action === 'fail-run') {
          // Credentials or settings: every other person would fail the same way.
          deps.log.error('re-check stopped: nothing else can succeed', {
            identityId,
            reason: decision.reason,
          });
          leftForNextRun = queue.length - index - 1;
          break;
        }
        deps.log.error('deferred re-check failed; the next run retries', {
          identityId,
          reason: decision.reason,
        });
      }
    }

    const summary: DeferredRecheckSummary = {
      runAt: runAt.toISOString(),
      due: due.filter((d) => d.absenceId !== null).length,
      people: queue.length,
      repaired,
      replanned,
      slotsTaken,
      stillWaiting,
      failed,
      leftForNextRun,
      changes,
    };
    deps.log.info('deferred re-check summary', { trigger: trigger ?? 'manual', ...summary });
    if (deps.metrics) {
      addCountMetrics(
        deps.metrics,
        {
          due: summary.due,
          slotsTaken: slotsTaken.length,
          stillWaiting: stillWaiting.length,
          replanned: replanned.length,
          failed: failed.length,
          ...changes,
        },
        METRIC_NAMES,
      );
    }
    if (failed.length) throw new DeferredRecheckFailedError(summary);
    return summary;
  };
}
