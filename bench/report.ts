/**
 * `npm run bench:report` — the governance report over a large state in dynalite, on this machine:
 * stale-token findings of many owners, a month of access-request outcome records (written by the
 * workflow's own store) with a share dead-lettered, slots beside them (the Scan reads those too), and
 * absences. Prints the reads the report makes (Query pages, Scan pages, items scanned), the time to
 * gather and to render, the size of the page and the CSVs, and the heap used.
 *
 * dynalite is far slower than DynamoDB per item, so the gather time is an upper bound; the read counts
 * and sizes are what carry over. No SailPoint call is made (people in absences are shown by id here).
 *
 * Knobs (environment): BENCH_TOKENS (10000), BENCH_OWNERS (2000), BENCH_OUTCOMES (20000),
 * BENCH_DEAD_LETTER_RATIO (0.02), BENCH_ABSENCES (500).
 */
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  type BatchWriteCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { DynamoProvisioningStore } from '../functions/access-provisioning/state-store';
import { absenceKey } from '../functions/absence-reassignment/absence-store';
import { partitionKey, type Finding } from '../functions/shared/findings';
import { gatherReport, renderReportHtml, reportCsvFiles } from '../functions/shared/report';
import { TABLES, type TableKey } from '../functions/shared/tables';
import { createTable, localDynamoClient, startDynamo } from '../local/emulators';

const DAY = 86_400_000;
const config = {
  tokens: intEnv('BENCH_TOKENS', 10_000),
  owners: intEnv('BENCH_OWNERS', 2_000),
  outcomes: intEnv('BENCH_OUTCOMES', 20_000),
  deadLetterRatio: Number(process.env.BENCH_DEAD_LETTER_RATIO ?? 0.02),
  absences: intEnv('BENCH_ABSENCES', 500),
};

async function main(): Promise<void> {
  const dynamo = await startDynamo();
  try {
    const client = localDynamoClient(dynamo.endpoint);
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const tables = {} as Record<TableKey, string>;
    for (const key of Object.keys(TABLES) as TableKey[]) {
      tables[key] = `bench-${TABLES[key].logicalId}`;
      await createTable(client, TABLES[key], tables[key]);
    }
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const ownerId = (i: number) => `2c9180aa${String(i % config.owners).padStart(24, '0')}`;

    process.stdout.write(
      `seeding ${config.tokens} token findings of ${config.owners} owners, ${config.outcomes} outcomes, ` +
        `${config.absences} absences …\n`,
    );
    const putAll = async (table: string, items: Record<string, unknown>[]) => {
      for (let i = 0; i < items.length; i += 25) {
        let pending: unknown[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
        while (pending && pending.length > 0) {
          const result: BatchWriteCommandOutput = await doc.send(
            new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
          );
          pending = result.UnprocessedItems?.[table];
        }
      }
    };

    // Findings as the store writes them: open (warned/flagged/exempt) and some closed in the period.
    const statuses: Finding['status'][] = ['FLAGGED', 'FLAGGED', 'WARNED', 'EXEMPT', 'REVOKED', 'RESOLVED'];
    const findings = Array.from({ length: config.tokens }, (_, i) => {
      const status = statuses[i % statuses.length]!;
      const lastUsed = (i % 7 === 0 ? null : iso(now - (80 + (i % 400)) * DAY)) as string | null;
      const finding: Finding = {
        source: 'stale-token',
        subjectId: `token-${i}`,
        status,
        reason: status === 'EXEMPT' ? 'break-glass' : lastUsed === null ? 'never-used' : 'stale',
        owner: {
          id: ownerId(i),
          name: `user.${i % config.owners}`,
          displayName: `User ${i % config.owners}`,
          email: `user${i % config.owners}@example.com`,
        },
        facts: { tokenName: `Token ${i}`, created: iso(now - 500 * DAY), lastUsed, managed: false },
        episode: 1,
        firstSeenAt: iso(now - 20 * DAY),
        statusSince: iso(now - 10 * DAY),
        firstFlaggedAt: iso(now - 10 * DAY),
        lastSeenAt: iso(now - DAY),
        ...(status === 'REVOKED' || status === 'RESOLVED' ? { closedAt: iso(now - (i % 40) * DAY) } : {}),
        version: 2,
      };
      return { pk: partitionKey('stale-token'), sk: finding.subjectId, ...finding };
    });
    await putAll(tables.findings, findings);

    // Outcome records through the workflow's own store, plus one slot item per outcome (scanned past).
    const store = new DynamoProvisioningStore(doc, tables.accessRequests);
    const deadEvery = Math.max(1, Math.round(1 / Math.max(config.deadLetterRatio, 1e-9)));
    for (let i = 0; i < config.outcomes; i++) {
      const dead = i % deadEvery === 0;
      const status = dead ? 'invalid' : i % 3 === 0 ? 'duplicate' : 'submitted';
      await store.recordOutcome({
        messageId: `message-${i}`,
        requestId: `REQ-${i}`,
        receiveCount: 1,
        status,
        ...(dead ? { reason: `invalid message: reason ${i % 5}` } : {}),
        units: [
          {
            unit: `u-${i}`,
            requestType: 'GRANT_ACCESS',
            identityId: ownerId(i),
            itemType: 'ACCESS_PROFILE',
            itemId: `item-${i % 50}`,
            outcome: dead ? 'invalid' : status === 'duplicate' ? 'duplicate' : 'submitted',
            detail: 'bench',
            ...(status === 'submitted' ? { accessRequestIds: [`ar-${i}`] } : {}),
          },
        ],
        at: now - (i % 30) * DAY,
        retentionMs: 30 * DAY,
      });
    }
    await putAll(
      tables.accessRequests,
      Array.from({ length: config.outcomes }, (_, i) => ({
        pk: `IDENTITY#${ownerId(i)}`,
        sk: `SLOT#ACCESS_PROFILE#item-${i}`,
        state: 'submitted',
        version: 1,
      })),
    );

    await putAll(
      tables.absences,
      Array.from({ length: config.absences }, (_, i) => ({
        ...absenceKey(ownerId(i), `LV-${i}`),
        identityId: ownerId(i),
        absenceId: `LV-${i}`,
        status: i % 10 === 0 ? 'CANCELLED' : 'ACTIVE',
        startDate: iso(now + ((i % 40) - 10) * DAY),
        endDate: iso(now + ((i % 40) + 5) * DAY),
        configTypes: ['ACCESS_REQUESTS'],
        requestedDelegateId: null,
        delegateId: ownerId(i + 1),
        configurations: {
          ACCESS_REQUESTS: { reassignedToId: ownerId(i + 1), startDate: iso(now), endDate: null },
        },
        deferred: null,
      })),
    );

    const heapBefore = process.memoryUsage().heapUsed;
    const gatherStart = performance.now();
    const { report, stats } = await gatherReport({
      doc,
      tables,
      now: new Date(now),
      periodDays: 30,
      revocation: { enabled: true, graceDays: 14 },
    });
    const gatherMs = performance.now() - gatherStart;
    const renderStart = performance.now();
    const html = renderReportHtml(report);
    const csv = reportCsvFiles(report);
    const renderMs = performance.now() - renderStart;
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    const csvBytes = Object.values(csv).reduce((n, text) => n + Buffer.byteLength(text), 0);
    const c = report.counts;

    const lines = [
      '',
      `report over ${config.tokens} findings, ${config.outcomes} outcomes (+${config.outcomes} slots), ${config.absences} absences`,
      `  reads        ${stats.queries} Query page(s); ${stats.scanPages} Scan page(s) over ${stats.itemsScanned} item(s)`,
      `  gather       ${gatherMs.toFixed(0)} ms (dynalite; DynamoDB is faster per item)`,
      `  render       ${renderMs.toFixed(0)} ms (HTML + CSV)`,
      `  page         ${(Buffer.byteLength(html) / 1024).toFixed(0)} KB, ${report.tokensByOwner.length} owners, ` +
        `${report.tokensByOwner.reduce((n, g) => n + g.tokens.length, 0)} token rows, ${Math.min(200, report.access.deadLettered.length)} dead-letter rows`,
      `  CSV files    ${(csvBytes / 1024).toFixed(0)} KB`,
      `  heap         +${heapMb.toFixed(0)} MB while gathering and rendering`,
      `  counts       ${c.tokensFlagged} stale + ${c.tokensNeverUsed} never-used flagged, ${c.tokensRevoked} revoked, ` +
        `${c.accessSubmitted} submitted, ${c.accessDuplicates} duplicates, ${c.accessDeadLettered} dead-lettered, ` +
        `${c.absencesCurrent} away now`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dynamo.stop();
  }
}

function intEnv(name: string, def: number): number {
  const value = process.env[name];
  if (value === undefined) return def;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number`);
  return Number(value);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:report failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
