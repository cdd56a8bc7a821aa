/**
 * The claims this invocation holds, and every write that changes one (state-store.ts does the
 * DynamoDB part, each write conditional on the claim token). A claim is the record that an attempt
 * of its unit may reach SailPoint: it is written before any POST, kept when a POST's outcome is
 * unknown (the retry reconciles), marked submitted on a 202, and given back when nothing was sent.
 *
 * The stages name claims by unit key; only this class mutates what a claim holds.
 */
import type { RequestType } from './contract';
import { errorText, mapLimit, writeConcurrency, type StageDeps } from './batch';
import { carriedSubmissions, type Expectation, type SubmissionEntry } from './slot-policy';
import type { ClaimWrite } from './state-store';
import type { SlotRef } from './units';

interface HeldClaim {
  readonly slot: SlotRef;
  readonly token: string;
  readonly requestType: RequestType;
  /** The slot's submissions this claim carries (kept on release and on submission). */
  readonly carried: readonly SubmissionEntry[];
  /** The claim's attemptUntil as written (the latest moment a POST of it may be sent). */
  attemptUntil: number;
  state: 'held' | 'released' | 'submitted';
  /** A POST of this unit was started in this invocation. */
  posted: boolean;
}

export interface SubmissionRecord {
  /** The message credited with the submission. */
  readonly messageId: string;
  readonly at: number;
  readonly accessRequestIds: readonly string[];
  /** Found in SailPoint's status list rather than seen as a 202. */
  readonly reconciled: boolean;
  /** After a takeover found in SailPoint: the message whose attempt it was (it must not POST it either). */
  readonly attemptOf?: string;
}

export class ClaimLedger {
  private readonly claims = new Map<string, HeldClaim>();

  constructor(private readonly deps: Pick<StageDeps, 'store' | 'settings' | 'clock' | 'log'>) {}

  /** Writes the claim (conditional on `expect`); true when this invocation now holds it. */
  async acquire(unitKey: string, slot: SlotRef, write: ClaimWrite, expect: Expectation): Promise<boolean> {
    const won = await this.deps.store.claim(slot, write, expect);
    if (won) {
      this.claims.set(unitKey, {
        slot,
        token: write.claimToken,
        requestType: write.operation,
        carried: write.submissions ?? [],
        attemptUntil: write.attemptUntil,
        state: 'held',
        posted: false,
      });
    }
    return won;
  }

  isHeld(unitKey: string): boolean {
    return this.claims.get(unitKey)?.state === 'held';
  }

  attemptUntil(unitKey: string): number {
    return this.claims.get(unitKey)?.attemptUntil ?? 0;
  }

  /** Held, and a POST of it was started in this invocation (its outcome unknown or not recorded). */
  isHeldAfterPost(unitKey: string): boolean {
    const claim = this.claims.get(unitKey);
    return claim?.state === 'held' && claim.posted;
  }

  /** The unit keys of the claims still held. */
  held(): string[] {
    return [...this.claims].filter(([, c]) => c.state === 'held').map(([key]) => key);
  }

  markPosted(unitKeys: readonly string[]): void {
    for (const key of unitKeys) {
      const claim = this.claims.get(key);
      if (claim) claim.posted = true;
    }
  }

  /**
   * Moves the claim's attempt end to `until` (before a taken-over claim POSTs). False when the claim
   * is no longer ours (a concurrent taker has it); throws on a store error.
   */
  async extend(unitKey: string, until: number): Promise<boolean> {
    const claim = this.claims.get(unitKey)!;
    if (await this.deps.store.setAttemptUntil(claim.slot, claim.token, until)) {
      claim.attemptUntil = until;
      return true;
    }
    claim.state = 'released'; // not ours any more
    return false;
  }

  /** Records the submission on the slot. Throws when the write fails (the claim then stays). */
  async recordSubmitted(unitKey: string, submission: SubmissionRecord): Promise<void> {
    const claim = this.claims.get(unitKey)!;
    const { messageId, at, accessRequestIds, reconciled, attemptOf } = submission;
    // The message credited, and (after a takeover) the one whose attempt it was: neither re-POSTs it.
    const submissions = carriedSubmissions(
      undefined,
      at,
      ...claim.carried,
      ...(attemptOf ? [{ operation: claim.requestType, messageId: attemptOf, at }] : []),
      { operation: claim.requestType, messageId, at },
    );
    const stillOurs = await this.deps.store.markSubmitted(claim.slot, claim.token, {
      submittedAt: at,
      dedupUntil: at + this.deps.settings.dedupWindowMs,
      ...(accessRequestIds.length > 0 ? { accessRequestIds } : {}),
      reconciled,
      messageId,
      submissions,
    });
    claim.state = 'submitted';
    if (!stillOurs) {
      this.deps.log?.warn('claim was taken over before the submission was recorded', { unit: unitKey });
    }
  }

  /** Gives a claim with nothing submitted back (best effort: otherwise its lease runs out). */
  async release(unitKey: string): Promise<void> {
    const claim = this.claims.get(unitKey);
    if (!claim || claim.state !== 'held') return;
    try {
      await this.deps.store.release(claim.slot, claim.token, claim.carried);
      claim.state = 'released';
    } catch (error) {
      // Harmless: the claim's lease runs out, and a taker reconciles before submitting.
      this.deps.log?.warn('could not release a claim', { unit: unitKey, error: errorText(error) });
    }
  }

  async releaseAll(unitKeys: readonly string[]): Promise<void> {
    await mapLimit(unitKeys, writeConcurrency(this.deps.settings), (key) => this.release(key));
  }

  /**
   * Hands a claim whose message is dead-lettered over at once: its lease ends now (and its attempt
   * end, if later), so the next message asking for the unit takes it over — reconciling first, since
   * the attempt may have reached SailPoint — instead of waiting for the lease. Best effort.
   */
  async handOver(unitKeys: readonly string[]): Promise<void> {
    await mapLimit(unitKeys, writeConcurrency(this.deps.settings), async (unitKey) => {
      const claim = this.claims.get(unitKey);
      if (!claim || claim.state !== 'held') return;
      const now = this.deps.clock();
      try {
        await this.deps.store.handOver(claim.slot, claim.token, now, Math.min(claim.attemptUntil, now));
        claim.state = 'released';
      } catch (error) {
        this.deps.log?.warn('could not hand a claim over', { unit: unitKey, error: errorText(error) });
      }
    });
  }

  /**
   * Claims kept after a POST (its outcome unknown, or its success not recorded) record when this
   * invocation stopped sending: all POSTs have returned, so SailPoint's listing lag counts from now,
   * not from the invocation's deadline. Best effort: the deadline already bounds it.
   */
  async endAttempts(): Promise<void> {
    const now = this.deps.clock();
    const kept = [...this.claims].filter(([, c]) => c.state === 'held' && c.posted && c.attemptUntil > now);
    await mapLimit(kept, writeConcurrency(this.deps.settings), async ([unitKey, claim]) => {
      try {
        if (await this.deps.store.setAttemptUntil(claim.slot, claim.token, now)) claim.attemptUntil = now;
      } catch (error) {
        this.deps.log?.warn('could not record the end of an attempt', {
          unit: unitKey,
          error: errorText(error),
        });
      }
    });
  }
}
