/**
 * The report over state the real workflows stored (fixture.ts): what it reads and what it says.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { sailPointOwnerDirectory } from '../../../functions/shared/findings';
import { gatherReport, reportCsvFiles, type ReportData } from '../../../functions/shared/report';
import { disableMetricsOutput } from '../../support/powertools';
import { buildReportFixture, PEOPLE, REVOCATION, TOKENS, type ReportFixture } from './fixture';

jest.setTimeout(60_000);

disableMetricsOutput();
let fixture: ReportFixture;
let report: ReportData;
let stats: Awaited<ReturnType<typeof gatherReport>>['stats'];

beforeAll(async () => {
  fixture = await buildReportFixture();
  ({ report, stats } = await gatherReport({
    doc: fixture.doc,
    tables: fixture.tables,
    now: new Date(),
    periodDays: 30,
    revocation: REVOCATION,
    people: sailPointOwnerDirectory(fixture.client),
  }));
});
afterAll(() => fixture?.stop());

const tokenIds = () => report.tokensByOwner.flatMap((g) => g.tokens.map((t) => t.tokenId)).sort();

it('lists every open token finding by owner, named from the identity document, with tier and revoke date', () => {
  expect(tokenIds()).toEqual(
    [...TOKENS.stale, ...TOKENS.neverUsed, ...TOKENS.warned, ...TOKENS.exempt].sort(),
  );
  const dev = report.tokensByOwner.find((g) => g.owner.id === PEOPLE.dev)!;
  expect(dev.owner).toEqual({ id: PEOPLE.dev, label: 'Dev Patel', email: 'dev.patel@example.com' });
  expect(dev.tokens.map((t) => [t.tokenId, t.tier, t.verdict])).toEqual([
    ['rp-stale-1', 'flagged', 'stale'], // idlest first
    ['rp-stale-2', 'flagged', 'stale'],
  ]);
  const stale1 = dev.tokens[0]!;
  expect(stale1.idleDays).toBe(100);
  // Flagged by today's run: revocable 14 days from its flagging.
  expect(Date.parse(stale1.revokeFrom!) - Date.parse(stale1.flaggedSince!)).toBe(14 * 86_400_000);
  const never = report.tokensByOwner.flatMap((g) => g.tokens).find((t) => t.tokenId === TOKENS.neverUsed[0])!;
  expect(never).toMatchObject({ tier: 'flagged', verdict: 'never-used', lastUsed: null, idleDays: 40 });
  const exempt = report.tokensByOwner.flatMap((g) => g.tokens).find((t) => t.tier === 'exempt')!;
  expect(exempt).toMatchObject({
    verdict: 'stale',
    exemption: { reason: 'break-glass, reviewed quarterly' },
  });
  expect(report.counts).toMatchObject({
    tokensFlagged: 3,
    tokensNeverUsed: 1,
    tokensWarned: 1,
    tokensExempt: 1,
    tokenOwners: 3,
  });
});

it('lists the tokens revoked and resolved in the period with the reason', () => {
  expect(report.closedTokens.map((r) => [r.tokenId, r.outcome, r.reason]).sort()).toEqual([
    [TOKENS.usedAgain, 'RESOLVED', 'used again'],
    [TOKENS.revoked, 'REVOKED', 'revoked after the grace period'],
  ]);
  expect(report.closedTokens.find((r) => r.outcome === 'REVOKED')!.owner.label).toBe('Farid Haddad');
  expect(report.counts).toMatchObject({ tokensRevoked: 1, tokensResolved: 1 });
});

it('shows the Cognigy credential findings with their owner', () => {
  expect(report.cognigy.open.length).toBeGreaterThanOrEqual(2);
  expect(report.cognigy.open.map((r) => r.title)).toContain('Over-privileged (organisation-wide)');
  for (const row of report.cognigy.open) expect(row.owner?.label).toBe('Nina Ivanova');
});

it('counts access requests submitted, suppressed as duplicates and dead-lettered, with the reasons', () => {
  const a = report.access;
  expect(a.totalMessages).toBe(4);
  expect(a.units).toMatchObject({ submitted: 1, duplicate: 1 });
  expect(a.messages).toMatchObject({ submitted: 1, duplicate: 1, invalid: 2 });
  expect(a.deadLettered.map((d) => d.requestId ?? '(none)').sort()).toEqual(['(none)', 'RPT-3']);
  expect(a.deadLettered.find((d) => d.requestId === 'RPT-3')!.reason).toMatch(
    /comment: required for REVOKE_ACCESS/,
  );
  expect(a.deadLettered.find((d) => d.requestId === undefined)!.reason).toMatch(/not JSON/);
  expect(report.counts).toMatchObject({ accessSubmitted: 1, accessDuplicates: 1, accessDeadLettered: 2 });
});

it('shows current and upcoming absences with their delegates by name', () => {
  expect(report.absences.current.map((r) => [r.person.label, r.delegate?.label])).toEqual([
    ['Carla Mendes', 'Amelia Hart'], // her manager
  ]);
  expect(report.absences.current[0]!.configuredTypes.length).toBe(3);
  expect(report.absences.upcoming.map((r) => [r.person.label, r.delegate?.label])).toEqual([
    ['Farid Haddad', 'Grace Kim'],
  ]);
  // One Query page per findings source; one Scan page each for outcomes and absences; five people.
  expect(stats).toMatchObject({ queries: 3, scanPages: 2, peopleLookedUp: 4 });
});

it('the CSV files carry the same rows', () => {
  const files = reportCsvFiles(report);
  const tokenLines = files['tokens.csv']!.trim().split('\n');
  expect(tokenLines).toHaveLength(1 + tokenIds().length);
  expect(tokenLines[0]).toBe(
    'owner_id,owner_name,owner_email,token_id,token_name,tier,verdict,last_used,idle_days,created,flagged_since,revoke_from,exemption_reason,exemption_expires',
  );
  expect(files['dead-letters.csv']!.trim().split('\n')).toHaveLength(3);
  expect(files['closed-tokens.csv']).toContain(`${TOKENS.revoked},Token ${TOKENS.revoked},REVOKED`);
  expect(files['summary.csv']).toContain('tokens_flagged,3');
  expect(files['absences.csv']).toContain('current,');
});

it('names stored items it cannot read instead of dropping them silently', async () => {
  await fixture.doc.send(
    new PutCommand({
      TableName: fixture.tables.accessRequests,
      Item: { pk: 'MESSAGE#broken', sk: 'OUTCOME', status: 'submitted', updatedAt: Date.now() },
    }),
  );
  const again = await gatherReport({
    doc: fixture.doc,
    tables: fixture.tables,
    now: new Date(),
    periodDays: 30,
    revocation: REVOCATION,
  });
  expect(again.report.unreadable).toEqual([
    expect.stringMatching(new RegExp(`^${fixture.tables.accessRequests} MESSAGE#broken: messageId`)),
  ]);
  expect(again.report.access.totalMessages).toBe(4);
  // Without a people directory, absences show ids (and nobody is looked up).
  expect(again.report.absences.current[0]!.person.label).toBe(`identity ${PEOPLE.carla}`);
  expect(again.stats.peopleLookedUp).toBe(0);
});
