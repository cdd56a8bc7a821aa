/**
 * Reads SailPoint's /access-request-status for identities, once per identity per batch: the claim
 * stage asks about opposite requests, the reconcile stage about unfinished attempts. Each identity's
 * list is kept from the earliest time asked; a failed read leaves nothing cached (the caller retries).
 */
import { errorText, mapLimit, type StageDeps } from './batch';
import { CLOCK_SKEW_MS, type RequestStatusEntry } from './reconcile';

export class StatusReader {
  private readonly cache = new Map<string, { since: number; entries: readonly RequestStatusEntry[] }>();

  constructor(private readonly deps: Pick<StageDeps, 'gateway' | 'settings' | 'counts' | 'log'>) {}

  /**
   * Fetches each identity's entries created since the earliest time asked (less the clock skew).
   * `fresh`: read again even when cached (after this invocation's own POSTs).
   */
  async fetch(
    needs: readonly { identityId: string; since: number }[],
    options: { fresh?: boolean } = {},
  ): Promise<void> {
    const earliest = new Map<string, number>();
    for (const { identityId, since } of needs) {
      const cached = this.cache.get(identityId);
      if (cached && cached.since <= since && !options.fresh) continue;
      earliest.set(identityId, Math.min(earliest.get(identityId) ?? Infinity, since));
    }
    await mapLimit([...earliest], this.deps.settings.concurrency, async ([identityId, since]) => {
      this.deps.counts.statusLookups++;
      try {
        const entries = await this.deps.gateway.requestStatuses(identityId, since - CLOCK_SKEW_MS);
        this.cache.set(identityId, { since, entries });
      } catch (error) {
        this.cache.delete(identityId);
        this.deps.log?.warn('could not read access request status', { identityId, error: errorText(error) });
      }
    });
  }

  /** The identity's entries, or undefined when they could not be read. */
  entries(identityId: string): readonly RequestStatusEntry[] | undefined {
    return this.cache.get(identityId)?.entries;
  }
}
