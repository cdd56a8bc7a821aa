/**
 * Where the access event triggers leave their word, in the access-provisioning workflow's table
 * (functions/access-provisioning/state-store.ts describes the items). Single-item writes only, each
 * idempotent, so a re-delivered event rewrites the same values:
 * - on the slot (`IDENTITY#<id>` / `SLOT#<type>#<item>`): `requestEvents.<accessRequestId>#<kind>` —
 *   what the GRANT/REVOKE rule reads instead of polling SailPoint (slot-policy.ts statusFromEvents).
 *   Written only when the slot exists: a request this deployment sent always has one (the claim is
 *   written before the POST), so an event about it is never lost, however early it comes.
 * - under the message credited with the unit (`MESSAGE#<messageId>` / `EVENT#…`): merged into its
 *   outcome when read, whether the outcome was written before or after the event.
 * - `ACCESSREQ#<accessRequestId>` / `PROVISIONING#<identityId>`: a Provisioning Completed that came
 *   before the decision naming its items (it names only the identity and the access request); applied
 *   when the decision comes.
 */
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RequestType } from '../access-provisioning/contract';
import type { UnitEventRecord } from '../access-provisioning/outcomes';
import type { RequestEventFact, SlotRecord } from '../access-provisioning/slot-policy';
import {
  EVENTS_AWAITED_INDEX,
  EVENTS_AWAITED_KEY,
  outcomeKey,
  slotKey,
  toSlotRecord,
} from '../access-provisioning/state-store';
import { isConditionalCheckFailure, queryAll } from '../shared/dynamo';
import type { AwaitedOutcome, AwaitedOutcomeStore } from './access-reconciliation';

/** An access slot: one identity's one access item. */
export interface SlotAddress {
  readonly identityId: string;
  readonly itemType: string;
  readonly itemId: string;
}

/** A Provisioning Completed not yet matched to units (its decision has not come). */
export interface UnmatchedProvisioning {
  readonly accessRequestId: string;
  readonly identityId: string;
  readonly result: 'SUCCESS' | 'PENDING' | 'FAILED';
  readonly at: number;
  readonly errors?: readonly string[];
}

export interface AccessEventStore {
  /** Adds the fact to the slot when it exists; the slot after the write, else undefined. */
  recordOnSlot(slot: SlotAddress, fact: RequestEventFact): Promise<SlotRecord | undefined>;
  /**
   * The identity's slots that know the access request (its id from the POST's answer, or a decision
   * event recorded on the slot), with the request type they know it as.
   */
  slotsOfRequest(
    identityId: string,
    accessRequestId: string,
  ): Promise<{ readonly slot: SlotAddress; readonly operation: RequestType; readonly ours?: boolean }[]>;
  recordUnitEvent(messageId: string, event: UnitEventRecord): Promise<void>;
  recordUnmatchedProvisioning(event: UnmatchedProvisioning): Promise<void>;
  unmatchedProvisioning(accessRequestId: string): Promise<UnmatchedProvisioning[]>;
}

/** How long event records outside a slot are kept (DynamoDB TTL cleans up; nothing relies on it). */
const EVENT_RETENTION_MS = 30 * 86_400_000;

export const factKey = (fact: Pick<RequestEventFact, 'accessRequestId' | 'kind'>) =>
  `${fact.accessRequestId}#${fact.kind}`;

export class DynamoAccessEventStore implements AccessEventStore, AwaitedOutcomeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async recordOnSlot(slot: SlotAddress, fact: RequestEventFact): Promise<SlotRecord | undefined> {
    const names = { '#events': 'requestEvents', '#fact': factKey(fact) };
    const value = { ...fact };
    // The map exists once a first event was recorded; the first one creates it. Two rounds cover a
    // concurrent first event. Neither write bumps the slot's version: a claim decided on a read of
    // the slot stays valid (an event only ever adds to what the rule may rely on).
    for (let round = 0; round < 2; round++) {
      try {
        const updated = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: slotKey(slot),
            UpdateExpression: 'SET #events.#fact = :fact',
            ConditionExpression: 'attribute_exists(pk) AND attribute_exists(#events)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':fact': value },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toSlotRecord(updated.Attributes ?? {});
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
      }
      try {
        const created = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: slotKey(slot),
            UpdateExpression: 'SET #events = :events',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#events)',
            ExpressionAttributeNames: { '#events': 'requestEvents' },
            ExpressionAttributeValues: { ':events': { [factKey(fact)]: value } },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toSlotRecord(created.Attributes ?? {});
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
      }
      // Neither condition held: no slot, or the map appeared between the two writes (round two).
    }
    return undefined;
  }

  async slotsOfRequest(identityId: string, accessRequestId: string) {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :slot)',
      ExpressionAttributeValues: { ':pk': `IDENTITY#${identityId}`, ':slot': 'SLOT#' },
      ConsistentRead: true,
    });
    const found: { slot: SlotAddress; operation: RequestType; ours?: boolean }[] = [];
    for (const item of items) {
      const record = toSlotRecord(item);
      const slot = {
        identityId,
        itemType: String(item.itemType),
        itemId: String(item.itemId),
      };
      const decided = record.requestEvents?.find(
        (f) => f.accessRequestId === accessRequestId && f.kind === 'decision',
      );
      if (record.accessRequestIds?.includes(accessRequestId)) {
        found.push({ slot, operation: record.operation, ours: true });
      } else if (decided) {
        found.push({
          slot,
          operation: decided.operation,
          ...(decided.ours === undefined ? {} : { ours: decided.ours }),
        });
      }
    }
    return found;
  }

  async recordUnitEvent(messageId: string, event: UnitEventRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: outcomeKey(messageId).pk,
          sk: [
            'EVENT',
            event.identityId,
            event.itemType,
            event.itemId,
            event.operation,
            event.accessRequestId,
            event.kind,
          ].join('#'),
          ...event,
          kind: 'unit-event',
          eventKind: event.kind,
          expiresAt: Math.ceil((this.now().getTime() + EVENT_RETENTION_MS) / 1000),
        },
      }),
    );
  }

  async recordUnmatchedProvisioning(event: UnmatchedProvisioning): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `ACCESSREQ#${event.accessRequestId}`,
          sk: `PROVISIONING#${event.identityId}`,
          kind: 'unmatched-provisioning',
          ...event,
          expiresAt: Math.ceil((this.now().getTime() + EVENT_RETENTION_MS) / 1000),
        },
      }),
    );
  }

  async unmatchedProvisioning(accessRequestId: string): Promise<UnmatchedProvisioning[]> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ACCESSREQ#${accessRequestId}` },
      ConsistentRead: true,
    });
    return items.map((i) => ({
      accessRequestId: String(i.accessRequestId),
      identityId: String(i.identityId),
      result: i.result as UnmatchedProvisioning['result'],
      at: Number(i.at),
      ...(Array.isArray(i.errors) ? { errors: i.errors as string[] } : {}),
    }));
  }

  // The index of outcomes awaiting SailPoint's final word (state-store.ts; the reconciliation's).

  async due(before: string, limit: number): Promise<{ items: AwaitedOutcome[]; more: boolean }> {
    // One page of `limit` (+1 to tell whether more are due): the run's cap, oldest first.
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: EVENTS_AWAITED_INDEX,
        KeyConditionExpression: 'eventsAwaitedKey = :key AND eventsAwaitedSince <= :before',
        ExpressionAttributeValues: { ':key': EVENTS_AWAITED_KEY, ':before': before },
        Limit: limit + 1,
      }),
    );
    const items = (result.Items ?? []).map((i) => ({
      messageId: String(i.messageId),
      since: String(i.eventsAwaitedSince),
    }));
    return { items: items.slice(0, limit), more: items.length > limit };
  }

  async settle(entry: AwaitedOutcome): Promise<void> {
    await this.moveAwaited(entry, 'REMOVE eventsAwaitedKey, eventsAwaitedSince', {});
  }

  async defer(entry: AwaitedOutcome, next: string): Promise<void> {
    await this.moveAwaited(entry, 'SET eventsAwaitedSince = :next', { ':next': next });
  }

  /** Changes the outcome's place in the index, unless it moved since it was read (then nothing). */
  private async moveAwaited(entry: AwaitedOutcome, update: string, values: Record<string, string>) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: outcomeKey(entry.messageId),
          UpdateExpression: update,
          ConditionExpression: 'eventsAwaitedSince = :since',
          ExpressionAttributeValues: { ':since': entry.since, ...values },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
}
