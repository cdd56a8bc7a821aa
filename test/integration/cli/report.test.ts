/**
 * `iga report` against the local stack, over the wire: state from the real workflows (`iga sweep`,
 * access messages through the work queue and the real handler, an absence event), then the page and
 * the CSVs written where asked, `--json` parsed.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDocumentClient } from '../../../functions/shared/aws';
import { FindingsStore, isOpen } from '../../../functions/shared/findings';
import { CSV_FILES, type ReportCounts } from '../../../functions/shared/report';
import { FINDINGS_SOURCE } from '../../../functions/stale-token-sweep/sweep';
import { localDynamoClient } from '../../../local/emulators';
import { disableMetricsOutput } from '../../support/powertools';
import { startCliHarness, type CliHarness } from './harness';

jest.setTimeout(120_000);
disableMetricsOutput();

const DAY = 86_400_000;
let h: CliHarness;
let dir: string;
let logLevel: string | undefined;

beforeAll(async () => {
  logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'SILENT';
  h = await startCliHarness();
  dir = mkdtempSync(join(tmpdir(), 'iga-report-'));
  expect((await h.iga('sweep')).code).toBe(0);
  const grant = {
    requestId: 'REP-1',
    requestedFor: ['2c9180aa000000000000000000000006'],
    requestType: 'GRANT_ACCESS',
    requestedItems: [{ type: 'ACCESS_PROFILE', id: 'acce5500000000000000000000000004' }],
  };
  await h.send('access', grant);
  await h.stack.drain();
  await h.send('access', { ...grant, requestId: 'REP-2' });
  await h.send('access', { requestId: 'REP-3', requestedFor: [] });
  await h.send('absence', {
    eventId: 'rep-absence-1',
    type: 'ABSENCE_STARTED',
    absenceId: 'REP-LV-1',
    identityId: '2c9180aa000000000000000000000003',
    occurredAt: new Date(Date.now() - DAY).toISOString(),
    startDate: new Date(Date.now() - DAY).toISOString(),
    endDate: new Date(Date.now() + 5 * DAY).toISOString(),
  });
  await h.stack.drain();
});

afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (logLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = logLevel;
});

test('iga report --json writes the page and the CSVs and prints the counts', async () => {
  const out = join(dir, 'nested', 'report.html');
  const csv = join(dir, 'csv');
  const result = await h.iga('report', '--out', out, '--csv', csv, '--json');
  expect(result.code).toBe(0);
  const printed = result.json<{ files: string[]; counts: ReportCounts; period: { days: number } }>();
  expect(printed.files).toEqual([out, ...CSV_FILES.map((name) => join(csv, name))]);
  expect(readdirSync(csv).sort()).toEqual([...CSV_FILES].sort());
  expect(printed.period.days).toBe(30);

  const doc = createDocumentClient(localDynamoClient(h.description.endpoints.dynamodb));
  const findings = await new FindingsStore({ doc, tableName: h.description.tables.findings }).list(
    FINDINGS_SOURCE,
  );
  const open = findings.filter((f) => isOpen(f.status));
  const page = readFileSync(out, 'utf8');
  expect(page.match(/data-testid="token-row"/g)).toHaveLength(open.length);
  expect(printed.counts.tokensFlagged + printed.counts.tokensNeverUsed).toBe(
    open.filter((f) => f.status === 'FLAGGED').length,
  );
  expect(printed.counts).toMatchObject({
    accessSubmitted: 1,
    accessDuplicates: 1,
    accessDeadLettered: 1,
    absencesCurrent: 1,
  });
  // Absent people named through the sandbox with the sweep's settings.
  expect(page).toContain('Carla Mendes');
  expect(page).toContain('local stack (pid');
});

test('iga report prints a summary for people; --no-names calls SailPoint for nobody', async () => {
  const out = join(dir, 'plain.html');
  // Owners' and absent people's names come from Search (POST /v3/search).
  const lookups = () => h.stack.sandbox.requestLog.count({ method: 'POST', path: '/v3/search' });
  const named = lookups();
  expect((await h.iga('report', '--out', join(dir, 'named.html'))).code).toBe(0);
  expect(lookups()).toBe(named + 1);
  const before = lookups();
  const result = await h.iga('report', '--out', out, '--no-names', '--period-days', '7');
  expect(result.code).toBe(0);
  expect(result.out).toMatch(/^report of the local stack \(pid \d+\), 7 days to /);
  expect(result.out).toMatch(
    /access +1 unit\(s\) submitted, 1 duplicate\(s\) suppressed, 1 message\(s\) dead-lettered/,
  );
  expect(result.out).toContain(`wrote ${out}`);
  expect(existsSync(out)).toBe(true);
  expect(lookups()).toBe(before);
  expect(readFileSync(out, 'utf8')).toContain('identity 2c9180aa000000000000000000000003');
});

test('iga report --help', async () => {
  const help = await h.iga('report', '--help');
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/^Usage: iga report/);
  expect(help.out).toContain('--csv <dir>');
});
