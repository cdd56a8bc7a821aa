/**
 * The stale-token policy: pure decisions over one token and the clock.
 *
 *   stale       lastUsed more than `staleAfterDays` whole days ago        → FLAGGED
 *   idle        lastUsed more than `warnAfterDays` whole days ago         → WARNED (warning tier)
 *   never used  lastUsed null, created more than `neverUsedAfterDays` ago → FLAGGED
 *   managed     `managed: true` tokens are left out unless `includeManaged`
 *   exempt      a finding an active exemption covers                      → EXEMPT
 *
 * The one-day rule. ISC updates `lastUsed` at most once a day, so a token in daily use can show a
 * `lastUsed` up to ~24 h older than its real last use. Every threshold therefore counts *whole*
 * elapsed days (24 h periods, rounded down) and fires only when that count is *strictly more* than
 * the threshold: "older than 90 days" means at least 91 × 24 h since the recorded timestamp, which
 * guarantees at least 90 days of real idleness. A token last recorded 90 days and 23 hours ago is
 * not stale yet; at 91 days it is. The same rule applies to `created` and to the warning tier, so
 * there is one rule to remember, and the API filter cut-off (`lastUsed le now − (W+1) days`) selects
 * exactly the tokens this policy warns about or flags.
 */
import { matchExemptions, type Exemption } from './exemptions';

export const DAY_MS = 86_400_000;

export interface StaleTokenPolicy {
  /** N: flag when lastUsed is more than N whole days ago. */
  readonly staleAfterDays: number;
  /** W < N: warn when lastUsed is more than W whole days ago; undefined: no warning tier. */
  readonly warnAfterDays?: number;
  /** M: flag a never-used token created more than M whole days ago. */
  readonly neverUsedAfterDays: number;
  /** Managed tokens (created by the platform, e.g. for Workflows) are skipped unless this is set. */
  readonly includeManaged: boolean;
  readonly exemptions: readonly Exemption[];
  /** Revoke FLAGGED tokens at least `graceDays` whole days after they were first flagged. */
  readonly revocation: { readonly enabled: boolean; readonly graceDays: number };
}

/** The fields of a personal access token the policy reads. */
export interface TokenView {
  readonly id: string;
  readonly name: string;
  readonly owner: { readonly id: string; readonly name?: string };
  /** ISO date-time. */
  readonly created: string;
  /** ISO date-time, or null when the token was never used. */
  readonly lastUsed: string | null;
  readonly managed: boolean;
}

/** Why a token is a finding. */
export type Verdict = 'stale' | 'idle' | 'never-used';

export type Assessment =
  | { readonly outcome: 'ok' }
  | { readonly outcome: 'excluded-managed' }
  | {
      readonly outcome: 'warn' | 'flag';
      readonly verdict: Verdict;
      /** Whole days since lastUsed (or since created, for never-used). */
      readonly days: number;
      readonly expiredExemptions: readonly Exemption[];
    }
  | {
      readonly outcome: 'exempt';
      /** What the token would be without the exemption. */
      readonly would: 'warn' | 'flag';
      readonly verdict: Verdict;
      readonly days: number;
      readonly exemption: Exemption;
    }
  | { readonly outcome: 'unreadable'; readonly problem: string };

/** Whole 24-hour days from `iso` to `nowMs`, rounded down; 0 for timestamps in the future. */
export function wholeDaysSince(iso: string, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - Date.parse(iso)) / DAY_MS));
}

export function assessToken(token: TokenView, policy: StaleTokenPolicy, nowMs: number): Assessment {
  if (token.managed && !policy.includeManaged) return { outcome: 'excluded-managed' };

  const stamp = token.lastUsed ?? token.created;
  if (Number.isNaN(Date.parse(stamp))) {
    const field = token.lastUsed === null ? 'created' : 'lastUsed';
    return { outcome: 'unreadable', problem: `token ${token.id}: ${field} "${stamp}" is not a date-time` };
  }
  const days = wholeDaysSince(stamp, nowMs);
  const found = classify(token.lastUsed === null, days, policy);
  if (!found) return { outcome: 'ok' };

  const { active, expired } = matchExemptions(policy.exemptions, token, nowMs);
  if (active)
    return { outcome: 'exempt', would: found.outcome, verdict: found.verdict, days, exemption: active };
  return { ...found, days, expiredExemptions: expired };
}

function classify(
  neverUsed: boolean,
  days: number,
  policy: StaleTokenPolicy,
): { outcome: 'warn' | 'flag'; verdict: Verdict } | undefined {
  if (neverUsed)
    return days > policy.neverUsedAfterDays ? { outcome: 'flag', verdict: 'never-used' } : undefined;
  if (days > policy.staleAfterDays) return { outcome: 'flag', verdict: 'stale' };
  if (policy.warnAfterDays !== undefined && days > policy.warnAfterDays)
    return { outcome: 'warn', verdict: 'idle' };
  return undefined;
}

/**
 * The `lastUsed le …` cut-off: every token the policy may warn about or flag for idleness, and
 * nothing younger. `le` is inclusive, matching "at least threshold + 1 whole days".
 */
export function idleCutoff(policy: StaleTokenPolicy, nowMs: number): string {
  const threshold = policy.warnAfterDays ?? policy.staleAfterDays;
  return new Date(nowMs - (threshold + 1) * DAY_MS).toISOString();
}

/** True when a finding first flagged at `firstFlaggedAt` has waited out the grace period. */
export function graceElapsed(firstFlaggedAt: string, policy: StaleTokenPolicy, nowMs: number): boolean {
  return wholeDaysSince(firstFlaggedAt, nowMs) >= policy.revocation.graceDays;
}

/** One line for people: what the sweep saw, without anything that changes from day to day. */
export function describeVerdict(
  verdict: Verdict,
  token: Pick<TokenView, 'lastUsed' | 'created'>,
  policy: StaleTokenPolicy,
): string {
  const day = (iso: string | null) => iso?.slice(0, 10) ?? 'never';
  switch (verdict) {
    case 'stale':
      return `not used for more than ${policy.staleAfterDays} days (last used ${day(token.lastUsed)})`;
    case 'idle':
      return `not used for more than ${policy.warnAfterDays} days (last used ${day(token.lastUsed)}); it will be flagged after ${policy.staleAfterDays}`;
    case 'never-used':
      return `never used since it was created on ${day(token.created)}`;
  }
}
