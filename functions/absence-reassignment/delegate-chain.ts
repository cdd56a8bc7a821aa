/**
 * Who covers an absence: the explicit delegate, else the absent person's manager; a candidate who
 * cannot cover is passed over for the next ones in the chain, tried in order:
 * - the absent person themself            → the absent person's manager
 * - does not exist in SailPoint           → when named as a delegate (explicitly, or as the delegate
 *                                            of someone's absence), the manager of whoever named them;
 *                                            a manager who does not exist ends the chain
 * - inactive                              → their manager
 * - outside the delegate policy            → when named as a delegate, the manager of whoever named
 *   (delegate-policy.ts)                     them (an absent person's named delegate refused: their
 *                                            manager, as when they name none); else their manager
 * - absent over (part of) the window      → the delegate resolved for their own absence, then their
 *   (from our own absence records)          manager (an absence without a resolved delegate: the manager)
 * - SailPoint already routes their work back to the absent person (evaluate's trail contains the
 *   absent person: a configuration would close a loop, which SailPoint refuses) → their manager
 * - SailPoint refused a configuration to them for this absence ("would create a loop", a refusal
 *   evaluate could not foresee, e.g. a loop only in a future window) → their manager
 * A candidate already examined is not examined again: the search goes on with the next one left
 * (so a manager who names their own report while that report is away falls back to the manager's
 * manager, not into a cycle). At most `maxHops` candidates are examined; when none is left, the
 * search ends with a reason — "cycle" when the last ones left had all been examined.
 *
 * Besides the delegate, the result lists who was passed over because of their own state (away, or
 * routing work back): when that changes or ends, the absence is re-planned (workflow.ts).
 */
import type { ConfigType } from '../shared/sailpoint';
import { ANY_DELEGATE, delegatePolicyCheck, type DelegatePolicy } from './delegate-policy';
import type { AbsenceWindow, Dependency, TrailStep } from './model';
import { describeWindow } from './policy';

export interface DirectoryIdentity {
  readonly exists: boolean;
  readonly inactive: boolean;
  readonly managerId: string | null;
}

export interface OverlappingAbsence {
  readonly absenceId: string;
  readonly startDate: string;
  readonly endDate: string | null;
  /** Who covers for them (their resolved or requested delegate), when known. */
  readonly delegateId: string | null;
}

export interface Landing {
  /** Where SailPoint sends work of this type addressed to the candidate, now. */
  readonly reassignToId: string;
  /** Every identity on the way (reassignedToId of each lookup step). */
  readonly via: readonly string[];
}

/** What resolution needs to know; the workflow backs it with SailPoint and our absence table. */
export interface DelegateDirectory {
  identity(identityId: string): Promise<DirectoryIdentity>;
  /** An active absence of `identityId` on our records that overlaps `window` and is not over. */
  absenceOverlapping(identityId: string, window: AbsenceWindow): Promise<OverlappingAbsence | undefined>;
  landing(identityId: string, configType: ConfigType): Promise<Landing>;
}

export interface DelegateRequest {
  readonly absentId: string;
  readonly requestedDelegateId: string | null;
  /** The part of the absence still to cover (its start, or now once it has begun). */
  readonly window: AbsenceWindow;
  readonly configTypes: readonly ConfigType[];
  readonly maxHops: number;
  /** Candidates SailPoint refused a configuration to for this absence (a loop it saw). */
  readonly refused?: readonly Dependency[];
  /** Who may cover (default: anyone). */
  readonly policy?: DelegatePolicy;
}

export type DelegateResolution =
  | {
      ok: true;
      delegateId: string;
      trail: TrailStep[];
      /** Per work type, where SailPoint forwards the delegate's work (only when not the delegate). */
      landsOn: Partial<Record<ConfigType, string>>;
      /** Who was passed over because of their own state (see Dependency). */
      dependsOn: Dependency[];
    }
  | { ok: false; reason: string; trail: TrailStep[]; dependsOn: Dependency[] };

interface Candidate {
  readonly id: string;
  readonly via: string;
  /** Named as a delegate by this identity: if the candidate does not exist, try this identity's manager. */
  readonly namedBy?: string;
}

export function describeTrail(trail: readonly TrailStep[]): string {
  return trail
    .map((step) => `${step.identityId} (${step.via})${step.skipped ? `: ${step.skipped}` : ''}`)
    .join(' → ');
}

export async function resolveDelegate(
  request: DelegateRequest,
  directory: DelegateDirectory,
): Promise<DelegateResolution> {
  const { absentId } = request;
  const trail: TrailStep[] = [];
  const dependsOn: Dependency[] = [];
  const visited = new Set<string>();
  const refused = new Map((request.refused ?? []).map((r) => [r.identityId, r]));
  const fail = (why: string): DelegateResolution => ({
    ok: false,
    reason: trail.length ? `${why} (tried ${describeTrail(trail)})` : why,
    trail,
    dependsOn,
  });
  const managerOf = async (identityId: string): Promise<Candidate[]> => {
    const person = await directory.identity(identityId);
    return person.managerId ? [{ id: person.managerId, via: `manager of ${identityId}` }] : [];
  };
  const outsidePolicy = delegatePolicyCheck(request.policy ?? ANY_DELEGATE, absentId, (id) =>
    directory.identity(id),
  );

  /** Candidates still to try, the next first; a passed-over candidate puts its own alternatives in front. */
  let pending: Candidate[];
  let chainEnd: string;
  if (request.requestedDelegateId !== null) {
    pending = [{ id: request.requestedDelegateId, via: 'explicit delegate', namedBy: absentId }];
    chainEnd = '';
  } else {
    const absent = await directory.identity(absentId);
    if (!absent.exists) return fail(`the absent identity ${absentId} does not exist in SailPoint`);
    pending = await managerOf(absentId);
    chainEnd = `no delegate was named and ${absentId} has no manager`;
  }
  const passOver = (step: TrailStep, why: string, next: Candidate[], end: string) => {
    step.skipped = why;
    pending = [...next, ...pending];
    chainEnd = end;
  };

  for (;;) {
    let candidate: Candidate | undefined;
    let repeated: string | undefined;
    while (pending.length) {
      const next = pending.shift()!;
      if (!visited.has(next.id)) {
        candidate = next;
        break;
      }
      repeated ??= next.id;
    }
    if (!candidate) {
      if (repeated === undefined) return fail(chainEnd);
      const loop = [...trail.map((s) => s.identityId), repeated].join(' → ');
      return fail(`cycle in the delegate chain: ${loop}`);
    }
    if (trail.length >= request.maxHops) {
      return fail(`no eligible delegate within ${request.maxHops} candidates`);
    }
    visited.add(candidate.id);
    const step: TrailStep = { identityId: candidate.id, via: candidate.via };
    trail.push(step);

    if (candidate.id === absentId) {
      passOver(step, 'is the absent person', await managerOf(absentId), `${absentId} has no manager`);
      continue;
    }

    const person = await directory.identity(candidate.id);
    if (!person.exists) {
      const namedBy = candidate.namedBy;
      passOver(
        step,
        'does not exist in SailPoint',
        namedBy === undefined ? [] : await managerOf(namedBy),
        namedBy === undefined ? `${candidate.id} does not exist` : `${namedBy} has no manager`,
      );
      continue;
    }
    const managerNext: Candidate[] = person.managerId
      ? [{ id: person.managerId, via: `manager of ${candidate.id}` }]
      : [];
    const noManager = `${candidate.id} has no manager`;

    if (person.inactive) {
      passOver(step, 'is inactive', managerNext, noManager);
      continue;
    }

    const outside = await outsidePolicy(candidate.id, person);
    if (outside) {
      const namedBy = candidate.namedBy;
      passOver(
        step,
        outside,
        namedBy === undefined ? managerNext : await managerOf(namedBy),
        namedBy === undefined ? noManager : `${namedBy} has no manager`,
      );
      continue;
    }

    const refusal = refused.get(candidate.id);
    if (refusal) {
      dependsOn.push(refusal);
      passOver(
        step,
        `SailPoint refused a configuration to them (would be a loop${refusal.detail ? `: ${refusal.detail}` : ''})`,
        managerNext,
        noManager,
      );
      continue;
    }

    const absence = await directory.absenceOverlapping(candidate.id, request.window);
    if (absence) {
      dependsOn.push({
        identityId: candidate.id,
        absenceId: absence.absenceId,
        why: 'absent',
        until: absence.endDate,
      });
      const cover: Candidate[] =
        absence.delegateId !== null
          ? [{ id: absence.delegateId, via: `delegate of ${candidate.id}'s absence`, namedBy: candidate.id }]
          : [];
      passOver(step, `is absent ${describeWindow(absence)}`, [...cover, ...managerNext], noManager);
      continue;
    }

    const landsOn: Partial<Record<ConfigType, string>> = {};
    let loopsBack: ConfigType | undefined;
    for (const type of request.configTypes) {
      const landing = await directory.landing(candidate.id, type);
      if (landing.reassignToId === absentId || landing.via.includes(absentId)) {
        loopsBack = type;
        break;
      }
      if (landing.reassignToId !== candidate.id) landsOn[type] = landing.reassignToId;
    }
    if (loopsBack) {
      dependsOn.push({ identityId: candidate.id, absenceId: null, why: 'loop', until: null });
      passOver(
        step,
        `SailPoint already reassigns their ${loopsBack} work to ${absentId} (would be a loop)`,
        managerNext,
        noManager,
      );
      continue;
    }
    return { ok: true, delegateId: candidate.id, trail, landsOn, dependsOn };
  }
}
