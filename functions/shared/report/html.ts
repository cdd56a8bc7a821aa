/**
 * The report as one self-contained HTML page: inline stylesheet, inline SVG charts, no script, no
 * external resource — it opens from a file, an e-mail attachment or S3 without network, and prints.
 *
 * Reading order is a security lead's: the counts that need a decision, the charts, then one section
 * per question (whose tokens are stale and when they go; what was revoked or came back; what the
 * Cognigy credential holds; what happened to access requests; who is away and who covers).
 * Elements tests and scripts may read carry `data-testid` (and token rows `data-token-id`).
 */
import { columnChart, stackedBarChart, type BarSegment } from './charts';
import { html, trusted, type SafeHtml } from './html-template';
import type {
  AbsenceRow,
  ClosedTokenRow,
  CognigyRow,
  OwnerTokens,
  PersonView,
  ReportData,
  TokenRow,
} from './model';

/** Most owners a chart shows; the table lists every owner. */
const CHART_OWNERS = 10;
/** Dead letters listed in the page; the CSV has every one. */
const DEAD_LETTER_ROWS = 200;

export function renderReportHtml(report: ReportData): string {
  const day = (iso: string) => iso.slice(0, 10);
  const c = report.counts;
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="IGA Autopilot" />
        <title>IGA Autopilot report — ${day(report.generatedAt)}</title>
        <style>
          ${trusted(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>Identity governance report</h1>
          <p class="meta">
            IGA Autopilot · generated ${formatTime(report.generatedAt)} · period ${day(report.period.from)} –
            ${day(report.period.to)} (${report.period.days}
            days)${report.source ? html` · ${report.source}` : ''}
          </p>
          <p class="meta">
            Token revocation:
            ${report.revocation.enabled ? html`<strong>on</strong>, on the date the owner was told: ${report.revocation.graceDays} days after the notice` : html`<strong>off (dry run)</strong>: the dates show when a sweep would revoke, ${report.revocation.graceDays} days after flagging`}
          </p>
        </header>

        <section class="cards" aria-label="Counts">
          ${card('tokens-flagged', 'Stale tokens', c.tokensFlagged, 'flagged: unused past the threshold', c.tokensFlagged > 0)}
          ${card('tokens-never-used', 'Never-used tokens', c.tokensNeverUsed, 'flagged: created, never used', c.tokensNeverUsed > 0)}
          ${card('tokens-warned', 'Warnings', c.tokensWarned, 'tokens approaching the threshold')}
          ${card('revoke-due', 'Revocations due', c.revokeDueWithin7Days, 'flagged tokens due within 7 days', c.revokeDueWithin7Days > 0)}
          ${card('tokens-revoked', 'Revoked', c.tokensRevoked, 'in the period')}
          ${card('tokens-resolved', 'Resolved', c.tokensResolved, 'used again or deleted, in the period')}
          ${card('cognigy-open', 'Cognigy findings', c.cognigyOpen, 'open on the credential', c.cognigyOpen > 0)}
          ${card('access-submitted', 'Access submitted', c.accessSubmitted, 'units POSTed to SailPoint')}
          ${card('access-duplicates', 'Duplicates suppressed', c.accessDuplicates, 'units not sent twice')}
          ${card('access-dead-lettered', 'Dead-lettered', c.accessDeadLettered, 'messages refused, with reasons', c.accessDeadLettered > 0)}
          ${card('absences-current', 'Away now', c.absencesCurrent, `${c.absencesUpcoming} more upcoming`)}
        </section>

        <section class="charts" aria-label="Charts">
          <figure>
            <figcaption>
              Open token findings by
              owner${report.tokensByOwner.length > CHART_OWNERS ? ` (top ${CHART_OWNERS})` : ''}
            </figcaption>
            ${report.tokensByOwner.length ? ownersChart(report.tokensByOwner.slice(0, CHART_OWNERS)) : html`<p class="empty">No open token findings.</p>`}
          </figure>
          <figure>
            <figcaption>Open token findings by days idle</figcaption>
            ${idleChart(report.tokensByOwner.flatMap((g) => g.tokens))}
          </figure>
          <figure>
            <figcaption>Access-request units in the period</figcaption>
            ${accessChart(report)}
          </figure>
        </section>

        <section id="tokens">
          <h2>Stale and never-used tokens by owner</h2>
          <p class="lead">
            ${c.tokenOwners} owner(s) with tokens to act on. A token is flagged when unused for longer than
            the policy allows (or never used since it was created); the owner is notified once per change.
            Exempt tokens are listed with their exemption.
          </p>
          ${report.tokensByOwner.length ? tokensTable(report.tokensByOwner) : html`<p class="empty">No open token findings.</p>`}
        </section>

        <section id="closed-tokens">
          <h2>Revoked and resolved in the period</h2>
          ${report.closedTokens.length ? closedTable(report.closedTokens) : html`<p class="empty">No token was revoked or resolved in the period.</p>`}
        </section>

        <section id="cognigy">
          <h2>Cognigy.AI credential</h2>
          ${report.cognigy.open.length ? cognigyTable(report.cognigy.open, 'cognigy-open') : html`<p class="empty">No open finding on the Cognigy credential.</p>`}
          ${
            report.cognigy.closed.length
              ? html`<h3>Resolved in the period</h3>
                  ${cognigyTable(report.cognigy.closed, 'cognigy-closed')}`
              : ''
          }
        </section>

        <section id="access">
          <h2>Access requests</h2>
          ${accessSection(report)}
        </section>

        <section id="absences">
          <h2>Absences and their delegates</h2>
          <h3>Away now</h3>
          ${report.absences.current.length ? absenceTable(report.absences.current, 'absences-current') : html`<p class="empty">Nobody is away.</p>`}
          <h3>Upcoming</h3>
          ${report.absences.upcoming.length ? absenceTable(report.absences.upcoming, 'absences-upcoming') : html`<p class="empty">No upcoming absence.</p>`}
        </section>

        <footer>
          ${
            report.unreadable.length
              ? html`<div class="warning" data-testid="unreadable">
                  <strong>${report.unreadable.length} stored item(s) could not be read</strong> and are not
                  counted:
                  <ul>
                    ${report.unreadable.slice(0, 20).map((u) => html`<li>${u}</li>`)}
                  </ul>
                </div>`
              : ''
          }
          <p>The same data is in the CSV files written with this report. Dates are UTC.</p>
        </footer>
      </body>
    </html> `;
  return page.value;
}

function card(id: string, title: string, value: number, note: string, alert = false): SafeHtml {
  return html`<div class="card${alert ? ' alert' : ''}" data-testid="count-${id}">
    <div class="card-value">${value}</div>
    <div class="card-title">${title}</div>
    <div class="card-note">${note}</div>
  </div>`;
}

const TIER_SEGMENTS = {
  flagged: { label: 'flagged', className: 'fill-flagged' },
  warning: { label: 'warning', className: 'fill-warning' },
  exempt: { label: 'exempt', className: 'fill-exempt' },
} as const;

function ownersChart(groups: readonly OwnerTokens[]): SafeHtml {
  const legend = Object.values(TIER_SEGMENTS).map((s) => ({ ...s, value: 0 }));
  return stackedBarChart(
    'Open token findings by owner',
    groups.map((g) => ({
      label: g.owner.label,
      // flagged and warned: counted by buildReport over the same tokens.
      segments: [
        { ...TIER_SEGMENTS.flagged, value: g.flagged },
        { ...TIER_SEGMENTS.warning, value: g.warned },
        { ...TIER_SEGMENTS.exempt, value: g.tokens.filter((t) => t.tier === 'exempt').length },
      ],
    })),
    legend,
  );
}

const IDLE_BUCKETS: readonly { label: string; min: number; max: number }[] = [
  { label: '< 90', min: 0, max: 90 },
  { label: '90–179', min: 90, max: 180 },
  { label: '180–364', min: 180, max: 365 },
  { label: '1–2 yrs', min: 365, max: 730 },
  { label: '2+ yrs', min: 730, max: Infinity },
];

function idleChart(tokens: readonly TokenRow[]): SafeHtml {
  const active = tokens.filter((t) => t.tier !== 'exempt');
  const columns: BarSegment[] = IDLE_BUCKETS.map((b) => ({
    label: b.label,
    value: active.filter((t) => t.lastUsed !== null && t.idleDays >= b.min && t.idleDays < b.max).length,
    className: 'fill-flagged',
  }));
  columns.push({
    label: 'never',
    value: active.filter((t) => t.lastUsed === null).length,
    className: 'fill-never',
  });
  return columnChart('Idle days of open token findings', columns);
}

function accessChart(report: ReportData): SafeHtml {
  const u = report.access.units;
  return columnChart('Access-request units in the period', [
    { label: 'submitted', value: u.submitted, className: 'fill-ok' },
    { label: 'duplicate', value: u.duplicate, className: 'fill-exempt' },
    { label: 'skipped', value: u['already-held'] + u['not-held'], className: 'fill-warning' },
    { label: 'invalid', value: u.invalid, className: 'fill-flagged' },
    { label: 'failed', value: u.failed, className: 'fill-flagged' },
  ]);
}

function person(p: PersonView): SafeHtml {
  return html`<span class="person"
    >${p.label}${p.email ? html` <a href="mailto:${p.email}">${p.email}</a>` : ''}</span
  >`;
}

const badge = (text: string, kind: string) => html`<span class="badge badge-${kind}">${text}</span>`;

function tokensTable(groups: readonly OwnerTokens[]): SafeHtml {
  return html`<table data-testid="tokens-table">
    <thead>
      <tr>
        <th>Token</th>
        <th>Tier</th>
        <th>Why</th>
        <th>Last used</th>
        <th class="num">Idle days</th>
        <th>Created</th>
        <th>Flagged since</th>
        <th>Revoke from</th>
      </tr>
    </thead>
    ${groups.map(
      (g) =>
        html`<tbody>
          <tr class="owner-row" data-testid="owner-row" data-owner-id="${g.owner.id}">
            <th colspan="8">
              ${person(g.owner)}
              <span class="owner-counts"
                >${g.tokens.length} token(s): ${g.flagged} flagged, ${g.warned} warning</span
              >
            </th>
          </tr>
          ${g.tokens.map(
            (t) =>
              html`<tr data-testid="token-row" data-token-id="${t.tokenId}" class="tier-${t.tier}">
                <td>
                  ${t.tokenName}
                  <div class="id">${t.tokenId}</div>
                </td>
                <td>${badge(t.tier, t.tier)}</td>
                <td>${verdictText(t)}</td>
                <td class="date">${t.lastUsed ? t.lastUsed.slice(0, 10) : html`<em>never</em>`}</td>
                <td class="num">${t.idleDays}</td>
                <td class="date">${t.created.slice(0, 10)}</td>
                <td class="date">${t.flaggedSince?.slice(0, 10) ?? ''}</td>
                <td class="date">${revokeCell(t)}</td>
              </tr>`,
          )}
        </tbody>`,
    )}
  </table>`;
}

/** The revocation date; "notice pending" while the notice carrying it is undelivered (it may move). */
function revokeCell(t: TokenRow): SafeHtml | string {
  if (t.tier !== 'flagged') return '';
  if (!t.revokeFrom) return html`<em>dated by the next sweep</em>`;
  return t.revokeNoticePending
    ? html`<strong>${t.revokeFrom.slice(0, 10)}</strong> <em>(notice pending)</em>`
    : html`<strong>${t.revokeFrom.slice(0, 10)}</strong>`;
}

function verdictText(t: TokenRow): SafeHtml {
  const verdict = { stale: 'unused too long', idle: 'unused, nearing the limit', 'never-used': 'never used' }[
    t.verdict
  ];
  if (t.exemption) {
    return html`exempt:
    ${t.exemption.reason}${t.exemption.expires ? html` <span class="muted">(until ${t.exemption.expires})</span>` : ''}${verdict ? html`<div class="muted">otherwise ${verdict}</div>` : ''}`;
  }
  return html`${verdict ?? t.verdict}`;
}

function closedTable(rows: readonly ClosedTokenRow[]): SafeHtml {
  return html`<table data-testid="closed-tokens-table">
    <thead>
      <tr>
        <th>Token</th>
        <th>Owner</th>
        <th>Outcome</th>
        <th>Why</th>
        <th>On</th>
        <th>Last used</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-testid="closed-token-row" data-token-id="${r.tokenId}">
            <td>
              ${r.tokenName}
              <div class="id">${r.tokenId}</div>
            </td>
            <td>${person(r.owner)}</td>
            <td>${badge(r.outcome.toLowerCase(), r.outcome === 'REVOKED' ? 'flagged' : 'ok')}</td>
            <td>${r.reason}</td>
            <td class="date">${r.closedAt.slice(0, 10)}</td>
            <td class="date">${r.lastUsed?.slice(0, 10) ?? html`<em>never</em>`}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function cognigyTable(rows: readonly CognigyRow[], testId: string): SafeHtml {
  return html`<table data-testid="${testId}">
    <thead>
      <tr>
        <th>Finding</th>
        <th>Status</th>
        <th>Detail</th>
        <th>Owner</th>
        <th>Since</th>
        ${rows.some((r) => r.closedAt) ? html`<th>Resolved</th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-testid="cognigy-row">
            <td>${r.title}</td>
            <td>
              ${badge(r.status.toLowerCase(), r.status === 'FLAGGED' ? 'flagged' : r.status === 'WARNED' ? 'warning' : 'ok')}
            </td>
            <td>${shorten(r.detail, 220)}</td>
            <td>
              ${r.owner ? person(r.owner) : html`<span class="muted">not set (COGNIGY_CREDENTIAL_OWNER)</span>`}
            </td>
            <td class="date">${r.since.slice(0, 10)}</td>
            ${r.closedAt ? html`<td class="date">${r.closedAt.slice(0, 10)}</td>` : ''}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function accessSection(report: ReportData): SafeHtml {
  const a = report.access;
  const m = a.messages;
  const u = a.units;
  const summary = html`<table class="compact" data-testid="access-summary">
    <thead>
      <tr>
        <th>In the period</th>
        <th class="num">Messages</th>
        <th class="num">Units</th>
      </tr>
    </thead>
    <tbody>
      <tr>
        <td>Submitted to SailPoint (${a.accessRequestIds} access request id(s))</td>
        <td class="num">${m.submitted}</td>
        <td class="num" data-testid="units-submitted">${u.submitted}</td>
      </tr>
      <tr>
        <td>Suppressed as duplicates (in flight or submitted within the dedup window)</td>
        <td class="num">${m.duplicate}</td>
        <td class="num" data-testid="units-duplicate">${u.duplicate}</td>
      </tr>
      <tr>
        <td>Skipped: access already held / not held</td>
        <td class="num">${m['already-held'] + m['not-held']}</td>
        <td class="num">${u['already-held'] + u['not-held']}</td>
      </tr>
      <tr>
        <td>Dead-lettered: invalid</td>
        <td class="num">${m.invalid}</td>
        <td class="num">${u.invalid}</td>
      </tr>
      <tr>
        <td>Dead-lettered: refused by SailPoint or gave up</td>
        <td class="num">${m.failed}</td>
        <td class="num">${u.failed}</td>
      </tr>
      <tr>
        <td>Still being retried</td>
        <td class="num">${m.retrying}</td>
        <td class="num">${u.retrying + u.waiting}</td>
      </tr>
      <tr class="total">
        <td>Total</td>
        <td class="num">${a.totalMessages}</td>
        <td class="num">${Object.values(u).reduce((n, v) => n + v, 0)}</td>
      </tr>
    </tbody>
  </table>`;
  if (a.deadLettered.length === 0) {
    return html`${summary}
      <p class="empty">No message was dead-lettered in the period.</p>`;
  }
  const shown = a.deadLettered.slice(0, DEAD_LETTER_ROWS);
  return html`${summary}
    <h3>Dead letters by reason</h3>
    <table class="compact" data-testid="dead-letter-reasons">
      <thead>
        <tr>
          <th>Reason</th>
          <th class="num">Messages</th>
        </tr>
      </thead>
      <tbody>
        ${a.deadLetterReasons.map(
          (r) =>
            html`<tr>
              <td>${r.reason}</td>
              <td class="num">${r.count}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>
      Dead
      letters${a.deadLettered.length > shown.length ? ` (latest ${shown.length} of ${a.deadLettered.length}; all in the CSV)` : ''}
    </h3>
    <table data-testid="dead-letters-table">
      <thead>
        <tr>
          <th>Request id</th>
          <th>Message id</th>
          <th>Kind</th>
          <th>Reason</th>
          <th class="num">Attempts</th>
          <th>First attempt</th>
          <th>Last attempt</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (d) =>
            html`<tr data-testid="dead-letter-row">
              <td>${d.requestId ?? html`<span class="muted">none</span>`}</td>
              <td class="id">${d.messageId}</td>
              <td>${badge(d.status, 'flagged')}</td>
              <td>${d.reason}</td>
              <td class="num">${d.receiveCount}</td>
              <td class="date">${formatTime(d.firstSeenAt)}</td>
              <td class="date">${formatTime(d.lastAttemptAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function absenceTable(rows: readonly AbsenceRow[], testId: string): SafeHtml {
  return html`<table data-testid="${testId}">
    <thead>
      <tr>
        <th>Person</th>
        <th>From</th>
        <th>Until</th>
        <th>Delegate</th>
        <th>Work types</th>
        <th>In SailPoint</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-testid="absence-row">
            <td>${person(r.person)}</td>
            <td class="date">${r.startDate.slice(0, 10)}</td>
            <td class="date">${r.endDate?.slice(0, 10) ?? html`<em>further notice</em>`}</td>
            <td>${r.delegate ? person(r.delegate) : html`<span class="muted">none yet</span>`}</td>
            <td class="types">${r.workTypes.map(workType).join(', ')}</td>
            <td>
              ${r.deferred ? html`${badge('waiting', 'warning')} ${r.deferred}` : r.configuredTypes.length ? html`${badge('configured', 'ok')} ${r.configuredTypes.map(workType).join(', ')}` : html`<span class="muted">none held</span>`}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Long text cut at `max` characters; the whole text in a tooltip (and in the CSV). */
function shorten(text: string, max: number): SafeHtml {
  return text.length <= max ? html`${text}` : html`<span title="${text}">${text.slice(0, max - 1)}…</span>`;
}

/** ACCESS_REQUESTS → access requests */
const workType = (type: string) => type.toLowerCase().replace(/_/g, ' ');

function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const STYLE = `
:root { --ink:#1d2530; --muted:#5b6675; --line:#dde3ea; --bg:#f6f8fa; --flagged:#c8372d; --warning:#d98e04;
  --exempt:#8a94a3; --never:#7b3fb3; --ok:#2e7d4f; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 28px 40px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 10px; margin-bottom: 18px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 30px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta, .lead, .muted, .card-note, .id, .owner-counts { color: var(--muted); }
.meta { margin: 2px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card.alert { border-left: 4px solid var(--flagged); }
.card-value { font-size: 26px; font-weight: 700; }
.card-title { font-weight: 600; }
.card-note { font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; margin-top: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.chart { max-width: 100%; height: auto; }
.chart-label { font-size: 13px; fill: var(--muted); }
.chart-value { font-size: 13px; font-weight: 600; fill: var(--ink); }
.axis { stroke: var(--line); }
.fill-flagged { fill: var(--flagged); } .fill-warning { fill: var(--warning); } .fill-exempt { fill: var(--exempt); }
.fill-never { fill: var(--never); } .fill-ok { fill: var(--ok); }
table { width: 100%; border-collapse: collapse; margin: 6px 0 12px; }
table.compact { width: auto; min-width: 50%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--bg); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.owner-row th { background: #eef3f9; font-size: 14px; border-top: 2px solid var(--line); }
tr.total td { font-weight: 700; }
.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.badge-flagged { background: var(--flagged); } .badge-warning { background: var(--warning); }
.badge-exempt { background: var(--exempt); } .badge-ok { background: var(--ok); }
.person a { color: var(--accent); font-size: 12px; text-decoration: none; }
.empty { color: var(--muted); font-style: italic; }
.warning { border: 1px solid var(--warning); background: #fff8e6; padding: 8px 12px; border-radius: 6px; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } figure, tr { break-inside: avoid; } .cards { grid-template-columns: repeat(4, 1fr); } }
`;
