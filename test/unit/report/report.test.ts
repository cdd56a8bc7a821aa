/**
 * The report's pure parts: what buildReport decides from stored records, and what the HTML and CSV
 * renderers make of hostile or empty data.
 */
import type { Finding } from '../../../functions/shared/findings';
import {
  buildReport,
  publishReport,
  renderReportHtml,
  reportCsvFiles,
  reportObjectKeys,
  type AbsenceInput,
  type OutcomeInput,
  type ReportOptions,
} from '../../../functions/shared/report';

const NOW = new Date('2025-06-15T06:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const options: ReportOptions = { now: NOW, periodDays: 30, revocation: { enabled: false, graceDays: 14 } };

const token = (id: string, status: Finding['status'], extra: Partial<Finding> = {}): Finding => ({
  source: 'stale-token',
  subjectId: id,
  status,
  reason: 'stale',
  owner: { id: 'o-1', name: 'ada', displayName: 'Ada Lovelace', email: 'ada@example.com' },
  facts: { tokenName: `name ${id}`, created: ago(400), lastUsed: ago(120) },
  episode: 1,
  firstSeenAt: ago(20),
  statusSince: ago(20),
  firstFlaggedAt: ago(20),
  lastSeenAt: ago(1),
  version: 1,
  ...extra,
});

const outcome = (id: string, status: string, updatedDaysAgo: number, extra: Partial<OutcomeInput> = {}) => ({
  messageId: id,
  status,
  unitOutcomes: [status === 'invalid' ? 'invalid' : status],
  accessRequestIds: status === 'submitted' ? 1 : 0,
  receiveCount: 1,
  firstSeenAt: NOW.getTime() - updatedDaysAgo * DAY,
  updatedAt: NOW.getTime() - updatedDaysAgo * DAY,
  ...extra,
});

const absence = (
  id: string,
  start: number,
  end: number | null,
  extra: Partial<AbsenceInput> = {},
): AbsenceInput => ({
  identityId: `p-${id}`,
  absenceId: id,
  status: 'ACTIVE',
  startDate: new Date(NOW.getTime() + start * DAY).toISOString(),
  endDate: end === null ? null : new Date(NOW.getTime() + end * DAY).toISOString(),
  configTypes: ['ACCESS_REQUESTS'],
  requestedDelegateId: null,
  delegateId: 'd-1',
  configured: {},
  deferred: null,
  ...extra,
});

const empty = { staleTokenFindings: [], cognigyFindings: [], outcomes: [], absences: [] };

describe('buildReport', () => {
  it('tiers, idle days and revoke dates from the findings and the revocation settings', () => {
    const report = buildReport(
      {
        ...empty,
        staleTokenFindings: [
          token('flag', 'FLAGGED'),
          token('warn', 'WARNED', {
            reason: 'idle',
            firstFlaggedAt: undefined,
            facts: { lastUsed: ago(80), created: ago(400) },
          }),
          token('never', 'FLAGGED', { reason: 'never-used', facts: { lastUsed: null, created: ago(45) } }),
          token('ex', 'EXEMPT', {
            reason: 'break-glass',
            facts: { verdict: 'stale', exemption: { expires: '2025-12-31' }, lastUsed: ago(300) },
          }),
          token('old-revoked', 'REVOKED', { closedAt: ago(40) }), // before the period
          token('revoked', 'REVOKED', { closedAt: ago(2), reason: 'revoked after the grace period' }),
        ],
      },
      options,
    );
    const rows = report.tokensByOwner[0]!.tokens;
    expect(rows.map((r) => [r.tokenId, r.tier, r.verdict, r.idleDays])).toEqual([
      ['flag', 'flagged', 'stale', 120],
      ['never', 'flagged', 'never-used', 45],
      ['warn', 'warning', 'idle', 80],
      ['ex', 'exempt', 'stale', 300],
    ]);
    expect(rows[0]!.revokeFrom).toBe(new Date(Date.parse(ago(20)) + 14 * DAY).toISOString());
    expect(rows[2]!.revokeFrom).toBeUndefined();
    expect(rows[3]!.exemption).toEqual({ reason: 'break-glass', expires: '2025-12-31' });
    expect(report.closedTokens.map((r) => r.tokenId)).toEqual(['revoked']);
    expect(report.counts).toMatchObject({
      tokensFlagged: 1,
      tokensNeverUsed: 1,
      tokensWarned: 1,
      tokensExempt: 1,
      tokenOwners: 1,
      tokensRevoked: 1,
      // flagged 20 days ago + 14 days of grace: already due
      revokeDueWithin7Days: 2,
    });
  });

  it('revoke dates as the sweep keeps them: the date told the owner, pending while its notice is undelivered', () => {
    const dated = (id: string, revokeFrom: string | undefined, notice: 'SENT' | 'PENDING' = 'SENT') =>
      token(id, 'FLAGGED', {
        facts: { lastUsed: ago(120), created: ago(400), ...(revokeFrom ? { revokeFrom } : {}) },
        notification: {
          kind: 'stale-token.flagged',
          key: `stale-token/${id}/v2`,
          subject: 's',
          detail: {},
          state: notice,
          claimId: 'run',
          claimedAt: ago(1),
        },
      });
    const told = new Date(NOW.getTime() + 5 * DAY).toISOString();
    const input = {
      ...empty,
      staleTokenFindings: [
        dated('told', told),
        dated('pending', told, 'PENDING'),
        dated('undated', undefined),
      ],
    };
    const rowsWith = (enabled: boolean) =>
      new Map(
        buildReport(input, {
          ...options,
          revocation: { enabled, graceDays: 14 },
        }).tokensByOwner[0]!.tokens.map((r) => [r.tokenId, r]),
      );
    // Revocation on: the date in the facts (not firstFlaggedAt + grace); none yet for an undated token.
    const on = rowsWith(true);
    expect(on.get('told')).toMatchObject({ revokeFrom: told });
    expect(on.get('told')!.revokeNoticePending).toBeUndefined();
    expect(on.get('pending')).toMatchObject({ revokeFrom: told, revokeNoticePending: true });
    expect(on.get('undated')!.revokeFrom).toBeUndefined();
    const page = renderReportHtml(
      buildReport(input, { ...options, revocation: { enabled: true, graceDays: 14 } }),
    );
    expect(page).toContain('(notice pending)');
    expect(page).toContain('dated by the next sweep');
    // Revocation off: a date once told stands; never told, the preview from the first flag.
    const off = rowsWith(false);
    expect(off.get('told')!.revokeFrom).toBe(told);
    expect(off.get('undated')!.revokeFrom).toBe(new Date(Date.parse(ago(20)) + 14 * DAY).toISOString());
  });

  it('counts access outcomes of the period, lists dead letters newest first and groups their reasons', () => {
    const report = buildReport(
      {
        ...empty,
        outcomes: [
          outcome('m1', 'submitted', 1),
          outcome('m2', 'duplicate', 1),
          outcome('m3', 'invalid', 3, { reason: 'bad JSON', requestId: 'R-3' }),
          outcome('m4', 'failed', 2, { reason: 'SailPoint refused: 400' }),
          outcome('m5', 'invalid', 1, { reason: 'bad JSON' }),
          outcome('m6', 'invalid', 45, { reason: 'too old to count' }),
        ],
      },
      options,
    );
    expect(report.access.totalMessages).toBe(5);
    expect(report.access.messages).toMatchObject({ submitted: 1, duplicate: 1, invalid: 2, failed: 1 });
    expect(report.access.deadLettered.map((d) => d.messageId)).toEqual(['m5', 'm4', 'm3']);
    expect(report.access.deadLetterReasons).toEqual([
      { reason: 'bad JSON', count: 2 },
      { reason: 'SailPoint refused: 400', count: 1 },
    ]);
  });

  it('absences: current and upcoming, ended and cancelled ones left out, the configured delegate first', () => {
    const report = buildReport(
      {
        ...empty,
        absences: [
          absence('now', -2, 5, { configured: { ACCESS_REQUESTS: 'd-2' } }),
          absence('open', -30, null),
          absence('later', 10, 20),
          absence('over', -20, -1),
          absence('cancelled', 3, 9, { status: 'CANCELLED' }),
        ],
        people: new Map([['d-2', { displayName: 'Dana Delegate', email: 'dana@example.com' }]]),
      },
      options,
    );
    expect(report.absences.current.map((a) => [a.absenceId, a.delegate?.label])).toEqual([
      ['open', 'identity d-1'],
      ['now', 'Dana Delegate'],
    ]);
    expect(report.absences.upcoming.map((a) => a.absenceId)).toEqual(['later']);
  });
});

describe('rendering', () => {
  const hostile = '<script>alert(1)</script>"\'&';
  const report = buildReport(
    {
      ...empty,
      staleTokenFindings: [
        token('t<1>', 'FLAGGED', {
          owner: { id: 'o"1', displayName: hostile, email: 'x"@example.com' },
          facts: { tokenName: '=HYPERLINK("http://evil","x")', created: ago(400), lastUsed: ago(100) },
        }),
      ],
      outcomes: [outcome('m1', 'invalid', 1, { reason: hostile })],
    },
    { ...options, source: hostile },
  );

  it('escapes every value taken from data; the page loads nothing from anywhere', () => {
    const page = renderReportHtml(report);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(page).toContain('data-token-id="t&lt;1&gt;"');
    expect(page).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(page).not.toMatch(/@import|url\(/);
  });

  it('an empty report says so in each section', () => {
    const page = renderReportHtml(buildReport(empty, options));
    for (const text of [
      'No open token findings.',
      'No token was revoked or resolved in the period.',
      'No open finding on the Cognigy credential.',
      'No message was dead-lettered in the period.',
      'Nobody is away.',
      'No upcoming absence.',
    ]) {
      expect(page).toContain(text);
    }
  });

  it('CSV cells that a spreadsheet would run as a formula are neutralised', () => {
    const files = reportCsvFiles(report);
    expect(Object.keys(files).sort()).toEqual([
      'absences.csv',
      'access-requests.csv',
      'closed-tokens.csv',
      'cognigy-findings.csv',
      'dead-letters.csv',
      'summary.csv',
      'tokens.csv',
    ]);
    expect(files['tokens.csv']).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(files['dead-letters.csv']).toContain('"<script>alert(1)</script>""\'&"');
  });

  it('publishes the page and the CSVs to fixed keys (the bucket keeps earlier reports as versions)', async () => {
    const sent: { Key: string; ContentType: string; Bucket: string; Metadata: Record<string, string> }[] = [];
    const s3 = { send: async (command: { input: (typeof sent)[number] }) => void sent.push(command.input) };
    const { written } = await publishReport(s3 as never, report, { bucket: 'b', prefix: 'reports/' });
    expect(written).toEqual(reportObjectKeys('reports/'));
    expect(written).toEqual([
      'reports/report.html',
      ...Object.keys(reportCsvFiles(report)).map((name) => `reports/csv/${name}`),
    ]);
    expect(sent.map((s) => s.Key)).toEqual(written);
    expect(sent.every((s) => s.Bucket === 'b' && s.Metadata['generated-at'] === NOW.toISOString())).toBe(
      true,
    );
    expect(sent[0]!.ContentType).toBe('text/html; charset=utf-8');
    expect(sent[1]!.ContentType).toBe('text/csv; charset=utf-8');
  });
});
