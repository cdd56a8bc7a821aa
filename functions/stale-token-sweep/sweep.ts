/**
 * One run of the stale personal-access-token sweep:
 *
 *   1. fetch   two filtered calls: `lastUsed le <cut-off>` (idle/stale) and `lastUsed isnull`
 *              (never used); the endpoint has no paging, each call returns every match
 *   2. assess  each token with the policy → an observation (WARNED, FLAGGED, EXEMPT, or "not a
 *              finding", which closes an open finding)
 *   3. explain open findings neither call returned: their token was used again or deleted. One
 *              `owner-id` call per affected owner tells which (and its new lastUsed). Skipped when a
 *              fetch failed: absence then proves nothing, so those findings are kept as they are
 *   4. record  reconcile with the findings store: only changed findings are written
 *   5. notify  each new or escalated finding, once (see functions/shared/findings)
 *   6. revoke  FLAGGED tokens whose grace period has passed: DELETE when enabled, else report
 *              them as "would revoke" (dry run, the default); revocations are notified too
 *
 * A failure in one step is recorded in the summary and the run continues where that is safe, so
 * everything that could be written is written; the summary's status is then 'failed'. What a
 * SailPoint failure means is the shared failure policy's: one that fails the run (the credential
 * refused or lacking a right) stops the SailPoint calls of this run at once — every other one would
 * be refused the same way.
 */
import { randomUUID } from 'node:crypto';
import { groupBy } from '../shared/collections';
import type { Notifier } from '../shared/notifier';
import { silentLog, type LogSink } from '../shared/observability';
import { decideFailure } from '../shared/failure-policy';
import {
  FINDING_SOURCES,
  OwnerLookups,
  isOpen,
  nameOwners,
  ownerLabel,
  type Finding,
  type FindingChange,
  type FindingsStore,
  type NotificationContent,
  type Observation,
  type OwnerDirectory,
} from '../shared/findings';
import {
  DAY_MS,
  assessToken,
  describeVerdict,
  graceElapsed,
  idleCutoff,
  type Assessment,
  type StaleTokenPolicy,
  type TokenView,
  type Verdict,
} from './policy';
import type { TokenDirectory } from './token-directory';

/** The findings `source` of this workflow; subjectId is the token id. */
export const FINDINGS_SOURCE = FINDING_SOURCES.staleToken;

export const NOTIFICATION_KINDS = {
  warned: 'stale-token.warned',
  flagged: 'stale-token.flagged',
  revoked: 'stale-token.revoked',
} as const;

export interface StaleTokenSweepDeps {
  readonly tokens: TokenDirectory;
  readonly findings: FindingsStore;
  readonly notifier: Notifier;
  readonly policy: StaleTokenPolicy;
  /** Names owners (display name, e-mail) in findings and notifications; without it, the token's owner name. */
  readonly owners?: OwnerDirectory;
  readonly log?: LogSink;
  readonly clock?: () => Date;
  readonly newRunId?: () => string;
  /** Time left of the invocation (Lambda's getRemainingTimeInMillis); absent: no limit. */
  readonly remainingTimeMs?: () => number;
  /** No new step (a chunk of findings, a wave of notices, a revocation) starts with less left (default 30 s). */
  readonly timeReserveMs?: number;
  /** SNS PublishBatch calls in flight at once (default 8). */
  readonly publishConcurrency?: number;
}

/** Findings written per chunk; the time left is checked between chunks. */
const RECONCILE_CHUNK = 1_000;
const DEFAULT_TIME_RESERVE_MS = 30_000;

/** A token as the summary lists it. */
export interface TokenRef {
  readonly tokenId: string;
  readonly name: string;
  readonly ownerId?: string;
  readonly ownerName?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly lastUsed?: string | null;
  readonly firstFlaggedAt?: string;
}

export interface SweepCounts {
  /** Tokens returned by the two filtered calls. */
  tokensFetched: number;
  /** This run's verdicts over the fetched tokens. */
  warned: number;
  flagged: number;
  exempt: number;
  excludedManaged: number;
  /** WARNED or FLAGGED findings opened (or reopened) by this run; each is notified. */
  newFindings: number;
  /** Findings recorded as EXEMPT by this run (new, or an exemption added); not notified. */
  exempted: number;
  /** WARNED → FLAGGED, or an exemption that ended. */
  escalated: number;
  resolved: number;
  revoked: number;
  wouldRevoke: number;
  /** FLAGGED findings still inside their grace period. */
  awaitingGrace: number;
  notified: number;
  /**
   * Work this run did not get to because its invocation was about to time out: observations not
   * recorded, notices given back, revocations not attempted. The next run takes them up.
   */
  leftForNextRun: number;
  /** DynamoDB writes of this run (0 over an unchanged tenant). */
  findingWrites: number;
  /** Calls to SailPoint's PAT endpoints (lists and deletes). */
  sailPointCalls: number;
  /** Owners looked up in the identity directory (once per owner, for the findings notified this run). */
  ownerLookups: number;
  /** Lookups that did not answer: those findings keep the names they had (the run does not fail). */
  ownerLookupFailures: number;
  errors: number;
}

export interface SweepSummary {
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: 'succeeded' | 'failed';
  readonly mode: 'dry-run' | 'revoke';
  readonly counts: SweepCounts;
  readonly newFindings: readonly TokenRef[];
  readonly resolved: readonly TokenRef[];
  readonly wouldRevoke: readonly TokenRef[];
  readonly revoked: readonly TokenRef[];
  readonly errors: readonly string[];
}

export async function runStaleTokenSweep(deps: StaleTokenSweepDeps): Promise<SweepSummary> {
  const { tokens, findings: store, notifier, policy } = deps;
  const log = deps.log ?? silentLog;
  const now = (deps.clock ?? (() => new Date()))();
  const nowMs = now.getTime();
  const runId = (deps.newRunId ?? randomUUID)();
  const writesBefore = store.stats.writes;
  const errors: string[] = [];
  const counts: SweepCounts = {
    tokensFetched: 0,
    warned: 0,
    flagged: 0,
    exempt: 0,
    excludedManaged: 0,
    newFindings: 0,
    exempted: 0,
    escalated: 0,
    resolved: 0,
    revoked: 0,
    wouldRevoke: 0,
    awaitingGrace: 0,
    notified: 0,
    leftForNextRun: 0,
    findingWrites: 0,
    sailPointCalls: 0,
    ownerLookups: 0,
    ownerLookupFailures: 0,
    errors: 0,
  };
  const fail = (message: string, extra: object = {}) => {
    errors.push(message);
    log.error(message, extra);
  };
  const summarize = (rest: Partial<SweepSummary> = {}): SweepSummary => {
    counts.findingWrites = store.stats.writes - writesBefore;
    counts.errors = errors.length;
    return {
      runId,
      startedAt: now.toISOString(),
      finishedAt: (deps.clock ?? (() => new Date()))().toISOString(),
      status: errors.length ? 'failed' : 'succeeded',
      mode: policy.revocation.enabled ? 'revoke' : 'dry-run',
      counts,
      newFindings: [],
      resolved: [],
      wouldRevoke: [],
      revoked: [],
      ...rest,
      errors,
    };
  };
  const reserveMs = deps.timeReserveMs ?? DEFAULT_TIME_RESERVE_MS;
  const outOfTime = () => deps.remainingTimeMs !== undefined && deps.remainingTimeMs() < reserveMs;
  const publishOptions = { now, runId, shouldStop: outOfTime, concurrency: deps.publishConcurrency };
  const list = async (query: { filters?: string; ownerId?: string }) => {
    counts.sailPointCalls++;
    return tokens.list(query);
  };

  // 1. Fetch with the API's own filters. Credentials that do not work make every call fail: stop.
  const fetches = [
    { what: 'idle tokens', filters: `lastUsed le ${idleCutoff(policy, nowMs)}` },
    { what: 'never-used tokens', filters: 'lastUsed isnull' },
  ];
  const fetched = new Map<string, TokenView>();
  let complete = true;
  for (const { what, filters } of fetches) {
    try {
      for (const token of await list({ filters })) fetched.set(token.id, token);
    } catch (error) {
      complete = false;
      if (stopsTheRun(error)) {
        fail(credentialsHint(error), { filters });
        return summarize();
      }
      fail(`listing ${what} failed: ${messageOf(error)}`, { filters });
    }
  }
  counts.tokensFetched = fetched.size;

  // The findings as they stand: what this run compares against (and a FLAGGED one's announced date).
  let existing: Finding[];
  try {
    existing = await store.list(FINDINGS_SOURCE);
  } catch (error) {
    fail(`loading the findings failed: ${messageOf(error)}`);
    return summarize();
  }
  const previous = new Map(existing.map((f) => [f.subjectId, f]));

  // 2. Assess what was fetched. Only tokens this run flags may be revoked by it (step 6).
  const observations: Observation[] = [];
  const flaggedThisRun = new Set<string>();
  for (const token of fetched.values()) {
    const assessment = assessToken(token, policy, nowMs);
    tally(counts, assessment);
    if (assessment.outcome === 'flag') flaggedThisRun.add(token.id);
    if (assessment.outcome === 'unreadable') {
      fail(assessment.problem);
      continue;
    }
    if (assessment.outcome === 'warn' || assessment.outcome === 'flag') {
      for (const e of assessment.expiredExemptions) {
        log.info('exemption expired', {
          tokenId: token.id,
          kind: e.kind,
          value: e.value,
          expires: e.expires,
        });
      }
    }
    observations.push(observationOf(token, assessment, previous.get(token.id), policy, now));
  }

  // 3. Explain open findings that neither call returned.
  if (complete) {
    const missing = existing.filter((f) => isOpen(f.status) && !fetched.has(f.subjectId));
    observations.push(...(await explainMissing(missing, list, policy, now, fail, outOfTime)));
  } else if (existing.some((f) => isOpen(f.status) && !fetched.has(f.subjectId))) {
    log.warn('a fetch failed: open findings not returned this run are kept unchanged');
  }

  // Owners by name and e-mail, looked up for the findings this run notifies about (a new status, or
  // a FLAGGED token's revocation date set on arming): once per owner, before any finding is recorded.
  const lookups = deps.owners ? new OwnerLookups(deps.owners) : undefined;
  const named = lookups
    ? await nameOwners(observations, existing, lookups, { alsoNotified: announcesNewDate })
    : observations;
  if (lookups) {
    counts.ownerLookups = lookups.stats.asked;
    counts.ownerLookupFailures = lookups.stats.failed;
  }

  // 4. Record (only changes are written), in chunks while time allows, and 5. notify.
  const notificationFor = (change: FindingChange) => notificationOf(change, policy);
  const current = new Map(previous);
  const unrecorded = new Set<string>();
  const changes: FindingChange[] = [];
  let undelivered: readonly Finding[] = [];
  for (let start = 0; start < named.length; start += RECONCILE_CHUNK) {
    if (outOfTime()) {
      const left = named.slice(start);
      counts.leftForNextRun += left.length;
      for (const o of left) unrecorded.add(o.subjectId);
      break;
    }
    const reconciled = await store.reconcile(FINDINGS_SOURCE, named.slice(start, start + RECONCILE_CHUNK), {
      now,
      runId,
      existing: [...current.values()],
      unobserved: 'keep',
      notificationFor,
    });
    for (const failure of reconciled.failed) {
      unrecorded.add(failure.subjectId);
      fail(`recording finding ${failure.subjectId} failed: ${failure.error}`);
    }
    for (const [id, f] of reconciled.findings) current.set(id, f);
    changes.push(...reconciled.changes);
    undelivered = reconciled.undelivered; // over every finding so far
  }
  if (named.length === 0) {
    // Nothing observed: still deliver what earlier runs left pending.
    undelivered = (await store.reconcile(FINDINGS_SOURCE, [], { now, runId, existing })).undelivered;
  }
  const firstDelivery = await store.deliverNotifications(undelivered, notifier, publishOptions);
  for (const [id, f] of firstDelivery.findings) current.set(id, f);
  counts.notified += firstDelivery.sent.length;
  counts.leftForNextRun += firstDelivery.leftForNextRun;
  for (const f of firstDelivery.failed) fail(`notification ${f.key} failed: ${f.error}`);

  const newFindings: TokenRef[] = [];
  const resolved: TokenRef[] = [];
  const revokedRefs: TokenRef[] = [];
  for (const change of changes) {
    const { before, after } = change;
    if (after.status === 'EXEMPT' && before?.status !== 'EXEMPT') {
      counts.exempted++;
    } else if (change.kind === 'opened' || change.kind === 'reopened') {
      counts.newFindings++;
      newFindings.push(refOf(after));
    } else if (change.kind === 'status-changed' && after.status === 'FLAGGED') {
      counts.escalated++;
    } else if (change.kind === 'closed' && after.status === 'RESOLVED') {
      counts.resolved++;
      resolved.push(refOf(after));
    } else if (change.kind === 'closed' && after.status === 'REVOKED' && before) {
      counts.revoked++; // confirmed after a run that crashed mid-revocation
      revokedRefs.push(refOf(after));
    }
  }

  // 6. Revoke (or report what a dry run would revoke): only what this run flagged and recorded as
  // FLAGGED. The stored status alone is not enough: an exemption, a setting or a lower verdict of this
  // run whose write failed leaves the finding FLAGGED in the table.
  const wouldRevoke: TokenRef[] = [];
  const revoked = revokedRefs;
  const revocationChanges: Finding[] = [];
  for (const tokenId of flaggedThisRun) {
    const finding = current.get(tokenId);
    if (finding?.status !== 'FLAGGED' || unrecorded.has(tokenId) || !finding.firstFlaggedAt) continue;
    if (!policy.revocation.enabled) {
      // What would go if revocation had been on since the first flag (switching it on first sends
      // each of these a notice with its date, then waits the grace period: see revocationDue).
      if (graceElapsed(finding.firstFlaggedAt, policy, nowMs)) wouldRevoke.push(refOf(finding));
      else counts.awaitingGrace++;
      continue;
    }
    if (!revocationDue(finding, nowMs)) {
      if (finding.notification?.state === 'PENDING') {
        log.warn('not revoking before the owner was notified', { tokenId: finding.subjectId });
      }
      counts.awaitingGrace++;
      continue;
    }
    if (outOfTime()) {
      counts.leftForNextRun++;
      continue;
    }
    if (store.claimIsLive(finding.actionClaims?.revoke, now)) continue; // another run is revoking it
    let claimed: Finding | undefined;
    try {
      claimed = await store.claimAction(finding, 'revoke', now);
    } catch (error) {
      fail(`revoking token ${finding.subjectId} failed: claiming it: ${messageOf(error)}`);
      continue;
    }
    if (!claimed) continue;
    let outcome: 'deleted' | 'not-found';
    try {
      counts.sailPointCalls++;
      outcome = await tokens.delete(finding.subjectId);
    } catch (error) {
      fail(`revoking token ${finding.subjectId} failed: ${messageOf(error)}`);
      // A claim left behind would later read as "deleted by the sweep" if the owner deletes the token.
      await store
        .releaseAction(claimed, 'revoke')
        .catch((releaseError: unknown) =>
          fail(`releasing the revoke claim on ${finding.subjectId} failed: ${messageOf(releaseError)}`),
        );
      if (stopsTheRun(error)) break; // the next revocations would be refused the same way
      continue;
    }
    const after = await store.reconcile(
      FINDINGS_SOURCE,
      [
        {
          subjectId: finding.subjectId,
          status: 'REVOKED',
          reason: 'revoked after the grace period',
          facts: {
            revokedAt: now.toISOString(),
            revocation: outcome === 'deleted' ? 'deleted' : 'already-gone',
          },
        },
      ],
      { now, runId, existing: [claimed], notificationFor },
    );
    for (const failure of after.failed)
      fail(`recording revocation of ${failure.subjectId} failed: ${failure.error}`);
    const revokedFinding = after.findings.get(finding.subjectId);
    if (revokedFinding?.status === 'REVOKED') {
      counts.revoked++;
      revoked.push(refOf(revokedFinding));
      revocationChanges.push(revokedFinding);
    }
  }
  counts.wouldRevoke = wouldRevoke.length;
  if (revocationChanges.length) {
    const delivery = await store.deliverNotifications(revocationChanges, notifier, publishOptions);
    counts.notified += delivery.sent.length;
    counts.leftForNextRun += delivery.leftForNextRun;
    for (const f of delivery.failed) fail(`notification ${f.key} failed: ${f.error}`);
  }
  if (counts.leftForNextRun > 0) {
    fail(
      `stopped ${counts.leftForNextRun} item(s) short, ${Math.round(reserveMs / 1000)} s before the invocation's timeout: ` +
        'what was done is recorded, the rest was given back for the next run',
    );
  }

  return summarize({ newFindings, resolved, wouldRevoke, revoked });
}

function tally(counts: SweepCounts, assessment: Assessment): void {
  if (assessment.outcome === 'warn') counts.warned++;
  else if (assessment.outcome === 'flag') counts.flagged++;
  else if (assessment.outcome === 'exempt') counts.exempt++;
  else if (assessment.outcome === 'excluded-managed') counts.excludedManaged++;
}

/** Facts hold only what is stable from day to day, so an unchanged token means an unchanged finding. */
function factsOf(token: TokenView): Record<string, unknown> {
  return { tokenName: token.name, created: token.created, lastUsed: token.lastUsed, managed: token.managed };
}

function observationOf(
  token: TokenView,
  assessment: Exclude<Assessment, { outcome: 'unreadable' }>,
  previous: Finding | undefined,
  policy: StaleTokenPolicy,
  now: Date,
): Observation {
  const base = { subjectId: token.id, owner: token.owner };
  switch (assessment.outcome) {
    case 'warn':
    case 'flag': {
      // An exemption that ran out is named, so the owner learns why protection ended.
      const expired = assessment.expiredExemptions[0];
      const revokeFrom = assessment.outcome === 'flag' ? revokeFromOf(previous, policy, now) : undefined;
      return {
        ...base,
        status: assessment.outcome === 'warn' ? 'WARNED' : 'FLAGGED',
        reason: assessment.verdict,
        facts: {
          ...factsOf(token),
          ...(expired
            ? {
                expiredExemption: {
                  kind: expired.kind,
                  value: expired.value,
                  reason: expired.reason,
                  expires: expired.expires,
                },
              }
            : {}),
          ...(revokeFrom ? { revokeFrom } : {}),
        },
      };
    }
    case 'exempt': {
      const { kind, value, expires } = assessment.exemption;
      return {
        ...base,
        status: 'EXEMPT',
        reason: assessment.exemption.reason,
        facts: {
          ...factsOf(token),
          verdict: assessment.verdict,
          exemption: { kind, value, ...(expires ? { expires } : {}) },
        },
      };
    }
    case 'excluded-managed':
      return { ...base, status: 'RESOLVED', reason: 'managed tokens are excluded', facts: factsOf(token) };
    case 'ok':
      return { ...base, status: 'RESOLVED', reason: 'below the thresholds', facts: factsOf(token) };
  }
}

/**
 * The revocation date a FLAGGED token's owner is told. Set when the finding enters FLAGGED while
 * revocation is on, or — for a token flagged during dry-run days — on the first run with revocation on
 * ("arming"): its grace runs from that notice, never from the dateless dry-run one. Once the notice
 * carrying it went out, the date stands (a later dry run keeps it, a later revoke run does not move
 * it), so an unchanged token means unchanged facts and no write. While that notice is still
 * undelivered (SNS was down), each revoke run dates it afresh: the owner always gets the full grace
 * from the day they can read it. None in dry-run mode for a date never announced.
 */
function revokeFromOf(
  previous: Finding | undefined,
  policy: StaleTokenPolicy,
  now: Date,
): string | undefined {
  const known =
    previous?.status === 'FLAGGED' && typeof previous.facts.revokeFrom === 'string'
      ? previous.facts.revokeFrom
      : undefined;
  if (!policy.revocation.enabled) return known;
  if (known && announced(previous!, known)) return known;
  return new Date(now.getTime() + policy.revocation.graceDays * DAY_MS).toISOString();
}

/** The notice carrying this date was published. */
function announced(finding: Finding, revokeFrom: string): boolean {
  const told = finding.notification;
  return told?.state === 'SENT' && told.detail.revokeFrom === revokeFrom;
}

/** Revocation is due when the owner was told the date (the notice carrying it was sent) and it has come. */
function revocationDue(finding: Finding, nowMs: number): boolean {
  const revokeFrom = finding.facts.revokeFrom;
  return typeof revokeFrom === 'string' && Date.parse(revokeFrom) <= nowMs && announced(finding, revokeFrom);
}

/**
 * Open findings whose token neither filtered call returned: it was used again (lastUsed is now
 * recent) or deleted. One `owner-id` call per affected owner tells which. A finding this or an
 * earlier run claimed for revocation and whose token is gone was revoked (the run that deleted it
 * stopped before recording that).
 */
async function explainMissing(
  missing: readonly Finding[],
  list: TokenDirectory['list'],
  policy: StaleTokenPolicy,
  now: Date,
  fail: (message: string) => void,
  outOfTime: () => boolean,
): Promise<Observation[]> {
  const byOwner = groupBy(missing, (f) => f.owner?.id ?? '');
  const observations: Observation[] = [];
  for (const [ownerId, findings] of byOwner) {
    // Short of time: these stay as they are (kept, like after a failed fetch) until the next run.
    if (outOfTime()) break;
    let owned: TokenView[];
    try {
      // Without an owner (never expected) the lookup would be the full list; keep those instead.
      if (!ownerId) continue;
      owned = await list({ ownerId });
    } catch (error) {
      fail(`looking up the tokens of owner ${ownerId} failed: ${messageOf(error)}`);
      if (stopsTheRun(error)) break;
      continue;
    }
    const byId = new Map(owned.map((t) => [t.id, t]));
    for (const finding of findings) {
      const token = byId.get(finding.subjectId);
      if (!token) {
        // Only a FLAGGED finding's claim means the sweep deleted it (claims end with the status).
        observations.push(
          finding.status === 'FLAGGED' && finding.actionClaims?.revoke
            ? {
                subjectId: finding.subjectId,
                status: 'REVOKED',
                reason: 'revoked after the grace period',
                facts: { revokedAt: finding.actionClaims.revoke, revocation: 'confirmed-next-run' },
              }
            : { subjectId: finding.subjectId, status: 'RESOLVED', reason: 'deleted' },
        );
        continue;
      }
      const assessment = assessToken(token, policy, now.getTime());
      if (assessment.outcome === 'unreadable') {
        fail(assessment.problem);
        continue;
      }
      // Unchanged lastUsed: not used, the thresholds moved (e.g. the warning tier was turned off).
      const usedAgain = token.lastUsed !== (finding.facts.lastUsed ?? null);
      observations.push(
        assessment.outcome === 'ok'
          ? {
              subjectId: token.id,
              status: 'RESOLVED',
              reason: usedAgain ? 'used again' : 'below the thresholds',
              owner: token.owner,
              facts: { lastUsed: token.lastUsed },
            }
          : observationOf(token, assessment, finding, policy, now),
      );
    }
  }
  return observations;
}

/**
 * A FLAGGED token whose revocation date is set or moved (revocation switched on after dry-run days, or
 * a re-dated undelivered notice): its owner hears the date before anything happens, in a new notice.
 */
function announcesNewDate(
  after: Pick<Observation, 'status' | 'facts'>,
  before: Pick<Finding, 'status' | 'facts'> | undefined,
): boolean {
  return (
    before?.status === 'FLAGGED' &&
    after.status === 'FLAGGED' &&
    after.facts?.revokeFrom !== undefined &&
    after.facts.revokeFrom !== before.facts.revokeFrom
  );
}

function notificationOf(change: FindingChange, policy: StaleTokenPolicy): NotificationContent | undefined {
  const { before, after } = change;
  // Same open status: nothing new to say — unless a FLAGGED token's revocation date was just set.
  const armed = announcesNewDate(after, before);
  if (before && isOpen(before.status) && before.status === after.status && !armed) return undefined;
  const name = String(after.facts.tokenName ?? after.subjectId);
  const owner = ownerLabel(after.owner);
  const lastUsed = (after.facts.lastUsed as string | null | undefined) ?? null;
  const created = String(after.facts.created ?? '');
  const expired = after.facts.expiredExemption as { reason: string; expires: string } | undefined;
  const exemptionNote = expired ? `; exemption "${expired.reason}" expired ${expired.expires}` : '';
  const detail = {
    tokenId: after.subjectId,
    tokenName: name,
    ownerId: after.owner?.id,
    ownerName: after.owner?.name,
    ownerDisplayName: after.owner?.displayName,
    ownerEmail: after.owner?.email,
    status: after.status,
    reason: after.reason,
    lastUsed,
    created,
    firstFlaggedAt: after.firstFlaggedAt,
    ...(expired ? { expiredExemption: expired } : {}),
  };
  switch (after.status) {
    case 'WARNED':
      return {
        kind: NOTIFICATION_KINDS.warned,
        subject: `Personal access token "${name}" (${owner}) ${describeVerdict('idle', { lastUsed, created }, policy)}${exemptionNote}`,
        detail,
      };
    case 'FLAGGED': {
      const revokeFrom = typeof after.facts.revokeFrom === 'string' ? after.facts.revokeFrom : undefined;
      const verdict = describeVerdict(after.reason as Verdict, { lastUsed, created }, policy);
      return {
        kind: NOTIFICATION_KINDS.flagged,
        subject: `Personal access token "${name}" (${owner}) flagged: ${verdict}${exemptionNote}${revokeFrom ? `; it will be revoked from ${revokeFrom.slice(0, 10)}` : ''}`,
        detail: { ...detail, ...(revokeFrom ? { revokeFrom } : {}) },
      };
    }
    case 'REVOKED':
      return {
        kind: NOTIFICATION_KINDS.revoked,
        subject: `Personal access token "${name}" (${owner}) revoked: flagged since ${after.firstFlaggedAt?.slice(0, 10) ?? 'unknown'}`,
        detail,
      };
    default:
      return undefined;
  }
}

function refOf(f: Finding): TokenRef {
  return {
    tokenId: f.subjectId,
    name: String(f.facts.tokenName ?? f.subjectId),
    ownerId: f.owner?.id,
    ownerName: f.owner?.name,
    status: f.status,
    reason: f.reason,
    lastUsed: (f.facts.lastUsed as string | null | undefined) ?? null,
    firstFlaggedAt: f.firstFlaggedAt,
  };
}

/** The shared failure policy says nothing else in this run can succeed (credential refused, a right missing). */
const stopsTheRun = (error: unknown) => decideFailure(error).action === 'fail-run';

function credentialsHint(error: unknown): string {
  const hint =
    (error as { status?: number }).status === 403
      ? 'the client needs user context (a personal access token) and idn:all-personal-access-tokens:read ' +
        '(and idn:all-personal-access-tokens:manage to revoke)'
      : 'check SAILPOINT_CLIENT_ID/SECRET or the credentials secret (SAILPOINT_CREDENTIALS_SECRET_ID)';
  return `SailPoint refused the sweep's credentials: ${messageOf(error)} — ${hint}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
