/**
 * Search's indexing lag. ISC's Search index is eventually consistent: a new identity, or access just
 * provisioned or removed, shows in Search minutes after the system of record changed. The sandbox
 * shows every identity as it was `lagMs` ago on the sandbox clock:
 *
 * - An identity is in the index once its `created` is at least `lagMs` old. Seeded identities were
 *   created days ago, so they were indexed long ago; a test that adds one with `created` = now sees
 *   Search answer 404 for it until the clock has moved past the lag.
 * - Access the sandbox itself adds or removes (an approved access request being provisioned,
 *   sailpoint/access-requests.ts) is recorded here with its time; Search undoes the changes that are
 *   younger than `lagMs`. The document's `modified` is the time of the latest change it shows.
 * - Changes a test makes directly to the state (identity.access, managerId …) are not recorded:
 *   they are indexed at once, as if they had happened long ago.
 *
 * `lagMs` is a plain field of `state.search`: a test may change it at any time (0 = no lag).
 */
import type { SandboxAccessRef, SandboxIdentity } from './state';

/**
 * Default 5 minutes. Why: the brief's tenant "lags by minutes"; it must be longer than any retry
 * delay a workflow uses (30–60 s), so a retry never hides the lag, and shorter than the 15-minute
 * window in which a workflow keeps retrying an identity Search does not know yet (issue #10), so a
 * joiner does appear within it.
 */
export const DEFAULT_SEARCH_LAG_MS = 5 * 60_000;

export interface AccessChange {
  /** Sandbox-clock epoch ms at which the system of record changed. */
  readonly at: number;
  readonly change: 'added' | 'removed';
  readonly ref: SandboxAccessRef;
}

export interface SandboxSearchIndex {
  /** How far Search trails the system of record (sandbox clock). 0: Search is always current. */
  lagMs: number;
  /** Access changes the sandbox made, per identity id, oldest first. */
  readonly accessChanges: Map<string, AccessChange[]>;
}

/** What Search shows of an identity: the indexed access, and when the indexed document last changed. */
export interface IndexedIdentity {
  readonly identity: SandboxIdentity;
  readonly access: readonly SandboxAccessRef[];
  /** ISO date-time of the latest change the document shows (its `created` when none). */
  readonly modified: string;
  /** ISO date-time at which the index picked that change up. */
  readonly synced: string;
}

export function createSearchIndex(lagMs: number = DEFAULT_SEARCH_LAG_MS): SandboxSearchIndex {
  return { lagMs: checkLag(lagMs), accessChanges: new Map() };
}

export function checkLag(lagMs: number): number {
  if (!(Number.isFinite(lagMs) && lagMs >= 0)) {
    throw new RangeError(`searchLagMs must be a number of milliseconds >= 0, got ${lagMs}`);
  }
  return lagMs;
}

/** Records a change the sandbox made to an identity's access, so Search shows it `lagMs` later. */
export function recordAccessChange(
  index: SandboxSearchIndex,
  identityId: string,
  change: AccessChange['change'],
  ref: SandboxAccessRef,
  at: Date,
): void {
  const changes = index.accessChanges.get(identityId) ?? [];
  changes.push({ at: at.getTime(), change, ref: { ...ref } });
  index.accessChanges.set(identityId, changes);
}

/** The identity as Search shows it at `now`, or undefined while it is not indexed yet. */
export function indexedIdentity(
  index: SandboxSearchIndex,
  identity: SandboxIdentity,
  now: Date,
): IndexedIdentity | undefined {
  const asOf = now.getTime() - index.lagMs;
  const created = Date.parse(identity.created);
  if (created > asOf) return undefined;
  const access = [...identity.access];
  let modified = created;
  const changes = index.accessChanges.get(identity.id) ?? [];
  // Undo, newest first, what the index has not picked up yet.
  for (let i = changes.length - 1; i >= 0; i--) {
    const { at, change, ref } = changes[i]!;
    if (at <= asOf) {
      modified = Math.max(modified, at);
      continue;
    }
    const held = access.findIndex((a) => a.id === ref.id);
    if (change === 'added' && held >= 0) access.splice(held, 1);
    if (change === 'removed' && held < 0) access.push(ref);
  }
  return {
    identity,
    access,
    modified: new Date(modified).toISOString(),
    synced: new Date(modified + index.lagMs).toISOString(),
  };
}
