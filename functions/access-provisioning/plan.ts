/**
 * Stage 1 — plan (pure): parse and validate every message of the batch, split the valid ones into
 * units, and merge the units of the same access across the batch.
 *
 * - Invalid messages (contract.ts, or a REVOKE for the credential's own identity) are marked with the
 *   reason; they contribute no units.
 * - The earliest-sent message owns a unit; later messages asking for the same unit are its other
 *   owners (reported as duplicates unless the first cannot go ahead).
 * - A unit of the opposite request type of the same access waits behind the first one in this batch
 *   (the GRANT/REVOKE race rule, slot-policy.ts): SQS standard queues do not order, SentTimestamp is
 *   the best signal of the sender's intent.
 */
import type { BatchMessage } from './batch';
import { parseAccessRequestMessage, type AccessRequestMessage, type RequestType } from './contract';
import { unitsOf, type Unit } from './units';

export interface PlannedMessage {
  readonly message: BatchMessage;
  /** Position in the batch as received (breaks SentTimestamp ties). */
  readonly order: number;
  readonly parsed?: AccessRequestMessage;
  readonly requestId?: string;
  /** Why the message is invalid (it is dead-lettered with this reason). */
  readonly invalid?: string;
  /** Its units, in message order; none for an invalid message. */
  readonly units: readonly Unit[];
}

export interface PlannedUnit {
  readonly unit: Unit;
  /** Messages of this batch asking for the unit, earliest-sent first. */
  readonly owners: readonly string[];
  /** The first owner's caller requestId, kept on the slot for operators. */
  readonly requestId?: string;
  /** The opposite request type of the same access goes first in this batch (its first owner). */
  readonly behind?: { readonly requestType: RequestType; readonly messageId: string };
}

export interface BatchPlan {
  readonly messages: readonly PlannedMessage[];
  /** One per distinct unit of the valid messages, in send order. */
  readonly units: readonly PlannedUnit[];
}

export function planBatch(
  messages: readonly BatchMessage[],
  ctx: { readonly now: number; readonly requesterId: string },
): BatchPlan {
  const planned = messages.map((message, order) => planMessage(message, order, ctx));
  return { messages: planned, units: mergeUnits(planned) };
}

function planMessage(
  message: BatchMessage,
  order: number,
  ctx: { readonly now: number; readonly requesterId: string },
): PlannedMessage {
  const parsed = parseAccessRequestMessage(message.body, ctx.now);
  if (!parsed.ok) {
    return {
      message,
      order,
      invalid: parsed.reason,
      units: [],
      ...(parsed.requestId ? { requestId: parsed.requestId } : {}),
    };
  }
  const base = {
    message,
    order,
    parsed: parsed.message,
    ...(parsed.message.requestId ? { requestId: parsed.message.requestId } : {}),
  };
  if (parsed.message.requestType === 'REVOKE_ACCESS' && parsed.message.requestedFor[0] === ctx.requesterId) {
    return {
      ...base,
      units: [],
      invalid:
        `invalid message: REVOKE_ACCESS for ${ctx.requesterId}, the identity behind the SailPoint credential: ` +
        'SailPoint does not support revoking your own access (a manager or ORG_ADMIN must request it)',
    };
  }
  return { ...base, units: unitsOf(parsed.message) };
}

/** One planned unit per distinct unit; same-slot units of the opposite type wait behind the first. */
function mergeUnits(messages: readonly PlannedMessage[]): PlannedUnit[] {
  const ordered = messages
    .filter((m) => !m.invalid)
    .sort((a, b) => a.message.sentAt - b.message.sentAt || a.order - b.order);
  const bySlot = new Map<string, Map<RequestType, { unit: PlannedUnit; owners: string[] }>>();
  const merged: { unit: PlannedUnit; owners: string[] }[] = [];
  for (const planned of ordered) {
    for (const unit of planned.units) {
      let perType = bySlot.get(unit.slot.key);
      if (!perType) bySlot.set(unit.slot.key, (perType = new Map()));
      let entry = perType.get(unit.requestType);
      if (!entry) {
        const first = perType.values().next().value;
        const owners: string[] = [];
        entry = {
          owners,
          unit: {
            unit,
            owners,
            ...(planned.requestId ? { requestId: planned.requestId } : {}),
            ...(first
              ? { behind: { requestType: first.unit.unit.requestType, messageId: first.owners[0]! } }
              : {}),
          },
        };
        perType.set(unit.requestType, entry);
        merged.push(entry);
      }
      entry.owners.push(planned.message.messageId);
    }
  }
  return merged.map((e) => e.unit);
}
