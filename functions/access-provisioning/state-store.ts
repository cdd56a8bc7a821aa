/**
 * DynamoDB state of the workflow, in the shared `accessRequests` table (generic pk/sk, TTL on
 * `expiresAt`). Every write is a single-item conditional write: no transactions, and expiry is
 * decided by comparing times (in code and in the condition), never by trusting TTL deletion.
 *
 * Items
 * - Slot (one per identity and access item; the latest unit of work for it):
 *     pk `IDENTITY#<identityId>`  sk `SLOT#<itemType>#<itemId>`
 *     operation, state (claimed | submitted | free), claimToken, messageId, requestId, claimedAt,
 *     leaseExpiresAt, attemptSince, attemptUntil, submittedAt, dedupUntil, accessRequestIds,
 *     reconciled, submissions[], version; requestEvents (map `<accessRequestId>#<kind>` → what an
 *     ISC event trigger said of that request; written by the event-triggers function, never by a claim
 *     of this workflow, which replaces the item and so forgets the events of the requests before it).
 *     No expiresAt: TTL never deletes a slot. A claim is the record of an attempt that may have
 *     reached SailPoint, and a submission decides the GRANT/REVOKE rule until SailPoint says the
 *     request has finished — however long that takes; neither may vanish on a timer. A slot is
 *     overwritten by the next unit of the same access, and deleted when a claim with nothing to
 *     remember is given back, so there is at most one item per access ever requested.
 * - Processed request (one per caller requestId whose message finished; request-dedup.ts):
 *     pk `REQUEST#<requestId>`  sk `PROCESSED`
 *     requestId, messageId, fingerprint, processedAt, retainUntil (decides), expiresAt (cleans up)
 * - Outcome (one per SQS message; "what happened to message M / request X"):
 *     pk `MESSAGE#<messageId>`  sk `OUTCOME`
 *     messageId, requestRef (the caller's requestId; GSI byRequestId with recordedAt), status, reason,
 *     units[], unitCounts, unitsOmitted, receiveCount, firstSeenAt, updatedAt, recordedAt, history[]
 *     (one entry per receive, at most 20), expiresAt (updatedAt + retention). Bounded by
 *     OUTCOME_LIMITS so it never outgrows an item. With event triggers configured (`awaitEvents`), an
 *     outcome with submitted units also carries eventsAwaitedKey + eventsAwaitedSince (sparse GSI
 *     byEventsAwaited): the reconciliation of lost events (functions/event-triggers/access-reconciliation.ts)
 *     finds them there and removes both once every submitted unit has SailPoint's final word.
 * - Unit event (one per unit, access request and event kind; the event-triggers function's record of
 *   what ISC said of a unit this message submitted, merged into the outcome when it is read):
 *     pk `MESSAGE#<messageId>`  sk `EVENT#<identityId>#<itemType>#<itemId>#<requestType>#<accessRequestId>#<kind>`
 *     UnitEventRecord fields (its `kind` as eventKind), expiresAt.
 * Times are epoch milliseconds, except expiresAt (epoch seconds, as DynamoDB TTL wants).
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure, queryAll } from '../shared/dynamo';
import type { RequestType } from './contract';
import {
  unitRequestStates,
  unitStateKey,
  type MessageStatus,
  type UnitEventRecord,
  type UnitOutcomeKind,
  type UnitRequestState,
} from './outcomes';
import type { Expectation, RequestEventFact, SlotRecord, SubmissionEntry } from './slot-policy';
import { describeUnit, type SlotRef } from './units';

const BATCH_GET_LIMIT = 100;

/** The sparse index of outcomes whose submitted units still await SailPoint's final word (tables.ts). */
export const EVENTS_AWAITED_INDEX = 'byEventsAwaited';
/** The index's one partition: all awaited outcomes, ordered by eventsAwaitedSince (ISO time). */
export const EVENTS_AWAITED_KEY = 'AWAITED';

/**
 * What keeps an outcome item within DynamoDB's 400 KB whatever the message: at most `unitsBytes` of
 * unit entries (MAX_UNITS_PER_MESSAGE keeps real messages far below; beyond it the record lists the
 * first units and counts the rest in `unitsOmitted`, with `unitCounts` per outcome always complete),
 * texts cut to their limit, and at most `historyEntries` history entries (the first ones and the
 * latest). Worst case ≈ 300 + 4 + 20 × 0.6 KB, checked against dynalite in the store's tests.
 */
export const OUTCOME_LIMITS = {
  unitsBytes: 300_000,
  detailChars: 500,
  accessRequestIds: 5,
  reasonChars: 4000,
  historyEntries: 20,
  historyReasonChars: 500,
} as const;

/** A unit entry as stored (its description `unit` is derived when read). */
type StoredUnit = Omit<UnitOutcomeRecord, 'unit'> & { readonly unit?: string };

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/** The unit entries to store (within OUTCOME_LIMITS.unitsBytes), how many were left out, counts per outcome. */
export function boundedUnits(units: readonly UnitOutcomeRecord[]) {
  const counts: Record<string, number> = {};
  const listed: StoredUnit[] = [];
  let bytes = 0;
  for (const { unit: _description, ...unit } of units) {
    counts[unit.outcome] = (counts[unit.outcome] ?? 0) + 1;
    const stored: StoredUnit = {
      ...unit,
      detail: cut(unit.detail, OUTCOME_LIMITS.detailChars),
      ...(unit.accessRequestIds
        ? { accessRequestIds: unit.accessRequestIds.slice(0, OUTCOME_LIMITS.accessRequestIds) }
        : {}),
    };
    // JSON length over-counts DynamoDB's item size (names, quotes, commas): a safe estimate.
    const size = Buffer.byteLength(JSON.stringify(stored));
    if (bytes + size > OUTCOME_LIMITS.unitsBytes) continue;
    bytes += size;
    listed.push(stored);
  }
  return { listed, omitted: units.length - listed.length, counts };
}

export interface ClaimWrite {
  readonly operation: RequestType;
  readonly claimToken: string;
  readonly messageId: string;
  readonly requestId?: string;
  readonly now: number;
  readonly leaseMs: number;
  readonly attemptSince: number;
  /** The latest moment this claim's holder may send a POST (its invocation deadline). */
  readonly attemptUntil: number;
  /** Submissions the slot keeps (carried over from the record this claim replaces). */
  readonly submissions?: readonly SubmissionEntry[];
}

export interface Submission {
  readonly submittedAt: number;
  readonly dedupUntil: number;
  readonly accessRequestIds?: readonly string[];
  readonly reconciled?: boolean;
  /** The message credited with the submission (the claim may have been written by another owner). */
  readonly messageId?: string;
  /** The slot's submissions, including this one. */
  readonly submissions?: readonly SubmissionEntry[];
}

export interface UnitOutcomeRecord {
  readonly unit: string;
  readonly requestType: RequestType;
  readonly identityId: string;
  readonly itemType: string;
  readonly itemId: string;
  readonly outcome: UnitOutcomeKind;
  readonly detail: string;
  readonly accessRequestIds?: readonly string[];
  /** What SailPoint's event triggers said of the unit's request, when they did (merged when read). */
  readonly sailpoint?: UnitRequestState;
}

export interface OutcomeRecord {
  readonly messageId: string;
  readonly requestId?: string;
  readonly receiveCount: number;
  /**
   * Failed attempts charged to the message so far, this one included (a receive the invocation did
   * not reach is not one: the message is requeued, workflow.ts); 0 once it is dead-lettered, so a
   * redrive starts over. Absent: receiveCount.
   */
  readonly attempts?: number;
  readonly status: MessageStatus;
  readonly reason?: string;
  readonly units: readonly UnitOutcomeRecord[];
  readonly at: number;
  readonly retentionMs: number;
}

export interface StoredOutcome {
  readonly messageId: string;
  readonly requestId?: string;
  readonly status: MessageStatus;
  readonly reason?: string;
  readonly units: readonly UnitOutcomeRecord[];
  /** Units not listed because the record reached its size budget (OUTCOME_LIMITS); see unitCounts. */
  readonly unitsOmitted?: number;
  /** Every unit of the message, counted per outcome. */
  readonly unitCounts: Readonly<Record<string, number>>;
  readonly receiveCount: number;
  readonly firstSeenAt: number;
  readonly updatedAt: number;
  readonly history: readonly { at: string; status: MessageStatus; receiveCount: number; reason?: string }[];
}

/** A caller requestId whose message finished (request-dedup.ts). */
export interface ProcessedRequest {
  readonly requestId: string;
  /** The message that finished it: its redeliveries are not duplicates of it. */
  readonly messageId: string;
  /** The request without its requestId, hashed: a re-send has the same one. */
  readonly fingerprint: string;
  readonly processedAt: number;
  /** Epoch ms: a message with this requestId is a duplicate until then (the outcome retention). */
  readonly retainUntil: number;
}

/** The port the workflow uses; DynamoProvisioningStore is its adapter. */
export interface ProvisioningStore {
  readSlots(slots: readonly SlotRef[]): Promise<Map<string, SlotRecord>>;
  /** False when the expectation no longer holds (someone else wrote first). */
  claim(slot: SlotRef, claim: ClaimWrite, expect: Expectation): Promise<boolean>;
  /** False when the claim is no longer ours (it was taken over after our lease ran out). */
  markSubmitted(slot: SlotRef, claimToken: string, submission: Submission): Promise<boolean>;
  /**
   * Gives the slot up when nothing was submitted (only if the claim is still ours): deleted, or, when
   * it has submissions to remember, left `free` with them.
   */
  release(slot: SlotRef, claimToken: string, keep?: readonly SubmissionEntry[]): Promise<void>;
  /**
   * Sets when the claim's attempt may last have sent a POST (only if the claim is still ours):
   * extended before a taken-over claim POSTs, narrowed once its POST has returned.
   */
  setAttemptUntil(slot: SlotRef, claimToken: string, attemptUntil: number): Promise<boolean>;
  /**
   * Ends the claim's lease at `now` and its attempt at `attemptUntil` (only if the claim is still
   * ours): the next message takes it over, reconciling first. Used when its message is dead-lettered.
   */
  handOver(slot: SlotRef, claimToken: string, now: number, attemptUntil: number): Promise<boolean>;
  recordOutcome(record: OutcomeRecord): Promise<void>;
  /** The attempts charged so far to these messages (outcome records' `attempts`); absent: none recorded. */
  readAttempts(messageIds: readonly string[]): Promise<Map<string, number>>;
  /** The processed-request records of these caller requestIds (absent: not processed, or never seen). */
  readRequests(requestIds: readonly string[]): Promise<Map<string, ProcessedRequest>>;
  /**
   * Records that a message finished the request (conditional: no other message finished it within
   * its retention). False when another message holds it.
   */
  recordProcessedRequest(request: ProcessedRequest): Promise<boolean>;
  outcomeOfMessage(messageId: string): Promise<StoredOutcome | undefined>;
  outcomesOfRequest(requestId: string): Promise<StoredOutcome[]>;
}

export const slotKey = (slot: {
  readonly identityId: string;
  readonly itemType: string;
  readonly itemId: string;
}) => ({
  pk: `IDENTITY#${slot.identityId}`,
  sk: `SLOT#${slot.itemType}#${slot.itemId}`,
});
export const outcomeKey = (messageId: string) => ({ pk: `MESSAGE#${messageId}`, sk: 'OUTCOME' });
export const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'PROCESSED' });
const itemKey = (item: Record<string, unknown>) => `${String(item.pk)}\u0000${String(item.sk)}`;

export interface ProvisioningStoreOptions {
  /**
   * Event triggers are configured: an outcome with submitted units is listed in the byEventsAwaited
   * index until SailPoint's final word on them is recorded (by an event or the reconciliation).
   */
  readonly awaitEvents?: boolean;
}

export class DynamoProvisioningStore implements ProvisioningStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ProvisioningStoreOptions = {},
  ) {}

  async readSlots(slots: readonly SlotRef[]): Promise<Map<string, SlotRecord>> {
    const byKey = new Map<string, SlotRef>();
    for (const slot of slots) byKey.set(itemKey(slotKey(slot)), slot);
    const found = new Map<string, SlotRecord>();
    for (const item of await this.batchGet([...byKey.values()].map(slotKey))) {
      const slot = byKey.get(itemKey(item));
      if (slot) found.set(slot.key, toSlotRecord(item));
    }
    return found;
  }

  async readAttempts(messageIds: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const item of await this.batchGet([...new Set(messageIds)].map(outcomeKey))) {
      if (typeof item.attempts === 'number') found.set(String(item.messageId), item.attempts);
    }
    return found;
  }

  async readRequests(requestIds: readonly string[]): Promise<Map<string, ProcessedRequest>> {
    const found = new Map<string, ProcessedRequest>();
    for (const item of await this.batchGet([...new Set(requestIds)].map(requestKey))) {
      found.set(String(item.requestId), {
        requestId: String(item.requestId),
        messageId: String(item.messageId),
        fingerprint: String(item.fingerprint),
        processedAt: Number(item.processedAt ?? 0),
        retainUntil: Number(item.retainUntil ?? 0),
      });
    }
    return found;
  }

  async recordProcessedRequest(request: ProcessedRequest): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...requestKey(request.requestId),
          kind: 'request',
          requestId: request.requestId,
          messageId: request.messageId,
          fingerprint: request.fingerprint,
          processedAt: request.processedAt,
          retainUntil: request.retainUntil,
          expiresAt: Math.ceil(request.retainUntil / 1000),
        },
        // The first message to finish the request owns it until its retention ends (decided by time).
        ConditionExpression: 'attribute_not_exists(pk) OR messageId = :messageId OR retainUntil <= :now',
        ExpressionAttributeValues: { ':messageId': request.messageId, ':now': request.processedAt },
      }),
    );
  }

  /** Strongly consistent BatchGetItem over any number of keys (100 per call, unprocessed keys retried). */
  private async batchGet(keys: readonly Record<string, string>[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_LIMIT);
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
        const result: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        items.push(...(result.Responses?.[this.tableName] ?? []));
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return items;
  }

  async claim(slot: SlotRef, claim: ClaimWrite, expect: Expectation): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let condition: string;
    if (expect.kind === 'absent') {
      condition = 'attribute_not_exists(pk)';
    } else {
      names['#version'] = 'version';
      values[':expectedVersion'] = expect.version;
      condition = '#version = :expectedVersion';
      if (expect.expired) {
        names['#expiry'] = expect.expired.field;
        values[':now'] = expect.expired.now;
        condition += ' AND #expiry <= :now';
      }
    }
    const version = expect.kind === 'absent' ? 1 : expect.version + 1;
    return this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...slotKey(slot),
          kind: 'slot',
          identityId: slot.identityId,
          itemType: slot.itemType,
          itemId: slot.itemId,
          operation: claim.operation,
          state: 'claimed',
          claimToken: claim.claimToken,
          messageId: claim.messageId,
          ...(claim.requestId === undefined ? {} : { requestId: claim.requestId }),
          claimedAt: claim.now,
          leaseExpiresAt: claim.now + claim.leaseMs,
          attemptSince: claim.attemptSince,
          attemptUntil: claim.attemptUntil,
          ...(claim.submissions?.length ? { submissions: claim.submissions.map((e) => ({ ...e })) } : {}),
          version,
        },
        ConditionExpression: condition,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  async markSubmitted(slot: SlotRef, claimToken: string, submission: Submission): Promise<boolean> {
    const ids = submission.accessRequestIds ?? [];
    const submissions = submission.submissions ?? [];
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        UpdateExpression:
          'SET #state = :submitted, submittedAt = :submittedAt, dedupUntil = :dedupUntil, ' +
          '#version = #version + :one, reconciled = :reconciled' +
          (ids.length > 0 ? ', accessRequestIds = :ids' : '') +
          (submission.messageId ? ', messageId = :messageId' : '') +
          (submissions.length > 0 ? ', submissions = :submissions' : '') +
          ' REMOVE leaseExpiresAt, expiresAt',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':submitted': 'submitted',
          ':submittedAt': submission.submittedAt,
          ':dedupUntil': submission.dedupUntil,
          ':one': 1,
          ...(submissions.length > 0 ? { ':submissions': submissions.map((e) => ({ ...e })) } : {}),
          ':reconciled': submission.reconciled ?? false,
          ':token': claimToken,
          ...(ids.length > 0 ? { ':ids': [...ids] } : {}),
          ...(submission.messageId ? { ':messageId': submission.messageId } : {}),
        },
      }),
    );
  }

  async release(slot: SlotRef, claimToken: string, keep: readonly SubmissionEntry[] = []): Promise<void> {
    if (keep.length === 0) {
      await this.conditional(
        new DeleteCommand({
          TableName: this.tableName,
          Key: slotKey(slot),
          ConditionExpression: 'claimToken = :token AND #state = :claimed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':token': claimToken, ':claimed': 'claimed' },
        }),
      );
      return;
    }
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        UpdateExpression:
          'SET #state = :free, submissions = :keep, #version = #version + :one ' +
          'REMOVE claimToken, leaseExpiresAt, attemptUntil, expiresAt',
        ConditionExpression: 'claimToken = :token AND #state = :claimed',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':token': claimToken,
          ':claimed': 'claimed',
          ':free': 'free',
          ':keep': keep.map((e) => ({ ...e })),
          ':one': 1,
        },
      }),
    );
  }

  async setAttemptUntil(slot: SlotRef, claimToken: string, attemptUntil: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        // Bumps the version: a taker that read the slot before this write must read it again.
        UpdateExpression: 'SET attemptUntil = :until, #version = #version + :one',
        ConditionExpression: 'claimToken = :token AND #state = :claimed',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':token': claimToken,
          ':claimed': 'claimed',
          ':until': attemptUntil,
          ':one': 1,
        },
      }),
    );
  }

  async handOver(slot: SlotRef, claimToken: string, now: number, attemptUntil: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: slotKey(slot),
        UpdateExpression: 'SET leaseExpiresAt = :now, attemptUntil = :until, #version = #version + :one',
        ConditionExpression: 'claimToken = :token AND #state = :claimed',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':token': claimToken,
          ':claimed': 'claimed',
          ':now': now,
          ':until': attemptUntil,
          ':one': 1,
        },
      }),
    );
  }

  async recordOutcome(record: OutcomeRecord): Promise<void> {
    const recordedAt = new Date(record.at).toISOString();
    const entry = {
      at: recordedAt,
      status: record.status,
      receiveCount: record.receiveCount,
      ...(record.reason === undefined
        ? {}
        : { reason: cut(record.reason, OUTCOME_LIMITS.historyReasonChars) }),
    };
    const { listed, omitted, counts } = boundedUnits(record.units);
    // Listed once (if_not_exists keeps its place when the message is recorded again); the
    // reconciliation removes it, or moves it on while SailPoint has not finished.
    const awaited = this.options.awaitEvents === true && record.units.some((u) => u.outcome === 'submitted');
    const set = [
      'kind = :kind',
      'messageId = :messageId',
      '#status = :status',
      'units = :units',
      'unitCounts = :counts',
      'receiveCount = :receiveCount',
      'attempts = :attempts',
      'updatedAt = :at',
      'recordedAt = :recordedAt',
      'expiresAt = :expiresAt',
      'firstSeenAt = if_not_exists(firstSeenAt, :at)',
      ...(record.requestId === undefined ? [] : ['requestRef = :requestRef']),
      ...(record.reason === undefined ? [] : ['reason = :reason']),
      ...(omitted > 0 ? ['unitsOmitted = :omitted'] : []),
      ...(awaited
        ? [
            'eventsAwaitedKey = :awaitedKey',
            'eventsAwaitedSince = if_not_exists(eventsAwaitedSince, :recordedAt)',
          ]
        : []),
    ];
    const remove = [
      ...(record.reason === undefined ? ['reason'] : []),
      ...(omitted > 0 ? [] : ['unitsOmitted']),
    ];
    const values = {
      ':kind': 'outcome',
      ':messageId': record.messageId,
      ':status': record.status,
      ':units': listed,
      ':counts': counts,
      ':receiveCount': record.receiveCount,
      ':attempts': record.attempts ?? record.receiveCount,
      ':at': record.at,
      ':recordedAt': recordedAt,
      ':expiresAt': Math.ceil((record.at + record.retentionMs) / 1000),
      ...(omitted > 0 ? { ':omitted': omitted } : {}),
      ...(awaited ? { ':awaitedKey': EVENTS_AWAITED_KEY } : {}),
      ...(record.requestId === undefined ? {} : { ':requestRef': record.requestId }),
      ...(record.reason === undefined ? {} : { ':reason': cut(record.reason, OUTCOME_LIMITS.reasonChars) }),
    };
    const update = (history: string, historyValues: Record<string, unknown>, condition?: string) =>
      new UpdateCommand({
        TableName: this.tableName,
        Key: outcomeKey(record.messageId),
        UpdateExpression: `SET ${[...set, history].join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ...(condition ? { ConditionExpression: condition } : {}),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...values, ...historyValues },
      });
    try {
      await this.doc.send(
        update(
          'history = list_append(if_not_exists(history, :empty), :entry)',
          { ':empty': [], ':entry': [entry], ':limit': OUTCOME_LIMITS.historyEntries },
          'attribute_not_exists(history) OR size(history) < :limit',
        ),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      // The history is full: its last entry becomes this receive's (the first ones are kept).
      await this.doc.send(
        update(`history[${OUTCOME_LIMITS.historyEntries - 1}] = :entry`, { ':entry': entry }),
      );
    }
  }

  /** The message's outcome, with what event triggers said of its units (one Query: both live under MESSAGE#). */
  async outcomeOfMessage(messageId: string): Promise<StoredOutcome | undefined> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': outcomeKey(messageId).pk },
      ConsistentRead: true,
    });
    const outcome = items.find((i) => i.sk === 'OUTCOME');
    if (!outcome) return undefined;
    return withEvents(
      toStoredOutcome(outcome),
      items
        .filter((i) => String(i.sk).startsWith('EVENT#'))
        // `kind` names the item's kind in this table; the event's own kind is `eventKind`.
        .map((i) => ({ ...i, kind: i.eventKind }) as unknown as UnitEventRecord),
    );
  }

  async outcomesOfRequest(requestId: string): Promise<StoredOutcome[]> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'byRequestId',
      KeyConditionExpression: 'requestRef = :r',
      ExpressionAttributeValues: { ':r': requestId },
      // Only the ids: each outcome is read again, consistently, with its events.
      ProjectionExpression: 'messageId',
    });
    const outcomes = await Promise.all(items.map((i) => this.outcomeOfMessage(String(i.messageId))));
    return outcomes.filter((o): o is StoredOutcome => o !== undefined);
  }

  /** Runs a conditional write; false when its condition failed. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }
}

export function toSlotRecord(item: Record<string, unknown>): SlotRecord {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    operation: item.operation as RequestType,
    state: item.state === 'submitted' || item.state === 'free' ? item.state : 'claimed',
    claimToken: String(item.claimToken ?? ''),
    messageId: String(item.messageId ?? ''),
    ...(typeof item.requestId === 'string' ? { requestId: item.requestId } : {}),
    claimedAt: num(item.claimedAt) ?? 0,
    ...(num(item.leaseExpiresAt) === undefined ? {} : { leaseExpiresAt: num(item.leaseExpiresAt) }),
    attemptSince: num(item.attemptSince) ?? num(item.claimedAt) ?? 0,
    ...(num(item.attemptUntil) === undefined ? {} : { attemptUntil: num(item.attemptUntil) }),
    ...(num(item.submittedAt) === undefined ? {} : { submittedAt: num(item.submittedAt) }),
    ...(num(item.dedupUntil) === undefined ? {} : { dedupUntil: num(item.dedupUntil) }),
    ...(Array.isArray(item.accessRequestIds) ? { accessRequestIds: item.accessRequestIds as string[] } : {}),
    ...(item.reconciled === true ? { reconciled: true } : {}),
    ...(Array.isArray(item.submissions) ? { submissions: item.submissions as SubmissionEntry[] } : {}),
    ...(item.requestEvents && typeof item.requestEvents === 'object'
      ? { requestEvents: Object.values(item.requestEvents as Record<string, RequestEventFact>) }
      : {}),
    version: num(item.version) ?? 0,
  };
}

/** The outcome with each unit's SailPoint state (from the unit events recorded under its message). */
function withEvents(outcome: StoredOutcome, events: readonly UnitEventRecord[]): StoredOutcome {
  if (events.length === 0) return outcome;
  const states = unitRequestStates(events);
  return {
    ...outcome,
    units: outcome.units.map((u) => {
      const sailpoint = states.get(unitStateKey(u));
      return sailpoint ? { ...u, sailpoint } : u;
    }),
  };
}

function toStoredOutcome(item: Record<string, unknown>): StoredOutcome {
  return {
    messageId: String(item.messageId),
    ...(typeof item.requestRef === 'string' ? { requestId: item.requestRef } : {}),
    status: item.status as MessageStatus,
    ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
    units: ((item.units as StoredUnit[] | undefined) ?? []).map((u) => ({
      ...u,
      unit:
        u.unit ??
        describeUnit({
          requestType: u.requestType,
          identityId: u.identityId,
          item: { type: u.itemType, id: u.itemId },
        }),
    })),
    ...(typeof item.unitsOmitted === 'number' ? { unitsOmitted: item.unitsOmitted } : {}),
    unitCounts: (item.unitCounts as Record<string, number> | undefined) ?? {},
    receiveCount: Number(item.receiveCount ?? 0),
    firstSeenAt: Number(item.firstSeenAt ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
    history: (item.history as StoredOutcome['history'] | undefined) ?? [],
  };
}
