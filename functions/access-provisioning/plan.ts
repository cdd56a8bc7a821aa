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
import { createHash } from 'node:crypto';
import type { BatchMessage } from './batch';
import { parseAccessRequestMessage, type AccessRequestMessage, type RequestType } from './contract';
import type { UnitOutcome } from './outcomes';
import { canonicalJson, unitsOf, type Unit } from './units';

export interface PlannedMessage {
  readonly message: BatchMessage;
  /** Position in the batch as received (breaks SentTimestamp ties). */
  readonly order: number;
  readonly parsed?: AccessRequestMessage;
  readonly requestId?: string;
  /** Its request without the requestId, hashed: a re-send has the same (request-dedup.ts). */
  readonly fingerprint?: string;
  /** Why the message is invalid (it is dead-lettered with this reason). */
  readonly invalid?: string;
  /**
   * The outcome of every unit, decided before any claim (request-dedup.ts: a re-send of a processed
   * request is a duplicate); such a message takes no part in the batch's units.
   */
  readonly decided?: UnitOutcome;
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

export interface PlanContext {
  readonly now: number;
  /** The identity behind the SailPoint credential (it cannot revoke its own access). */
  readonly requesterId: string;
  /** MAX_UNITS_PER_MESSAGE. */
  readonly maxUnitsPerMessage: number;
}

/** Parses and validates every message; mergeUnits then makes the batch's units. */
export function planMessages(messages: readonly BatchMessage[], ctx: PlanContext): PlannedMessage[] {
  return messages.map((message, order) => planMessage(message, order, ctx));
}

function planMessage(message: BatchMessage, order: number, ctx: PlanContext): PlannedMessage {
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
  const { requestId, ...request } = parsed.message;
  const base = {
    message,
    order,
    parsed: parsed.message,
    ...(requestId
      ? { requestId, fingerprint: createHash('sha256').update(canonicalJson(request)).digest('hex') }
      : {}),
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
  const { requestedFor, requestedItems } = parsed.message;
  const count = requestedFor.length * requestedItems.length;
  if (count > ctx.maxUnitsPerMessage) {
    return {
      ...base,
      units: [],
      invalid:
        `invalid message: it asks for ${count} units (${requestedFor.length} identities × ${requestedItems.length} ` +
        `items), more than the ${ctx.maxUnitsPerMessage} a message may carry (MAX_UNITS_PER_MESSAGE): ` +
        'split it into smaller messages',
    };
  }
  return { ...base, units: unitsOf(parsed.message) };
}

/**
 * One planned unit per distinct unit of the messages still in play (not invalid, not decided);
 * same-slot units of the opposite type wait behind the first.
 */
export function mergeUnits(messages: readonly PlannedMessage[]): PlannedUnit[] {
  const ordered = messages
    .filter((m) => !m.invalid && !m.decided)
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
