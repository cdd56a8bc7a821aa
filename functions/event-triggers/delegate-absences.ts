/**
 * Absences that send a person's work to a deleted identity: found (no index by delegate exists, and an
 * Identity Deleted is rare, so one paginated Scan of the absences table per event, projecting only what
 * the match needs) and made due for a re-plan through the absence workflow's own path
 * (`markReplanDue`): its next re-check chooses the delegate again, passing over the identity SailPoint
 * no longer has, and reconciles the configurations. The scan reads absence items only (`ABSENCE#`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { scanEach } from '../shared/dynamo-scan';

export interface AbsenceRef {
  readonly identityId: string;
  readonly absenceId: string;
  /** When the absence is due for a re-plan already (null: not). */
  readonly replanAt: string | null;
}

export interface DelegateAbsences {
  /** Active absences of other people whose delegate, or where SailPoint forwards its work, is `identityId`. */
  delegatingTo(identityId: string): Promise<AbsenceRef[]>;
}

export class DynamoDelegateAbsences implements DelegateAbsences {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async delegatingTo(identityId: string): Promise<AbsenceRef[]> {
    const found: AbsenceRef[] = [];
    await scanEach(
      this.doc,
      {
        TableName: this.tableName,
        ProjectionExpression: 'identityId, absenceId, delegateId, landsOn, replanAt',
        FilterExpression: 'begins_with(sk, :absence) AND #status = :active AND identityId <> :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':absence': 'ABSENCE#', ':active': 'ACTIVE', ':id': identityId },
        ConsistentRead: true,
      },
      (item) => {
        const landsOn = Object.values((item.landsOn as Record<string, string> | undefined) ?? {});
        if (item.delegateId === identityId || landsOn.includes(identityId)) {
          found.push({
            identityId: String(item.identityId),
            absenceId: String(item.absenceId),
            replanAt: typeof item.replanAt === 'string' ? item.replanAt : null,
          });
        }
      },
    );
    return found;
  }
}
