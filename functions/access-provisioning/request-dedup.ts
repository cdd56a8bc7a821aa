/**
 * Request-level dedup by the caller's `requestId` (between planning and claiming).
 *
 * Rule (docs/access-provisioning.md, "Message contract"): a message whose requestId was already
 * processed — its message finished (submitted, duplicate, already held, not held) — is a duplicate of
 * that request for OUTCOME_RETENTION_DAYS, whatever happened since: a producer's re-send after a REVOKE
 * of the same access finished must not grant it again. A different request reusing the requestId is
 * invalid (dead-lettered naming both). A message without a requestId keeps the unit rules (a GRANT
 * after a finished REVOKE is a new intent). A dead-lettered message did not finish its request: a
 * re-send of it is processed.
 *
 * The record is written when the message finishes (settle.ts), conditionally, so the first message to
 * finish owns the requestId; its own redeliveries pass (their units find their own submissions).
 */
import { errorText, iso, type StageDeps } from './batch';
import { transient } from './failure-policy';
import type { PlannedMessage } from './plan';
import type { MessageStatus } from './outcomes';

/** Message statuses that finish a request. */
export const FINISHING: ReadonlySet<MessageStatus> = new Set([
  'submitted',
  'duplicate',
  'already-held',
  'not-held',
]);

/** Marks re-sends of processed requests as duplicates, and reuses of their requestId as invalid. */
export async function checkRequestIds(
  messages: readonly PlannedMessage[],
  deps: Pick<StageDeps, 'store' | 'settings' | 'clock' | 'log'>,
): Promise<PlannedMessage[]> {
  const candidates = messages.filter((m) => m.requestId && m.fingerprint && !m.invalid);
  if (candidates.length === 0) return [...messages];
  let processed: Awaited<ReturnType<typeof deps.store.readRequests>>;
  try {
    processed = await deps.store.readRequests(candidates.map((m) => m.requestId!));
  } catch (error) {
    deps.log?.warn('could not read processed requests', { error: errorText(error) });
    const outcome = transient(
      deps.settings,
      `could not check whether its requestId was processed: ${errorText(error)}`,
    );
    return messages.map((m) => (candidates.includes(m) ? { ...m, decided: outcome } : m));
  }
  const now = deps.clock();
  return messages.map((m) => {
    const record = candidates.includes(m) ? processed.get(m.requestId!) : undefined;
    if (!record || record.retainUntil <= now || record.messageId === m.message.messageId) return m;
    if (record.fingerprint !== m.fingerprint) {
      return {
        ...m,
        invalid:
          `invalid message: requestId ${m.requestId} was already used by message ${record.messageId} ` +
          'for a different request',
      };
    }
    return {
      ...m,
      decided: {
        kind: 'duplicate',
        detail:
          `duplicate: request ${m.requestId} was already processed as message ${record.messageId} at ` +
          `${iso(record.processedAt)}; a re-sent request is not submitted again (until ${iso(record.retainUntil)})`,
      },
    };
  });
}
