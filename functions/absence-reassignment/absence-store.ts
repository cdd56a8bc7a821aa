/**
 * Absence records in DynamoDB (the `absences` table): one item per absence, under its person,
 *   pk = IDENTITY#<identityId>   sk = ABSENCE#<absenceId>
 * so one Query returns every absence of a person (SailPoint's slots are per person, and "is this
 * delegate absent?" is a question about a person). Writes are single-item and conditional on the
 * item's `version`, so two deliveries of events for one absence can never both commit a decision.
 *
 * A deferred absence (waiting for a slot another absence of the person holds) also carries
 *   deferredKey = DEFERRED   deferredUntil = <when the first slot it waits for frees up>
 * the keys of the sparse index `byDeferredUntil`: the scheduled re-check reads only the deferred
 * absences that are due, never the whole table. Both attributes go when the absence stops waiting.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../shared/tables';
import type { AbsenceRecord, ConfigurationsByType } from './model';

export interface ReconciliationRecord {
  configurations: ConfigurationsByType;
  deferred: string | null;
  /** With `deferred`: when the first slot it waits for frees up (see AbsenceRecord.deferredUntil). */
  deferredUntil: string | null;
  /** Set on the absence whose event triggered the reconciliation. */
  reconciledVersion?: number;
}

export interface AbsenceStore {
  get(identityId: string, absenceId: string): Promise<AbsenceRecord | undefined>;
  listForIdentity(identityId: string): Promise<AbsenceRecord[]>;
  /**
   * Writes a decision. `expectedVersion` undefined: the absence must be new. Returns false when
   * another writer got there first (re-read and decide again).
   */
  saveDecision(record: AbsenceRecord, expectedVersion: number | undefined): Promise<boolean>;
  /** Records what SailPoint holds, if the decision (version) is still the one reconciled. */
  recordReconciliation(
    identityId: string,
    absenceId: string,
    version: number,
    record: ReconciliationRecord,
    at: string,
  ): Promise<boolean>;
  /**
   * Deferred absences whose first awaited slot has freed up by `now` (from the sparse index: eventually
   * consistent, so the caller re-reads the person before acting).
   */
  listDeferredDue(now: Date): Promise<DeferredAbsenceRef[]>;
}

export interface DeferredAbsenceRef {
  identityId: string;
  absenceId: string;
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

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
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
    const records: AbsenceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :absence)',
          ExpressionAttributeValues: { ':pk': `IDENTITY#${identityId}`, ':absence': 'ABSENCE#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async saveDecision(record: AbsenceRecord, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record, this.expiresAt(record)),
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordReconciliation(
    identityId: string,
    absenceId: string,
    version: number,
    record: ReconciliationRecord,
    at: string,
  ): Promise<boolean> {
    const reconciled = record.reconciledVersion !== undefined;
    // In the index while it waits (an index key cannot be null: the attributes go when it stops).
    const indexed = record.deferred !== null && record.deferredUntil !== null;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: absenceKey(identityId, absenceId),
          ConditionExpression: 'attribute_exists(pk) AND #version = :version',
          UpdateExpression:
            `SET #configurations = :configurations, #deferred = :deferred, #updatedAt = :at${
              reconciled ? ', #reconciledVersion = :reconciled' : ''
            }` +
            (indexed
              ? ', #deferredKey = :deferredKey, #deferredUntil = :deferredUntil'
              : ' REMOVE #deferredKey, #deferredUntil'),
          ExpressionAttributeNames: {
            '#version': 'version',
            '#configurations': 'configurations',
            '#deferred': 'deferred',
            '#updatedAt': 'updatedAt',
            '#deferredKey': 'deferredKey',
            '#deferredUntil': 'deferredUntil',
            ...(reconciled ? { '#reconciledVersion': 'reconciledVersion' } : {}),
          },
          ExpressionAttributeValues: {
            ':version': version,
            ':configurations': record.configurations,
            ':deferred': record.deferred,
            ':at': at,
            ...(reconciled ? { ':reconciled': record.reconciledVersion } : {}),
            ...(indexed ? { ':deferredKey': DEFERRED_KEY, ':deferredUntil': record.deferredUntil } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
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
      due.push(...((page.Items ?? []) as DeferredAbsenceRef[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return due;
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
  return {
    ...absenceKey(record.identityId, record.absenceId),
    ...rest,
    // Index keys only while deferred: an item without them is not in the index at all.
    ...(record.deferred !== null && deferredUntil !== null
      ? { deferredKey: DEFERRED_KEY, deferredUntil }
      : {}),
    expiresAt,
  };
}

function fromItem(item: Record<string, unknown>): AbsenceRecord {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, deferredKey: _deferredKey, ...record } = item;
  // Items written before the re-check existed have no deferredUntil.
  return { ...record, deferredUntil: record.deferredUntil ?? null } as unknown as AbsenceRecord;
}
