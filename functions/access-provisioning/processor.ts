/**
 * The workflow: one SQS batch of access-request messages in, one outcome per message out.
 *
 *  1. parse and validate every message (contract.ts); invalid ones are dead-lettered with the reason;
 *  2. split into units; units of the same access slot in this batch are merged (the earliest message
 *     owns the unit, later identical ones are duplicates; the opposite request type waits);
 *  3. claim each unit's slot with a conditional write (slot-policy.ts decides from the state read:
 *     duplicate, in flight, waiting for the opposite request, or take over and reconcile);
 *  4. units taken over from an unfinished attempt are looked up in /access-request-status first;
 *  5. the current access of every identity of every message with something to submit is read from
 *     Search: unknown identity → invalid message (nothing of it is submitted), a failed read → none
 *     of that message's units is submitted now (retried), GRANT of access held / REVOKE of access
 *     not held → skipped;
 *  6. the rest is coalesced into API-legal requests (coalesce.ts) and POSTed; a taken-over claim
 *     first moves its attempt deadline (attemptUntil) to this invocation's, conditional on the claim;
 *     claims kept after a POST whose outcome is unknown get attemptUntil = when the POST returned;
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
  attemptUntilOf,
  carriedSubmissions,
  decideSlot,
  oppositeOf,
  type OppositeStatus,
  type SlotDecision,
  type SlotRecord,
  type SubmissionEntry,
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
  /** Its units were merged into the batch's tasks (it was valid when the batch began). */
  merged?: boolean;
  /** Set when an identity of the message could not be read: none of its units is submitted now. */
  blocked?: string;
  units: Unit[];
}

interface UnitTask {
  readonly unit: Unit;
  /** Messages of this batch asking for this unit, earliest first. */
  owners: string[];
  /** The first owner's caller requestId, kept on the slot for operators. */
  readonly requestId?: string;
  claimToken?: string;
  /** What the claim holds: `held` until it is given back or marked submitted. */
  claimState?: 'held' | 'released' | 'submitted';
  /** The slot's submissions this claim carries (kept on release and submission). */
  carried?: SubmissionEntry[];
  /** The claim's attemptUntil as written (the latest moment a POST of it may be sent). */
  attemptUntil?: number;
  /** A POST of this unit was started in this invocation. */
  posted?: boolean;
  /** Taken over from an unfinished attempt: reconcile since this time... */
  reconcileSince?: number;
  /** ...which may have sent its POST until this time... */
  reconcileUntil?: number;
  /** ...by this message. */
  reconcileMessageId?: string;
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
    const started = this.clock();
    const deadline = options.remainingMs === undefined ? undefined : started + options.remainingMs;
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
    // No POST is sent after this moment (the invocation's deadline; without one, the claim lease,
    // which is longer than any invocation): claims record it as their attempt's end (attemptUntil).
    const attemptDeadline = deadline ?? started + this.settings.claimLeaseMs;
    const batch = new BatchRun(this, counts, attemptDeadline);

    const active = tasks.filter((t) => !t.outcome);
    await batch.claim(active);
    await batch.reconcile(active.filter((t) => t.claimToken && t.reconcileSince !== undefined && !t.outcome));
    const toSubmit = active.filter((t) => t.claimToken && !t.outcome);
    // Every identity of a message with something to submit is read, so that nothing of a message
    // naming an unknown identity is submitted, even when that identity's own unit needs no POST.
    const submitting = new Set(toSubmit.flatMap((t) => t.owners));
    const identities = states
      .filter((s) => submitting.has(s.message.messageId) && !s.invalid)
      .flatMap((s) => s.parsed?.requestedFor ?? []);
    await batch.checkAccess(toSubmit, identities, (identityId, reason, unknown) => {
      for (const state of states) {
        if (state.invalid || !state.parsed?.requestedFor.includes(identityId)) continue;
        if (unknown) state.invalid = reason;
        else state.blocked ??= reason;
      }
    });
    // A unit goes on with the owners that are valid and whose identities could all be read; one with
    // none left is given up (its messages are invalid, or retried with the reason).
    for (const task of active) {
      const blocked = task.owners.map((id) => byId.get(id)).find((s) => !s?.invalid && s?.blocked);
      task.owners = task.owners.filter((id) => !byId.get(id)?.invalid && !byId.get(id)?.blocked);
      if (task.owners.length === 0 && task.claimToken && !task.outcome) {
        task.outcome = blocked
          ? { kind: 'retrying', detail: blocked.blocked!, delaySeconds: this.settings.transientRetrySeconds }
          : { kind: 'invalid', detail: 'every message asking for it is invalid' };
        await batch.release(task);
      }
    }
    await batch.submit(active.filter((t) => t.claimToken && !t.outcome));
    await batch.endAttempts(active);

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
      state.merged = true;
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
        // Units this message submitted (in an earlier receive) stay visible: the record never hides
        // a request that exists in SailPoint. The others are not submitted for it.
        for (const unit of state.merged ? state.units : []) {
          const task = taskByUnit.get(unit.key);
          if (!task) continue;
          const submitted =
            task.outcome?.kind === 'submitted' && (task.submitter ?? task.owners[0]) === messageId;
          units.push(
            unitRecord(unit, submitted ? task.outcome! : { kind: 'invalid', detail: state.invalid }),
          );
        }
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
    /** No POST is sent after it: the invocation's deadline (or the claim lease when unknown). */
    private readonly attemptDeadline: number,
  ) {
    this.deps = provisioner.internals;
  }

  /** True when no further SailPoint call should start in this invocation. */
  private outOfTime(): boolean {
    return this.deps.clock() > this.attemptDeadline - this.settings.timeReserveMs;
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
            const record = records.get(task.unit.slot.key);
            const takeover = decision.reconcileSince !== undefined && record !== undefined;
            const attemptSince = takeover ? Math.min(decision.reconcileSince!, now) : now;
            // A taken-over attempt keeps its end until this one decides to POST (then it is extended,
            // conditional on the claim): waiting to reconcile must not push the settle time forward.
            const attemptUntil = takeover ? attemptUntilOf(record) : this.attemptDeadline;
            const carried = carriedSubmissions(record, now, decision.recordOpposite);
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
                  attemptUntil,
                  submissions: carried,
                },
                decision.expect,
              );
              if (won) {
                task.claimToken = token;
                task.claimState = 'held';
                task.carried = carried;
                task.attemptUntil = attemptUntil;
                if (takeover) {
                  task.reconcileSince = decision.reconcileSince;
                  task.reconcileUntil = attemptUntil;
                  task.reconcileMessageId = record.messageId;
                }
              } else {
                lost.push(task);
              }
            } catch (error) {
              task.outcome = this.transient(`could not claim the unit: ${errorText(error)}`);
            }
            return;
          }
          case 'already-submitted':
            task.submitter = decision.messageId;
            task.outcome = {
              kind: 'submitted',
              detail: `submitted at ${iso(decision.submittedAt)} by an earlier receive of this message`,
              ...(decision.accessRequestIds ? { accessRequestIds: decision.accessRequestIds } : {}),
            };
            return;
          case 'duplicate':
            task.outcome = { kind: 'duplicate', detail: `duplicate: ${decision.reason}` };
            return;
          case 'in-flight':
            task.outcome = { kind: 'retrying', detail: decision.reason, delaySeconds: decision.delaySeconds };
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
      // SailPoint's listing lag counts from when that attempt may last have sent its POST.
      const settlesAt = task.reconcileUntil! + this.settings.statusSettleMs;
      if (now < settlesAt) {
        task.outcome = {
          kind: 'retrying',
          delaySeconds: Math.max(1, Math.ceil((settlesAt - now) / 1000)),
          detail:
            `an earlier attempt (${iso(task.reconcileSince!)} to ${iso(task.reconcileUntil!)}) may have reached ` +
            'SailPoint and is not listed yet; retrying before submitting again',
        };
      }
    });
  }

  /**
   * Step 5: reads the identities (those of the tasks and `alsoRead`): unknown identities, failed
   * reads, GRANT of access held, REVOKE of access not held.
   */
  async checkAccess(
    tasks: readonly UnitTask[],
    alsoRead: readonly string[],
    identityProblem: (identityId: string, reason: string, unknown: boolean) => void,
  ) {
    const identities = [...new Set([...tasks.map((t) => t.unit.identityId), ...alsoRead])];
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
    for (const [identityId, held] of access) {
      if (held === undefined) {
        identityProblem(
          identityId,
          `invalid message: unknown identity ${identityId} (SailPoint Search has no such identity)`,
          true,
        );
      } else if (held instanceof Error) {
        const why = held instanceof OutOfTime ? 'the invocation ran out of time' : errorText(held);
        identityProblem(
          identityId,
          `identity ${identityId} could not be read (${why}); nothing of this message is submitted until ` +
            'every identity it names has been read',
          false,
        );
      }
    }
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
    const ready: UnitTask[] = [];
    await mapLimit(tasks, this.settings.concurrency, async (task) => {
      if (await this.extendTakenOver(task)) ready.push(task);
    });
    if (ready.length === 0) return;
    const byUnit = new Map(ready.map((t) => [t.unit.key, t]));
    const planned = coalesce(
      ready.map((t) => t.unit),
      { maxRecipients: this.settings.maxRecipients },
    );
    await mapLimit(planned, this.settings.concurrency, (request) =>
      this.post(
        request.units.map((u) => byUnit.get(u.key)!),
        request,
      ),
    );
  }

  /**
   * A claim taken over from an earlier attempt still carries that attempt's end; before this one may
   * POST, the end moves to this invocation's deadline — conditional on the claim, so a concurrent
   * taker (another delivery of the same message) either sees it or has already taken the claim.
   */
  private async extendTakenOver(task: UnitTask): Promise<boolean> {
    if (task.reconcileSince === undefined || (task.attemptUntil ?? 0) >= this.attemptDeadline) return true;
    try {
      if (await this.deps.store.setAttemptUntil(task.unit.slot, task.claimToken!, this.attemptDeadline)) {
        task.attemptUntil = this.attemptDeadline;
        return true;
      }
      task.claimState = 'released'; // not ours any more
      task.outcome = this.transient('the unit was taken over by a concurrent attempt; retrying');
    } catch (error) {
      task.outcome = this.transient(`could not record the attempt: ${errorText(error)}`);
    }
    return false;
  }

  private async post(tasks: UnitTask[], request: PlannedRequest, mayIsolate = true): Promise<void> {
    const result = await this.send(tasks, request);
    if (result === undefined) return;
    if ('tracked' in result) {
      await this.recordAccepted(tasks, result.tracked);
      return;
    }
    const { error, outcome } = result;
    const owners = new Set(tasks.flatMap((t) => t.owners));
    if (outcome.kind === 'failed' && mayIsolate && owners.size > 1) {
      // One message's unit may be what SailPoint refused: resubmit per message to find it.
      this.deps.log?.warn('access request refused; resubmitting per message', {
        messages: owners.size,
        error: errorText(error),
      });
      await this.isolate(tasks);
      return;
    }
    await this.fail(tasks, error, outcome);
  }

  /**
   * After a refusal of a request spanning several messages: each unit is sent again with the units
   * of one message that asked for it (the earliest first). A message whose request is refused is
   * blamed; its units that other messages also asked for move on to the next of those messages, so
   * a valid message is never dead-lettered for another's item, and no unit is in two requests.
   */
  private async isolate(tasks: readonly UnitTask[]): Promise<void> {
    const candidates = new Map(tasks.map((t) => [t, [...t.owners]]));
    let remaining = [...tasks];
    while (remaining.length > 0) {
      const groups = new Map<string, UnitTask[]>();
      for (const task of remaining) {
        const owner = candidates.get(task)![0]!;
        groups.set(owner, [...(groups.get(owner) ?? []), task]);
      }
      const next: UnitTask[] = [];
      const requests = [...groups].flatMap(([owner, group]) => {
        const byUnit = new Map(group.map((t) => [t.unit.key, t]));
        return coalesce(
          group.map((t) => t.unit),
          { maxRecipients: this.settings.maxRecipients },
        ).map((request) => ({ owner, request, tasks: request.units.map((u) => byUnit.get(u.key)!) }));
      });
      await mapLimit(requests, this.settings.concurrency, async ({ owner, request, tasks: group }) => {
        const result = await this.send(group, request);
        if (result === undefined) return;
        if ('tracked' in result) {
          for (const task of group) task.submitter = owner;
          await this.recordAccepted(group, result.tracked);
          return;
        }
        if (result.outcome.kind !== 'failed') {
          await this.fail(group, result.error, result.outcome);
          return;
        }
        const refused: UnitTask[] = [];
        for (const task of group) {
          const left = candidates.get(task)!;
          left.shift();
          if (left.length > 0) next.push(task);
          else refused.push(task);
        }
        await this.fail(refused, result.error, result.outcome);
      });
      remaining = next;
    }
  }

  /** One POST; undefined when it was not sent (out of time: the units are given back). */
  private async send(
    tasks: readonly UnitTask[],
    request: PlannedRequest,
  ): Promise<
    | { tracked: readonly TrackedRequest[] }
    | { error: unknown; outcome: UnitOutcome & { kind: 'failed' | 'retrying' } }
    | undefined
  > {
    if (this.outOfTime()) {
      for (const task of tasks) task.outcome = this.outOfTimeOutcome();
      await mapLimit(tasks, this.settings.concurrency, (t) => this.release(t));
      return undefined;
    }
    for (const task of tasks) task.posted = true;
    try {
      this.counts.requestsPosted++;
      return { tracked: await this.deps.gateway.submit(request.body) };
    } catch (error) {
      if (error instanceof SailPointResponseError && error.status !== undefined && error.status < 300) {
        return { tracked: [] }; // accepted (2xx), only the body was unexpected
      }
      return { error, outcome: this.failureOutcome(error, 'submitting the access request') };
    }
  }

  private async fail(tasks: readonly UnitTask[], error: unknown, outcome: UnitOutcome): Promise<void> {
    for (const task of tasks) task.outcome = outcome;
    // A 5xx, timeout or unknown failure may have created the request: keep the claims (they are the
    // attempt record) so the retry reconciles. A 429 or 4xx did not: give the units back.
    if (error instanceof SailPointError && !error.outcomeUnknown) {
      await mapLimit(tasks, this.settings.concurrency, (t) => this.release(t));
    }
  }

  private async recordAccepted(tasks: readonly UnitTask[], tracked: readonly TrackedRequest[]) {
    const submittedAt = this.deps.clock();
    await mapLimit(tasks, this.settings.concurrency, async (task) => {
      const ids = tracked
        .filter((t) => t.requestedFor === task.unit.identityId && t.itemId === task.unit.item.id)
        .flatMap((t) => t.accessRequestIds);
      await this.recordSubmitted(task, submittedAt, [...new Set(ids)], false);
    });
  }

  private async recordSubmitted(task: UnitTask, at: number, accessRequestIds: string[], reconciled: boolean) {
    const messageId = task.submitter ?? task.owners[0]!;
    // The message credited, and (after a takeover) the one whose attempt it was: neither re-POSTs it.
    const submissions = carriedSubmissions(
      undefined,
      at,
      ...(task.carried ?? []),
      ...(reconciled && task.reconcileMessageId
        ? [{ operation: task.unit.requestType, messageId: task.reconcileMessageId, at }]
        : []),
      { operation: task.unit.requestType, messageId, at },
    );
    try {
      const stillOurs = await this.deps.store.markSubmitted(task.unit.slot, task.claimToken!, {
        submittedAt: at,
        dedupUntil: at + this.settings.dedupWindowMs,
        ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
        reconciled,
        messageId,
        submissions,
      });
      task.claimState = 'submitted';
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

  /**
   * Claims kept after a POST (its outcome unknown, or its success not recorded) record when this
   * invocation stopped sending: all POSTs have returned, so SailPoint's listing lag counts from now,
   * not from the invocation's deadline. Best effort: the deadline already bounds it.
   */
  async endAttempts(tasks: readonly UnitTask[]): Promise<void> {
    const now = this.deps.clock();
    const kept = tasks.filter(
      (t) => t.claimToken && t.claimState === 'held' && t.posted && (t.attemptUntil ?? 0) > now,
    );
    await mapLimit(kept, this.settings.concurrency, async (task) => {
      try {
        if (await this.deps.store.setAttemptUntil(task.unit.slot, task.claimToken!, now))
          task.attemptUntil = now;
      } catch (error) {
        this.deps.log?.warn('could not record the end of an attempt', {
          unit: task.unit.key,
          error: errorText(error),
        });
      }
    });
  }

  async release(task: UnitTask): Promise<void> {
    if (!task.claimToken || task.claimState !== 'held') return;
    try {
      await this.deps.store.release(task.unit.slot, task.claimToken, task.carried ?? []);
      task.claimState = 'released';
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
