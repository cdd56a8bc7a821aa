/**
 * The mapped attributes of each identity (absence-mapping.ts), one item per identity in the absences
 * table beside the person's absences: pk = IDENTITY#<identityId>, sk = MAPPED-ATTRIBUTES (outside the
 * `ABSENCE#` range the absence workflow queries). Writes are conditional on `version`.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure } from '../shared/dynamo';
import type { AttributeSnapshot } from './absence-mapping';

export interface AttributeSnapshotStore {
  get(identityId: string): Promise<AttributeSnapshot | undefined>;
  /** false: someone else wrote it since `read` (read again and re-apply). */
  save(next: AttributeSnapshot, read: AttributeSnapshot | undefined): Promise<boolean>;
  delete(identityId: string): Promise<void>;
}

export const snapshotKey = (identityId: string) => ({
  pk: `IDENTITY#${identityId}`,
  sk: 'MAPPED-ATTRIBUTES',
});

export class DynamoAttributeSnapshotStore implements AttributeSnapshotStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(identityId: string): Promise<AttributeSnapshot | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: snapshotKey(identityId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      identityId,
      values: Item.values as AttributeSnapshot['values'],
      version: Item.version as number,
    };
  }

  async save(next: AttributeSnapshot, read: AttributeSnapshot | undefined): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...snapshotKey(next.identityId),
            identityId: next.identityId,
            values: next.values,
            version: next.version,
            updatedAt: new Date().toISOString(),
          },
          ...(read
            ? {
                ConditionExpression: '#version = :read',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':read': read.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  async delete(identityId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: snapshotKey(identityId) }));
  }
}
