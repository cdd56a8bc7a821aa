/**
 * The governance report the sweep writes to S3 at the end of each run, when REPORT_BUCKET is set
 * (stack setting `report.enabled`; docs/deployment.md). It reads the findings, access-request outcome
 * and absence tables (functions/shared/report) and names absent people through the sweep's own
 * SailPoint connection. Loaded on first use, so a sweep without a report never initialises it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../shared/tables';
import type { OwnerDirectory } from '../shared/findings';
import { traced } from '../shared/observability';
import type { StaleTokenSweepSettings } from './settings';

export interface SweepReportInput {
  readonly now: Date;
  /** The configured revocation (not a dry-run event's override): the report's revoke dates. */
  readonly revocation: { readonly enabled: boolean; readonly graceDays: number };
  readonly people?: OwnerDirectory;
}

/** Writes the report; resolves to the S3 keys written. */
export type SweepReportWriter = (input: SweepReportInput) => Promise<readonly string[]>;

export function sweepReportWriter(
  settings: StaleTokenSweepSettings,
  source: string,
): SweepReportWriter | undefined {
  const bucket = settings.REPORT_BUCKET;
  if (!bucket) return undefined;
  const tables = {
    findings: settings[TABLES.findings.envVar] as string,
    // Required with REPORT_BUCKET (settings.ts).
    accessRequests: settings[TABLES.accessRequests.envVar] as string,
    absences: settings[TABLES.absences.envVar] as string,
  };
  // The clients, created on the first report and reused by this instance's later runs (shared/aws.ts).
  let clients: { doc: DynamoDBDocumentClient; s3: S3Client } | undefined;
  return async (input) => {
    // Loaded on first use (a run without a report never initialises the S3 client). `require`, not
    // `import()`: esbuild then inlines them lazily, and jest's CommonJS runtime can load them too.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { gatherReport, publishReport } = require('../shared/report') as typeof import('../shared/report');
    if (!clients) {
      const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
      const { createDocumentClient } = require('../shared/aws') as typeof import('../shared/aws');
      clients = { doc: createDocumentClient(), s3: traced(new S3Client({})) };
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { report } = await gatherReport({
      doc: clients.doc,
      tables,
      now: input.now,
      periodDays: settings.REPORT_PERIOD_DAYS,
      revocation: input.revocation,
      source,
      ...(input.people ? { people: input.people } : {}),
    });
    const { written } = await publishReport(clients.s3, report, {
      bucket,
      prefix: settings.REPORT_PREFIX,
    });
    return written;
  };
}
