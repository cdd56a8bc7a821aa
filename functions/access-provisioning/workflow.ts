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
import type { LogSink } from '../shared/observability';
import { checkAccess } from './access-check';
import {
  emptyCounts,
  errorText,
  type BatchMessage,
  type ProcessorSettings,
  type StageDeps,
  type UnitResults,
} from './batch';
import { claimUnits, type ClaimedUnit } from './claim';
import { ClaimLedger } from './claims';
import { retryOnceDecidable, transient, unknownIdentityVerdict } from './failure-policy';
import type { AccessRequestGateway, RequesterContext } from './gateway';
import { mergeUnits, planMessages, type PlannedMessage } from './plan';
import { checkRequestIds } from './request-dedup';
import { reconcileLastReceive, reconcileTakenOver } from './reconcile';
import { settleBatch, type BatchReport, type SettledUnit } from './settle';
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
  async requester(): Promise<RequesterContext & { identityId: string }> {
    this.requesterContext ??= await requireUserContext(this.deps.gateway);
    return this.requesterContext;
  }

  /** `remainingMs`: what is left of the Lambda invocation (context.getRemainingTimeInMillis()); none: unbounded. */
  async processBatch(
    messages: readonly BatchMessage[],
    options: { remainingMs?: number } = {},
  ): Promise<BatchReport> {
    const { settings, store, gateway, log } = this.deps;
    const started = this.clock();
    const counts = emptyCounts(messages.length);
    const stage: StageDeps = {
      store,
      gateway,
      settings,
      clock: this.clock,
      ...(log ? { log } : {}),
      counts,
      attemptDeadline:
        options.remainingMs === undefined ? started + settings.claimLeaseMs : started + options.remainingMs,
    };

    let requesterId: string;
    try {
      requesterId = (await this.requester()).identityId;
    } catch (error) {
      // A configuration problem (no user context, rejected credentials, token endpoint down): every
      // message waits on the queue, and says why, until it is fixed or its receives run out.
      log?.error('cannot submit access requests with this SailPoint credential', { error: errorText(error) });
      const unplanned = messages.map((message, order): PlannedMessage => ({ message, order, units: [] }));
      return settleBatch(
        unplanned.map((planned) => ({ planned })),
        new Map(),
        stage,
        transient(settings, errorText(error)),
      );
    }

    // 1. plan: parse and validate, drop re-sends of processed requests, merge the units
    const planned = await checkRequestIds(
      planMessages(messages, {
        now: this.clock(),
        requesterId,
        maxUnitsPerMessage: settings.maxUnitsPerMessage,
      }),
      stage,
    );
    const plan = { messages: planned, units: mergeUnits(planned) };
    counts.units = plan.units.length;
    const results: UnitResults = new Map();
    const merge = (more: UnitResults) => more.forEach((result, key) => results.set(key, result));
    for (const unit of plan.units) {
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
    const claims = new ClaimLedger(stage);
    const statuses = new StatusReader(stage);
    const claimed = await claimUnits(
      plan.units.filter((u) => !results.has(u.unit.key)),
      { ...stage, claims, statuses, ...(this.deps.newToken ? { newToken: this.deps.newToken } : {}) },
    );
    merge(claimed.results);
    const reconciled = await reconcileTakenOver(
      claimed.claimed.filter((u) => u.takeover),
      { ...stage, claims, statuses },
    );
    merge(reconciled.results);
    const toCheck = claimed.claimed.filter((u) => !results.has(u.planned.unit.key));

    // 4. current access: every identity of a message with something to submit is read, so that
    // nothing of a message naming an unknown identity is submitted, even when that identity's own
    // unit needs no POST.
    const submitting = new Set(toCheck.flatMap((u) => u.planned.owners));
    const checked = await checkAccess(
      toCheck,
      plan.messages
        .filter((m) => submitting.has(m.message.messageId) && !m.invalid)
        .flatMap((m) => m.parsed?.requestedFor ?? []),
      { ...stage, claims },
    );
    merge(checked.results);
    const invalid = new Map<string, string>();
    /** Messages held back this time (an identity unread, or not in Search yet): the reason and delay. */
    const blocked = new Map<string, { reason: string; delaySeconds: number }>();
    const checkedAt = this.clock();
    for (const message of plan.messages) {
      const id = message.message.messageId;
      if (message.invalid) {
        invalid.set(id, message.invalid);
        continue;
      }
      for (const identityId of message.parsed?.requestedFor ?? []) {
        const problem = checked.problems.get(identityId);
        if (!problem || invalid.has(id)) continue;
        if (problem.unknown) {
          const verdict = unknownIdentityVerdict(message.message, identityId, checkedAt, settings);
          if ('invalid' in verdict) invalid.set(id, verdict.invalid);
          else if (!blocked.has(id))
            blocked.set(id, { reason: verdict.retry, delaySeconds: verdict.delaySeconds });
        } else if (!blocked.has(id)) {
          blocked.set(id, { reason: problem.reason, delaySeconds: settings.transientRetrySeconds });
        }
      }
    }
    // A unit goes on with the owners that are valid and whose identities could all be read; one with
    // none left is given up (its messages are invalid, or retried with the reason).
    const owners = new Map<string, string[]>();
    for (const unit of plan.units) {
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
        outcome: heldBack
          ? transient(settings, heldBack.reason, heldBack.delaySeconds)
          : { kind: 'invalid', detail: 'every message asking for it is invalid' },
      });
      givenUp.push(key);
    }
    await claims.releaseAll(givenUp);

    // 5. submit
    merge(
      await submitUnits(
        toSubmit.map((claimedUnit) => ({
          claimed: claimedUnit,
          owners: owners.get(claimedUnit.planned.unit.key)!,
        })),
        { ...stage, claims },
      ),
    );
    await claims.endAttempts();

    // A claim kept after a POST (outcome unknown, or success not recorded) is the attempt record the
    // retry reconciles: on a message's last receive that is done now; otherwise the retry comes no
    // earlier than SailPoint can list the request, so that it can decide (no receive wasted).
    const lastReceive = new Set(
      plan.messages
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
        { ...stage, claims, statuses },
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

    // 6. settle
    const settled = new Map<string, SettledUnit>();
    for (const unit of plan.units) {
      settled.set(unit.unit.key, {
        result: results.get(unit.unit.key) ?? {
          outcome: { kind: 'retrying', detail: 'no outcome was decided for this unit' },
        },
        owners: owners.get(unit.unit.key)!,
      });
    }
    const report = await settleBatch(
      plan.messages.map((planned) => {
        const reason = invalid.get(planned.message.messageId);
        return { planned, ...(reason ? { invalid: reason } : {}) };
      }),
      settled,
      stage,
    );

    // A claim whose message is dead-lettered is handed over at once, not kept until its lease ends.
    const claimOwner = new Map(plan.units.map((u) => [u.unit.key, u.owners[0]!]));
    await claims.handOver(
      claims.held().filter((key) => report.outcomes.get(claimOwner.get(key)!)?.status === 'dead-letter'),
    );
    return report;
  }
}
