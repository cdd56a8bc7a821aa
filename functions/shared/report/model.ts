/**
 * What the report says, as plain data: built by pure functions from what the stores hold (findings,
 * access-request outcome records, absence records), then rendered as HTML (html.ts) and CSV (csv.ts).
 * Everything that depends on "today" (idle days, revoke dates, current vs upcoming) is computed here
 * from `now`, so the same stored state always renders the same report for the same instant.
 */
import { FINDING_SOURCES, ownerLabel, type Finding, type FindingOwner, type OwnerContact } from '../findings';

export const DAY_MS = 86_400_000;

/** Findings sources the report reads (the stale-token sweep and the Cognigy audit write them). */
export const REPORT_SOURCES = FINDING_SOURCES;

export interface ReportOptions {
  readonly now: Date;
  /** "In the period": closed findings, access-request outcomes and the like since now − periodDays. */
  readonly periodDays: number;
  /** The sweep's revocation settings (STALE_TOKEN_REVOKE, STALE_TOKEN_REVOKE_GRACE_DAYS): revoke dates. */
  readonly revocation: { readonly enabled: boolean; readonly graceDays: number };
  /** Where the data came from, shown in the header (a stack name, "local sandbox"). */
  readonly source?: string;
}

/** A person as the report shows them. */
export interface PersonView {
  readonly id: string;
  /** Display name, else account name, else "identity <id>". */
  readonly label: string;
  readonly email?: string;
}

export type TokenTier = 'flagged' | 'warning' | 'exempt';

export interface TokenRow {
  readonly tokenId: string;
  readonly tokenName: string;
  readonly owner: PersonView;
  readonly tier: TokenTier;
  /** stale, idle (warning tier) or never-used; for an exempt token, what it would be. */
  readonly verdict: string;
  readonly lastUsed: string | null;
  readonly created: string;
  /** Whole days since lastUsed (never used: since created), as of the report. */
  readonly idleDays: number;
  readonly flaggedSince?: string;
  /**
   * FLAGGED only: the revocation date the sweep told (or is telling) the owner (`facts.revokeFrom`);
   * with revocation off and no date ever told, the preview firstFlaggedAt + grace. Absent with
   * revocation on and no date yet: the next sweep sends the dated notice (arming).
   */
  readonly revokeFrom?: string;
  /** FLAGGED only: the notice carrying the date has not gone out yet (the next run may re-date it). */
  readonly revokeNoticePending?: true;
  /** The exemption that protects it (EXEMPT), or its reason. */
  readonly exemption?: { readonly reason: string; readonly expires?: string };
}

export interface OwnerTokens {
  readonly owner: PersonView;
  readonly tokens: readonly TokenRow[];
  readonly flagged: number;
  readonly warned: number;
}

export interface ClosedTokenRow {
  readonly tokenId: string;
  readonly tokenName: string;
  readonly owner: PersonView;
  readonly outcome: 'REVOKED' | 'RESOLVED';
  /** e.g. 'revoked after the grace period', 'used again', 'deleted'. */
  readonly reason: string;
  readonly closedAt: string;
  readonly lastUsed: string | null;
}

export interface CognigyRow {
  readonly kind: 'privilege' | 'api-key';
  readonly subjectId: string;
  readonly status: string;
  readonly title: string;
  readonly detail: string;
  readonly owner?: PersonView;
  readonly since: string;
  readonly closedAt?: string;
}

const MESSAGE_STATUSES = [
  'submitted',
  'duplicate',
  'already-held',
  'not-held',
  'invalid',
  'failed',
  'retrying',
] as const;
type MessageStatusName = (typeof MESSAGE_STATUSES)[number];

const UNIT_OUTCOMES = [
  'submitted',
  'duplicate',
  'already-held',
  'not-held',
  'waiting',
  'retrying',
  'failed',
  'invalid',
] as const;
type UnitOutcomeName = (typeof UNIT_OUTCOMES)[number];

/** One access-request message's outcome record, as the report reads it. */
export interface OutcomeInput {
  readonly messageId: string;
  readonly requestId?: string;
  readonly status: string;
  readonly reason?: string;
  readonly unitOutcomes: readonly string[];
  readonly accessRequestIds: number;
  readonly receiveCount: number;
  readonly firstSeenAt: number;
  readonly updatedAt: number;
}

export interface DeadLetterRow {
  readonly messageId: string;
  readonly requestId?: string;
  readonly status: 'invalid' | 'failed';
  readonly reason: string;
  readonly receiveCount: number;
  readonly units: number;
  readonly firstSeenAt: string;
  readonly lastAttemptAt: string;
}

export interface AccessSummary {
  /** Messages whose outcome was recorded in the period, by their status. */
  readonly messages: Readonly<Record<MessageStatusName, number>>;
  readonly totalMessages: number;
  /** Units (identity × access item × operation) of those messages, by outcome. */
  readonly units: Readonly<Record<UnitOutcomeName, number>>;
  /** SailPoint access-request ids the submitted units got. */
  readonly accessRequestIds: number;
  /** invalid + failed: the messages sent to the dead-letter queue, newest first. */
  readonly deadLettered: readonly DeadLetterRow[];
  /** The same, grouped by reason (most frequent first). */
  readonly deadLetterReasons: readonly { readonly reason: string; readonly count: number }[];
}

/** One absence record, as the report reads it. */
export interface AbsenceInput {
  readonly identityId: string;
  readonly absenceId: string;
  readonly status: string;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly configTypes: readonly string[];
  readonly requestedDelegateId: string | null;
  readonly delegateId: string | null;
  /** Work type → who SailPoint reassigns it to (what the last reconciliation configured). */
  readonly configured: Readonly<Record<string, string>>;
  readonly deferred: string | null;
}

export interface AbsenceRow {
  readonly person: PersonView;
  readonly absenceId: string;
  readonly when: 'current' | 'upcoming';
  readonly startDate: string;
  readonly endDate: string | null;
  /** Who covers: the configured delegate, else the resolved one, else the one HR named. */
  readonly delegate?: PersonView;
  readonly workTypes: readonly string[];
  /** Work types SailPoint holds a configuration for. */
  readonly configuredTypes: readonly string[];
  /** Why it is waiting (another absence holds the slot), when it is. */
  readonly deferred?: string;
}

export interface ReportCounts {
  readonly tokensFlagged: number;
  readonly tokensNeverUsed: number;
  readonly tokensWarned: number;
  readonly tokensExempt: number;
  readonly tokenOwners: number;
  /** FLAGGED tokens whose revoke date falls within the next 7 days (or is past). */
  readonly revokeDueWithin7Days: number;
  readonly tokensRevoked: number;
  readonly tokensResolved: number;
  readonly cognigyOpen: number;
  readonly accessSubmitted: number;
  readonly accessDuplicates: number;
  readonly accessDeadLettered: number;
  readonly absencesCurrent: number;
  readonly absencesUpcoming: number;
}

export interface ReportData {
  readonly generatedAt: string;
  readonly period: { readonly from: string; readonly to: string; readonly days: number };
  readonly source?: string;
  readonly revocation: { readonly enabled: boolean; readonly graceDays: number };
  readonly counts: ReportCounts;
  /** Open stale-token findings, one group per owner (most flagged first). */
  readonly tokensByOwner: readonly OwnerTokens[];
  /** Tokens revoked or resolved in the period, newest first. */
  readonly closedTokens: readonly ClosedTokenRow[];
  readonly cognigy: { readonly open: readonly CognigyRow[]; readonly closed: readonly CognigyRow[] };
  readonly access: AccessSummary;
  readonly absences: { readonly current: readonly AbsenceRow[]; readonly upcoming: readonly AbsenceRow[] };
  /** Stored items the report could not read (shape changed, partial writes): named, never hidden. */
  readonly unreadable: readonly string[];
}

export interface ReportInput {
  readonly staleTokenFindings: readonly Finding[];
  readonly cognigyFindings: readonly Finding[];
  readonly outcomes: readonly OutcomeInput[];
  readonly absences: readonly AbsenceInput[];
  /** Names for people the records hold only ids of (absences); findings carry their owners' names. */
  readonly people?: ReadonlyMap<string, OwnerContact | null>;
  readonly unreadable?: readonly string[];
}

function personOf(owner: FindingOwner | undefined): PersonView {
  if (!owner) return { id: '', label: ownerLabel(owner) };
  return {
    id: owner.id,
    label: ownerLabel(owner),
    ...(owner.email ? { email: owner.email } : {}),
  };
}

const wholeDaysSince = (iso: string, nowMs: number) =>
  Math.max(0, Math.floor((nowMs - Date.parse(iso)) / DAY_MS));

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function buildReport(input: ReportInput, options: ReportOptions): ReportData {
  const nowMs = options.now.getTime();
  const fromMs = nowMs - options.periodDays * DAY_MS;
  const inPeriod = (iso: string | undefined) => iso !== undefined && Date.parse(iso) >= fromMs;

  // Open token findings, grouped by owner.
  const rows = input.staleTokenFindings
    .filter((f) => f.status === 'WARNED' || f.status === 'FLAGGED' || f.status === 'EXEMPT')
    .map((f) => tokenRow(f, options, nowMs));
  const groups = new Map<string, TokenRow[]>();
  for (const row of rows) groups.set(row.owner.id, [...(groups.get(row.owner.id) ?? []), row]);
  const tokensByOwner: OwnerTokens[] = [...groups.values()]
    .map((tokens) => ({
      owner: tokens[0]!.owner,
      tokens: [...tokens].sort(
        (a, b) =>
          tierOrder(a.tier) - tierOrder(b.tier) ||
          b.idleDays - a.idleDays ||
          a.tokenId.localeCompare(b.tokenId),
      ),
      flagged: tokens.filter((t) => t.tier === 'flagged').length,
      warned: tokens.filter((t) => t.tier === 'warning').length,
    }))
    .sort(
      (a, b) =>
        b.flagged - a.flagged ||
        b.tokens.length - a.tokens.length ||
        a.owner.label.localeCompare(b.owner.label),
    );

  const closedTokens: ClosedTokenRow[] = input.staleTokenFindings
    .filter((f) => (f.status === 'REVOKED' || f.status === 'RESOLVED') && inPeriod(f.closedAt))
    .map((f) => ({
      tokenId: f.subjectId,
      tokenName: str(f.facts.tokenName) ?? f.subjectId,
      owner: personOf(f.owner),
      outcome: f.status as 'REVOKED' | 'RESOLVED',
      reason: f.reason,
      closedAt: f.closedAt!,
      lastUsed: str(f.facts.lastUsed) ?? null,
    }))
    .sort((a, b) => b.closedAt.localeCompare(a.closedAt) || a.tokenId.localeCompare(b.tokenId));

  const cognigyRows = input.cognigyFindings.map(cognigyRow);
  const cognigy = {
    open: cognigyRows.filter((r) => r.closedAt === undefined),
    closed: cognigyRows.filter((r) => r.closedAt !== undefined && inPeriod(r.closedAt)),
  };

  const access = summarizeAccess(input.outcomes.filter((o) => o.updatedAt >= fromMs));
  const absences = absenceRows(input.absences, input.people, nowMs);

  const flagged = rows.filter((r) => r.tier === 'flagged');
  const weekAhead = nowMs + 7 * DAY_MS;
  return {
    generatedAt: options.now.toISOString(),
    period: { from: new Date(fromMs).toISOString(), to: options.now.toISOString(), days: options.periodDays },
    ...(options.source ? { source: options.source } : {}),
    revocation: options.revocation,
    counts: {
      tokensFlagged: flagged.filter((r) => r.verdict !== 'never-used').length,
      tokensNeverUsed: flagged.filter((r) => r.verdict === 'never-used').length,
      tokensWarned: rows.filter((r) => r.tier === 'warning').length,
      tokensExempt: rows.filter((r) => r.tier === 'exempt').length,
      tokenOwners: tokensByOwner.filter((g) => g.flagged + g.warned > 0).length,
      revokeDueWithin7Days: flagged.filter((r) => r.revokeFrom && Date.parse(r.revokeFrom) <= weekAhead)
        .length,
      tokensRevoked: closedTokens.filter((r) => r.outcome === 'REVOKED').length,
      tokensResolved: closedTokens.filter((r) => r.outcome === 'RESOLVED').length,
      cognigyOpen: cognigy.open.length,
      accessSubmitted: access.units.submitted,
      accessDuplicates: access.units.duplicate,
      accessDeadLettered: access.deadLettered.length,
      absencesCurrent: absences.current.length,
      absencesUpcoming: absences.upcoming.length,
    },
    tokensByOwner,
    closedTokens,
    cognigy,
    access,
    absences,
    unreadable: input.unreadable ?? [],
  };
}

const tierOrder = (tier: TokenTier) => (tier === 'flagged' ? 0 : tier === 'warning' ? 1 : 2);

function tokenRow(f: Finding, options: ReportOptions, nowMs: number): TokenRow {
  const lastUsed = str(f.facts.lastUsed) ?? null;
  const created = str(f.facts.created) ?? f.firstSeenAt;
  const tier: TokenTier = f.status === 'FLAGGED' ? 'flagged' : f.status === 'WARNED' ? 'warning' : 'exempt';
  const exemption = f.facts.exemption as { expires?: string } | undefined;
  const revokeFrom = tier === 'flagged' ? revokeDateOf(f, options) : undefined;
  return {
    tokenId: f.subjectId,
    tokenName: str(f.facts.tokenName) ?? f.subjectId,
    owner: personOf(f.owner),
    tier,
    // EXEMPT findings keep their verdict in the facts and the exemption's reason as the reason.
    verdict: tier === 'exempt' ? (str(f.facts.verdict) ?? 'exempt') : f.reason,
    lastUsed,
    created,
    idleDays: wholeDaysSince(lastUsed ?? created, nowMs),
    ...(f.firstFlaggedAt && tier === 'flagged' ? { flaggedSince: f.firstFlaggedAt } : {}),
    ...(revokeFrom ? { revokeFrom } : {}),
    ...(revokeFrom && f.notification?.state === 'PENDING' ? { revokeNoticePending: true as const } : {}),
    ...(tier === 'exempt'
      ? { exemption: { reason: f.reason, ...(exemption?.expires ? { expires: exemption.expires } : {}) } }
      : {}),
  };
}

/**
 * A FLAGGED token's revocation date, as the sweep keeps it (docs/stale-token-sweep.md, *Arming*): the
 * date in its facts, set while revocation is on and announced in its notice; never set during dry-run
 * days, when the report previews the date from the first flag (as the dry run's `wouldRevoke` does).
 */
function revokeDateOf(f: Finding, options: ReportOptions): string | undefined {
  const dated = str(f.facts.revokeFrom);
  if (dated) return dated;
  if (options.revocation.enabled || !f.firstFlaggedAt) return undefined;
  return new Date(Date.parse(f.firstFlaggedAt) + options.revocation.graceDays * DAY_MS).toISOString();
}

const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function cognigyRow(f: Finding): CognigyRow {
  const facts = f.facts;
  const closed = f.status === 'RESOLVED' || f.status === 'REVOKED';
  const base = {
    subjectId: f.subjectId,
    status: f.status,
    since: f.firstSeenAt,
    ...(f.owner ? { owner: personOf(f.owner) } : {}),
    ...(closed && f.closedAt ? { closedAt: f.closedAt } : {}),
  };
  if (f.subjectId.startsWith('over-privileged:')) {
    const extras = [...list(facts.extraRoles).map((r) => `role ${r}`), ...list(facts.extraRights)];
    return {
      ...base,
      kind: 'privilege',
      title: `Over-privileged (${String(facts.scope ?? '')})`,
      detail: `holds ${extras.join(', ')} beyond the manifest`,
    };
  }
  if (f.subjectId.startsWith('missing:')) {
    const missing = [...list(facts.missingRoles).map((r) => `role ${r}`), ...list(facts.missingRights)];
    return {
      ...base,
      kind: 'privilege',
      title: `Missing rights (${String(facts.scope ?? '')})`,
      detail: `lacks ${missing.join(', ')}: Cognigy work stops`,
    };
  }
  if (f.subjectId.startsWith('key:')) {
    const createdAt = Number(facts.createdAt);
    return {
      ...base,
      kind: 'api-key',
      title: `API key "${String(facts.name ?? facts.keyId)}"`,
      detail: `${f.reason}${Number.isFinite(createdAt) ? `; created ${new Date(createdAt * 1000).toISOString().slice(0, 10)}` : ''}`,
    };
  }
  const keys = Array.isArray(facts.keys) ? facts.keys.length : 0;
  return { ...base, kind: 'api-key', title: 'Several active API keys', detail: `${f.reason} (${keys} keys)` };
}

function summarizeAccess(outcomes: readonly OutcomeInput[]): AccessSummary {
  const messages = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<
    MessageStatusName,
    number
  >;
  const units = Object.fromEntries(UNIT_OUTCOMES.map((s) => [s, 0])) as Record<UnitOutcomeName, number>;
  let accessRequestIds = 0;
  const deadLettered: DeadLetterRow[] = [];
  for (const o of outcomes) {
    if (o.status in messages) messages[o.status as MessageStatusName]++;
    for (const u of o.unitOutcomes) if (u in units) units[u as UnitOutcomeName]++;
    accessRequestIds += o.accessRequestIds;
    if (o.status === 'invalid' || o.status === 'failed') {
      deadLettered.push({
        messageId: o.messageId,
        ...(o.requestId ? { requestId: o.requestId } : {}),
        status: o.status,
        reason: o.reason ?? '(no reason recorded)',
        receiveCount: o.receiveCount,
        units: o.unitOutcomes.length,
        firstSeenAt: new Date(o.firstSeenAt).toISOString(),
        lastAttemptAt: new Date(o.updatedAt).toISOString(),
      });
    }
  }
  deadLettered.sort(
    (a, b) => b.lastAttemptAt.localeCompare(a.lastAttemptAt) || a.messageId.localeCompare(b.messageId),
  );
  const byReason = new Map<string, number>();
  for (const d of deadLettered) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
  return {
    messages,
    totalMessages: outcomes.length,
    units,
    accessRequestIds,
    deadLettered,
    deadLetterReasons: [...byReason]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
  };
}

function absenceRows(
  absences: readonly AbsenceInput[],
  people: ReportInput['people'],
  nowMs: number,
): { current: AbsenceRow[]; upcoming: AbsenceRow[] } {
  const person = (id: string): PersonView => {
    const known = people?.get(id);
    return {
      id,
      // No account name here: display name, else "identity <id>".
      label: ownerLabel({ id, displayName: known?.displayName }),
      ...(known?.email ? { email: known.email } : {}),
    };
  };
  const current: AbsenceRow[] = [];
  const upcoming: AbsenceRow[] = [];
  for (const a of absences) {
    if (a.status !== 'ACTIVE' || a.startDate === null) continue;
    if (a.endDate !== null && Date.parse(a.endDate) <= nowMs) continue;
    const configuredTo = Object.values(a.configured)[0];
    const delegateId = configuredTo ?? a.delegateId ?? a.requestedDelegateId;
    const row: AbsenceRow = {
      person: person(a.identityId),
      absenceId: a.absenceId,
      when: Date.parse(a.startDate) <= nowMs ? 'current' : 'upcoming',
      startDate: a.startDate,
      endDate: a.endDate,
      ...(delegateId ? { delegate: person(delegateId) } : {}),
      workTypes: [...a.configTypes],
      configuredTypes: Object.keys(a.configured).sort(),
      ...(a.deferred ? { deferred: a.deferred } : {}),
    };
    (row.when === 'current' ? current : upcoming).push(row);
  }
  const byStart = (x: AbsenceRow, y: AbsenceRow) =>
    x.startDate.localeCompare(y.startDate) || x.person.label.localeCompare(y.person.label);
  return { current: current.sort(byStart), upcoming: upcoming.sort(byStart) };
}
