/**
 * The delegate chain's directory (delegate-chain.ts): people and SailPoint's routing from the
 * SailPoint port, absences from our own table. One per event (or re-plan): SailPoint's answers are
 * kept for its length (they do not change within it), absences are read afresh on every question,
 * so a decision checked again after its commit sees the decisions committed meanwhile.
 */
import type { ConfigType } from '../shared/sailpoint';
import type { AbsenceStore } from './absence-store';
import type { DelegateDirectory, DirectoryIdentity, Landing, OverlappingAbsence } from './delegate-chain';
import type { AbsenceWindow } from './model';
import { windowEnded, windowsOverlap } from './policy';
import type { ReassignmentGateway } from './sailpoint-gateway';

export class AbsenceDirectory implements DelegateDirectory {
  private readonly identities = new Map<string, Promise<DirectoryIdentity>>();
  private readonly landings = new Map<string, Promise<Landing>>();

  constructor(
    private readonly sailpoint: ReassignmentGateway,
    private readonly store: Pick<AbsenceStore, 'listForIdentity'>,
    private readonly now: () => Date,
  ) {}

  identity(identityId: string): Promise<DirectoryIdentity> {
    return cached(this.identities, identityId, () => this.sailpoint.identity(identityId));
  }

  /**
   * The candidate's own active absence over the window (the earliest, if several), by person: an
   * absence of someone else with the same absenceId (HR systems that number per employee) is theirs.
   * An absence already over is not one.
   */
  async absenceOverlapping(
    identityId: string,
    window: AbsenceWindow,
  ): Promise<OverlappingAbsence | undefined> {
    const now = this.now();
    const overlapping = (await this.store.listForIdentity(identityId))
      .filter(
        (a) =>
          a.status === 'ACTIVE' &&
          a.startDate !== null &&
          !windowEnded(a, now) &&
          windowsOverlap({ startDate: a.startDate, endDate: a.endDate }, window),
      )
      .sort((a, b) => a.startDate!.localeCompare(b.startDate!) || a.absenceId.localeCompare(b.absenceId))[0];
    if (!overlapping) return undefined;
    return {
      absenceId: overlapping.absenceId,
      startDate: overlapping.startDate!,
      endDate: overlapping.endDate,
      // The delegate resolved for their absence; none resolved (yet, or at all): their manager covers.
      delegateId: overlapping.delegateId,
    };
  }

  landing(identityId: string, configType: ConfigType): Promise<Landing> {
    return cached(this.landings, `${identityId}/${configType}`, () =>
      this.sailpoint.landing(identityId, configType),
    );
  }
}

/** One lookup per key; a failed one is forgotten so the next question asks again. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let found = cache.get(key);
  if (!found) {
    found = load().catch((error: unknown) => {
      cache.delete(key);
      throw error;
    });
    cache.set(key, found);
  }
  return found;
}
