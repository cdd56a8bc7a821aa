/**
 * The workflow: one SQS batch of access-request messages in, one outcome per message out. Each stage
 * is a module with its inputs and outputs explicit (docs/access-provisioning.md, "Flow of one batch"):
 *
 *  1. plan (plan.ts): parse and validate; a re-send of a processed request is a duplicate
 *     (request-dedup.ts); split into units; merge the units of the same access;
 *  2. claim (claim.ts): decide each unit from its slot (slot-policy.ts) and claim it conditionally;
 *  3. reconcile (reconcile.ts): a unit taken over from an unfinished attempt is looked up in
 *     /access-request-status before anything is sent again;
 *  4. current access (access-check.ts): every identity of every message with something to submit is
 *     read; an unknown identity makes its messages invalid, a failed read holds them back;
 *  5. submit (submit.ts): coalesce and POST; record each accepted unit;
 *  6. settle (settle.ts): verdict, outcome record and queue outcome per message.
 * Failures become outcomes by one policy (failure-policy.ts); claims change only through the ledger
 * (claims.ts). Duplicates cost no SailPoint call; nothing is POSTed twice for a unit.
 */
import { CredentialRefusedError } from '../shared/failure-policy';
import type { LogSink } from '../shared/observability';
import { checkAccess } from './access-check';
import {
  emptyCounts,
  errorText,
  outOfTime,
  REQUEUE_MS_PER_MESSAGE,
  SETTLE_MS_PER_MESSAGE,
  type BatchMessage,
  type ProcessorSettings,
  type StageDeps,
  type UnitResults,
} from './batch';
import { callsLeft, chunkSize } from './chunks';
import { claimUnits, recheckInFlight, type ClaimedUnit } from './claim';
import { ClaimLedger } from './claims';
import {
  failureOutcome,
  outOfTimeOutcome,
  retryOnceDecidable,
  transient,
  unknownIdentityVerdict,
} from './failure-policy';
import type { AccessRequestGateway, RequesterContext } from './gateway';
import type { UnitOutcome } from './outcomes';
import { mergeUnits, planMessages, type PlannedMessage, type PlannedUnit } from './plan';
import { checkRequestIds } from './request-dedup';
import { reconcileLastReceive, reconcileTakenOver } from './reconcile';
import {
  countUnits,
  settleBatch,
  type BatchReport,
  type RequestWrites,
  type SettledMessage,
  type SettledUnit,
} from './settle';
import type { ProvisioningStore } from './state-store';
import { StatusReader } from './status-reader';
import { submitUnits } from './submit';

export type { BatchCounts, BatchMessage, ProcessorSettings } from './batch';
export type { BatchReport } from './settle';

export interface ProcessorDeps {
  readonly store: ProvisioningStore;
  readonly gateway: AccessRequestGateway;
  readonly settings: ProcessorSettings;
  readonly clock?: () => number;
  readonly log?: LogSink;
  readonly newToken?: () => string;
}

/**
 * The credential cannot submit access requests: fix the configuration, then the messages flow. A
 * refused credential for the shared failure policy (fail-run): the messages wait, they are not to blame.
 */
export class NoUserContextError extends CredentialRefusedError {
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

export class AccessProvisioner {
  private readonly clock: () => number;
  private requesterContext?: RequesterContext & { identityId: string };

  constructor(private readonly deps: ProcessorDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /**
   * Checks once per instance that the credential has a user context (a PAT): SailPoint refuses
   * access requests from pure API clients. Throws NoUserContextError saying so.
   */
  async requester(
    gateway: Pick<AccessRequestGateway, 'requester'> = this.deps.gateway,
  ): Promise<RequesterContext & { identityId: string }> {
    this.requesterContext ??= await requireUserContext(gateway);
    return this.requesterContext;
  }

  /** `remainingMs`: what is left of the Lambda invocation (context.getRemainingTimeInMillis()); none: unbounded. */
  async processBatch(
    messages: readonly BatchMessage[],
    options: { remainingMs?: number } = {},
  ): Promise<BatchReport> {
    const { settings, store, log } = this.deps;
    const started = this.clock();
    const counts = emptyCounts(messages.length);
    // No POST is sent after the invocation's end (claims record it as their attempt's end); no
    // SailPoint call starts or waits once only the time to settle the batch is left.
    const attemptDeadline =
      options.remainingMs === undefined ? started + settings.claimLeaseMs : started + options.remainingMs;
    /** The call deadline while `settling` messages still need settling (and `requeuing` a copy). */
    const callDeadline = (settling: number, requeuing = 0) =>
      attemptDeadline -
      settings.timeReserveMs -
      SETTLE_MS_PER_MESSAGE * settling -
      REQUEUE_MS_PER_MESSAGE * requeuing;
    const stageFor = (deadline: number): StageDeps => ({
      store,
      gateway: this.deps.gateway.withDeadline?.(deadline) ?? this.deps.gateway,
      settings,
      clock: this.clock,
      ...(log ? { log } : {}),
      counts,
      attemptDeadline,
      callDeadline: deadline,
    });
    const stage = stageFor(callDeadline(messages.length));

    let requesterId: string;
    try {
      requesterId = (await this.requester(stage.gateway)).identityId;
    } catch (error) {
      // A configuration problem (no user context, rejected credentials, token endpoint down): every
      // message waits on the queue, and says why, until it is fixed or its receives run out.
      log?.error('cannot submit access requests with this SailPoint credential', { error: errorText(error) });
      const failure = failureOutcome(settings, error, 'reading the SailPoint credential');
      return settleBatch(
        messages.map((message, order) => ({ planned: { message, order, units: [] } })),
        stage,
        {
          batchFailure:
            failure.kind === 'retrying' && failure.uncharged
              ? failure
              : transient(settings, errorText(error)),
        },
      );
    }

    // 1. plan: parse and validate, drop re-sends of processed requests; the rest in send order
    const planned = await checkRequestIds(
      planMessages(await this.chargedReceives(messages, stage), {
        now: this.clock(),
        requesterId,
        maxUnitsPerMessage: settings.maxUnitsPerMessage,
      }),
      stage,
    );
    const pending = planned
      .filter((m) => !m.invalid && !m.decided)
      .sort((a, b) => a.message.sentAt - b.message.sentAt || a.order - b.order);
    const reports: BatchReport[] = [];
    const claims = new ClaimLedger(stage);
    const claimOwner = new Map<string, string>();
    const requests: RequestWrites = new Map();
    const handOverDeadLetters = async (report: BatchReport) => {
      // A claim whose message is dead-lettered is handed over at once, not kept until its lease ends.
      await claims.handOver(
        claims.held().filter((key) => report.outcomes.get(claimOwner.get(key)!)?.status === 'dead-letter'),
      );
    };

    // 2–6, chunk by chunk in send order: each chunk as large as the budget can carry out before the
    // deadline — claim, read, POST, then record its messages — so every invocation finishes some.
    const deferred: SettledMessage[] = [];
    let done = 0;
    while (done < pending.length) {
      const left = pending.length - done;
      const sizing = stageFor(callDeadline(left));
      if (outOfTime(sizing)) break;
      const size = chunkSize(pending.slice(done), callsLeft(sizing), settings);
      const chunk = pending.slice(done, done + size);
      done += size;
      const chunkStage = stageFor(callDeadline(size + deferred.length, pending.length - done));
      const result = await this.processChunk(chunk, {
        ...chunkStage,
        claims,
        statuses: new StatusReader(chunkStage),
      });
      counts.chunks++;
      countUnits(counts, result.units);
      for (const [key, owner] of result.claimOwners) claimOwner.set(key, owner);
      const report = await settleBatch(
        chunk.map((message) => {
          const reason = result.invalid.get(message.message.messageId);
          return { planned: message, ...(reason ? { invalid: reason } : {}), units: result.units };
        }),
        chunkStage,
        { deferUncharged: true, requests },
      );
      for (const message of report.deferred) deferred.push({ ...message, inFlight: result.inFlight });
      await handOverDeadLetters(report);
      reports.push(report);
    }

    // 6. settle the rest: what was waiting on other attempts (looked at once more: they have often
    // finished by now), what no chunk reached, and what was decided at planning.
    const settling = this.clock();
    const rechecked = new Map<SettledMessage['units'], Map<string, SettledUnit>>();
    for (const message of deferred) {
      if (!message.units || rechecked.has(message.units)) continue;
      const units = new Map(message.units);
      for (const [key, result] of await recheckInFlight(message.inFlight ?? [], stage)) {
        units.set(key, { ...units.get(key)!, result });
      }
      rechecked.set(message.units, units);
    }
    const final = await settleBatch(
      [
        ...deferred.map((message) => ({ ...message, units: rechecked.get(message.units) ?? message.units })),
        ...pending.slice(done).map((planned) => ({ planned })),
        ...planned
          .filter((m) => m.invalid || m.decided)
          .map((message) => ({
            planned: message,
            ...(message.invalid ? { invalid: message.invalid } : {}),
          })),
      ],
      stage,
      { requests },
    );
    await handOverDeadLetters(final);
    counts.settleMs = this.clock() - settling;
    return mergeReports([...reports, final], counts);
  }

  /**
   * The receives charged to each message: SQS's count, except for a copy this workflow requeued
   * uncharged, whose attempts so far are in its outcome record.
   */
  private async chargedReceives(messages: readonly BatchMessage[], deps: StageDeps): Promise<BatchMessage[]> {
    const copies = messages.filter((m) => m.requeued).map((m) => m.messageId);
    if (copies.length === 0) return [...messages];
    let attempts = new Map<string, number>();
    try {
      attempts = await deps.store.readAttempts(copies);
    } catch (error) {
      deps.log?.warn('could not read the attempts of requeued messages', { error: errorText(error) });
    }
    return messages.map((m) =>
      m.requeued ? { ...m, receiveCount: Math.max(m.receiveCount, (attempts.get(m.messageId) ?? 0) + 1) } : m,
    );
  }

  /** Stages 2–5 for one chunk of messages: claim, reconcile, current access, submit. */
  private async processChunk(
    messages: readonly PlannedMessage[],
    stage: StageDeps & { readonly claims: ClaimLedger; readonly statuses: StatusReader },
  ): Promise<ChunkResult> {
    const { settings, claims } = stage;
    const units = mergeUnits(messages);
    stage.counts.units += units.length;
    const results: UnitResults = new Map();
    const merge = (more: UnitResults) => more.forEach((result, key) => results.set(key, result));
    for (const unit of units) {
      if (unit.behind) {
        results.set(unit.unit.key, {
          outcome: {
            kind: 'waiting',
            delaySeconds: settings.conflictRetrySeconds,
            detail:
              `waiting: the ${unit.behind.requestType} of this access in message ${unit.behind.messageId} of the ` +
              `same batch goes first; the ${unit.unit.requestType} goes once it has finished`,
          },
        });
      }
    }

    // 2. claim, 3. reconcile
    const claimed = await claimUnits(
      units.filter((u) => !results.has(u.unit.key)),
      { ...stage, ...(this.deps.newToken ? { newToken: this.deps.newToken } : {}) },
    );
    merge(claimed.results);
    merge(
      (
        await reconcileTakenOver(
          claimed.claimed.filter((u) => u.takeover),
          stage,
        )
      ).results,
    );
    const toCheck = claimed.claimed.filter((u) => !results.has(u.planned.unit.key));

    // 4. current access: every identity of a message with something to submit is read, so that
    // nothing of a message naming an unknown identity is submitted, even when that identity's own
    // unit needs no POST.
    const submitting = new Set(toCheck.flatMap((u) => u.planned.owners));
    const checked = await checkAccess(
      toCheck,
      messages
        .filter((m) => submitting.has(m.message.messageId))
        .flatMap((m) => m.parsed?.requestedFor ?? []),
      stage,
    );
    merge(checked.results);
    const invalid = new Map<string, string>();
    /** Messages held back this time (an identity unread, or not in Search yet). */
    const blocked = new Map<string, UnitOutcome>();
    const checkedAt = this.clock();
    for (const message of messages) {
      const id = message.message.messageId;
      for (const identityId of message.parsed?.requestedFor ?? []) {
        const problem = checked.problems.get(identityId);
        if (!problem || invalid.has(id)) continue;
        if (problem.unknown) {
          const verdict = unknownIdentityVerdict(message.message, identityId, checkedAt, settings);
          if ('invalid' in verdict) invalid.set(id, verdict.invalid);
          else if (!blocked.has(id))
            blocked.set(id, transient(settings, verdict.retry, verdict.delaySeconds));
        } else if (!blocked.has(id)) {
          blocked.set(
            id,
            problem.uncharged ? outOfTimeOutcome(problem.reason) : transient(settings, problem.reason),
          );
        }
      }
    }
    // A unit goes on with the owners that are valid and whose identities could all be read; one with
    // none left is given up (its messages are invalid, or retried with the reason).
    const owners = new Map<string, string[]>();
    for (const unit of units) {
      owners.set(
        unit.unit.key,
        unit.owners.filter((id) => !invalid.has(id) && !blocked.has(id)),
      );
    }
    const toSubmit: ClaimedUnit[] = [];
    const givenUp: string[] = [];
    for (const unit of [...checked.proceed, ...checked.unknown]) {
      const key = unit.planned.unit.key;
      if (owners.get(key)!.length > 0) {
        toSubmit.push(unit);
        continue;
      }
      const heldBack = unit.planned.owners
        .filter((id) => !invalid.has(id))
        .map((id) => blocked.get(id))
        .find(Boolean);
      results.set(key, {
        outcome: heldBack ?? { kind: 'invalid', detail: 'every message asking for it is invalid' },
      });
      givenUp.push(key);
    }
    await claims.releaseAll(givenUp);

    // 5. submit
    merge(
      await submitUnits(
        toSubmit.map((claimedUnit) => {
          const note = checked.notes.get(claimedUnit.planned.unit.key);
          return {
            claimed: claimedUnit,
            owners: owners.get(claimedUnit.planned.unit.key)!,
            ...(note ? { note } : {}),
          };
        }),
        stage,
      ),
    );
    await claims.endAttempts();

    // A claim kept after a POST (outcome unknown, or success not recorded) is the attempt record the
    // retry reconciles: on a message's last receive that is done now; otherwise the retry comes no
    // earlier than SailPoint can list the request, so that it can decide (no receive wasted).
    const lastReceive = new Set(
      messages
        .filter((m) => m.message.receiveCount >= settings.maxReceiveCount)
        .map((m) => m.message.messageId),
    );
    const unknown = toSubmit
      .filter((u) => claims.isHeldAfterPost(u.planned.unit.key))
      .map((u) => ({ claimed: u, owners: owners.get(u.planned.unit.key)! }));
    merge(
      await reconcileLastReceive(
        unknown.filter((u) => u.owners.some((id) => lastReceive.has(id))),
        results,
        stage,
      ),
    );
    for (const { claimed: unit } of unknown) {
      const key = unit.planned.unit.key;
      const result = results.get(key);
      if (!claims.isHeldAfterPost(key) || result?.outcome.kind !== 'retrying') continue;
      results.set(key, {
        ...result,
        outcome: retryOnceDecidable(result.outcome, claims.attemptUntil(key), stage),
      });
    }

    const settled = new Map<string, SettledUnit>();
    for (const unit of units) {
      settled.set(unit.unit.key, {
        result: results.get(unit.unit.key) ?? {
          outcome: { kind: 'retrying', detail: 'no outcome was decided for this unit' },
        },
        owners: owners.get(unit.unit.key)!,
      });
    }
    // Units another attempt took over while this one waited to submit are looked at again too.
    const takenOver = toSubmit.filter((u) => {
      const outcome = results.get(u.planned.unit.key)?.outcome;
      return outcome?.kind === 'retrying' && outcome.uncharged === true;
    });
    return {
      units: settled,
      invalid,
      claimOwners: new Map(units.map((u) => [u.unit.key, u.owners[0]!])),
      inFlight: [...claimed.inFlight, ...takenOver.map((u) => u.planned)],
    };
  }
}

/** One report for the batch from the reports of its settles. */
function mergeReports(reports: readonly BatchReport[], counts: BatchReport['counts']): BatchReport {
  const merged: BatchReport = {
    outcomes: new Map(),
    verdicts: new Map(),
    requeue: new Map(),
    deferred: [],
    counts,
  };
  for (const report of reports) {
    report.outcomes.forEach((v, k) => merged.outcomes.set(k, v));
    report.verdicts.forEach((v, k) => merged.verdicts.set(k, v));
    report.requeue.forEach((v, k) => merged.requeue.set(k, v));
  }
  return merged;
}

interface ChunkResult {
  readonly units: Map<string, SettledUnit>;
  /** Units found in flight in another attempt (looked at again before settling). */
  readonly inFlight: readonly PlannedUnit[];
  /** Messages of the chunk found invalid (an identity Search never came to know). */
  readonly invalid: ReadonlyMap<string, string>;
  /** Unit key → the message its claim was written for. */
  readonly claimOwners: ReadonlyMap<string, string>;
}
