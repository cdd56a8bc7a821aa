/**
 * The report's data as CSV files, one per table of the page, for spreadsheets and other tools.
 * RFC 4180 (csv-stringify), a header row, UTC ISO timestamps. A text cell that a spreadsheet would
 * run as a formula (it starts with = + - @, a tab or a carriage return: a token named
 * "=HYPERLINK(…)") is prefixed with an apostrophe, as OWASP advises against CSV injection.
 */
import { stringify } from 'csv-stringify/sync';
import type { CsvFileName } from './files';
import type { PersonView, ReportData } from './model';

export type CsvFiles = Readonly<Record<CsvFileName, string>>;

export function reportCsvFiles(report: ReportData): CsvFiles {
  const c = report.counts;
  const a = report.access;
  return {
    'summary.csv': csv(
      ['metric', 'value'],
      [
        ['generated_at', report.generatedAt],
        ['period_from', report.period.from],
        ['period_to', report.period.to],
        ['revocation', report.revocation.enabled ? 'on' : 'dry-run'],
        ['revoke_grace_days', report.revocation.graceDays],
        ...Object.entries(c).map(([name, value]) => [snake(name), value]),
      ],
    ),
    'tokens.csv': csv(
      [
        ...personColumns('owner'),
        'token_id',
        'token_name',
        'tier',
        'verdict',
        'last_used',
        'idle_days',
        'created',
        'flagged_since',
        'revoke_from',
        'exemption_reason',
        'exemption_expires',
      ],
      report.tokensByOwner.flatMap((g) =>
        g.tokens.map((t) => [
          ...personCells(t.owner),
          t.tokenId,
          t.tokenName,
          t.tier,
          t.verdict,
          t.lastUsed,
          t.idleDays,
          t.created,
          t.flaggedSince,
          t.revokeFrom,
          t.exemption?.reason,
          t.exemption?.expires,
        ]),
      ),
    ),
    'closed-tokens.csv': csv(
      [...personColumns('owner'), 'token_id', 'token_name', 'outcome', 'reason', 'closed_at', 'last_used'],
      report.closedTokens.map((r) => [
        ...personCells(r.owner),
        r.tokenId,
        r.tokenName,
        r.outcome,
        r.reason,
        r.closedAt,
        r.lastUsed,
      ]),
    ),
    'cognigy-findings.csv': csv(
      [
        'state',
        'kind',
        'finding_id',
        'status',
        'title',
        'detail',
        ...personColumns('owner'),
        'since',
        'closed_at',
      ],
      [...report.cognigy.open, ...report.cognigy.closed].map((r) => [
        r.closedAt ? 'resolved' : 'open',
        r.kind,
        r.subjectId,
        r.status,
        r.title,
        r.detail,
        ...(r.owner ? personCells(r.owner) : [null, null, null]),
        r.since,
        r.closedAt,
      ]),
    ),
    'access-requests.csv': csv(
      ['outcome', 'messages', 'units'],
      [
        ['submitted', a.messages.submitted, a.units.submitted],
        ['duplicate', a.messages.duplicate, a.units.duplicate],
        ['already-held', a.messages['already-held'], a.units['already-held']],
        ['not-held', a.messages['not-held'], a.units['not-held']],
        ['invalid', a.messages.invalid, a.units.invalid],
        ['failed', a.messages.failed, a.units.failed],
        ['retrying', a.messages.retrying, a.units.retrying + a.units.waiting],
      ],
    ),
    'dead-letters.csv': csv(
      ['request_id', 'message_id', 'status', 'reason', 'attempts', 'units', 'first_attempt', 'last_attempt'],
      a.deadLettered.map((d) => [
        d.requestId,
        d.messageId,
        d.status,
        d.reason,
        d.receiveCount,
        d.units,
        d.firstSeenAt,
        d.lastAttemptAt,
      ]),
    ),
    'absences.csv': csv(
      [
        'when',
        ...personColumns('person'),
        'absence_id',
        'start',
        'end',
        ...personColumns('delegate'),
        'work_types',
        'configured',
        'waiting_for',
      ],
      [...report.absences.current, ...report.absences.upcoming].map((r) => [
        r.when,
        ...personCells(r.person),
        r.absenceId,
        r.startDate,
        r.endDate,
        ...(r.delegate ? personCells(r.delegate) : [null, null, null]),
        r.workTypes.join(' '),
        r.configuredTypes.join(' '),
        r.deferred,
      ]),
    ),
  };
}

type Cell = string | number | null | undefined;

const personColumns = (prefix: string) => [`${prefix}_id`, `${prefix}_name`, `${prefix}_email`];
const personCells = (p: PersonView): Cell[] => [p.id, p.label, p.email];

const snake = (name: string) => name.replace(/([A-Z]|\d+)/g, '_$1').toLowerCase();

function csv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return stringify([header, ...rows] as Cell[][], {
    cast: { string: (value) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value) },
  });
}
