/**
 * The reconciliation of access events that never arrived: the event-triggers function's second entry
 * point, invoked by EventBridge Scheduler (hourly by default) with
 * `{"task": "reconcile-access-events", "trigger": "schedule"}`, or on demand without `trigger`.
 *
 * With the access triggers configured, the access function lists each outcome with submitted units in
 * the sparse index `byEventsAwaited` (state-store.ts). A run reads the entries older than the grace
 * period (one Query: nothing due, nothing else is read and SailPoint is not called), reads each
 * outcome with the events recorded under it, and for the submitted units still without SailPoint's
 * final word (provisioned, rejected, failed) reads /v3/access-request-status: in bulk by access
 * request id where the POST's answer named them (`accessRequestId in (…)`), else per identity since
 * the message was first seen; paged, one call at a time within the client's rate budget. What a
 * finished request says is recorded through the event handler's own path (AccessEvents.fromStatus):
 * the same facts on the slot and under the message, the same finding of a rejection or failed
 * provisioning, notified once — so a late real event, a second run or a retried one changes nothing.
 *
 * An outcome leaves the index when every submitted unit has its final word (or SailPoint ended the
 * request without one: cancelled, terminated; or does not list it at all — the status API leaves out
 * requests it ignored, e.g. a GRANT of access already held; or it waited MAX_AWAIT_DAYS); one still executing is
 * moved to the back (read again a grace period later). At most `maxMessages` outcomes per run, oldest
 * first: the rest stay due for the next run. A status read that fails fails the run before anything is
 * recorded (its retry, or the next run, does it all again).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { ITEM_MARKER_KEY } from '../access-provisioning/coalesce';
import type { RequestType } from '../access-provisioning/contract';
import { CLOCK_SKEW_MS, matchesUnit, type FinalState } from '../access-provisioning/reconcile';
import type { ProvisioningStore, UnitOutcomeRecord } from '../access-provisioning/state-store';
import { parseInvocation } from '../shared/invocation';
import { addCountMetrics, type LogSink } from '../shared/observability';
import type { SailPointTransport } from '../shared/sailpoint/client';
import {
  listAccessRequestStatus,
  type ListAccessRequestStatusQuery,
  type RequestedItemStatus,
} from '../shared/sailpoint/api/access-requests';
import type { AccessEvents, StatusWord } from './access-events';

export const RECONCILE_TASK = 'reconcile-access-events';

/** What the schedule sends (and what an operator sends for a run on demand). */
export const AccessReconciliationEventSchema = z.strictObject({
  task: z.literal(RECONCILE_TASK),
  trigger: z.enum(['schedule', 'manual']).optional(),
});
export type AccessReconciliationEvent = z.input<typeof AccessReconciliationEventSchema>;

/** After this long without SailPoint's final word a unit is no longer looked for (its event records are kept 30 days). */
export const MAX_AWAIT_DAYS = 30;
/** Access request ids per bulk status call (`accessRequestId in (…)`: the URL stays short). */
export const IDS_PER_STATUS_CALL = 50;
const PAGE_SIZE = 250;
/** Pages read per query at most (a safety bound: 5,000 entries for one identity since one message). */
const MAX_PAGES = 20;

/** SailPoint states that end a request (reconcile.ts's, no more, no fewer), and what the outcome shows for them. */
const FINAL_STATES: Readonly<Record<string, StatusWord['outcome'] | 'ended'>> = {
  REQUEST_COMPLETED: 'provisioned',
  REJECTED: 'rejected',
  PROVISIONING_FAILED: 'failed',
  NOT_ALL_ITEMS_PROVISIONED: 'failed',
  ERROR: 'failed',
  // Ended without a decision or provisioning: no event would come either; nothing to record.
  CANCELLED: 'ended',
  TERMINATED: 'ended',
} satisfies Record<FinalState, StatusWord['outcome'] | 'ended'>;

/** One entry of the index: an outcome whose submitted units await SailPoint's final word. */
export interface AwaitedOutcome {
  readonly messageId: string;
  /** ISO time it entered the index (or was last moved on): its place in the index. */
  readonly since: string;
}

/** The index of awaited outcomes (access-event-store.ts implements it over the access table). */
export interface AwaitedOutcomeStore {
  /** Entries with `since` at or before `before`, oldest first, at most `limit`; `more` when others are due. */
  due(before: string, limit: number): Promise<{ items: AwaitedOutcome[]; more: boolean }>;
  /** Takes the outcome out of the index (if its place is still `since`). */
  settle(entry: AwaitedOutcome): Promise<void>;
  /** Moves the outcome to `next` (if its place is still `since`): read again a grace period later. */
  defer(entry: AwaitedOutcome, next: string): Promise<void>;
}

/** Reads /access-request-status (the calls counted). */
export class AccessRequestStatusSource {
  calls = 0;
  constructor(private readonly client: SailPointTransport) {}

  /** The entries of these access requests (bulk, IDS_PER_STATUS_CALL per call). */
  async byAccessRequestIds(ids: readonly string[]): Promise<RequestedItemStatus[]> {
    const found: RequestedItemStatus[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_STATUS_CALL) {
      const chunk = ids.slice(i, i + IDS_PER_STATUS_CALL);
      found.push(
        ...(await this.allPages({
          filters: `accessRequestId in (${chunk.map((id) => JSON.stringify(id)).join(',')})`,
        })),
      );
    }
    return found;
  }

  /** The identity's entries created since `since` (epoch ms, less the clock skew), oldest first. */
  async forIdentity(identityId: string, since: number): Promise<RequestedItemStatus[]> {
    return this.allPages({
      requestedFor: identityId,
      filters: `created ge ${new Date(Math.max(0, since - CLOCK_SKEW_MS)).toISOString()}`,
      sorters: 'created',
    });
  }

  private async allPages(query: ListAccessRequestStatusQuery): Promise<RequestedItemStatus[]> {
    const found: RequestedItemStatus[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      this.calls++;
      const entries = await listAccessRequestStatus(this.client, {
        ...query,
        limit: PAGE_SIZE,
        offset: page * PAGE_SIZE,
      });
      found.push(...entries);
      if (entries.length < PAGE_SIZE) break;
    }
    return found;
  }
}

export interface AccessReconciliationSummary {
  readonly runAt: string;
  /** Outcomes the index listed as due (at most maxMessages). */
  readonly due: number;
  /** More were due than one run takes: the next run goes on. */
  readonly more: boolean;
  /** Submitted units without SailPoint's final word, looked up. */
  readonly unitsChecked: number;
  /** Final words recorded, by what they said. */
  readonly provisioned: number;
  readonly rejected: number;
  readonly failed: number;
  /** Requests SailPoint ended without a decision (cancelled, terminated). */
  readonly ended: number;
  /** Units whose request the status list does not show (ignored by SailPoint): nothing to record. */
  readonly notListed: number;
  /** Units still executing (or not listed yet): looked at again a grace period later. */
  readonly stillPending: number;
  /** Units given up after MAX_AWAIT_DAYS. */
  readonly gaveUp: number;
  /** Outcomes that left the index. */
  readonly settled: number;
  readonly findingsOpened: number;
  /** /access-request-status calls made. */
  readonly statusCalls: number;
}

export interface AccessReconciliationDeps {
  readonly awaited: AwaitedOutcomeStore;
  readonly outcomes: Pick<ProvisioningStore, 'outcomeOfMessage'>;
  /** Built on the first run that needs SailPoint (a run with nothing due makes no client). */
  readonly statuses: () => Promise<AccessRequestStatusSource>;
  readonly events: Pick<AccessEvents, 'fromStatus'>;
  /** How old an index entry must be before its units are looked up (the events' chance to come). */
  readonly graceMs: number;
  readonly maxMessages: number;
  readonly now: () => Date;
  readonly log: LogSink;
  readonly metrics?: Metrics;
}

const METRIC_NAMES = {
  due: 'ReconcileDue',
  unitsChecked: 'ReconcileUnitsChecked',
  provisioned: 'ReconciledProvisioned',
  rejected: 'ReconciledRejected',
  failed: 'ReconciledFailed',
  stillPending: 'ReconcileStillPending',
  notListed: 'ReconcileNotListed',
  findingsOpened: 'AccessFindingsOpened',
  statusCalls: 'StatusCalls',
} as const;

interface PendingUnit {
  readonly entry: AwaitedOutcome;
  readonly firstSeenAt: number;
  readonly unit: UnitOutcomeRecord;
}

export function parseAccessReconciliationEvent(event: unknown): AccessReconciliationEvent {
  return parseInvocation(
    AccessReconciliationEventSchema,
    event,
    `event-triggers: expected an SQS batch (Records) or {"task": "${RECONCILE_TASK}"}`,
  );
}

const isFinal = (unit: UnitOutcomeRecord) =>
  unit.sailpoint !== undefined && unit.sailpoint.state !== 'approved';

export function createAccessReconciliation(deps: AccessReconciliationDeps) {
  return async (
    event: unknown,
    context?: Pick<Context, 'awsRequestId'>,
  ): Promise<AccessReconciliationSummary> => {
    parseAccessReconciliationEvent(event);
    const runAt = deps.now();
    const counts = {
      due: 0,
      unitsChecked: 0,
      provisioned: 0,
      rejected: 0,
      failed: 0,
      ended: 0,
      notListed: 0,
      stillPending: 0,
      gaveUp: 0,
      settled: 0,
      findingsOpened: 0,
      statusCalls: 0,
    };
    const { items, more } = await deps.awaited.due(
      new Date(runAt.getTime() - deps.graceMs).toISOString(),
      deps.maxMessages,
    );
    counts.due = items.length;

    // The units still without a final word, per index entry.
    const pending: PendingUnit[] = [];
    const settle = async (entry: AwaitedOutcome) => {
      await deps.awaited.settle(entry);
      counts.settled++;
    };
    for (const entry of items) {
      const outcome = await deps.outcomes.outcomeOfMessage(entry.messageId);
      const units = (outcome?.units ?? []).filter((u) => u.outcome === 'submitted' && !isFinal(u));
      if (!outcome || units.length === 0) {
        await settle(entry);
        continue;
      }
      if (runAt.getTime() - outcome.firstSeenAt > MAX_AWAIT_DAYS * 86_400_000) {
        counts.gaveUp += units.length;
        deps.log.warn('gave up waiting for SailPoint to finish access requests', {
          messageId: entry.messageId,
          units: units.length,
        });
        await settle(entry);
        continue;
      }
      pending.push(...units.map((unit) => ({ entry, firstSeenAt: outcome.firstSeenAt, unit })));
    }
    counts.unitsChecked = pending.length;

    let statusCalls = 0;
    if (pending.length > 0) {
      const source = await deps.statuses();
      const before = source.calls;
      const entries = await readStatuses(source, pending);
      statusCalls = source.calls - before;

      const words: StatusWord[] = [];
      const open = new Map<string, { entry: AwaitedOutcome; left: number }>();
      for (const p of pending) {
        const found = matchEntry(entries, p);
        const word = found ? wordOf(found, p, runAt.getTime()) : undefined;
        const tally = open.get(p.entry.messageId) ?? { entry: p.entry, left: 0 };
        open.set(p.entry.messageId, tally);
        if (!found) {
          counts.notListed++;
          deps.log.warn('SailPoint does not list a submitted access request', {
            messageId: p.entry.messageId,
            unit: p.unit.unit,
          });
        } else if (word === undefined) {
          tally.left++;
          counts.stillPending++;
        } else if (word === 'ended') {
          counts.ended++;
        } else {
          counts[word.outcome]++;
          words.push(word);
        }
      }
      if (words.length > 0) {
        const runId = `access-reconciliation/${context?.awsRequestId ?? runAt.toISOString()}`;
        counts.findingsOpened = (await deps.events.fromStatus(words, runId)).findingsOpened;
      }
      for (const { entry, left } of open.values()) {
        if (left === 0) await settle(entry);
        else await deps.awaited.defer(entry, runAt.toISOString());
      }
    }
    counts.statusCalls = statusCalls;

    const summary: AccessReconciliationSummary = { runAt: runAt.toISOString(), more, ...counts };
    deps.log.info('access events reconciled', { ...summary });
    if (deps.metrics) addCountMetrics(deps.metrics, counts, METRIC_NAMES);
    return summary;
  };
}

/** Bulk by access request id where known; per identity (since the message was first seen) otherwise. */
async function readStatuses(
  source: AccessRequestStatusSource,
  pending: readonly PendingUnit[],
): Promise<RequestedItemStatus[]> {
  const ids = new Set<string>();
  const identities = new Map<string, number>();
  for (const { unit, firstSeenAt } of pending) {
    if (unit.accessRequestIds?.length) for (const id of unit.accessRequestIds) ids.add(id);
    else identities.set(unit.identityId, Math.min(identities.get(unit.identityId) ?? Infinity, firstSeenAt));
  }
  const entries = await source.byAccessRequestIds([...ids]);
  for (const [identityId, since] of identities)
    entries.push(...(await source.forIdentity(identityId, since)));
  return entries;
}

const requestIdOf = (e: RequestedItemStatus) => e.accessRequestId ?? e.id ?? undefined;

/**
 * The entry of the unit's request: the access request id the POST answered with, else the first
 * entry for the same identity, item (the product's item marker) and request type created since the
 * message was first seen.
 */
function matchEntry(
  entries: readonly RequestedItemStatus[],
  p: PendingUnit,
): RequestedItemStatus | undefined {
  const { unit } = p;
  const candidates = entries.filter(
    (e) =>
      // null fields as absent ones (`?? undefined`); the marker as it is (a null one is not an absent one).
      matchesUnit(
        {
          requestedForId: e.requestedFor?.id ?? undefined,
          itemType: e.type ?? undefined,
          id: e.id ?? undefined,
          marker: e.clientMetadata?.[ITEM_MARKER_KEY],
        },
        unit,
      ) && (e.requestType ?? 'GRANT_ACCESS') === unit.requestType,
  );
  if (unit.accessRequestIds?.length) {
    return candidates.find((e) => unit.accessRequestIds!.includes(requestIdOf(e) ?? ''));
  }
  return candidates
    .filter((e) => e.created && Date.parse(e.created) >= p.firstSeenAt - CLOCK_SKEW_MS)
    .sort((a, b) => Date.parse(a.created!) - Date.parse(b.created!))[0];
}

/** What a finished entry says of the unit; 'ended' without a word; undefined while SailPoint works on it. */
function wordOf(e: RequestedItemStatus, p: PendingUnit, runAt: number): StatusWord | 'ended' | undefined {
  const outcome = e.state ? FINAL_STATES[e.state] : undefined;
  const accessRequestId = requestIdOf(e);
  if (outcome === undefined || accessRequestId === undefined) return undefined;
  if (outcome === 'ended') return 'ended';
  const modified = e.modified ? Date.parse(e.modified) : NaN;
  const approvals = e.approvalDetails ?? [];
  const said = approvals.find((a) => a.status === 'REJECTED') ?? approvals.at(-1);
  const approver = said?.currentOwner?.name ?? said?.originalOwner?.name;
  const errors = errorTexts(e.errorMessages);
  return {
    unit: {
      identityId: p.unit.identityId,
      itemType: p.unit.itemType,
      itemId: p.unit.itemId,
      operation: p.unit.requestType as RequestType,
      messageId: p.entry.messageId,
    },
    accessRequestId,
    outcome,
    at: Number.isNaN(modified) ? runAt : modified,
    ...(outcome === 'rejected' && approver ? { approver } : {}),
    ...(outcome === 'rejected' && said?.comment ? { comment: said.comment } : {}),
    ...(outcome === 'failed' && errors.length > 0 ? { errors } : {}),
  };
}

/** The texts of `errorMessages` (a list of lists of {locale, text}), at most 10 of 500 characters. */
function errorTexts(messages: readonly unknown[] | null | undefined): string[] {
  const texts = (messages ?? [])
    .flatMap((m) => (Array.isArray(m) ? m : [m]))
    .map((m) => (m && typeof m === 'object' ? (m as { text?: unknown }).text : undefined))
    .filter((t): t is string => typeof t === 'string' && t.length > 0);
  return texts.slice(0, 10).map((t) => t.slice(0, 500));
}
