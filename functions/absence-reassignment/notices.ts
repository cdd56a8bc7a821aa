/**
 * Operator notices of the absence workflow, at-least-once:
 *   1. decided together with the absence's state — in the same conditional write (a decision, or a
 *      reconciliation's record) — as a pending notice on the absence item;
 *   2. published after the person's reconciliation, by whoever holds their lease (PublishBatch);
 *   3. removed from the item once SNS took it.
 * A publish that fails leaves the notice pending and the reconciliation unfinished (the person stays
 * dirty): the message's retry, the person's next event or the scheduled re-check publishes it. A crash
 * between 2 and 3 publishes it again with the same key, which subscribers use to drop the duplicate.
 *
 * Kinds: absence.delegate-substituted (the delegate is not the first candidate), absence.delegate-changed
 * (a re-plan moved the work), absence.uncovered (a re-plan found nobody), absence.deferred (it waits
 * for a SailPoint slot), absence.deferred-applied (the re-check gave it the slot), absence.capped (its
 * configurations end at the maximum absence length, not at HR's end: an update extends it).
 */
import { publishAll, type Notifier } from '../shared/notifier';
import type { AbsenceStore } from './absence-store';
import type { AbsenceRecord, PendingNotice } from './model';
import { describeWindow } from './policy';

export const NOTICE_KINDS = {
  substituted: 'absence.delegate-substituted',
  changed: 'absence.delegate-changed',
  uncovered: 'absence.uncovered',
  deferred: 'absence.deferred',
  deferredApplied: 'absence.deferred-applied',
  capped: 'absence.capped',
} as const;

/** The record with one more pending notice, keyed by its version and kind (the same on every retry). */
export function withNotice(
  record: AbsenceRecord,
  kind: string,
  subject: string,
  detail: Record<string, unknown>,
  at: string,
): AbsenceRecord {
  const notice: PendingNotice = {
    key: `${record.identityId}/${record.absenceId}/v${record.version}/${kind}`,
    kind,
    subject,
    detail: { ...summary(record), ...detail },
    at,
  };
  return { ...record, notices: { ...record.notices, [`v${record.version}-${kind}`]: notice } };
}

/** What every notice says about its absence. */
export function summary(record: AbsenceRecord): Record<string, unknown> {
  return {
    identityId: record.identityId,
    absenceId: record.absenceId,
    window: describeWindow(record),
    requestedDelegateId: record.requestedDelegateId,
    delegateId: record.delegateId,
    configTypes: record.configTypes,
  };
}

/**
 * Publishes the pending notices of these absences (one person's) and removes each one SNS took.
 * Throws when any could not be published, after removing the others: the caller's reconciliation
 * then stays unfinished, so someone retries the rest.
 */
export async function deliverNotices(
  absences: readonly AbsenceRecord[],
  notifier: Notifier,
  store: Pick<AbsenceStore, 'markNoticesSent'>,
): Promise<number> {
  const pending = absences.flatMap((absence) =>
    Object.entries(absence.notices)
      .sort(([, a], [, b]) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key))
      .map(([id, notice]) => ({ absence, id, notice })),
  );
  if (pending.length === 0) return 0;
  const results = await publishAll(
    notifier,
    pending.map(({ notice }) => ({
      kind: notice.kind,
      key: notice.key,
      subject: notice.subject,
      detail: notice.detail,
    })),
  );
  const sent = new Map<AbsenceRecord, string[]>();
  const failed: string[] = [];
  results.forEach((result, index) => {
    const { absence, id } = pending[index]!;
    if (result.ok) sent.set(absence, [...(sent.get(absence) ?? []), id]);
    else failed.push(`${result.key}: ${result.error}`);
  });
  for (const [absence, ids] of sent) await store.markNoticesSent(absence.identityId, absence.absenceId, ids);
  if (failed.length) {
    throw new Error(
      `${failed.length} notice(s) not published, kept for a retry: ${failed.slice(0, 3).join('; ')}`,
    );
  }
  return results.length;
}
