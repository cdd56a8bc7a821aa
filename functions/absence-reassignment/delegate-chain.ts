/**
 * Who covers an absence: the explicit delegate, else the absent person's manager; a candidate who
 * cannot cover is passed over for the next in the chain:
 * - the absent person themself            → the absent person's manager
 * - does not exist in SailPoint           → when named as a delegate (explicitly, or as the delegate
 *                                            of someone's absence), the manager of whoever named them;
 *                                            a manager who does not exist ends the chain
 * - inactive                              → their manager
 * - absent over (part of) the window      → the delegate of their own absence, else their manager
 *   (from our own absence records)
 * - SailPoint already routes their work back to the absent person (evaluate's trail contains the
 *   absent person: a configuration would close a loop, which SailPoint refuses) → their manager
 * At most `maxHops` candidates are examined, and a candidate met twice is a cycle: both end the
 * search with a reason, as does a chain that runs out of managers.
 */
import type { ConfigType } from '../shared/sailpoint';
import type { AbsenceWindow, TrailStep } from './model';
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
  /** An absence of `identityId` on our records that overlaps `window` (other than `excludeAbsenceId`). */
  absenceOverlapping(
    identityId: string,
    window: AbsenceWindow,
    excludeAbsenceId: string,
  ): Promise<OverlappingAbsence | undefined>;
  landing(identityId: string, configType: ConfigType): Promise<Landing>;
}

export interface DelegateRequest {
  readonly absentId: string;
  readonly absenceId: string;
  readonly requestedDelegateId: string | null;
  readonly window: AbsenceWindow;
  readonly configTypes: readonly ConfigType[];
  readonly maxHops: number;
}

export type DelegateResolution =
  | {
      ok: true;
      delegateId: string;
      trail: TrailStep[];
      /** Per work type, where SailPoint forwards the delegate's work (only when not the delegate). */
      landsOn: Partial<Record<ConfigType, string>>;
    }
  | { ok: false; reason: string; trail: TrailStep[] };

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
  const visited = new Set<string>();
  const fail = (why: string): DelegateResolution => ({
    ok: false,
    reason: trail.length ? `${why} (tried ${describeTrail(trail)})` : why,
    trail,
  });
  const managerOf = async (identityId: string): Promise<Candidate | undefined> => {
    const person = await directory.identity(identityId);
    return person.managerId ? { id: person.managerId, via: `manager of ${identityId}` } : undefined;
  };

  let next: Candidate | undefined;
  let chainEnd: string;
  if (request.requestedDelegateId !== null) {
    next = { id: request.requestedDelegateId, via: 'explicit delegate', namedBy: absentId };
    chainEnd = '';
  } else {
    const absent = await directory.identity(absentId);
    if (!absent.exists) return fail(`the absent identity ${absentId} does not exist in SailPoint`);
    next = absent.managerId ? { id: absent.managerId, via: `manager of ${absentId}` } : undefined;
    chainEnd = `no delegate was named and ${absentId} has no manager`;
  }

  while (next) {
    const candidate: Candidate = next;
    next = undefined;
    if (visited.has(candidate.id)) {
      const loop = [...trail.map((s) => s.identityId), candidate.id].join(' → ');
      return fail(`cycle in the delegate chain: ${loop}`);
    }
    if (trail.length >= request.maxHops) {
      return fail(`no eligible delegate within ${request.maxHops} candidates`);
    }
    visited.add(candidate.id);
    const step: TrailStep = { identityId: candidate.id, via: candidate.via };
    trail.push(step);

    if (candidate.id === absentId) {
      step.skipped = 'is the absent person';
      next = await managerOf(absentId);
      chainEnd = `${absentId} has no manager`;
      continue;
    }

    const person = await directory.identity(candidate.id);
    if (!person.exists) {
      step.skipped = 'does not exist in SailPoint';
      next = candidate.namedBy === undefined ? undefined : await managerOf(candidate.namedBy);
      chainEnd =
        candidate.namedBy === undefined
          ? `${candidate.id} does not exist`
          : `${candidate.namedBy} has no manager`;
      continue;
    }
    const managerNext: Candidate | undefined = person.managerId
      ? { id: person.managerId, via: `manager of ${candidate.id}` }
      : undefined;
    const noManager = `${candidate.id} has no manager`;

    if (person.inactive) {
      step.skipped = 'is inactive';
      next = managerNext;
      chainEnd = noManager;
      continue;
    }

    const absence = await directory.absenceOverlapping(candidate.id, request.window, request.absenceId);
    if (absence) {
      step.skipped = `is absent ${describeWindow(absence)}`;
      next =
        absence.delegateId !== null
          ? { id: absence.delegateId, via: `delegate of ${candidate.id}'s absence`, namedBy: candidate.id }
          : managerNext;
      chainEnd = noManager;
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
      step.skipped = `SailPoint already reassigns their ${loopsBack} work to ${absentId} (would be a loop)`;
      next = managerNext;
      chainEnd = noManager;
      continue;
    }
    return { ok: true, delegateId: candidate.id, trail, landsOn };
  }
  return fail(chainEnd);
}
