/**
 * The DynamoDB tables, built from functions/shared/tables.ts, the same definitions the local
 * emulator setup reads, so the key schema in the cloud and on a laptop cannot drift apart.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableKey } from '../../functions/shared/tables';

export interface StateTablesProps {
  /** Keep the tables (and their data) when the stack is deleted. */
  readonly retainOnDelete: boolean;
}

export class StateTables extends Construct {
  readonly tables: Record<TableKey, Table>;

  constructor(scope: Construct, id: string, props: StateTablesProps) {
    super(scope, id);
    const build = (def: TableDefinition) => {
      const table = new Table(this, def.logicalId, {
        partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
        sortKey: { name: def.sortKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        // Expired items are deleted lazily by DynamoDB; the code checks expiry itself.
        timeToLiveAttribute: def.ttlAttribute,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // A KMS key in the account (aws/dynamodb): key use shows in CloudTrail; no key grants needed.
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection: props.retainOnDelete,
        removalPolicy: props.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      for (const index of def.globalSecondaryIndexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          ...(index.sortKey ? { sortKey: { name: index.sortKey, type: AttributeType.STRING } } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      return table;
    };
    // Every table in the shared definitions, so a new one appears in the cloud and locally alike.
    this.tables = Object.fromEntries(Object.entries(TABLES).map(([key, def]) => [key, build(def)])) as Record<
      TableKey,
      Table
    >;
  }
}
