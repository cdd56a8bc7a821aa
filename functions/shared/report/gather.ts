/**
 * Reads what the report needs from the workflows' DynamoDB tables and builds it (model.ts):
 *
 *   findings        one Query per source partition (stale-token, cognigy-privilege, cognigy-api-key)
 *   accessRequests  a Scan for the outcome records (pk MESSAGE#…) updated in the period
 *   absences        a Scan for ACTIVE absence records (sk ABSENCE#…)
 *
 * Scans, because neither table has an index by time: a report runs once a day, reads each item once
 * (eventually consistent, only the attributes it shows), and keeps only counts and the rows it lists,
 * never the whole table, in memory. Items whose shape it cannot read are listed in the report.
 *
 * Grants (the sweep's, when it writes the report): dynamodb:Query on the findings table,
 * dynamodb:Scan on the accessRequests and absences tables.
 */
import type { DynamoDBDocumentClient, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { scanEach } from '../dynamo-scan';
import * as z from 'zod';
import { FindingsStore, type OwnerContact, type OwnerDirectory } from '../findings';
import {
  REPORT_SOURCES,
  DAY_MS,
  buildReport,
  type AbsenceInput,
  type OutcomeInput,
  type ReportData,
  type ReportOptions,
} from './model';

export interface ReportTables {
  readonly findings: string;
  readonly accessRequests: string;
  readonly absences: string;
}

export interface GatherReportOptions extends ReportOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: ReportTables;
  /** Names for the people in absences (one lookup per person); without it they show by id. */
  readonly people?: OwnerDirectory;
}

/** What the reads cost, for logs and tests. */
export interface GatherStats {
  queries: number;
  scanPages: number;
  itemsScanned: number;
  peopleLookedUp: number;
}

export async function gatherReport(
  options: GatherReportOptions,
): Promise<{ report: ReportData; stats: GatherStats }> {
  const { doc, tables } = options;
  const stats: GatherStats = { queries: 0, scanPages: 0, itemsScanned: 0, peopleLookedUp: 0 };
  const unreadable: string[] = [];

  const findings = new FindingsStore({ doc, tableName: tables.findings });
  const [staleTokenFindings, privilege, apiKeys] = await Promise.all([
    findings.list(REPORT_SOURCES.staleToken),
    findings.list(REPORT_SOURCES.cognigyPrivilege),
    findings.list(REPORT_SOURCES.cognigyApiKey),
  ]);
  stats.queries += findings.stats.reads;

  const fromMs = options.now.getTime() - options.periodDays * DAY_MS;
  const outcomes: OutcomeInput[] = [];
  await scanAll(
    doc,
    {
      TableName: tables.accessRequests,
      FilterExpression: 'begins_with(pk, :message) AND updatedAt >= :from',
      ProjectionExpression:
        'pk, messageId, requestRef, #status, reason, units, receiveCount, firstSeenAt, updatedAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':message': 'MESSAGE#', ':from': fromMs },
    },
    stats,
    (item) => {
      const parsed = OutcomeItem.safeParse(item);
      if (parsed.success) outcomes.push(parsed.data);
      else unreadable.push(`${tables.accessRequests} ${String(item.pk)}: ${firstIssue(parsed.error)}`);
    },
  );

  const absences: AbsenceInput[] = [];
  await scanAll(
    doc,
    {
      TableName: tables.absences,
      FilterExpression: 'begins_with(sk, :absence) AND #status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':absence': 'ABSENCE#', ':active': 'ACTIVE' },
    },
    stats,
    (item) => {
      const parsed = AbsenceItem.safeParse(item);
      if (parsed.success) absences.push(parsed.data);
      else
        unreadable.push(
          `${tables.absences} ${String(item.pk)} ${String(item.sk)}: ${firstIssue(parsed.error)}`,
        );
    },
  );

  let people: Map<string, OwnerContact | null> | undefined;
  if (options.people) {
    const nowMs = options.now.getTime();
    const shown = absences.filter((a) => a.endDate === null || Date.parse(a.endDate) > nowMs);
    const ids = new Set(
      shown.flatMap((a) => [
        a.identityId,
        ...Object.values(a.configured),
        ...(a.delegateId ? [a.delegateId] : []),
        ...(a.requestedDelegateId ? [a.requestedDelegateId] : []),
      ]),
    );
    stats.peopleLookedUp = ids.size;
    people = ids.size > 0 ? new Map(await options.people.describe([...ids])) : new Map();
  }

  const report = buildReport(
    {
      staleTokenFindings,
      cognigyFindings: [...privilege, ...apiKeys],
      outcomes,
      absences,
      ...(people ? { people } : {}),
      unreadable,
    },
    options,
  );
  return { report, stats };
}

async function scanAll(
  doc: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'ExclusiveStartKey'>,
  stats: GatherStats,
  onItem: (item: Record<string, unknown>) => void,
): Promise<void> {
  const { pages, scanned } = await scanEach(doc, input, onItem);
  stats.scanPages += pages;
  stats.itemsScanned += scanned;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(item)'}: ${issue.message}` : 'unreadable';
}

// The stored shapes the report reads (access-provisioning/state-store.ts, absence-reassignment/model.ts);
// loose: other attributes are ignored.

const OutcomeItem = z
  .looseObject({
    messageId: z.string(),
    requestRef: z.string().optional(),
    status: z.string(),
    reason: z.string().optional(),
    units: z
      .array(z.looseObject({ outcome: z.string(), accessRequestIds: z.array(z.string()).optional() }))
      .default([]),
    receiveCount: z.number().default(0),
    firstSeenAt: z.number(),
    updatedAt: z.number(),
  })
  .transform((o): OutcomeInput => ({
    messageId: o.messageId,
    ...(o.requestRef ? { requestId: o.requestRef } : {}),
    status: o.status,
    ...(o.reason ? { reason: o.reason } : {}),
    unitOutcomes: o.units.map((u) => u.outcome),
    accessRequestIds: new Set(o.units.flatMap((u) => u.accessRequestIds ?? [])).size,
    receiveCount: o.receiveCount,
    firstSeenAt: o.firstSeenAt,
    updatedAt: o.updatedAt,
  }));

const AbsenceItem = z
  .looseObject({
    identityId: z.string(),
    absenceId: z.string(),
    status: z.string(),
    startDate: z.string().nullable(),
    endDate: z.string().nullable(),
    configTypes: z.array(z.string()).default([]),
    requestedDelegateId: z.string().nullable().default(null),
    delegateId: z.string().nullable().default(null),
    configurations: z.record(z.string(), z.looseObject({ reassignedToId: z.string() })).default({}),
    deferred: z.string().nullable().default(null),
  })
  .transform((a): AbsenceInput => ({
    identityId: a.identityId,
    absenceId: a.absenceId,
    status: a.status,
    startDate: a.startDate,
    endDate: a.endDate,
    configTypes: a.configTypes,
    requestedDelegateId: a.requestedDelegateId,
    delegateId: a.delegateId,
    configured: Object.fromEntries(
      Object.entries(a.configurations).map(([type, c]) => [type, c.reassignedToId]),
    ),
    deferred: a.deferred,
  }));
