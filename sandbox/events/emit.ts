/**
 * The sandbox tenant emitting ISC event triggers when its state changes: an access request decided
 * (Access Request Decision), its provisioning done (Provisioning Completed), identity attributes
 * changed, an identity deleted. Each event goes to every enabled EVENTBRIDGE subscription of its
 * trigger whose filter selects it, as the EventBridge envelope AWS delivers from the subscription's
 * partner event source (`aws.partner/sailpoint.com/<subscription id>/idn/<trigger>`).
 *
 * Modelling choices (the schemas do not say): the approver is the requested-for identity's manager
 * (else the requester); Provisioning Completed's trackingNumber is the access request id, one event
 * per identity and access request, one account request per item with a source (FAILED, with the
 * message in `errors`, when `state.triggers.provisioningError` says so); `time` is whole seconds, as
 * EventBridge writes it.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue, EventBridgeEnvelope } from '../../functions/event-triggers/payloads';
import { partnerEventSourceName, TRIGGERS, type TriggerKey } from '../../functions/event-triggers/triggers';
import type { SandboxAccessRequestRecord } from '../sailpoint/access-request-state';
import type { SandboxState } from '../state';
import { filterMatches } from './jsonpath-filter';
import type { SandboxEventTriggers } from './state';

/** Hands `payload` to every matching subscription of `trigger`; returns the envelopes sent. */
function emitTrigger(
  triggers: SandboxEventTriggers,
  trigger: TriggerKey,
  payload: Record<string, unknown>,
  now: Date,
): EventBridgeEnvelope[] {
  const sent: EventBridgeEnvelope[] = [];
  for (const subscription of triggers.subscriptions.values()) {
    if (subscription.triggerId !== TRIGGERS[trigger].id || !subscription.enabled) continue;
    if (subscription.type !== 'EVENTBRIDGE' || !subscription.eventBridgeConfig) continue;
    if (subscription.filter && !filterMatches(subscription.filter, payload)) continue;
    const envelope: EventBridgeEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': TRIGGERS[trigger].id,
      source: partnerEventSourceName(subscription.id, trigger),
      account: subscription.eventBridgeConfig.awsAccount,
      time: `${now.toISOString().slice(0, 19)}Z`,
      region: subscription.eventBridgeConfig.awsRegion,
      resources: [],
      detail: {
        ...structuredClone(payload),
        _metadata: {
          triggerId: TRIGGERS[trigger].id,
          triggerType: 'fireAndForget',
          invocationId: randomUUID(),
        },
      },
    };
    sent.push(envelope);
    deliver(triggers, envelope);
  }
  return sent;
}

/** Delivers an envelope (again): what a re-delivery by ISC or EventBridge looks like. */
function deliver(triggers: SandboxEventTriggers, envelope: EventBridgeEnvelope): void {
  triggers.delivered.push(envelope);
  const delivery = Promise.resolve()
    .then(() => triggers.deliver(envelope))
    .catch((error: unknown) => {
      process.stderr.write(
        `sandbox event delivery failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  triggers.pending.add(delivery);
  void delivery.finally(() => triggers.pending.delete(delivery));
}

/** The events of access request records decided together: a decision per request, provisioning of the approved. */
export function emitAccessRequestEvents(
  state: SandboxState,
  decided: readonly SandboxAccessRequestRecord[],
  now: Date,
): void {
  const byRequest = new Map<string, SandboxAccessRequestRecord[]>();
  for (const record of decided) {
    byRequest.set(record.accessRequestId, [...(byRequest.get(record.accessRequestId) ?? []), record]);
  }
  for (const records of byRequest.values()) {
    emitAccessRequestDecision(state, records, now);
    emitProvisioningCompleted(
      state,
      records.filter((r) => r.decision === 'APPROVED'),
      now,
    );
  }
}

const ref = (id: string, name: string) => ({ type: 'IDENTITY' as const, id, name });

/** Access Request Decision for the records of one access request decided together. */
function emitAccessRequestDecision(
  state: SandboxState,
  records: readonly SandboxAccessRequestRecord[],
  now: Date,
): void {
  const first = records[0];
  if (!first) return;
  const requestedFor = [...new Map(records.map((r) => [r.requestedFor.id, r.requestedFor])).values()];
  emitTrigger(
    state.triggers,
    'accessRequestDecision',
    {
      accessRequestId: first.accessRequestId,
      requestedFor: requestedFor.map((r) => ref(r.id, r.name)),
      requestedItemsStatus: records.map((record) => {
        // Both set when the record was decided (sandbox/sailpoint/access-requests.ts), before this runs.
        const approver = record.approver!;
        return {
          id: record.item.id,
          name: record.item.name,
          description: record.item.description,
          type: record.item.type,
          operation: record.requestType === 'GRANT_ACCESS' ? 'Add' : 'Remove',
          comment: record.comment ?? null,
          clientMetadata: record.clientMetadata ? { ...record.clientMetadata } : null,
          approvalInfo: [
            {
              approvalComment: record.approvalComment,
              approvalDecision: record.decision === 'REJECTED' ? 'DENIED' : 'APPROVED',
              approverName: approver.name,
              approver: ref(approver.id, approver.name),
            },
          ],
        };
      }),
      requestedBy: ref(first.requester.id, first.requester.name),
    },
    now,
  );
}

export function approverOf(
  state: SandboxState,
  record: SandboxAccessRequestRecord,
): { id: string; name: string } {
  const managerId = state.identities.get(record.requestedFor.id)?.managerId;
  const manager = managerId === undefined ? undefined : state.identities.get(managerId);
  return manager ? { id: manager.id, name: manager.displayName } : record.requester;
}

/** Provisioning Completed for approved records: one event per identity and access request. */
function emitProvisioningCompleted(
  state: SandboxState,
  records: readonly SandboxAccessRequestRecord[],
  now: Date,
): void {
  const byRecipient = new Map<string, SandboxAccessRequestRecord[]>();
  for (const record of records) {
    const key = `${record.accessRequestId}|${record.requestedFor.id}`;
    byRecipient.set(key, [...(byRecipient.get(key) ?? []), record]);
  }
  for (const group of byRecipient.values()) {
    const first = group[0]!;
    const identity = state.identities.get(first.requestedFor.id);
    // The error asked once when the record was decided (state.ts), kept on the record; none: SUCCESS.
    const errors = group.flatMap((record) =>
      record.provisioningError === undefined ? [] : [record.provisioningError],
    );
    const accountRequests = group.flatMap((record) => {
      const item = state.accessItems.get(record.item.id);
      if (!item?.source) return [];
      const failed = record.provisioningError !== undefined;
      return [
        {
          source: { id: item.source.id, type: 'SOURCE', name: item.source.name },
          accountId: identity?.name ?? record.requestedFor.id,
          accountOperation: 'Modify',
          provisioningResult: failed ? 'FAILED' : 'SUCCESS',
          provisioningTarget: item.source.name,
          ticketId: null,
          attributeRequests: [
            {
              attributeName: item.attribute ?? 'assignedAccess',
              attributeValue: item.value ?? item.name,
              operation: record.requestType === 'GRANT_ACCESS' ? 'Add' : 'Remove',
            },
          ],
        },
      ];
    });
    emitTrigger(
      state.triggers,
      'provisioningCompleted',
      {
        trackingNumber: first.accessRequestId,
        sources: [...new Set(accountRequests.map((a) => a.source.name))].join(', '),
        action: 'AccessRequest',
        errors: errors.length > 0 ? errors : null,
        warnings: null,
        recipient: ref(first.requestedFor.id, first.requestedFor.name),
        requester: ref(first.requester.id, first.requester.name),
        accountRequests,
      },
      now,
    );
  }
}

/** Changes identity attributes (as an HR aggregation would) and emits Identity Attributes Changed. */
export function changeIdentityAttributes(
  state: SandboxState,
  identityId: string,
  values: Readonly<Record<string, AttributeValue>>,
  now: Date,
): EventBridgeEnvelope[] {
  const identity = state.identities.get(identityId);
  if (!identity) throw new Error(`sandbox: unknown identity ${identityId}`);
  const changes = Object.entries(values)
    .filter(
      ([attribute, value]) =>
        JSON.stringify(identity.attributes[attribute] ?? null) !== JSON.stringify(value),
    )
    .map(([attribute, value]) => ({
      attribute,
      oldValue: (identity.attributes[attribute] ?? null) as AttributeValue,
      newValue: value,
    }));
  if (changes.length === 0) return [];
  for (const { attribute, newValue } of changes) {
    if (newValue === null) delete identity.attributes[attribute];
    else identity.attributes[attribute] = newValue;
  }
  return emitTrigger(
    state.triggers,
    'identityAttributesChanged',
    { identity: ref(identity.id, identity.displayName), changes },
    now,
  );
}

/** Deletes an identity (as when its authoritative account goes) and emits Identity Deleted. */
export function deleteIdentity(state: SandboxState, identityId: string, now: Date): EventBridgeEnvelope[] {
  const identity = state.identities.get(identityId);
  if (!identity) throw new Error(`sandbox: unknown identity ${identityId}`);
  // Gone from Search at once too (the sandbox models Search's lag for access and new identities only),
  // and so are its own reassignment configurations; configurations naming it as the target stay.
  state.identities.delete(identityId);
  state.reassignments.delete(identityId);
  return emitTrigger(
    state.triggers,
    'identityDeleted',
    {
      identity: ref(identity.id, identity.displayName),
      attributes: {
        ...identity.attributes,
        firstname: identity.firstName,
        lastname: identity.lastName,
        email: identity.email,
      },
    },
    now,
  );
}
