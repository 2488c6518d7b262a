/**
 * One rate budget for a whole source, shared by every invocation that lands it (scheduled ticks,
 * backfill workers, retries), kept in a {@link BudgetStore}.
 *
 * Rate: the store holds a queue of request slots `interval` apart (GCRA's theoretical arrival
 * time). An invocation books as many slots as it has requests waiting with one atomic write,
 * sleeps until each, and sends inside it or not at all: a slot reached more than `lateMs` late is
 * dropped, never spent late, so sends bunched by a slow event loop cannot exceed the rate. The
 * interval is `(1000 + jitterMs) / requests_per_second`: the sends of any second, however late
 * within their slots and however unevenly they travel to the API (up to `jitterMs` together),
 * stay within `requests_per_second`.
 *
 * Concurrency: a request holds a lease in the store while it is in flight; leases expire after
 * the longest a request can take, so a crashed invocation frees its lease by itself.
 *
 * Server waits (Retry-After, a spent quota) pause the whole source in the store.
 *
 * When the store cannot be reached, the invocation falls back to its share: `1/workers` of the
 * rate and of the concurrency (at least one request), where `workers` is the larger of the
 * expected workers and those the store last showed active; it asks the store again a few seconds
 * later.
 */

import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { ConcurrencyLimiter } from '../commons/ConcurrencyLimiter.js';
import type { BudgetRelease, RateBudget } from '../http/RateBudget.js';
import { TokenBucket } from '../http/TokenBucket.js';
import { activeWorkers, liveLeases, type BudgetStore, type LeaseView, type StoreCalls } from './BudgetStore.js';

/** Timings of a shared budget; the defaults suit DynamoDB and a local lake folder. */
export interface SharedBudgetTuning {
  /** The furthest ahead an invocation books a slot; a longer queue is waited out before booking. @default 2000 */
  readonly maxWaitMs: number;
  /** Slots booked by one write at most (as many as requests are waiting). @default 8 */
  readonly maxBatch: number;
  /** How late within its slot a request may still be sent. @default 30 */
  readonly lateMs: number;
  /** Send lateness plus the spread of the network's delays (and of hosts' clocks) the spacing absorbs. @default 50 */
  readonly jitterMs: number;
  /** After the store failed, how long the invocation keeps to its share before asking the store again. @default 5000 */
  readonly retryStoreAfterMs: number;
  /** A worker counts as active this long after its last lease. @default 60000 */
  readonly workerTtlMs: number;
  /** The longest pause between two looks at the leases while all are taken. @default 100 */
  readonly pollMaxMs: number;
}

const DEFAULT_TUNING: SharedBudgetTuning = { maxWaitMs: 2_000, maxBatch: 8, lateMs: 30, jitterMs: 50, retryStoreAfterMs: 5_000, workerTtlMs: 60_000, pollMaxMs: 100 };

/** What a {@link SharedRateBudget} tells its owner. */
export type BudgetChange =
  | { readonly kind: 'fallback'; readonly reason: string; readonly workers: number; readonly requestsPerSecond?: number; readonly concurrency: number }
  | { readonly kind: 'shared' };

/** Options of a {@link SharedRateBudget}. */
export interface SharedRateBudgetOptions {
  readonly store: BudgetStore;
  /** The source's rate. @default unlimited: only the concurrency is shared */
  readonly requestsPerSecond?: number;
  /** Requests in flight at once across the source. */
  readonly concurrency: number;
  /** Invocations expected at once; each takes `1/expectedWorkers` of the limits when the store cannot be reached. */
  readonly expectedWorkers: number;
  /** The longest one request can last (the source's timeout): a lease outlives it. */
  readonly requestTimeoutMs: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told when the budget falls back to its share and when it is shared again. */
  readonly onChange?: (change: BudgetChange) => void;
  /** This worker's id in the store. @default random */
  readonly worker?: string;
  readonly tuning?: Partial<SharedBudgetTuning>;
}

/** Counters of one budget, for logs and the benchmark's cost model. */
export interface SharedBudgetStats {
  /** Requests let through. */
  granted: number;
  /** Slots booked in the store. */
  booked: number;
  /** Slots given up because they were reached too late. */
  missed: number;
  /** Requests let through on the fallback share. */
  onShare: number;
  /** Times the store failed and the budget fell back. */
  fallbacks: number;
}

/** A rate budget kept in a store every invocation of the source reaches. */
export class SharedRateBudget implements RateBudget {
  readonly stats: SharedBudgetStats = { granted: 0, booked: 0, missed: 0, onShare: 0, fallbacks: 0 };
  private readonly tuning: SharedBudgetTuning;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly store: BudgetStore;
  private readonly worker: string;
  private readonly rate: number;
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  private readonly local: ConcurrencyLimiter;
  private leaseCount = 0;
  /** Slots booked and not used yet, in order. */
  private pending: number[] = [];
  /** Requests waiting for a slot (the size of the next booking). */
  private wanting = 0;
  private slotTurns: Promise<unknown> = Promise.resolve();
  /** The store's answer time, smoothed: slots are booked this far ahead. */
  private latencyMs = 10;
  private pausedUntil = 0;
  private view: LeaseView = { leases: {}, workers: {}, pausedUntil: 0 };
  private workersSeen = 1;
  /** While in the future, the store is left alone and requests draw on this invocation's share. */
  private fallbackUntil = 0;
  private onShare = false;
  private shareBucket: TokenBucket | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: SharedRateBudgetOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.store = options.store;
    // Not from `random`: a seeded one would give every process of a test the same id.
    this.worker = options.worker ?? randomBytes(5).toString('hex');
    this.rate = options.requestsPerSecond ?? Number.POSITIVE_INFINITY;
    this.intervalMs = (1000 + this.tuning.jitterMs) / this.rate;
    this.leaseMs = this.tuning.maxWaitMs + options.requestTimeoutMs + 1_000;
    this.local = new ConcurrencyLimiter(options.concurrency);
  }

  async acquire(signal?: AbortSignal): Promise<BudgetRelease> {
    const releaseLocal = await this.local.acquire(signal);
    let lease: { id: string; expiresAt: number } | undefined;
    try {
      for (;;) {
        await this.waitOutPause(signal);
        const held = await this.takeLease(lease?.id, signal);
        if (lease && !held) this.endLease(lease.id);
        lease = held;
        await this.takeSlot(signal);
        // A lease must outlive the request it covers; one that waited long for its slot is renewed first.
        if (!lease || this.clock.now() + this.options.requestTimeoutMs + 1_000 <= lease.expiresAt) break;
      }
    } catch (error) {
      releaseLocal();
      if (lease) this.endLease(lease.id);
      throw error;
    }
    this.stats.granted++;
    if (this.onShare) this.stats.onShare++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      releaseLocal();
      if (lease) this.endLease(lease.id);
    };
  }

  /** Writes and reads this budget's store has served (of every budget sharing the store object). */
  get storeCalls(): StoreCalls {
    return this.store.calls;
  }

  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
    this.shareBucket?.pauseUntil(epochMs);
    // Slots inside the pause are given up; the store moves everybody's queue past it.
    this.pending = this.pending.filter((slot) => slot >= epochMs);
    if (this.sharing()) this.track(this.store.pause(epochMs));
  }

  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Whether requests draw on the store (not on this invocation's share). */
  private sharing(): boolean {
    return this.clock.now() >= this.fallbackUntil;
  }

  /** A lease (renewing `renew` when given), or undefined when the budget is on its share. */
  private async takeLease(renew: string | undefined, signal?: AbortSignal): Promise<{ id: string; expiresAt: number } | undefined> {
    const id = renew ?? `${this.worker}.${(this.leaseCount++).toString(36)}`;
    for (let polls = 0; ; ) {
      if (!this.sharing()) return undefined;
      const now = this.clock.now();
      const expiresAt = now + this.leaseMs;
      const leasing = await this.fromStore(
        () => this.store.lease({ id, expiresAt, limit: this.options.concurrency, now, worker: this.worker, workerExpiresAt: now + this.tuning.workerTtlMs }),
        signal,
      );
      if (!leasing) return undefined;
      this.see(leasing.view);
      if (leasing.kind === 'leased') return { id, expiresAt };
      // Every lease is taken or the source is paused: look again (reads only) until one may be free.
      for (;;) {
        const at = this.clock.now();
        if (this.view.pausedUntil > at) {
          await this.clock.sleep(this.view.pausedUntil - at + this.random() * 10, signal);
          break;
        }
        if (liveLeases(this.view, at).length < this.options.concurrency) break;
        await this.clock.sleep(Math.min(this.tuning.pollMaxMs, 5 * 2 ** polls++) * (0.5 + this.random() / 2), signal);
        const view = await this.fromStore(() => this.store.peek(), signal);
        if (!view) return undefined;
        this.see(view);
      }
    }
  }

  private async waitOutPause(signal?: AbortSignal): Promise<void> {
    for (let now = this.clock.now(); now < this.pausedUntil; now = this.clock.now()) await this.clock.sleep(this.pausedUntil - now, signal);
  }

  private async takeSlot(signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.rate)) return;
    for (;;) {
      if (!this.sharing()) {
        await this.shareBucket!.take(signal);
        return;
      }
      const slot = await this.nextSlot(signal);
      if (slot === undefined) continue; // the store failed: on the share from now
      const wait = slot - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait, signal);
      if (this.clock.now() <= slot + this.tuning.lateMs) return;
      this.stats.missed++;
    }
  }

  /** The next booked slot, booking more (as many as requests wait) when none is left; one booking at a time. */
  private nextSlot(signal?: AbortSignal): Promise<number | undefined> {
    this.wanting++;
    const turn = this.slotTurns.then(async () => {
      try {
        while (this.pending.length === 0) {
          if (!this.sharing()) return undefined;
          if (!(await this.book(signal))) return undefined;
        }
        return this.pending.shift();
      } finally {
        this.wanting--;
      }
    });
    this.slotTurns = turn.catch(() => undefined);
    return turn;
  }

  /** One booking; false when the store failed. */
  private async book(signal?: AbortSignal): Promise<boolean> {
    const count = Math.min(this.tuning.maxBatch, Math.max(1, this.wanting));
    const now = this.clock.now();
    // Far enough ahead that the first slot has not passed when the answer arrives.
    const earliest = now + Math.max(1, 1.5 * this.latencyMs);
    const latest = now + this.tuning.maxWaitMs;
    const booking = await this.fromStore(() => this.store.book({ count, intervalMs: this.intervalMs, earliest, latest }), signal);
    if (!booking) return false;
    this.latencyMs = 0.8 * this.latencyMs + 0.2 * (this.clock.now() - now);
    if (booking.kind === 'booked') {
      this.stats.booked += count;
      for (let i = 0; i < count; i++) this.pending.push(booking.first + i * this.intervalMs);
      this.pending = this.pending.filter((slot) => slot >= this.pausedUntil);
    } else {
      // The queue is longer than we may wait: come back when its end is within reach.
      await this.clock.sleep(Math.max(0, booking.nextFree - this.tuning.maxWaitMs - this.clock.now()) + this.random() * this.intervalMs, signal);
    }
    return true;
  }

  /** A store call; on failure the budget falls back to its share and the result is undefined. An abort rejects. */
  private async fromStore<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    try {
      const result = await call();
      this.restore();
      return result;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.fallBack(error);
      return undefined;
    }
  }

  /** Records what the store showed: its pause, and how many workers were active. */
  private see(view: LeaseView): void {
    this.view = view;
    const now = this.clock.now();
    this.workersSeen = Math.max(1, activeWorkers(view, now).length);
    if (view.pausedUntil > this.pausedUntil) this.pausedUntil = view.pausedUntil;
  }

  private endLease(lease: string): void {
    const now = this.clock.now();
    const stale = Object.keys(this.view.workers).filter((id) => this.view.workers[id]! < now);
    this.track(this.store.release(lease, stale));
  }

  /** Runs a write nobody waits for; its failure is a store failure like any other. */
  private track(write: Promise<void>): void {
    const tracked = write.then(
      () => this.restore(),
      (error: unknown) => this.fallBack(error),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private fallBack(error: unknown): void {
    this.fallbackUntil = this.clock.now() + this.tuning.retryStoreAfterMs;
    this.pending = [];
    const workers = Math.max(this.options.expectedWorkers, this.workersSeen);
    const concurrency = Math.max(1, Math.floor(this.options.concurrency / workers));
    if (this.onShare) return;
    this.onShare = true;
    this.stats.fallbacks++;
    this.local.setLimit(concurrency);
    const share = Number.isFinite(this.rate) ? this.rate / workers : undefined;
    // The share is spaced like the shared queue: (1000 + jitterMs) ms per `rate` requests.
    this.shareBucket = new TokenBucket({ ratePerSecond: share === undefined ? Number.POSITIVE_INFINITY : (share * 1000) / (1000 + this.tuning.jitterMs), capacity: 1, clock: this.clock });
    this.shareBucket.pauseUntil(this.pausedUntil);
    this.options.onChange?.({ kind: 'fallback', reason: (error as Error)?.message ?? String(error), workers, ...(share !== undefined ? { requestsPerSecond: share } : {}), concurrency });
  }

  private restore(): void {
    if (!this.onShare || !this.sharing()) return;
    this.onShare = false;
    this.local.setLimit(this.options.concurrency);
    this.options.onChange?.({ kind: 'shared' });
  }
}
