/**
 * The workflow: one SQS batch of access-request messages in, one outcome per message out.
 *
 *  1. parse and validate every message (contract.ts); invalid ones are dead-lettered with the reason;
 *  2. split into units; units of the same access slot in this batch are merged (the earliest message
 *     owns the unit, later identical ones are duplicates; the opposite request type waits);
 *  3. claim each unit's slot with a conditional write (slot-policy.ts decides from the state read:
 *     duplicate, in flight, waiting for the opposite request, or take over and reconcile);
 *  4. units taken over from an unfinished attempt are looked up in /access-request-status first;
 *  5. the current access of every identity is read from Search: unknown identity → invalid message,
 *     GRANT of access held / REVOKE of access not held → skipped;
 *  6. the rest is coalesced into API-legal requests (coalesce.ts) and POSTed;
 *  7. every message gets an outcome record and a queue outcome (outcomes.ts).
 * Duplicates cost no SailPoint call; nothing is POSTed twice for a unit within the dedup window.
 */
import { randomUUID } from 'node:crypto';
import type { LogSink } from '../shared/observability';
import type { MessageOutcome } from '../shared/queue/outcomes';
import {
  SailPointError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointValidationError,
} from '../shared/sailpoint/errors';
import { coalesce, type PlannedRequest } from './coalesce';
import { parseAccessRequestMessage, type AccessRequestMessage, type RequestType } from './contract';
import type { AccessRequestGateway, HeldAccess, RequesterContext, TrackedRequest } from './gateway';
import {
  verdictOf,
  type MessageStatus,
  type MessageVerdict,
  type UnitOutcome,
  type UnitOutcomeKind,
} from './outcomes';
import { CLOCK_SKEW_MS, findRequests, requestIdsOf, statusOf, type RequestStatusEntry } from './reconcile';
import {
  decideSlot,
  oppositeOf,
  type OppositeStatus,
  type SlotDecision,
  type SlotRecord,
} from './slot-policy';
import type { ProvisioningStore, UnitOutcomeRecord } from './state-store';
import { describeUnit, unitsOf, type SlotRef, type Unit } from './units';

export interface ProcessorSettings {
  /** Duplicates of a submitted unit are suppressed for this long. */
  readonly dedupWindowMs: number;
  /** How long a claim keeps other messages off a unit; must exceed the function timeout. */
  readonly claimLeaseMs: number;
  /** How long SailPoint may take to list an accepted request in /access-request-status. */
  readonly statusSettleMs: number;
  /** Retry delay while the opposite request type of the same access is pending. */
  readonly conflictRetrySeconds: number;
  /** Retry delay after a 5xx, timeout or other transient failure (0: visible again at once). */
  readonly transientRetrySeconds: number;
  /** Upper bound for a Retry-After honoured as the message's retry delay (SQS allows 12 h). */
  readonly maxRetryAfterSeconds: number;
  /** Recipients of a GRANT without entitlements (with entitlements the API allows 10). */
  readonly maxRecipients: number;
  readonly outcomeRetentionMs: number;
  /** The queue's maxReceiveCount: on the last receive a retry is recorded as failed. */
  readonly maxReceiveCount: number;
  /** Parallel SailPoint calls and DynamoDB writes within one batch. */
  readonly concurrency: number;
  /**
   * No SailPoint call is started when less than this is left of the invocation: the rest of the batch
   * is retried instead of being cut off by the function timeout (which would retry it all, later).
   */
  readonly timeReserveMs: number;
}

export interface BatchMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  /** Epoch ms the message was sent (SQS SentTimestamp): decides order within a batch. */
  readonly sentAt: number;
}

export interface BatchCounts {
  messages: number;
  units: number;
  submitted: number;
  duplicatesSuppressed: number;
  alreadyHeld: number;
  notHeld: number;
  invalidMessages: number;
  failedMessages: number;
  retriedMessages: number;
  waiting: number;
  reconciled: number;
  requestsPosted: number;
  statusLookups: number;
  identityLookups: number;
}

export interface BatchReport {
  readonly outcomes: Map<string, MessageOutcome>;
  readonly verdicts: Map<string, MessageVerdict & { requestId?: string; units: UnitOutcomeRecord[] }>;
  readonly counts: BatchCounts;
}

export interface ProcessorDeps {
  readonly store: ProvisioningStore;
  readonly gateway: AccessRequestGateway;
  readonly settings: ProcessorSettings;
  readonly clock?: () => number;
  readonly log?: LogSink;
  readonly newToken?: () => string;
}

/** The credential cannot submit access requests: fix the configuration, then the messages flow. */
export class NoUserContextError extends Error {
  override readonly name = 'NoUserContextError';
}

/** The credential's identity, or NoUserContextError when it is a pure API client. */
export async function requireUserContext(
  gateway: Pick<AccessRequestGateway, 'requester'>,
): Promise<RequesterContext & { identityId: string }> {
  const context = await gateway.requester();
  if (!context.identityId) {
    throw new NoUserContextError(
      `the SailPoint credential${context.clientId ? ` ${context.clientId}` : ''} has no user context: its token ` +
        'response carries no identity_id, so it is a pure API client, and SailPoint refuses access requests ' +
        'from API clients. Use the client id/secret of a personal access token (PAT) of an identity allowed ' +
        'to request access for others.',
    );
  }
  return { ...context, identityId: context.identityId };
}

interface MessageState {
  readonly message: BatchMessage;
  readonly order: number;
  parsed?: AccessRequestMessage;
  requestId?: string;
  invalid?: string;
  units: Unit[];
}

interface UnitTask {
  readonly unit: Unit;
  /** Messages of this batch asking for this unit, earliest first. */
  owners: string[];
  /** The first owner's caller requestId, kept on the slot for operators. */
  readonly requestId?: string;
  claimToken?: string;
  reconcileSince?: number;
  outcome?: UnitOutcome;
  /** The owner credited with the submission (others are reported as duplicates). */
  submitter?: string;
}

const MAX_CLAIM_ROUNDS = 4;

export class AccessProvisioner {
  private readonly store: ProvisioningStore;
  private readonly gateway: AccessRequestGateway;
  private readonly settings: ProcessorSettings;
  private readonly clock: () => number;
  private readonly log?: LogSink;
  private readonly newToken: () => string;
  private requesterContext?: RequesterContext & { identityId: string };

  constructor(deps: ProcessorDeps) {
    this.store = deps.store;
    this.gateway = deps.gateway;
    this.settings = deps.settings;
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log;
    this.newToken = deps.newToken ?? randomUUID;
  }

  /**
   * Checks once per instance that the credential has a user context (a PAT): SailPoint refuses
   * access requests from pure API clients. Throws NoUserContextError saying so.
   */
  async requester(): Promise<RequesterContext & { identityId: string }> {
    this.requesterContext ??= await requireUserContext(this.gateway);
    return this.requesterContext;
  }

  /** `remainingMs`: what is left of the Lambda invocation (context.getRemainingTimeInMillis()); none: unbounded. */
  async processBatch(
    messages: readonly BatchMessage[],
    options: { remainingMs?: number } = {},
  ): Promise<BatchReport> {
    const deadline = options.remainingMs === undefined ? undefined : this.clock() + options.remainingMs;
    const counts: BatchCounts = {
      messages: messages.length,
      units: 0,
      submitted: 0,
      duplicatesSuppressed: 0,
      alreadyHeld: 0,
      notHeld: 0,
      invalidMessages: 0,
      failedMessages: 0,
      retriedMessages: 0,
      waiting: 0,
      reconciled: 0,
      requestsPosted: 0,
      statusLookups: 0,
      identityLookups: 0,
    };
    let requesterId: string;
    try {
      requesterId = (await this.requester()).identityId;
    } catch (error) {
      // A configuration problem (no user context, rejected credentials, token endpoint down): every
      // message waits on the queue, and says why, until it is fixed or its receives run out.
      this.log?.error('cannot submit access requests with this SailPoint credential', {
        error: errorText(error),
      });
      const states = messages.map((message, order): MessageState => ({ message, order, units: [] }));
      const detail = errorText(error);
      return this.settle(states, [], counts, {
        kind: 'retrying',
        detail,
        delaySeconds: this.settings.transientRetrySeconds,
      });
    }
    const now = this.clock();
    const states = messages.map((message, order) => this.parse(message, order, now, requesterId));
    const byId = new Map(states.map((s) => [s.message.messageId, s]));
    const tasks = this.mergeUnits(states);
    counts.units = tasks.length;
    const batch = new BatchRun(this, counts, deadline);

    const active = tasks.filter((t) => !t.outcome);
    await batch.claim(active);
    await batch.reconcile(active.filter((t) => t.claimToken && t.reconcileSince !== undefined && !t.outcome));
    await batch.checkAccess(
      active.filter((t) => t.claimToken && !t.outcome),
      (identityId, reason) => {
        for (const state of states) {
          if (!state.invalid && state.parsed?.requestedFor.includes(identityId)) state.invalid = reason;
        }
      },
    );
    // Units whose every owner turned out invalid are given up; the others continue with valid owners.
    for (const task of active) {
      task.owners = task.owners.filter((id) => !byId.get(id)?.invalid);
      if (task.owners.length === 0 && task.claimToken && !task.outcome) {
        task.outcome = { kind: 'invalid', detail: 'every message asking for it is invalid' };
        await batch.release(task);
      }
    }
    await batch.submit(active.filter((t) => t.claimToken && !t.outcome));

    return this.settle(states, tasks, counts);
  }

  private parse(message: BatchMessage, order: number, now: number, requesterId: string): MessageState {
    const parsed = parseAccessRequestMessage(message.body, now);
    if (!parsed.ok) {
      return {
        message,
        order,
        invalid: parsed.reason,
        units: [],
        ...(parsed.requestId ? { requestId: parsed.requestId } : {}),
      };
    }
    const state: MessageState = {
      message,
      order,
      parsed: parsed.message,
      units: unitsOf(parsed.message),
      ...(parsed.message.requestId ? { requestId: parsed.message.requestId } : {}),
    };
    if (parsed.message.requestType === 'REVOKE_ACCESS' && parsed.message.requestedFor[0] === requesterId) {
      state.invalid =
        `invalid message: REVOKE_ACCESS for ${requesterId}, the identity behind the SailPoint credential: ` +
        'SailPoint does not support revoking your own access (a manager or ORG_ADMIN must request it)';
    }
    return state;
  }

  /** One task per unit of the batch; same-slot units of the opposite type wait behind the first. */
  private mergeUnits(states: readonly MessageState[]): UnitTask[] {
    const ordered = states
      .filter((s) => !s.invalid)
      .sort((a, b) => a.message.sentAt - b.message.sentAt || a.order - b.order);
    const bySlot = new Map<string, Map<RequestType, UnitTask>>();
    const tasks: UnitTask[] = [];
    for (const state of ordered) {
      for (const unit of state.units) {
        let perType = bySlot.get(unit.slot.key);
        if (!perType) bySlot.set(unit.slot.key, (perType = new Map()));
        let task = perType.get(unit.requestType);
        if (!task) {
          task = { unit, owners: [], ...(state.requestId ? { requestId: state.requestId } : {}) };
          const first = perType.values().next().value;
          if (first) {
            task.outcome = {
              kind: 'waiting',
              delaySeconds: this.settings.conflictRetrySeconds,
              detail:
                `waiting: the ${first.unit.requestType} of this access in message ${first.owners[0]} of the same batch ` +
                `goes first; the ${unit.requestType} goes once it has finished`,
            };
          }
          perType.set(unit.requestType, task);
          tasks.push(task);
        }
        task.owners.push(state.message.messageId);
      }
    }
    return tasks;
  }

  private async settle(
    states: readonly MessageState[],
    tasks: readonly UnitTask[],
    counts: BatchCounts,
    batchFailure?: UnitOutcome,
  ) {
    const taskByUnit = new Map(tasks.map((t) => [t.unit.key, t]));
    const outcomes = new Map<string, MessageOutcome>();
    const verdicts: BatchReport['verdicts'] = new Map();
    const at = this.clock();
    await mapLimit(states, this.settings.concurrency, async (state) => {
      const { messageId, receiveCount } = state.message;
      const units: UnitOutcomeRecord[] = [];
      let verdict: MessageVerdict;
      if (batchFailure) {
        verdict = verdictOf([batchFailure]);
      } else if (state.invalid) {
        verdict = {
          status: 'invalid',
          reason: state.invalid,
          queue: { status: 'dead-letter', reason: state.invalid },
        };
      } else {
        const unitOutcomes = state.units.map((unit) => {
          const task = taskByUnit.get(unit.key)!;
          const outcome = ownerView(task, messageId);
          units.push(unitRecord(unit, outcome));
          return outcome;
        });
        verdict = verdictOf(unitOutcomes);
      }
      if (verdict.queue.status === 'retry' && receiveCount >= this.settings.maxReceiveCount) {
        const reason = `gave up after ${receiveCount} attempts: ${verdict.queue.reason}`;
        verdict = { status: 'failed', reason, queue: { status: 'dead-letter', reason } };
      }
      try {
        await this.store.recordOutcome({
          messageId,
          ...(state.requestId ? { requestId: state.requestId } : {}),
          receiveCount,
          status: verdict.status,
          ...(verdict.reason ? { reason: verdict.reason } : {}),
          units,
          at,
          retentionMs: this.settings.outcomeRetentionMs,
        });
      } catch (error) {
        // The work is remembered in the slots; a redelivery reproduces the outcome and records it.
        const reason = `could not record the outcome (${errorText(error)}); retrying records it`;
        this.log?.error('outcome record failed', { messageId, error: errorText(error) });
        if (verdict.queue.status !== 'dead-letter' || receiveCount < this.settings.maxReceiveCount) {
          verdict = { status: 'retrying', reason, queue: { status: 'retry', reason } };
        }
      }
      outcomes.set(messageId, verdict.queue);
      verdicts.set(messageId, {
        ...verdict,
        ...(state.requestId ? { requestId: state.requestId } : {}),
        units,
      });
      countVerdict(counts, verdict.status);
    });
    for (const task of tasks) countUnit(counts, task.outcome?.kind, task.owners.length);
    return { outcomes, verdicts, counts };
  }

  /** @internal used by BatchRun */
  get internals() {
    return {
      store: this.store,
      gateway: this.gateway,
      settings: this.settings,
      clock: this.clock,
      log: this.log,
      newToken: this.newToken,
    };
  }
}

/** The steps of one batch, sharing its status cache and counters. */
class BatchRun {
  private readonly statusCache = new Map<string, { since: number; entries: readonly RequestStatusEntry[] }>();
  private readonly deps: AccessProvisioner['internals'];

  constructor(
    provisioner: AccessProvisioner,
    private readonly counts: BatchCounts,
    private readonly deadline: number | undefined,
  ) {
    this.deps = provisioner.internals;
  }

  /** True when no further SailPoint call should start in this invocation. */
  private outOfTime(): boolean {
    return this.deadline !== undefined && this.deps.clock() > this.deadline - this.settings.timeReserveMs;
  }

  private readonly outOfTimeOutcome = (): UnitOutcome =>
    this.transient('the invocation ran out of time before this unit was reached; retrying it', 0);

  private get settings() {
    return this.deps.settings;
  }

  /** Step 3: decide and claim, re-reading the slots whose conditional write lost a race. */
  async claim(tasks: readonly UnitTask[]): Promise<void> {
    let pending = [...tasks];
    for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length > 0; round++) {
      const now = this.deps.clock();
      let records: Map<string, SlotRecord>;
      try {
        records = await this.deps.store.readSlots(pending.map((t) => t.unit.slot));
      } catch (error) {
        for (const task of pending)
          task.outcome = this.transient(`could not read the state: ${errorText(error)}`);
        return;
      }
      const decisions = new Map<UnitTask, SlotDecision>();
      const needStatus: UnitTask[] = [];
      for (const task of pending) {
        const decision = decideSlot(records.get(task.unit.slot.key), task.unit, this.slotContext(task, now));
        if (decision.kind === 'needs-opposite-status') needStatus.push(task);
        else decisions.set(task, decision);
      }
      await this.fetchStatuses(
        needStatus.map((t) => ({
          identityId: t.unit.identityId,
          since: records.get(t.unit.slot.key)!.attemptSince,
        })),
      );
      for (const task of needStatus) {
        const record = records.get(task.unit.slot.key)!;
        const cached = this.statusCache.get(task.unit.identityId);
        if (!cached) {
          task.outcome = this.transient('could not read SailPoint access request status');
          continue;
        }
        const opposite: OppositeStatus = statusOf(
          cached.entries,
          { ...slotUnit(task.unit.slot), requestType: oppositeOf(task.unit.requestType) },
          record.attemptSince,
        );
        decisions.set(task, decideSlot(record, task.unit, this.slotContext(task, now), opposite));
      }

      const lost: UnitTask[] = [];
      await mapLimit([...decisions], this.settings.concurrency, async ([task, decision]) => {
        switch (decision.kind) {
          case 'claim': {
            const token = this.deps.newToken();
            const attemptSince =
              decision.reconcileSince !== undefined ? Math.min(decision.reconcileSince, now) : now;
            try {
              const won = await this.deps.store.claim(
                task.unit.slot,
                {
                  operation: task.unit.requestType,
                  claimToken: token,
                  messageId: task.owners[0]!,
                  ...(task.requestId ? { requestId: task.requestId } : {}),
                  now,
                  leaseMs: this.settings.claimLeaseMs,
                  attemptSince,
                },
                decision.expect,
              );
              if (won) {
                task.claimToken = token;
                if (decision.reconcileSince !== undefined) task.reconcileSince = decision.reconcileSince;
              } else {
                lost.push(task);
              }
            } catch (error) {
              task.outcome = this.transient(`could not claim the unit: ${errorText(error)}`);
            }
            return;
          }
          case 'already-submitted':
            task.submitter = decision.record.messageId;
            task.outcome = {
              kind: 'submitted',
              detail: `submitted at ${iso(decision.record.submittedAt ?? decision.record.claimedAt)} by an earlier receive of this message`,
              ...(decision.record.accessRequestIds
                ? { accessRequestIds: decision.record.accessRequestIds }
                : {}),
            };
            return;
          case 'duplicate':
            task.outcome = { kind: 'duplicate', detail: `duplicate: ${decision.reason}` };
            return;
          case 'wait':
            task.outcome = { kind: 'waiting', detail: decision.reason, delaySeconds: decision.delaySeconds };
            return;
          case 'needs-opposite-status':
            task.outcome = this.transient('the status of the opposite request could not be decided');
            return;
        }
      });
      pending = lost;
    }
    for (const task of pending) {
      task.outcome = this.transient('the unit was changed concurrently several times; retrying');
    }
  }

  /** Step 4: a unit taken over from an unfinished attempt — did that attempt reach SailPoint? */
  async reconcile(tasks: readonly UnitTask[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.fetchStatuses(tasks.map((t) => ({ identityId: t.unit.identityId, since: t.reconcileSince! })));
    const now = this.deps.clock();
    await mapLimit(tasks, this.settings.concurrency, async (task) => {
      const cached = this.statusCache.get(task.unit.identityId);
      if (!cached) {
        // Keep the claim: it is the record that an attempt may have been made.
        task.outcome = this.transient(
          'could not read SailPoint access request status to reconcile an earlier attempt',
        );
        return;
      }
      const found = findRequests(
        cached.entries,
        { ...slotUnit(task.unit.slot), requestType: task.unit.requestType },
        task.reconcileSince!,
      );
      if (found.length > 0) {
        this.counts.reconciled++;
        const accessRequestIds = requestIdsOf(found);
        await this.recordSubmitted(task, now, accessRequestIds, true);
        if (task.outcome?.kind === 'submitted') {
          task.outcome = {
            kind: 'submitted',
            detail:
              `submitted by an earlier attempt (found in SailPoint's access request status, created ` +
              `${iso(found[0]!.created)}); not submitted again`,
            ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
          };
        }
        return;
      }
      const settlesAt = task.reconcileSince! + this.settings.statusSettleMs;
      if (now < settlesAt) {
        task.outcome = {
          kind: 'retrying',
          delaySeconds: Math.max(1, Math.ceil((settlesAt - now) / 1000)),
          detail:
            `an earlier attempt (${iso(task.reconcileSince!)}) may have reached SailPoint and is not listed yet; ` +
            'retrying before submitting again',
        };
      }
    });
  }

  /** Step 5: unknown identities, GRANT of access held, REVOKE of access not held. */
  async checkAccess(
    tasks: readonly UnitTask[],
    invalidateIdentity: (identityId: string, reason: string) => void,
  ) {
    const identities = [...new Set(tasks.map((t) => t.unit.identityId))];
    const access = new Map<string, readonly HeldAccess[] | undefined | Error>();
    await mapLimit(identities, this.settings.concurrency, async (identityId) => {
      if (this.outOfTime()) {
        access.set(identityId, new OutOfTime());
        return;
      }
      this.counts.identityLookups++;
      try {
        access.set(identityId, await this.deps.gateway.identityAccess(identityId));
      } catch (error) {
        access.set(identityId, error instanceof Error ? error : new Error(String(error)));
      }
    });
    await mapLimit(tasks, this.settings.concurrency, async (task) => {
      const { identityId, item, requestType } = task.unit;
      const held = access.get(identityId);
      if (held instanceof OutOfTime) {
        task.outcome = this.outOfTimeOutcome();
      } else if (held instanceof Error) {
        // Even a 4xx here (e.g. 403: the credential may not read Search) is not the message's fault.
        const failure = this.failureOutcome(held, `reading identity ${identityId}`);
        task.outcome = failure.kind === 'failed' ? this.transient(failure.detail) : failure;
      } else if (held === undefined) {
        const reason = `invalid message: unknown identity ${identityId} (SailPoint Search has no such identity)`;
        invalidateIdentity(identityId, reason);
        task.outcome = { kind: 'invalid', detail: reason };
      } else {
        const holds = held.some((a) => a.id === item.id && a.type === item.type);
        if (requestType === 'GRANT_ACCESS' && holds) {
          task.outcome = {
            kind: 'already-held',
            detail: `skipped: identity ${identityId} already holds ${item.type} ${item.id}`,
          };
        } else if (requestType === 'REVOKE_ACCESS' && !holds) {
          task.outcome = {
            kind: 'not-held',
            detail: `skipped: identity ${identityId} does not hold ${item.type} ${item.id}`,
          };
        } else {
          return;
        }
      }
      await this.release(task);
    });
  }

  /** Step 6: coalesce and POST; on a 4xx for a request spanning several messages, isolate each. */
  async submit(tasks: readonly UnitTask[]): Promise<void> {
    if (tasks.length === 0) return;
    const byUnit = new Map(tasks.map((t) => [t.unit.key, t]));
    const planned = coalesce(
      tasks.map((t) => t.unit),
      { maxRecipients: this.settings.maxRecipients },
    );
    await mapLimit(planned, this.settings.concurrency, (request) => this.post(request, byUnit, true));
  }

  private async post(
    request: PlannedRequest,
    byUnit: Map<string, UnitTask>,
    mayIsolate: boolean,
  ): Promise<void> {
    const tasks = request.units.map((u) => byUnit.get(u.key)!);
    if (this.outOfTime()) {
      for (const task of tasks) task.outcome = this.outOfTimeOutcome();
      await mapLimit(tasks, this.settings.concurrency, (t) => this.release(t));
      return;
    }
    let tracked: readonly TrackedRequest[];
    try {
      this.counts.requestsPosted++;
      tracked = await this.deps.gateway.submit(request.body);
    } catch (error) {
      if (error instanceof SailPointResponseError && error.status !== undefined && error.status < 300) {
        tracked = []; // accepted (2xx), only the body was unexpected
      } else {
        const outcome = this.failureOutcome(error, 'submitting the access request');
        const owners = new Set(tasks.map((t) => t.owners[0]!));
        if (outcome.kind === 'failed' && mayIsolate && owners.size > 1) {
          // One message's unit may be what SailPoint refused: resubmit per message to find it.
          this.deps.log?.warn('access request refused; resubmitting per message', {
            messages: owners.size,
            error: errorText(error),
          });
          const split = [...owners].flatMap((owner) =>
            coalesce(
              tasks.filter((t) => t.owners[0] === owner).map((t) => t.unit),
              { maxRecipients: this.settings.maxRecipients },
            ),
          );
          await mapLimit(split, this.settings.concurrency, (r) => this.post(r, byUnit, false));
          return;
        }
        for (const task of tasks) task.outcome = outcome;
        // A 5xx, timeout or unknown failure may have created the request: keep the claims (they are the
        // attempt record) so the retry reconciles. A 429 or 4xx did not: give the units back.
        if (error instanceof SailPointError && !error.outcomeUnknown) {
          await mapLimit(tasks, this.settings.concurrency, (t) => this.release(t));
        }
        return;
      }
    }
    const submittedAt = this.deps.clock();
    await mapLimit(tasks, this.settings.concurrency, async (task) => {
      const ids = tracked
        .filter((t) => t.requestedFor === task.unit.identityId && t.itemId === task.unit.item.id)
        .flatMap((t) => t.accessRequestIds);
      await this.recordSubmitted(task, submittedAt, [...new Set(ids)], false);
    });
  }

  private async recordSubmitted(task: UnitTask, at: number, accessRequestIds: string[], reconciled: boolean) {
    try {
      const stillOurs = await this.deps.store.markSubmitted(task.unit.slot, task.claimToken!, {
        submittedAt: at,
        dedupUntil: at + this.settings.dedupWindowMs,
        ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
        reconciled,
        messageId: task.submitter ?? task.owners[0]!,
      });
      if (!stillOurs) {
        this.deps.log?.warn('claim was taken over before the submission was recorded', {
          unit: task.unit.key,
        });
      }
      task.outcome = {
        kind: 'submitted',
        detail: `submitted to SailPoint at ${iso(at)}`,
        ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
      };
    } catch (error) {
      // SailPoint has it, our record does not: the claim stays, and the retry reconciles instead of re-posting.
      task.outcome = this.transient(
        `submitted to SailPoint, but recording that failed (${errorText(error)}); the retry reconciles`,
      );
    }
  }

  async release(task: UnitTask): Promise<void> {
    if (!task.claimToken) return;
    try {
      await this.deps.store.release(task.unit.slot, task.claimToken);
    } catch (error) {
      // Harmless: the claim's lease runs out, and a taker reconciles before submitting.
      this.deps.log?.warn('could not release a claim', { unit: task.unit.key, error: errorText(error) });
    }
  }

  /** Fetches (and caches) each identity's status entries since the earliest time asked. */
  private async fetchStatuses(needs: readonly { identityId: string; since: number }[]): Promise<void> {
    const earliest = new Map<string, number>();
    for (const { identityId, since } of needs) {
      const cached = this.statusCache.get(identityId);
      if (cached && cached.since <= since) continue;
      earliest.set(identityId, Math.min(earliest.get(identityId) ?? Infinity, since));
    }
    await mapLimit([...earliest], this.settings.concurrency, async ([identityId, since]) => {
      this.counts.statusLookups++;
      try {
        const entries = await this.deps.gateway.requestStatuses(identityId, since - CLOCK_SKEW_MS);
        this.statusCache.set(identityId, { since, entries });
      } catch (error) {
        this.statusCache.delete(identityId);
        this.deps.log?.warn('could not read access request status', { identityId, error: errorText(error) });
      }
    });
  }

  private slotContext(task: UnitTask, now: number) {
    return {
      ownMessageIds: new Set(task.owners),
      now,
      policy: {
        statusSettleMs: this.settings.statusSettleMs,
        conflictRetrySeconds: this.settings.conflictRetrySeconds,
      },
    };
  }

  private transient(detail: string, delaySeconds = this.settings.transientRetrySeconds): UnitOutcome {
    return { kind: 'retrying', detail, delaySeconds };
  }

  /** How a SailPoint (or other) error settles the units it concerns. */
  failureOutcome(error: unknown, doing: string): UnitOutcome & { kind: 'failed' | 'retrying' } {
    if (error instanceof SailPointRateLimitError) {
      const delay = Math.min(this.settings.maxRetryAfterSeconds, Math.max(1, error.retryAfterSeconds || 1));
      return {
        kind: 'retrying',
        delaySeconds: delay,
        detail: `rate limited while ${doing}; retry after ${delay} s`,
      };
    }
    if (error instanceof SailPointError) {
      const permanent =
        (error instanceof SailPointValidationError && error.status === undefined) ||
        (error.status !== undefined &&
          error.status >= 400 &&
          error.status < 500 &&
          ![401, 408, 409, 429].includes(error.status));
      if (permanent) return { kind: 'failed', detail: `SailPoint refused it: ${error.message}` };
      return { kind: 'retrying', delaySeconds: this.settings.transientRetrySeconds, detail: error.message };
    }
    return {
      kind: 'retrying',
      delaySeconds: this.settings.transientRetrySeconds,
      detail: `${doing} failed: ${errorText(error)}`,
    };
  }
}

class OutOfTime extends Error {}

function ownerView(task: UnitTask, messageId: string): UnitOutcome {
  const outcome = task.outcome ?? { kind: 'retrying', detail: 'no outcome was decided for this unit' };
  const submitter = task.submitter ?? task.owners[0];
  if (outcome.kind === 'submitted' && submitter !== messageId) {
    return { kind: 'duplicate', detail: `duplicate: the same unit was submitted for message ${submitter}` };
  }
  return outcome;
}

function unitRecord(unit: Unit, outcome: UnitOutcome): UnitOutcomeRecord {
  return {
    unit: describeUnit(unit),
    requestType: unit.requestType,
    identityId: unit.identityId,
    itemType: unit.item.type,
    itemId: unit.item.id,
    outcome: outcome.kind,
    detail: outcome.detail,
    ...(outcome.kind === 'submitted' && outcome.accessRequestIds?.length
      ? { accessRequestIds: [...outcome.accessRequestIds] }
      : {}),
  };
}

function slotUnit(slot: SlotRef) {
  return { identityId: slot.identityId, itemType: slot.itemType, itemId: slot.itemId };
}

function countVerdict(counts: BatchCounts, status: MessageStatus) {
  if (status === 'invalid') counts.invalidMessages++;
  else if (status === 'failed') counts.failedMessages++;
  else if (status === 'retrying') counts.retriedMessages++;
}

function countUnit(counts: BatchCounts, kind: UnitOutcomeKind | undefined, owners: number) {
  switch (kind) {
    case 'submitted':
      counts.submitted++;
      counts.duplicatesSuppressed += owners - 1;
      break;
    case 'duplicate':
      counts.duplicatesSuppressed += owners;
      break;
    case 'already-held':
      counts.alreadyHeld++;
      break;
    case 'not-held':
      counts.notHeld++;
      break;
    case 'waiting':
      counts.waiting++;
      break;
    default:
      break;
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
