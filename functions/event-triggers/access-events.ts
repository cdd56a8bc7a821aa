/**
 * Access Request Decision and Provisioning Completed → the access-provisioning workflow's state.
 *
 * Per unit an event concerns (identity × item × request type):
 * - the slot learns what became of the request (slot-policy.ts `statusFromEvents`): a GRANT/REVOKE
 *   waiting for the opposite request decides from it at its next look, without reading SailPoint;
 * - the outcome of the message that submitted the unit shows it: approved, rejected (with the
 *   approver's comment), provisioned, failed (outcomes.ts `unitRequestStates`);
 * - a request this deployment submitted that is rejected or fails provisioning opens a finding
 *   (source `access-request`), notified once however often the event comes.
 *
 * Matching: a decision names its access request id, identities and items; an item carrying this
 * product's marker (clientMetadata.igaAutopilotItem) is ours, and so is one whose slot knows the id
 * from the POST's answer or credits a message of ours with the request. Provisioning Completed names
 * only the access request (trackingNumber) and the identity: it reaches the slots that know that id
 * (from the POST's answer, or from the decision recorded there); before its decision came it is kept
 * under the request and applied when the decision comes. Every write is idempotent and the state is
 * read from the set of facts, so duplicates and any order give the same result.
 */
import { ITEM_MARKER_KEY } from '../access-provisioning/coalesce';
import type { RequestType } from '../access-provisioning/contract';
import type { UnitEventRecord } from '../access-provisioning/outcomes';
import { CLOCK_SKEW_MS } from '../access-provisioning/reconcile';
import type { RequestEventFact, SlotRecord } from '../access-provisioning/slot-policy';
import type { FindingChange, FindingsStore, NotificationContent, Observation } from '../shared/findings';
import type { Notifier } from '../shared/notifier';
import type { AccessEventStore, SlotAddress, UnmatchedProvisioning } from './access-event-store';
import type { AccessRequestDecision, ProvisioningCompleted } from './payloads';

/** Findings of requests this deployment submitted that SailPoint rejected or could not provision. */
export const ACCESS_FINDINGS_SOURCE = 'access-request';

export interface AccessEventResult {
  /** Units the event concerns (decision: identities × items; provisioning: slots that know the request). */
  readonly units: number;
  /** Of those, units this deployment submitted. */
  readonly ours: number;
  readonly findingsOpened: number;
  readonly notified: number;
}

/** What /access-request-status says finally became of one submitted unit of ours. */
export interface StatusWord {
  readonly unit: SlotAddress & { readonly operation: RequestType; readonly messageId: string };
  readonly accessRequestId: string;
  readonly outcome: 'rejected' | 'provisioned' | 'failed';
  /** Epoch ms: when SailPoint finished the request (the entry's `modified`). */
  readonly at: number;
  readonly approver?: string;
  readonly comment?: string;
  readonly errors?: readonly string[];
}

interface UnitWord {
  readonly slot: SlotAddress;
  readonly operation: RequestType;
  readonly fact: RequestEventFact;
  readonly approver?: string;
  readonly comment?: string;
  readonly errors?: readonly string[];
}

export interface AccessEventDeps {
  readonly store: AccessEventStore;
  readonly findings: FindingsStore;
  readonly notifier: Notifier;
  readonly now: () => Date;
}

export class AccessEvents {
  constructor(private readonly deps: AccessEventDeps) {}

  async decision(
    payload: AccessRequestDecision,
    eventTime: string,
    runId: string,
  ): Promise<AccessEventResult> {
    const at = Date.parse(eventTime);
    const words: UnitWord[] = [];
    for (const identity of payload.requestedFor) {
      for (const item of payload.requestedItemsStatus) {
        const operation: RequestType = item.operation === 'Remove' ? 'REVOKE_ACCESS' : 'GRANT_ACCESS';
        const denied = item.approvalInfo.find((a) => a.approvalDecision === 'DENIED');
        const said = denied ?? item.approvalInfo.at(-1);
        // The marker this product puts on every item it requests; no clientMetadata: cannot tell.
        const marked = item.clientMetadata
          ? item.clientMetadata[ITEM_MARKER_KEY] === `${item.type}:${item.id}`
          : undefined;
        words.push({
          slot: { identityId: identity.id, itemType: item.type, itemId: item.id },
          operation,
          fact: {
            accessRequestId: payload.accessRequestId,
            operation,
            kind: 'decision',
            result: denied ? 'REJECTED' : 'APPROVED',
            at,
            ...(marked === undefined ? {} : { ours: marked }),
          },
          ...(said?.approverName ? { approver: said.approverName } : {}),
          ...(said?.approvalComment ? { comment: said.approvalComment } : {}),
        });
      }
    }
    const results = [];
    for (const word of words) results.push(await this.apply(word));
    // A Provisioning Completed that came first waited for this decision to name its items. Read after
    // the decision's own writes: whichever of the two comes second sees the other.
    for (const provisioning of await this.deps.store.unmatchedProvisioning(payload.accessRequestId)) {
      for (const word of words.filter((w) => w.slot.identityId === provisioning.identityId)) {
        results.push(
          await this.apply(provisioningWord(provisioning, word.slot, word.operation, word.fact.ours)),
        );
      }
    }
    return this.report(results, runId);
  }

  async provisioning(
    payload: ProvisioningCompleted,
    eventTime: string,
    runId: string,
  ): Promise<AccessEventResult> {
    const failed = payload.accountRequests.some((a) => a.provisioningResult === 'FAILED');
    const pending = payload.accountRequests.some((a) => a.provisioningResult === 'PENDING');
    const errors = (payload.errors ?? []).filter((e) => e.length > 0);
    const event: UnmatchedProvisioning = {
      accessRequestId: payload.trackingNumber,
      identityId: payload.recipient.id,
      result: failed || errors.length > 0 ? 'FAILED' : pending ? 'PENDING' : 'SUCCESS',
      at: Date.parse(eventTime),
      ...(errors.length > 0 ? { errors: errors.slice(0, 10).map((e) => e.slice(0, 500)) } : {}),
    };
    // Kept under the request first, then applied to the slots that know it (see decision()).
    await this.deps.store.recordUnmatchedProvisioning(event);
    const results = [];
    for (const { slot, operation, ours } of await this.deps.store.slotsOfRequest(
      event.identityId,
      event.accessRequestId,
    )) {
      results.push(await this.apply(provisioningWord(event, slot, operation, ours)));
    }
    return this.report(results, runId);
  }

  /**
   * SailPoint's final word on submitted units of ours, as /access-request-status shows it (the
   * reconciliation of events that never arrived, access-reconciliation.ts): recorded as the decision
   * and provisioning events would have been, through the same writes and the same findings, so a late
   * real event or a second run finds everything already said.
   */
  async fromStatus(words: readonly StatusWord[], runId: string): Promise<AccessEventResult> {
    const results = [];
    for (const w of words) {
      const { messageId, operation, ...slot } = w.unit;
      const fact = { accessRequestId: w.accessRequestId, operation, at: w.at, ours: true };
      const decision: UnitWord = {
        slot,
        operation,
        fact: { ...fact, kind: 'decision', result: w.outcome === 'rejected' ? 'REJECTED' : 'APPROVED' },
        ...(w.approver ? { approver: w.approver } : {}),
        ...(w.comment ? { comment: w.comment } : {}),
      };
      results.push(await this.apply(decision, messageId));
      if (w.outcome === 'rejected') continue;
      const provisioning: UnitWord = {
        slot,
        operation,
        fact: { ...fact, kind: 'provisioning', result: w.outcome === 'failed' ? 'FAILED' : 'SUCCESS' },
        ...(w.errors?.length ? { errors: w.errors } : {}),
      };
      results.push(await this.apply(provisioning, messageId));
    }
    return this.report(results, runId);
  }

  /**
   * Records one unit's word: on its slot, under the message that submitted it; a finding when it failed.
   * `credited`: the message is known (the reconciliation read it); else the slot tells.
   */
  private async apply(
    word: UnitWord,
    credited?: string,
  ): Promise<{ word: UnitWord; ours: boolean; messageId?: string }> {
    const slot = await this.deps.store.recordOnSlot(word.slot, word.fact);
    const messageId = credited ?? (slot ? creditedMessage(slot, word.operation, word.fact.at) : undefined);
    const known = slot ? knowsRequest(slot, word.operation, word.fact.accessRequestId) : undefined;
    // Ours: the event says so (the marker), the slot knows the request id from the POST's answer, or —
    // when neither can tell — the slot credits one of our messages with a request of that type.
    const ours =
      word.fact.ours === true ||
      known === true ||
      (word.fact.ours === undefined && known !== false && messageId !== undefined);
    if (messageId && ours) {
      const event: UnitEventRecord = {
        ...word.slot,
        operation: word.operation,
        accessRequestId: word.fact.accessRequestId,
        kind: word.fact.kind,
        result: word.fact.result,
        at: word.fact.at,
        ...(word.approver ? { approver: word.approver } : {}),
        ...(word.comment ? { comment: word.comment } : {}),
        ...(word.errors ? { errors: word.errors } : {}),
      };
      await this.deps.store.recordUnitEvent(messageId, event);
    }
    return { word, ours, ...(messageId ? { messageId } : {}) };
  }

  /** Opens a finding per unit of ours that was rejected or failed, and notifies each once. */
  private async report(
    applied: readonly { word: UnitWord; ours: boolean; messageId?: string }[],
    runId: string,
  ): Promise<AccessEventResult> {
    const failures = applied.filter(
      (a) => a.ours && (a.word.fact.result === 'REJECTED' || a.word.fact.result === 'FAILED'),
    );
    let findingsOpened = 0;
    let notified = 0;
    if (failures.length > 0) {
      const now = this.deps.now();
      const observations = distinctBySubject(failures.map((f) => observationOf(f.word, f.messageId)));
      const existing = (
        await Promise.all(
          observations.map((o) => this.deps.findings.get(ACCESS_FINDINGS_SOURCE, o.subjectId)),
        )
      ).filter((f) => f !== undefined);
      // A finding already open for the same failure keeps its facts: a later word on it (the real event
      // after the reconciliation, a re-delivery with another time) changes nothing and writes nothing.
      const stable = observations.map((o) => {
        const open = existing.find(
          (f) => f.subjectId === o.subjectId && f.status === o.status && f.reason === o.reason,
        );
        return open ? { ...o, facts: open.facts } : o;
      });
      const result = await this.deps.findings.reconcile(ACCESS_FINDINGS_SOURCE, stable, {
        now,
        runId,
        existing,
        unobserved: 'keep',
        notificationFor: notificationOf,
      });
      if (result.failed.length > 0) {
        throw new Error(
          `could not record ${result.failed.length} access request finding(s): ${result.failed[0]!.error}`,
        );
      }
      findingsOpened = result.changes.filter((c) => c.kind === 'opened' || c.kind === 'reopened').length;
      const delivery = await this.deps.findings.deliverNotifications(result.undelivered, this.deps.notifier, {
        now,
        runId,
      });
      if (delivery.failed.length > 0) {
        // Left PENDING under this run's claim: the retry of this message (same run id) publishes it.
        throw new Error(
          `could not notify ${delivery.failed.length} access request finding(s): ${delivery.failed[0]!.error}`,
        );
      }
      notified = delivery.sent.length;
    }
    return {
      units: applied.length,
      ours: applied.filter((a) => a.ours).length,
      findingsOpened,
      notified,
    };
  }
}

function provisioningWord(
  event: UnmatchedProvisioning,
  slot: SlotAddress,
  operation: RequestType,
  ours: boolean | undefined,
): UnitWord {
  return {
    slot,
    operation,
    fact: {
      accessRequestId: event.accessRequestId,
      operation,
      kind: 'provisioning',
      result: event.result,
      at: event.at,
      ...(ours === undefined ? {} : { ours }),
    },
    ...(event.errors ? { errors: event.errors } : {}),
  };
}

/**
 * The message credited with the slot's `operation` request decided at `at`: the slot's own holder when
 * it is of that type (submitted, or claimed: the event came before the POST's record), else the
 * latest submission of that type no later than the event (the slot has moved on since).
 */
export function creditedMessage(slot: SlotRecord, operation: RequestType, at: number): string | undefined {
  if (slot.operation === operation && slot.state !== 'free' && slot.messageId) return slot.messageId;
  const entry = [...(slot.submissions ?? [])]
    .filter((e) => e.operation === operation && e.at <= at + CLOCK_SKEW_MS)
    .sort((a, b) => b.at - a.at)[0];
  return entry?.messageId;
}

/** Whether the slot knows the request as its own (true/false), or cannot tell (it has no ids). */
function knowsRequest(
  slot: SlotRecord,
  operation: RequestType,
  accessRequestId: string,
): boolean | undefined {
  if (slot.operation !== operation || !slot.accessRequestIds?.length) return undefined;
  return slot.accessRequestIds.includes(accessRequestId);
}

function observationOf(word: UnitWord, messageId: string | undefined): Observation {
  const { slot, fact } = word;
  const rejected = fact.result === 'REJECTED';
  return {
    subjectId: `${fact.accessRequestId}/${slot.identityId}/${slot.itemType}/${slot.itemId}`,
    status: 'FLAGGED',
    reason: rejected ? 'rejected' : 'provisioning failed',
    owner: { id: slot.identityId },
    facts: {
      accessRequestId: fact.accessRequestId,
      requestType: word.operation,
      identityId: slot.identityId,
      itemType: slot.itemType,
      itemId: slot.itemId,
      decidedAt: new Date(fact.at).toISOString(),
      ...(word.approver ? { approver: word.approver } : {}),
      ...(word.comment ? { comment: word.comment } : {}),
      ...(word.errors ? { errors: word.errors } : {}),
      ...(messageId ? { messageId } : {}),
    },
  };
}

function notificationOf(change: FindingChange): NotificationContent | undefined {
  if (change.kind !== 'opened' && change.kind !== 'reopened') return undefined;
  const { facts, reason } = change.after;
  const what = `${String(facts.requestType)} of ${String(facts.itemType)} ${String(facts.itemId)} for ${String(facts.identityId)}`;
  return reason === 'rejected'
    ? {
        kind: 'access-request.rejected',
        subject: `Access request rejected: ${what}`,
        detail: { ...facts },
      }
    : {
        kind: 'access-request.provisioning-failed',
        subject: `Access request not provisioned: ${what}`,
        detail: { ...facts },
      };
}

function distinctBySubject(observations: readonly Observation[]): Observation[] {
  return [...new Map(observations.map((o) => [o.subjectId, o])).values()];
}
