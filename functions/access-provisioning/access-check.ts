/**
 * Stage 4 — current access: read the identities' Search documents (many per call) and decide the
 * units that need no POST — a GRANT of access already held, a REVOKE of access not held: skipped,
 * the claim given back.
 *
 * Search lags the system of record by minutes, so a skip relies on a document only when it shows the
 * latest change of that access this deployment knows of (ClaimedUnit.latestChange): a document whose
 * `modified` is older than the completion of the opposite request (or one where that completion is
 * unknown) may predate it, and the unit is submitted instead (a GRANT of access held is ignored by
 * SailPoint; a REVOKE of access the document does not show yet is what the intent asks for).
 *
 * Identities without a document, and identities whose read failed, are reported per identity: the
 * workflow decides their messages (an identity not indexed yet is retried for a while, then the
 * message is invalid) — nothing of a message is submitted until every identity it names has been read.
 */
import { SailPointDeadlineError } from '../shared/sailpoint/errors';
import { errorText, mapLimit, outOfTime, type StageDeps, type UnitResults } from './batch';
import type { ClaimedUnit } from './claim';
import type { ClaimLedger } from './claims';
import { failureOutcome, outOfTimeOutcome, transient } from './failure-policy';
import type { IdentityAccess } from './gateway';
import type { LatestChange } from './slot-policy';

export interface IdentityProblem {
  readonly reason: string;
  /** Search has no document for the identity (unknown, or not indexed yet), as opposed to a failed read. */
  readonly unknown: boolean;
  /** The read was not made (out of time, or the deadline stopped it before it was sent). */
  readonly uncharged?: boolean;
}

class OutOfTime extends Error {}

export interface AccessCheck {
  /** Units that need a POST. */
  readonly proceed: ClaimedUnit[];
  /** Units of identities Search has no document for: decided with their messages (workflow.ts). */
  readonly unknown: ClaimedUnit[];
  /** Units decided here: skipped (claim given back), or not checked (read failed, out of time). */
  readonly results: UnitResults;
  readonly problems: Map<string, IdentityProblem>;
  /**
   * Units submitted although their document says the POST is not needed, because the document may
   * predate this deployment's latest change of the access (Search lags): why, for their outcome.
   */
  readonly notes: Map<string, string>;
}

export async function checkAccess(
  units: readonly ClaimedUnit[],
  /** Identities to read besides those of `units` (every identity of a message with something to submit). */
  alsoRead: readonly string[],
  deps: StageDeps & { readonly claims: ClaimLedger },
): Promise<AccessCheck> {
  const { settings } = deps;
  const identities = [...new Set([...units.map((u) => u.planned.unit.identityId), ...alsoRead])];
  const read = new Map<string, IdentityAccess | undefined | Error>();
  const chunks: string[][] = [];
  for (let i = 0; i < identities.length; i += settings.identitiesPerSearch) {
    chunks.push(identities.slice(i, i + settings.identitiesPerSearch));
  }
  await mapLimit(chunks, settings.concurrency, async (chunk) => {
    if (outOfTime(deps)) {
      for (const id of chunk) read.set(id, new OutOfTime());
      return;
    }
    deps.counts.identityLookups += chunk.length;
    try {
      const found = await deps.gateway.identitiesAccess(chunk);
      for (const id of chunk) read.set(id, found.get(id));
    } catch (error) {
      for (const id of chunk) read.set(id, error instanceof Error ? error : new Error(String(error)));
    }
  });

  const problems = new Map<string, IdentityProblem>();
  for (const [identityId, result] of read) {
    if (result === undefined) {
      problems.set(identityId, { reason: notInSearch(identityId), unknown: true });
    } else if (result instanceof Error) {
      const why = result instanceof OutOfTime ? 'the invocation ran out of time' : errorText(result);
      const uncharged = result instanceof OutOfTime || result instanceof SailPointDeadlineError;
      problems.set(identityId, {
        reason:
          `identity ${identityId} could not be read (${why}); nothing of this message is submitted until ` +
          'every identity it names has been read',
        unknown: false,
        ...(uncharged ? { uncharged } : {}),
      });
    }
  }

  const proceed: ClaimedUnit[] = [];
  const unknown: ClaimedUnit[] = [];
  const results: UnitResults = new Map();
  const notes = new Map<string, string>();
  for (const claimed of units) {
    const { identityId, item, requestType, key } = claimed.planned.unit;
    const identity = read.get(identityId);
    if (identity instanceof OutOfTime) {
      results.set(key, { outcome: outOfTimeOutcome() });
    } else if (identity instanceof Error) {
      // Even a 4xx here (e.g. 403: the credential may not read Search) is not the message's fault.
      const failure = failureOutcome(settings, identity, `reading identity ${identityId}`);
      results.set(key, {
        outcome: failure.kind === 'failed' ? transient(settings, failure.detail) : failure,
      });
    } else if (identity === undefined) {
      unknown.push(claimed);
    } else {
      const holds = identity.access.some((a) => a.id === item.id && a.type === item.type);
      const skip = (requestType === 'GRANT_ACCESS' && holds) || (requestType === 'REVOKE_ACCESS' && !holds);
      if (!skip) {
        proceed.push(claimed);
      } else if (!showsLatestChange(identity, claimed.latestChange)) {
        proceed.push(claimed);
        notes.set(key, staleDocumentNote(identity, holds, claimed.latestChange));
      } else if (requestType === 'GRANT_ACCESS') {
        results.set(key, {
          outcome: {
            kind: 'already-held',
            detail: `skipped: identity ${identityId} already holds ${item.type} ${item.id}`,
          },
        });
      } else {
        results.set(key, {
          outcome: {
            kind: 'not-held',
            detail: `skipped: identity ${identityId} does not hold ${item.type} ${item.id}`,
          },
        });
      }
    }
  }
  await deps.claims.releaseAll([...results.keys()]);
  return { proceed, unknown, results, problems, notes };
}

/** Why a unit was submitted although its Search document suggests it need not be. */
function staleDocumentNote(identity: IdentityAccess, holds: boolean, latest: LatestChange): string {
  const shows = holds ? 'still shows the access' : 'does not show the access yet';
  const change =
    latest.kind === 'at'
      ? `the change of this access completed at ${new Date(latest.at).toISOString()}`
      : 'the latest change of this access (its request was still pending)';
  return (
    `Search ${shows}, but its document (modified ${new Date(identity.modified).toISOString()}) predates ` +
    `${change}: Search lags, so it was not trusted to skip`
  );
}

/** Whether the document is at least as new as the latest change of the access this deployment knows of. */
export function showsLatestChange(identity: IdentityAccess, latest: LatestChange): boolean {
  if (latest.kind === 'none') return true;
  if (latest.kind === 'unknown') return false;
  return identity.modified >= latest.at;
}

export function notInSearch(identityId: string): string {
  return `identity ${identityId} is not in SailPoint Search`;
}
