/**
 * The SailPoint rate budget shared by every instance of every workflow using one credential.
 *
 * ISC's gateway allows 100 requests per 10 s per client id and API version (official/rate-limit.md).
 * A fixed share per instance leaves most of that idle whenever the other workflows are: access
 * provisioning got 26 of 80 while the sweep and the absences did nothing. Here every call draws a
 * send time from ONE schedule per credential and API version, kept in DynamoDB: calls are spaced
 * `10 s ÷ requestsPer10s` apart, first come first served, so whoever has work uses the whole budget.
 *
 * The schedule is one number per key, the time the next call may go (`nextAt`, epoch ms) — the
 * virtual-scheduling form of the generic cell rate algorithm, without a burst allowance: evenly spaced
 * calls never put more than requestsPer10s into any 10-s window of the gateway's sliding count.
 * Reserving a block of n send times is one conditional UpdateItem:
 *  - idle (no item, or nextAt in the past): SET nextAt = now + n × spacing, the block starts now;
 *  - busy: ADD nextAt n × spacing (atomic, no read-modify-write race), the block starts at the old
 *    value — refused when that is past the caller's latest start (its deadline), so no instance
 *    reserves send times it could not use.
 * An instance reserves send times for the calls it has waiting (at most one second's worth at a time),
 * or — `reserve` — one block for a chunk of calls it is about to make (at most `maxReserveMs`).
 * Send times an instance could not use (its calls' deadlines passed) are lost, never re-issued.
 *
 * Correctness never depends on it: a 429 is still retried after Retry-After by the client, the
 * item's expiresAt (a day after the last reservation) only tidies the table.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure } from '../dynamo';
import type { RateGate } from '../http';

/** Where the schedules live: one `nextAt` per key. */
export interface ScheduleStore {
  /**
   * Reserves `count` send times `spacingMs` apart, the first no earlier than `now`; returns the first,
   * or undefined when it would fall after `latestStart`.
   */
  reserve(
    key: string,
    count: number,
    spacingMs: number,
    now: number,
    latestStart: number,
  ): Promise<number | undefined>;
}

const DAY_SECONDS = 86_400;

/** The schedules in the RateBudget table (TABLES.rateBudget): pk `RATE#<client id> <version>`. */
export class DynamoScheduleStore implements ScheduleStore {
  /** The last nextAt seen per key: while it is ahead of the clock, the idle case is skipped. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(
    key: string,
    count: number,
    spacingMs: number,
    now: number,
    latestStart: number,
  ): Promise<number | undefined> {
    const span = count * spacingMs;
    const Key = { pk: `RATE#${key}`, sk: 'schedule' };
    const expiresAt = Math.ceil(now / 1000) + DAY_SECONDS;
    // Twice at most: an idle schedule someone else just started is then busy.
    for (let round = 0; round < 2; round++) {
      if (!((this.seen.get(key) ?? 0) > now)) {
        try {
          await this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key,
              UpdateExpression: 'SET nextAt = :end, expiresAt = :expires',
              ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt <= :now',
              ExpressionAttributeValues: { ':end': now + span, ':now': now, ':expires': expiresAt },
            }),
          );
          this.seen.set(key, now + span);
          return now;
        } catch (error) {
          if (!isConditionalCheckFailure(error)) throw error;
        }
      }
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'SET expiresAt = :expires ADD nextAt :span',
            ConditionExpression: 'nextAt > :now AND nextAt <= :latest',
            ExpressionAttributeValues: {
              ':span': span,
              ':now': now,
              ':latest': Math.min(latestStart, Number.MAX_SAFE_INTEGER),
              ':expires': expiresAt,
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const end = Number(out.Attributes?.nextAt);
        this.seen.set(key, end);
        return end - span;
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        // Either the schedule runs past latestStart (no send time for this caller) or it went idle
        // since: the idle case decides, once.
        if (round === 0) {
          this.seen.delete(key);
          continue;
        }
      }
    }
    return undefined;
  }
}

export interface SharedRateBudgetOptions {
  /** The credential's whole budget per API version: calls are spaced 10 s ÷ this apart. */
  readonly requestsPer10s: number;
  /** Most send times reserved at once for waiting calls (default: one second's worth). */
  readonly maxBlock?: number;
  /** The longest block `reserve` sets aside (default 60,000 ms of the budget). */
  readonly maxReserveMs?: number;
  readonly now?: () => number;
  /** The store failed: the calls waiting on that reservation go at once (the gateway still answers 429
   *  with Retry-After, which the client honours), so DynamoDB trouble never stops SailPoint work. */
  readonly onStoreError?: (error: unknown) => void;
}

interface Waiter {
  readonly latestStart: number;
  readonly resolve: (sent: boolean) => void;
}

interface Lane {
  readonly waiters: Waiter[];
  /** Reserved send times not yet handed out, ascending. */
  readonly slots: number[];
  /** Reservations in flight. */
  reserving: number;
}

/** How a reservation went: send times added to the lane, none before the latest start, or a store error. */
type Booking = 'booked' | 'refused' | 'failed';

/** One instance's view of the shared budget: queues its calls per key and reserves send times for them. */
export class SharedRateBudget implements RateGate {
  readonly spacingMs: number;
  private readonly maxBlock: number;
  private readonly maxReserveMs: number;
  private readonly now: () => number;
  private readonly lanes = new Map<string, Lane>();
  /** Reservations asked of the store (each one UpdateItem, two when an idle schedule was taken meanwhile). */
  reservations = 0;
  /** Reservations the store failed (their calls went unscheduled). */
  storeErrors = 0;

  constructor(
    private readonly store: ScheduleStore,
    private readonly options: SharedRateBudgetOptions,
  ) {
    if (!(Number.isInteger(options.requestsPer10s) && options.requestsPer10s >= 1)) {
      throw new RangeError('requestsPer10s must be an integer >= 1');
    }
    this.spacingMs = 10_000 / options.requestsPer10s;
    this.maxBlock = options.maxBlock ?? Math.max(1, Math.ceil(options.requestsPer10s / 10));
    this.maxReserveMs = options.maxReserveMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Resolves true at this call's send time, or false when none falls before `latestStart` (epoch ms;
   * undefined: no limit) — the caller then gives up without sending.
   */
  wait(key: string, latestStart?: number): Promise<boolean> {
    const lane = this.lane(key);
    return new Promise<boolean>((resolve) => {
      lane.waiters.push({ latestStart: latestStart ?? Infinity, resolve });
      this.pump(key, lane);
    });
  }

  /**
   * Sets aside `count` send times in one block for calls about to be made (e.g. a chunk's POSTs):
   * they then go out back to back at the whole budget's rate instead of interleaved with the other
   * instances' calls. Several busy instances then take turns rather than share: while one sends, the
   * others claim, read and record, so the budget does not idle when they all would at once. Blocks are
   * at most `maxReserveMs` of the budget (other workflows wait at most that long). Best effort: on a
   * refusal or a store error the calls simply wait for send times one by one.
   */
  async reserve(key: string, count: number, latestStart?: number): Promise<void> {
    const lane = this.lane(key);
    const wanted = Math.min(count, Math.floor(this.maxReserveMs / this.spacingMs)) - lane.slots.length;
    if (wanted <= 0) return;
    await this.book(key, lane, wanted, latestStart ?? Infinity);
    this.pump(key, lane);
  }

  /** Reserves `count` send times from the store for this lane (in order among those it holds). */
  private async book(key: string, lane: Lane, count: number, latestStart: number): Promise<Booking> {
    lane.reserving++;
    this.reservations++;
    try {
      const first = await this.store.reserve(key, count, this.spacingMs, this.now(), latestStart);
      if (first === undefined) return 'refused';
      for (let i = 0; i < count; i++) lane.slots.push(first + i * this.spacingMs);
      lane.slots.sort((a, b) => a - b);
      return 'booked';
    } catch (error) {
      this.storeErrors++;
      this.options.onStoreError?.(error);
      return 'failed';
    } finally {
      lane.reserving--;
    }
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { waiters: [], slots: [], reserving: 0 };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Hands reserved send times to waiters in order; reserves more when waiters are left. */
  private pump(key: string, lane: Lane): void {
    const now = this.now();
    // A send time more than one spacing in the past is dropped: sending it now would crowd the next.
    while (lane.slots.length > 0 && lane.slots[0]! < now - this.spacingMs) lane.slots.shift();
    while (lane.waiters.length > 0 && lane.slots.length > 0) {
      const waiter = lane.waiters.shift()!;
      if (lane.slots[0]! > waiter.latestStart) {
        waiter.resolve(false); // the send time is kept for a waiter with a later deadline
        continue;
      }
      const at = lane.slots.shift()!;
      if (at <= now) waiter.resolve(true);
      else setTimeout(() => waiter.resolve(true), at - now);
    }
    // Past the loop above, calls are waiting only when the lane holds no send time.
    if (lane.waiters.length === 0 || lane.reserving > 0) return;
    const count = Math.min(this.maxBlock, lane.waiters.length);
    const latestStart = Math.max(...lane.waiters.slice(0, count).map((w) => w.latestStart));
    void this.book(key, lane, count, latestStart).then((booking) => {
      // Refused: no send time before the latest of these deadlines, so those calls give up. Failed:
      // they go unscheduled (the gateway's 429 and Retry-After still apply).
      if (booking !== 'booked') {
        for (const waiter of lane.waiters.splice(0, count)) waiter.resolve(booking === 'failed');
      }
      this.pump(key, lane);
    });
  }
}
