/**
 * Absence records in DynamoDB (the `absences` table): one item per absence, under its person,
 *   pk = IDENTITY#<identityId>   sk = ABSENCE#<absenceId>
 * so one Query returns every absence of a person (SailPoint's slots are per person, and "is this
 * delegate absent?" is a question about a person). Writes are single-item and conditional on the
 * item's `version`, so two deliveries of events for one absence can never both commit a decision.
 *
 * An absence the scheduled re-check must look at again also carries
 *   deferredKey = DEFERRED   deferredUntil = <when it is due>
 * the keys of the sparse index `byDeferredUntil`: the re-check reads only the absences that are due,
 * never the whole table. Due is the earlier of: the first slot it waits for frees up (a deferred
 * absence: `slotFreesAt`, the record's `deferredUntil`), and its `replanAt` (someone it passed over
 * is back, or a decision of theirs asked for a re-plan). Both attributes go when neither applies.
 *
 * Who passed whom over, for re-planning when the person passed over changes their absence:
 *   pk = IDENTITY#<passed over>   sk = DEPENDENT#<identityId>#<absenceId>   (identityId, absenceId)
 * written before the decision that passed them over (a stale one costs one GetItem, never a wrong
 * re-plan: the absence's own `dependsOn` is checked).
 *
 * One more item per person serialises the reconciliations of that person (SailPoint has no
 * conditional writes, so two reconciliations writing at once could leave a stale configuration):
 *   pk = IDENTITY#<identityId>   sk = RECONCILE
 *   holder, heldUntil   while a reconciliation holds it (a lease: taken with a conditional write,
 *                       expiring when the holder's Lambda invocation must have ended)
 *   dirty               a reconciliation began and has not finished (true from the claim until a
 *                       successful release; a failed or crashed holder leaves it set)
 *   deferredKey, deferredUntil   while dirty: in the re-check's index, due when the lease ends, so
 *                       a reconciliation that nobody retries is finished by the next scheduled run.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure, queryAll } from '../shared/dynamo';
import { TABLES } from '../shared/tables';
import { normalizeOrderKey } from './event';
import type { AbsenceRecord, ConfigurationsByType } from './model';

export interface ReconciliationRecord {
  configurations: ConfigurationsByType;
  deferred: string | null;
  /** With `deferred`: when the first slot it waits for frees up (see AbsenceRecord.deferredUntil). */
  deferredUntil: string | null;
  /** The absence's replanAt as read (it takes part in when the absence is due for the re-check). */
  replanAt: string | null;
  /** Set on the absence whose event triggered the reconciliation. */
  reconciledVersion?: number;
  /** The absence's pending notices, when this record adds one (e.g. it became deferred). */
  notices?: AbsenceRecord['notices'];
}

/** An absence that passed `identityId` over (see DEPENDENT items). */
export interface DependentRef {
  identityId: string;
  absenceId: string;
}

/** What an ignored (out-of-order) event adds to its absence's item. */
export interface IgnoredEventRecord {
  processedEventIds: string[];
  ignoredEvents: AbsenceRecord['ignoredEvents'];
  updatedAt: string;
}

export type ReconcileClaim = { claimed: true } | { claimed: false; heldUntil: string };

export interface ReconcileState {
  /** A reconciliation began, and its holder failed or its lease ran out: the person needs another one. */
  unfinished: boolean;
}

export interface AbsenceStore {
  get(identityId: string, absenceId: string): Promise<AbsenceRecord | undefined>;
  listForIdentity(identityId: string): Promise<AbsenceRecord[]>;
  /**
   * Writes a decision over `read` (the item as read; undefined: the absence must be new). Returns
   * false when another writer got there first (a decision, or an ignored event): re-read and decide again.
   */
  saveDecision(record: AbsenceRecord, read: AbsenceRecord | undefined): Promise<boolean>;
  /**
   * Adds an ignored event to the item as `read`, leaving `version` alone (so a reconciliation
   * recording this absence meanwhile is not disturbed). False when the item changed since `read`.
   */
  recordIgnoredEvent(read: AbsenceRecord, ignored: IgnoredEventRecord): Promise<boolean>;
  /**
   * Takes the person's reconciliation lease until `until` (ISO), if nobody holds it or the holder's
   * lease ended before `now`; marks the person dirty until a successful release.
   */
  claimReconciliation(
    identityId: string,
    holder: string,
    until: string,
    now: string,
  ): Promise<ReconcileClaim>;
  /**
   * Gives the lease back (false: it was no longer ours). `finished`: the person is clean; else it
   * stays dirty and becomes due for the re-check at `now`.
   */
  releaseReconciliation(identityId: string, holder: string, finished: boolean, now: string): Promise<boolean>;
  reconcileState(identityId: string, now: string): Promise<ReconcileState>;
  /** Records what SailPoint holds, if the decision (version) is still the one reconciled. */
  recordReconciliation(
    identityId: string,
    absenceId: string,
    version: number,
    record: ReconciliationRecord,
    at: string,
  ): Promise<boolean>;
  /**
   * Deferred absences whose first awaited slot has freed up by `now`, and people whose last
   * reconciliation did not finish (`absenceId` null). From the sparse index: eventually consistent,
   * so the caller re-reads the person before acting.
   */
  listDeferredDue(now: Date): Promise<DeferredAbsenceRef[]>;
  /** Removes published notices from the absence's pending ones. */
  markNoticesSent(identityId: string, absenceId: string, noticeIds: readonly string[]): Promise<void>;
  /** Records, under each person `record` passed over, that it did (before the decision is saved). */
  saveDependents(record: AbsenceRecord): Promise<void>;
  /** Absences that passed `identityId` over at some point (check their `dependsOn`: some are stale). */
  listDependents(identityId: string): Promise<DependentRef[]>;
  /**
   * Makes an active absence due for a re-plan now (its replanAt and the index), as a decision would
   * (version + 1, so a reconciliation recording it meanwhile runs another round). False: not active.
   */
  markReplanDue(identityId: string, absenceId: string, at: string): Promise<boolean>;
}

export interface DeferredAbsenceRef {
  identityId: string;
  /** null: not an absence but the person's unfinished reconciliation. */
  absenceId: string | null;
  deferredUntil: string;
}

/** The index of deferred absences (functions/shared/tables.ts), and the one value of its partition key. */
export const DEFERRED_INDEX = TABLES.absences.globalSecondaryIndexes[0].indexName;
const DEFERRED_KEY = 'DEFERRED';

const DAY_SECONDS = 86_400;

export const absenceKey = (identityId: string, absenceId: string) => ({
  pk: `IDENTITY#${identityId}`,
  sk: `ABSENCE#${absenceId}`,
});

export const reconcileKey = (identityId: string) => ({ pk: `IDENTITY#${identityId}`, sk: 'RECONCILE' });

const DEPENDENT_PREFIX = 'DEPENDENT#';
const dependentKey = (passedOver: string, dependent: DependentRef) => ({
  pk: `IDENTITY#${passedOver}`,
  sk: `${DEPENDENT_PREFIX}${encodeURIComponent(dependent.identityId)}#${encodeURIComponent(dependent.absenceId)}`,
});

/** When the re-check must look at the absence again (the index's sort key), or null: never on its own. */
export function dueAt(
  absence: Pick<AbsenceRecord, 'deferred' | 'deferredUntil' | 'replanAt'>,
): string | null {
  const times = [absence.deferred !== null ? absence.deferredUntil : null, absence.replanAt].filter(
    (t): t is string => t !== null,
  );
  return times.length ? times.sort()[0]! : null;
}

/** The item as read: its version, and how many event ids it held (an ignored event adds one). */
function unchangedSince(read: AbsenceRecord) {
  return {
    ConditionExpression: '#version = :expected AND size(#processed) = :processedCount',
    names: { '#version': 'version', '#processed': 'processedEventIds' },
    values: { ':expected': read.version, ':processedCount': read.processedEventIds.length },
  };
}

export class DynamoAbsenceStore implements AbsenceStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Items expire this many days after their window ends (or after a cancellation); open-ended active ones never. */
    private readonly retentionDays: number,
  ) {}

  async get(identityId: string, absenceId: string): Promise<AbsenceRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: absenceKey(identityId, absenceId),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item) : undefined;
  }

  async listForIdentity(identityId: string): Promise<AbsenceRecord[]> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :absence)',
      ExpressionAttributeValues: { ':pk': `IDENTITY#${identityId}`, ':absence': 'ABSENCE#' },
      ConsistentRead: true,
    });
    return items.map(fromItem);
  }

  async saveDecision(record: AbsenceRecord, read: AbsenceRecord | undefined): Promise<boolean> {
    const condition = read ? unchangedSince(read) : undefined;
    return this.written(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record, this.expiresAt(record)),
          ...(condition === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: condition.ConditionExpression,
                ExpressionAttributeNames: condition.names,
                ExpressionAttributeValues: condition.values,
              }),
        }),
      ),
    );
  }

  async recordIgnoredEvent(read: AbsenceRecord, ignored: IgnoredEventRecord): Promise<boolean> {
    const condition = unchangedSince(read);
    return this.written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: absenceKey(read.identityId, read.absenceId),
          ConditionExpression: `attribute_exists(pk) AND ${condition.ConditionExpression}`,
          UpdateExpression: 'SET #processed = :processed, #ignoredEvents = :ignored, #updatedAt = :at',
          ExpressionAttributeNames: {
            ...condition.names,
            '#ignoredEvents': 'ignoredEvents',
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: {
            ...condition.values,
            ':processed': ignored.processedEventIds,
            ':ignored': ignored.ignoredEvents,
            ':at': ignored.updatedAt,
          },
        }),
      ),
    );
  }

  async claimReconciliation(
    identityId: string,
    holder: string,
    until: string,
    now: string,
  ): Promise<ReconcileClaim> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: reconcileKey(identityId),
          ConditionExpression: 'attribute_not_exists(#holder) OR #heldUntil < :now',
          UpdateExpression:
            'SET #identityId = :identityId, #holder = :holder, #heldUntil = :until, #dirty = :true, ' +
            '#deferredKey = :deferredKey, #deferredUntil = :until REMOVE #expiresAt',
          ExpressionAttributeNames: {
            '#identityId': 'identityId',
            '#holder': 'holder',
            '#heldUntil': 'heldUntil',
            '#dirty': 'dirty',
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            '#expiresAt': 'expiresAt',
          },
          ExpressionAttributeValues: {
            ':identityId': identityId,
            ':holder': holder,
            ':until': until,
            ':now': now,
            ':true': true,
            ':deferredKey': DEFERRED_KEY,
          },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      const item = await this.reconcileItem(identityId);
      // Released in between: the caller tries again at once.
      return { claimed: false, heldUntil: typeof item?.heldUntil === 'string' ? item.heldUntil : now };
    }
  }

  async releaseReconciliation(
    identityId: string,
    holder: string,
    finished: boolean,
    now: string,
  ): Promise<boolean> {
    return this.written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: reconcileKey(identityId),
          ConditionExpression: '#holder = :holder',
          UpdateExpression: finished
            ? 'SET #dirty = :false, #expiresAt = :expiresAt REMOVE #holder, #heldUntil, #deferredKey, #deferredUntil'
            : 'SET #dirty = :true, #deferredKey = :deferredKey, #deferredUntil = :now REMOVE #holder, #heldUntil',
          ExpressionAttributeNames: {
            '#holder': 'holder',
            '#heldUntil': 'heldUntil',
            '#dirty': 'dirty',
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            ...(finished ? { '#expiresAt': 'expiresAt' } : {}),
          },
          ExpressionAttributeValues: {
            ':holder': holder,
            ...(finished
              ? {
                  ':false': false,
                  ':expiresAt': Math.floor(Date.parse(now) / 1000) + this.retentionDays * DAY_SECONDS,
                }
              : { ':true': true, ':deferredKey': DEFERRED_KEY, ':now': now }),
          },
        }),
      ),
    );
  }

  async reconcileState(identityId: string, now: string): Promise<ReconcileState> {
    const item = await this.reconcileItem(identityId);
    const held = typeof item?.heldUntil === 'string' && item.heldUntil >= now;
    return { unfinished: item?.dirty === true && !held };
  }

  private async reconcileItem(identityId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: reconcileKey(identityId), ConsistentRead: true }),
    );
    return Item;
  }

  async recordReconciliation(
    identityId: string,
    absenceId: string,
    version: number,
    record: ReconciliationRecord,
    at: string,
  ): Promise<boolean> {
    const reconciled = record.reconciledVersion !== undefined;
    const withNotices = record.notices !== undefined;
    // In the index while due some day (an index key cannot be null: the attributes go otherwise).
    const due = dueAt(record);
    return this.written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: absenceKey(identityId, absenceId),
          ConditionExpression: 'attribute_exists(pk) AND #version = :version',
          UpdateExpression:
            'SET #configurations = :configurations, #deferred = :deferred, #slotFreesAt = :slot, #updatedAt = :at' +
            (reconciled ? ', #reconciledVersion = :reconciled' : '') +
            (withNotices ? ', #notices = :notices' : '') +
            (due !== null
              ? ', #deferredKey = :deferredKey, #deferredUntil = :due'
              : ' REMOVE #deferredKey, #deferredUntil'),
          ExpressionAttributeNames: {
            '#version': 'version',
            '#configurations': 'configurations',
            '#deferred': 'deferred',
            '#slotFreesAt': 'slotFreesAt',
            '#updatedAt': 'updatedAt',
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            ...(reconciled ? { '#reconciledVersion': 'reconciledVersion' } : {}),
            ...(withNotices ? { '#notices': 'notices' } : {}),
          },
          ExpressionAttributeValues: {
            ':version': version,
            ':configurations': record.configurations,
            ':deferred': record.deferred,
            ':slot': record.deferred !== null ? record.deferredUntil : null,
            ':at': at,
            ...(reconciled ? { ':reconciled': record.reconciledVersion } : {}),
            ...(withNotices ? { ':notices': record.notices } : {}),
            ...(due !== null ? { ':deferredKey': DEFERRED_KEY, ':due': due } : {}),
          },
        }),
      ),
    );
  }

  async markNoticesSent(identityId: string, absenceId: string, noticeIds: readonly string[]): Promise<void> {
    if (noticeIds.length === 0) return;
    const names = Object.fromEntries(noticeIds.map((id, i) => [`#n${i}`, id]));
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: absenceKey(identityId, absenceId),
          ConditionExpression: 'attribute_exists(#notices)',
          UpdateExpression: `REMOVE ${noticeIds.map((_, i) => `#notices.#n${i}`).join(', ')}`,
          ExpressionAttributeNames: { '#notices': 'notices', ...names },
        }),
      )
      .catch((error: unknown) => {
        // The map is gone only if the item was rewritten without it: nothing left to remove.
        if (!isConditionalCheckFailure(error)) throw error;
      });
  }

  async saveDependents(record: AbsenceRecord): Promise<void> {
    const dependent = { identityId: record.identityId, absenceId: record.absenceId };
    const passedOver = [...new Set(record.dependsOn.map((d) => d.identityId))];
    const expiresAt = this.expiresAt(record);
    for (const identityId of passedOver) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...dependentKey(identityId, dependent), ...dependent, expiresAt },
        }),
      );
    }
  }

  async listDependents(identityId: string): Promise<DependentRef[]> {
    const { items } = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dependent)',
      ExpressionAttributeValues: { ':pk': `IDENTITY#${identityId}`, ':dependent': DEPENDENT_PREFIX },
      ConsistentRead: true,
    });
    return items.map((item) => ({ identityId: String(item.identityId), absenceId: String(item.absenceId) }));
  }

  async markReplanDue(identityId: string, absenceId: string, at: string): Promise<boolean> {
    return this.written(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: absenceKey(identityId, absenceId),
          ConditionExpression: 'attribute_exists(pk) AND #status = :active',
          UpdateExpression:
            'SET #replanAt = :at, #deferredKey = :deferredKey, #deferredUntil = :at, #updatedAt = :at, ' +
            '#version = #version + :one',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#replanAt': 'replanAt',
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            '#updatedAt': 'updatedAt',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':active': 'ACTIVE',
            ':at': at,
            ':deferredKey': DEFERRED_KEY,
            ':one': 1,
          },
        }),
      ),
    );
  }

  async listDeferredDue(now: Date): Promise<DeferredAbsenceRef[]> {
    const due: DeferredAbsenceRef[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DEFERRED_INDEX,
          KeyConditionExpression: '#deferredKey = :deferredKey AND #deferredUntil <= :now',
          ProjectionExpression: '#identityId, #absenceId, #deferredUntil',
          ExpressionAttributeNames: {
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            '#identityId': 'identityId',
            '#absenceId': 'absenceId',
          },
          ExpressionAttributeValues: { ':deferredKey': DEFERRED_KEY, ':now': now.toISOString() },
          ExclusiveStartKey: startKey,
        }),
      );
      // The person's reconciliation item has no absenceId.
      due.push(
        ...(page.Items ?? []).map(
          (item) => ({ ...item, absenceId: item.absenceId ?? null }) as DeferredAbsenceRef,
        ),
      );
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return due;
  }

  /** Sends a conditional write: false when its condition did not hold (another writer got there first). */
  private async written(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  private expiresAt(record: AbsenceRecord): number | undefined {
    const retention = this.retentionDays * DAY_SECONDS;
    if (record.status === 'CANCELLED') return Math.floor(Date.parse(record.updatedAt) / 1000) + retention;
    if (record.endDate === null) return undefined;
    const end = Math.max(Date.parse(record.endDate), Date.parse(record.updatedAt));
    return Math.floor(end / 1000) + retention;
  }
}

function toItem(record: AbsenceRecord, expiresAt: number | undefined): Record<string, unknown> {
  const { deferredUntil, ...rest } = record;
  const due = dueAt(record);
  return {
    ...absenceKey(record.identityId, record.absenceId),
    ...rest,
    // The slot it waits for, under its own name: `deferredUntil` is the index's key (when due).
    slotFreesAt: record.deferred !== null ? deferredUntil : null,
    // Index keys only while due some day: an item without them is not in the index at all.
    ...(due !== null ? { deferredKey: DEFERRED_KEY, deferredUntil: due } : {}),
    expiresAt,
  };
}

function fromItem(item: Record<string, unknown>): AbsenceRecord {
  const {
    pk: _pk,
    sk: _sk,
    expiresAt: _expiresAt,
    deferredKey: _deferredKey,
    deferredUntil: indexKey,
    slotFreesAt,
    ...record
  } = item;
  // Items written before slotFreesAt existed kept the slot time in the index key itself; items
  // written before the re-check existed have neither.
  const slot = 'slotFreesAt' in item ? slotFreesAt : record.deferred != null ? indexKey : null;
  return {
    ...record,
    deferredUntil: slot ?? null,
    dependsOn: record.dependsOn ?? [],
    replanAt: record.replanAt ?? null,
    notices: record.notices ?? {},
    lastEventKey: normalizeOrderKey(String(record.lastEventKey ?? '')),
  } as unknown as AbsenceRecord;
}
