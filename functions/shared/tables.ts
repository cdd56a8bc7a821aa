/**
 * DynamoDB table definitions, written once as plain data.
 * The CDK stack (lib/) and the local emulator setup (local/emulators.ts) both read these,
 * so the key schema in the cloud and on a laptop cannot drift apart.
 *
 * Every table uses a generic string partition key `pk` and sort key `sk` so each workflow
 * models its own items (single-table style) without a schema change here.
 */
export interface TableDefinition {
  /** Logical id, used as the CDK construct id and the local table name. */
  readonly logicalId: string;
  /** Environment variable that carries the physical table name into the Lambda function. */
  readonly envVar: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Attribute holding an epoch-seconds expiry. DynamoDB deletes lazily, so code must still check it. */
  readonly ttlAttribute?: string;
  readonly globalSecondaryIndexes?: readonly { indexName: string; partitionKey: string; sortKey?: string }[];
}

export const TABLES = {
  /**
   * Stale-token and Cognigy credential findings, one item per finding, with its lifecycle; and the
   * sweep's exemptions kept as data (functions/stale-token-sweep/exemption-store.ts).
   */
  findings: {
    logicalId: 'Findings',
    envVar: 'FINDINGS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
  },
  /** Access-provisioning units (claims, attempts, outcomes) and per-message outcome records. */
  accessRequests: {
    logicalId: 'AccessRequests',
    envVar: 'ACCESS_REQUESTS_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
    globalSecondaryIndexes: [
      /** Outcome records by the caller's requestId ("what happened to request X"). */
      { indexName: 'byRequestId', partitionKey: 'requestRef', sortKey: 'recordedAt' },
      /**
       * Sparse: only outcomes whose submitted units still await SailPoint's final word (event triggers
       * configured), oldest first, so the reconciliation of lost events reads just those (state-store.ts).
       */
      { indexName: 'byEventsAwaited', partitionKey: 'eventsAwaitedKey', sortKey: 'eventsAwaitedSince' },
    ],
  },
  /** Absence state: configurations created per absence, last applied occurredAt, processed event ids. */
  absences: {
    logicalId: 'Absences',
    envVar: 'ABSENCES_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
    /**
     * Sparse: only absences waiting for a SailPoint slot carry these attributes, keyed by when the
     * slot frees up, so the scheduled re-check reads just the ones due (absence-store.ts).
     */
    globalSecondaryIndexes: [
      { indexName: 'byDeferredUntil', partitionKey: 'deferredKey', sortKey: 'deferredUntil' },
    ],
  },
  /**
   * The shared SailPoint rate budget: one item per credential (client id) and API version holding the
   * time its next call may be sent, so every instance of every workflow using that credential draws
   * from one schedule instead of a fixed share (functions/shared/sailpoint/shared-budget.ts).
   */
  rateBudget: {
    logicalId: 'RateBudget',
    envVar: 'SAILPOINT_RATE_BUDGET_TABLE',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;
