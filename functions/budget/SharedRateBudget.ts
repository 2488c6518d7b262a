/**
 * One rate budget for a whole source, shared by every run that lands it at once (scheduled ticks,
 * backfill workers, retries, `apilake` processes on one lake): requests draw their slots from the
 * source's queue in a {@link BudgetStore}, by the rules and invariants of slotQueue.ts.
 *
 * A run books as many slots as it has requests waiting with one write, sleeps until each, and
 * sends within `lateMs` of it or gives it up. The concurrency cap stays this run's own.
 *
 * When the store fails (unreachable, throttled, timing out), the run falls back to its share:
 * `requests_per_second / expected_workers`, spaced like the shared queue, starting once every
 * slot booked before the failure has passed, and asks the store again `retryStoreAfterMs` later.
 * Never unlimited. While some runs are on their share and others on the store (the seconds
 * around a failure's end), the API may see up to `(1 + k / expected_workers)` times the rate,
 * k being the runs on their share.
 */

import { systemClock, type Clock } from '../clock.js';
import { abortReason } from '../errors.js';
import { ConcurrencyLimiter } from '../commons/ConcurrencyLimiter.js';
import type { BudgetRelease, RateBudget } from '../http/RateBudget.js';
import { TokenBucket } from '../http/TokenBucket.js';
import type { BudgetStore, StoreCalls } from './BudgetStore.js';
import { slotIntervalMs } from './slotQueue.js';

/** Timings of a shared budget; the defaults suit DynamoDB and a local lake folder. */
export interface SharedBudgetTuning {
  /** The furthest ahead a run books a slot; a longer queue is waited out before booking. @default 2000 */
  readonly maxWaitMs: number;
  /** Slots booked by one write at most (as many as requests are waiting). @default 8 */
  readonly maxBatch: number;
  /**
   * How late after the start of its slot a request may still be sent. Leaves `jitterMs − lateMs`
   * for what happens after the check: building and writing the request, and the network. With 30
   * (of 50), 20 processes on 2 busy cores put 51 requests into one second at the API in 4 runs of
   * 14 (one 429 each); with 15, none in 8, at about the same throughput
   * (`npm run bench -- --only shared-budget`, docs/performance.md).
   * @default 15
   */
  readonly lateMs: number;
  /** Send lateness plus the spread of network delays and of hosts' clocks that the spacing absorbs (≥ lateMs). @default 50 */
  readonly jitterMs: number;
  /** After the store failed, how long the run keeps to its share before asking the store again. @default 5000 */
  readonly retryStoreAfterMs: number;
  /**
   * Book the next slots in the background when fewer are left than the requests this run keeps
   * in flight and the queue is busy (its slots go to whoever books first): a request that comes
   * back for a slot then finds one instead of waiting on the store. @default false
   */
  readonly bookAhead: boolean;
}

const DEFAULT_TUNING: SharedBudgetTuning = { maxWaitMs: 2_000, maxBatch: 8, lateMs: 15, jitterMs: 50, retryStoreAfterMs: 5_000, bookAhead: false };

/** What a {@link SharedRateBudget} tells its owner. */
export type BudgetChange =
  /** The store failed: this run keeps to `requestsPerSecond` until it can be reached again. */
  | { readonly kind: 'fallback'; readonly reason: string; readonly requestsPerSecond: number }
  /** The store answers again: requests draw on the shared queue. */
  | { readonly kind: 'shared' };

/** Options of a {@link SharedRateBudget}. */
export interface SharedRateBudgetOptions {
  readonly store: BudgetStore;
  /** The source's rate, across every run. */
  readonly requestsPerSecond: number;
  /** Requests in flight at once in this run. */
  readonly concurrency: number;
  /** Runs expected at once; each takes `1/expectedWorkers` of the rate while the store fails. */
  readonly expectedWorkers: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told when the budget falls back to its share and when it is shared again. */
  readonly onChange?: (change: BudgetChange) => void;
  readonly tuning?: Partial<SharedBudgetTuning>;
}

/** Counters of one budget, for logs and the benchmark's cost model. */
export interface SharedBudgetStats {
  /** Requests let through. */
  granted: number;
  /** Slots booked in the store. */
  booked: number;
  /** Slots given up because they were reached too late: the sum of the two below. */
  missed: number;
  /** Of those, slots already past when the store's answer handed them out (a slow store). */
  missedOnArrival: number;
  /** Of those, slots this run woke up for too late (a busy event loop or machine). */
  missedWaking: number;
  /** Requests let through on the fallback share. */
  onShare: number;
  /** Times the store failed and the budget fell back. */
  fallbacks: number;
  /** Bookings answered, and the milliseconds they took in all. */
  bookings: number;
  bookingMs: number;
}

/** A rate budget kept in a store every run of the source reaches. */
export class SharedRateBudget implements RateBudget {
  readonly stats: SharedBudgetStats = { granted: 0, booked: 0, missed: 0, missedOnArrival: 0, missedWaking: 0, onShare: 0, fallbacks: 0, bookings: 0, bookingMs: 0 };
  private readonly tuning: SharedBudgetTuning;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly intervalMs: number;
  private readonly slots: ConcurrencyLimiter;
  /** This run's share of the rate, used while the store fails. */
  private readonly share: TokenBucket;
  /** Slots booked and not used yet, in order. */
  private pending: number[] = [];
  /** Requests waiting for a slot (the size of the next booking). */
  private wanting = 0;
  private bookingTurns: Promise<unknown> = Promise.resolve();
  /** A booking made ahead of need, while it is in flight. */
  private ahead: Promise<unknown> | undefined;
  /** Whether the last booking found the queue busy (its first slot later than asked for). */
  private queueBusy = false;
  /** The store's answer time, smoothed: slots are booked this far ahead. */
  private latencyMs = 10;
  private pausedUntil = 0;
  /** While in the future, the store is left alone and requests draw on the share. */
  private fallbackUntil = 0;
  private onShare = false;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly options: SharedRateBudgetOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.intervalMs = slotIntervalMs(options.requestsPerSecond, this.tuning.jitterMs);
    this.slots = new ConcurrencyLimiter(options.concurrency);
    this.share = new TokenBucket({ ratePerSecond: 1000 / (this.intervalMs * options.expectedWorkers), capacity: 1, clock: this.clock });
  }

  /** Writes and reads sent to the store. */
  get storeCalls(): StoreCalls {
    return this.options.store.calls;
  }

  async acquire(signal?: AbortSignal): Promise<BudgetRelease> {
    // A slot of the concurrency cap first: a booked slot is never left to pass while waiting for one.
    const release = await this.slots.acquire(signal);
    try {
      await this.takeSlot(signal);
    } catch (error) {
      release();
      throw error;
    }
    this.stats.granted++;
    if (this.onShare) this.stats.onShare++;
    return release;
  }

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
    this.share.pauseUntil(epochMs);
    this.pending = this.pending.filter((slot) => slot >= epochMs);
    if (!this.sharing()) return;
    const write = this.options.store.pause(epochMs).then(
      () => this.restore(),
      (error: unknown) => this.fallBack(error),
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writes, this.ahead]);
  }

  private sharing(): boolean {
    return this.clock.now() >= this.fallbackUntil;
  }

  private async takeSlot(signal?: AbortSignal): Promise<void> {
    for (;;) {
      for (let now = this.clock.now(); now < this.pausedUntil; now = this.clock.now()) await this.clock.sleep(this.pausedUntil - now, signal);
      const slot = await this.nextSlot(signal);
      if (slot === undefined) {
        await this.share.take(signal);
        return;
      }
      const wait = slot - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, signal);
      // The server asked the source to wait while this request slept until its slot: the slot falls
      // within the wait (pauseUntil drops only slots not taken yet), so the request waits it out too.
      if (slot < this.pausedUntil) continue;
      if (this.clock.now() <= slot + this.tuning.lateMs) return;
      this.stats.missed++;
      if (wait < -this.tuning.lateMs) this.stats.missedOnArrival++;
      else this.stats.missedWaking++;
    }
  }

  /** The next booked slot, booking more (as many as requests wait) when none is left; undefined while the store fails. */
  private nextSlot(signal?: AbortSignal): Promise<number | undefined> {
    this.wanting++;
    const turn = this.bookingTurns.then(async () => {
      try {
        while (this.pending.length === 0) {
          if (this.ahead) await this.ahead;
          else if (!this.sharing() || !(await this.book(this.wanting, signal))) return undefined;
        }
        return this.pending.shift();
      } finally {
        this.wanting--;
        this.bookAhead();
      }
    });
    this.bookingTurns = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Books the slots this run's requests in flight will want next, before they want them. Only on
   * a busy queue: there the slots go at its end, so those booked ahead are the ones a later
   * booking would have got; on an idle queue they would start before the requests come back.
   * Never more than the concurrency cap ahead; the slots are spent by the same rules as any.
   */
  private bookAhead(): void {
    if (!this.tuning.bookAhead || this.ahead || !this.queueBusy || !this.sharing()) return;
    const count = this.options.concurrency - this.pending.length;
    if (count <= 0) return;
    // book() falls back by itself when the store fails; without a signal it does not reject.
    this.ahead = this.book(count)
      .catch(() => false)
      .finally(() => (this.ahead = undefined));
  }

  /** One booking of `wanted` slots (at most maxBatch); false when the store failed. An abort rejects. */
  private async book(wanted: number, signal?: AbortSignal): Promise<boolean> {
    const count = Math.min(this.tuning.maxBatch, Math.max(1, wanted));
    const now = this.clock.now();
    // Far enough ahead that the first slot has not passed when the answer arrives.
    const earliest = Math.max(now + 1.5 * this.latencyMs, this.pausedUntil);
    const request = { count, intervalMs: this.intervalMs, earliest, latest: now + this.tuning.maxWaitMs };
    let booking;
    try {
      booking = await this.options.store.book(request);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      this.fallBack(error);
      return false;
    }
    this.restore();
    const took = this.clock.now() - now;
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * took;
    this.stats.bookings++;
    this.stats.bookingMs += took;
    if (booking.kind === 'booked') {
      this.stats.booked += count;
      this.queueBusy = booking.first > earliest;
      for (let i = 0; i < count; i++) this.pending.push(booking.first + i * this.intervalMs);
      // A booking made ahead may answer after one made on demand: slots are spent in time order.
      this.pending.sort((a, b) => a - b);
    } else {
      this.queueBusy = true;
      // The queue is longer than we may wait: come back when its end is within reach.
      await this.clock.sleep(Math.max(0, booking.nextFree - this.tuning.maxWaitMs - this.clock.now()) + this.random() * this.intervalMs, signal);
    }
    return true;
  }

  private fallBack(error: unknown): void {
    this.fallbackUntil = this.clock.now() + this.tuning.retryStoreAfterMs;
    // Slots already booked stay valid (nobody else has them): they are spent before the share.
    if (this.onShare) return;
    this.onShare = true;
    this.stats.fallbacks++;
    // Other runs may still spend slots they booked before the store failed, up to maxWaitMs and
    // one batch ahead: the share starts after them, so the switch adds nothing to the shared rate.
    this.share.pauseUntil(this.clock.now() + this.tuning.maxWaitMs + this.tuning.maxBatch * this.intervalMs);
    this.options.onChange?.({ kind: 'fallback', reason: error instanceof Error ? error.message : String(error), requestsPerSecond: 1000 / (this.intervalMs * this.options.expectedWorkers) });
  }

  private restore(): void {
    if (!this.onShare) return;
    this.onShare = false;
    this.options.onChange?.({ kind: 'shared' });
  }
}
