/**
 * Identity Deleted: the identity's open findings are closed (RESOLVED, reason `identity deleted`), its
 * active absences are cancelled through the absence queue (ABSENCE_CANCELLED, eventId
 * `identity-deleted-<absenceId>`: a re-delivery is a duplicate there), other people's active absences
 * that name it as delegate are made due for a re-plan (delegate-absences.ts: the absence workflow's
 * next re-check chooses their delegate again), and the mapper's attribute snapshot of it is dropped.
 * Idempotent: a re-delivery finds nothing open (a re-planned absence no longer names it).
 * Which findings belong to an identity: those of the sources whose subjects a SailPoint identity owns
 * (a stale token's owner); Cognigy findings are about Cognigy users and are left alone.
 */
import { randomUUID } from 'node:crypto';
import { isOpen, type FindingsStore } from '../shared/findings';
import { FINDINGS_SOURCE as STALE_TOKEN_SOURCE } from '../stale-token-sweep/sweep';
import type { AbsenceRecord } from '../absence-reassignment/model';
import type { AbsenceQueue } from './absence-queue';
import type { AttributeSnapshotStore } from './attribute-snapshots';
import type { DelegateAbsences } from './delegate-absences';
import type { IdentityDeleted } from './payloads';

/** Finding sources whose `owner.id` is a SailPoint identity. */
export const IDENTITY_OWNED_FINDING_SOURCES: readonly string[] = [STALE_TOKEN_SOURCE];

export const IDENTITY_DELETED_REASON = 'identity deleted';

export interface IdentityDeletionResult {
  readonly findingsClosed: number;
  readonly absencesCancelled: number;
  /** Other people's absences made due for a re-plan: their delegate was the deleted identity. */
  readonly absencesReplanned: number;
}

/** The absences of a person (the absence workflow's store, read only). */
export interface AbsenceLister {
  listForIdentity(identityId: string): Promise<Pick<AbsenceRecord, 'absenceId' | 'status'>[]>;
  /** The absence workflow's re-plan path: the absence is re-planned by its next re-check. */
  markReplanDue(identityId: string, absenceId: string, at: string): Promise<boolean>;
}

export class IdentityDeletion {
  constructor(
    private readonly deps: {
      readonly findings: FindingsStore;
      readonly snapshots: AttributeSnapshotStore;
      readonly absences: AbsenceLister;
      readonly absenceQueue?: AbsenceQueue;
      readonly delegates?: DelegateAbsences;
      readonly now: () => Date;
    },
  ) {}

  async handle(payload: IdentityDeleted, eventTime: string): Promise<IdentityDeletionResult> {
    const identityId = payload.identity.id;
    let findingsClosed = 0;
    for (const source of IDENTITY_OWNED_FINDING_SOURCES) {
      const existing = await this.deps.findings.list(source);
      const open = existing.filter((f) => isOpen(f.status) && f.owner?.id === identityId);
      if (open.length === 0) continue;
      const result = await this.deps.findings.reconcile(
        source,
        open.map((f) => ({
          subjectId: f.subjectId,
          status: 'RESOLVED' as const,
          reason: IDENTITY_DELETED_REASON,
          facts: { identityDeletedAt: eventTime },
        })),
        { now: this.deps.now(), runId: randomUUID(), existing, unobserved: 'keep' },
      );
      if (result.failed.length > 0) {
        // What was written stays written; the retry closes the rest (the closed ones are no-ops then).
        throw new Error(
          `could not close ${result.failed.length} finding(s) of deleted identity ${identityId}: ${result.failed[0]!.error}`,
        );
      }
      findingsClosed += result.changes.length;
    }
    let absencesCancelled = 0;
    if (this.deps.absenceQueue) {
      for (const absence of await this.deps.absences.listForIdentity(identityId)) {
        if (absence.status !== 'ACTIVE') continue;
        await this.deps.absenceQueue.send({
          eventId: `identity-deleted-${absence.absenceId}`.slice(0, 200),
          type: 'ABSENCE_CANCELLED',
          absenceId: absence.absenceId,
          identityId,
          occurredAt: new Date(eventTime).toISOString(),
        });
        absencesCancelled++;
      }
    }
    let absencesReplanned = 0;
    if (this.deps.delegates) {
      const now = this.deps.now();
      for (const ref of await this.deps.delegates.delegatingTo(identityId)) {
        // Due already (an earlier delivery of this event, or another reason): the re-check re-plans it.
        if (ref.replanAt !== null && Date.parse(ref.replanAt) <= now.getTime()) continue;
        if (await this.deps.absences.markReplanDue(ref.identityId, ref.absenceId, now.toISOString())) {
          absencesReplanned++;
        }
      }
    }
    await this.deps.snapshots.delete(identityId);
    return { findingsClosed, absencesCancelled, absencesReplanned };
  }
}
