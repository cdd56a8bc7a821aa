/**
 * Chunk sizing: a batch is worked in send order, chunk by chunk (claim, read, POST, record), each
 * chunk the longest run of the messages left whose SailPoint calls fit in what the instance's
 * client-side budget allows before the invocation's deadline. Estimated calls: one Search call per
 * SEARCH_IDENTITIES_PER_CALL identities, plus the requests its units coalesce into (duplicates and skips only make it
 * cheaper). So a batch of any size makes progress in every invocation, and what the budget can carry
 * is coalesced at once; the messages not reached are put back uncharged (workflow.ts).
 *
 * A chunk holds at least one message: a message's work may itself span invocations (the units it
 * submitted are remembered on their slots), so even a message larger than one invocation's budget
 * moves forward.
 */
import type { ProcessorSettings, StageDeps } from './batch';
import { coalesce } from './coalesce';
import { mergeUnits, type PlannedMessage } from './plan';

/** SailPoint calls the instance's budget allows before the deadline (Infinity without a budget). */
export function callsLeft(deps: Pick<StageDeps, 'settings' | 'clock' | 'callDeadline'>): number {
  const perTenSeconds = deps.settings.requestsPer10s;
  if (perTenSeconds <= 0) return Infinity;
  return Math.floor((perTenSeconds * Math.max(0, deps.callDeadline - deps.clock())) / 10_000);
}

/** The SailPoint calls a chunk of these messages needs at most (before duplicates and skips). */
export function estimatedCalls(
  messages: readonly PlannedMessage[],
  settings: Pick<ProcessorSettings, 'maxRecipients' | 'maxItems' | 'identitiesPerSearch'>,
): number {
  const identities = new Set(messages.flatMap((m) => m.parsed?.requestedFor ?? []));
  const units = mergeUnits(messages)
    .filter((u) => !u.behind)
    .map((u) => u.unit);
  const posts = coalesce(units, {
    maxRecipients: settings.maxRecipients,
    maxItems: settings.maxItems,
  }).length;
  return Math.ceil(identities.size / settings.identitiesPerSearch) + posts;
}

/** How many of `pending` (in send order) the next chunk takes: the most that fit in `calls`, at least 1. */
export function chunkSize(
  pending: readonly PlannedMessage[],
  calls: number,
  settings: Pick<ProcessorSettings, 'maxRecipients' | 'maxItems' | 'identitiesPerSearch'>,
): number {
  if (pending.length <= 1 || calls === Infinity) return pending.length;
  if (estimatedCalls(pending, settings) <= calls) return pending.length;
  let fits = 1;
  let over = pending.length;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (estimatedCalls(pending.slice(0, mid), settings) <= calls) fits = mid;
    else over = mid;
  }
  return fits;
}
