/**
 * Stage 4 — current access: read each identity's Search document and decide the units that need no
 * POST (a GRANT of access already held, a REVOKE of access not held: skipped, the claim given back).
 * Identities that do not exist or could not be read are reported per identity: the workflow makes
 * every message naming them invalid or holds it back, so that nothing of a message is submitted
 * until every identity it names has been read.
 */
import { errorText, mapLimit, outOfTime, type StageDeps, type UnitResults } from './batch';
import type { ClaimedUnit } from './claim';
import type { ClaimLedger } from './claims';
import { failureOutcome, outOfTimeOutcome, transient } from './failure-policy';
import type { HeldAccess } from './gateway';

export interface IdentityProblem {
  readonly reason: string;
  /** The identity does not exist (Search 404), as opposed to a read that failed. */
  readonly unknown: boolean;
}

class OutOfTime extends Error {}

export async function checkAccess(
  units: readonly ClaimedUnit[],
  /** Identities to read besides those of `units` (every identity of a message with something to submit). */
  alsoRead: readonly string[],
  deps: StageDeps & { readonly claims: ClaimLedger },
): Promise<{ proceed: ClaimedUnit[]; results: UnitResults; problems: Map<string, IdentityProblem> }> {
  const { settings } = deps;
  const identities = [...new Set([...units.map((u) => u.planned.unit.identityId), ...alsoRead])];
  const access = new Map<string, readonly HeldAccess[] | undefined | Error>();
  await mapLimit(identities, settings.concurrency, async (identityId) => {
    if (outOfTime(deps)) {
      access.set(identityId, new OutOfTime());
      return;
    }
    deps.counts.identityLookups++;
    try {
      access.set(identityId, await deps.gateway.identityAccess(identityId));
    } catch (error) {
      access.set(identityId, error instanceof Error ? error : new Error(String(error)));
    }
  });

  const problems = new Map<string, IdentityProblem>();
  for (const [identityId, held] of access) {
    if (held === undefined) {
      problems.set(identityId, { reason: unknownIdentity(identityId), unknown: true });
    } else if (held instanceof Error) {
      const why = held instanceof OutOfTime ? 'the invocation ran out of time' : errorText(held);
      problems.set(identityId, {
        reason:
          `identity ${identityId} could not be read (${why}); nothing of this message is submitted until ` +
          'every identity it names has been read',
        unknown: false,
      });
    }
  }

  const proceed: ClaimedUnit[] = [];
  const results: UnitResults = new Map();
  for (const claimed of units) {
    const { identityId, item, requestType, key } = claimed.planned.unit;
    const held = access.get(identityId);
    if (held instanceof OutOfTime) {
      results.set(key, { outcome: outOfTimeOutcome(settings) });
    } else if (held instanceof Error) {
      // Even a 4xx here (e.g. 403: the credential may not read Search) is not the message's fault.
      const failure = failureOutcome(settings, held, `reading identity ${identityId}`);
      results.set(key, {
        outcome: failure.kind === 'failed' ? transient(settings, failure.detail) : failure,
      });
    } else if (held === undefined) {
      results.set(key, { outcome: { kind: 'invalid', detail: unknownIdentity(identityId) } });
    } else {
      const holds = held.some((a) => a.id === item.id && a.type === item.type);
      if (requestType === 'GRANT_ACCESS' && holds) {
        results.set(key, {
          outcome: {
            kind: 'already-held',
            detail: `skipped: identity ${identityId} already holds ${item.type} ${item.id}`,
          },
        });
      } else if (requestType === 'REVOKE_ACCESS' && !holds) {
        results.set(key, {
          outcome: {
            kind: 'not-held',
            detail: `skipped: identity ${identityId} does not hold ${item.type} ${item.id}`,
          },
        });
      } else {
        proceed.push(claimed);
      }
    }
  }
  await deps.claims.releaseAll([...results.keys()]);
  return { proceed, results, problems };
}

export function unknownIdentity(identityId: string): string {
  return `invalid message: unknown identity ${identityId} (SailPoint Search has no such identity)`;
}
