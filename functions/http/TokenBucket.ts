/**
 * A client-side token bucket: at most `ratePerSecond` requests per second on average, bursts up to
 * `capacity`; and, once the API reports its own budget ({@link TokenBucket.adapt}), never more
 * than that budget holds, so requests wait before the API would refuse them.
 */

import { systemClock, type Clock } from '../clock.js';

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size. @default max(1, ratePerSecond) */
  readonly capacity?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * The API's own budget, in requests, as its latest response reported it. A window budget has no
 * refill and ends at `resetAtMs`; a leaky bucket refills at `refillPerSecond`.
 */
export interface ReportedBudget {
  /** Requests the API takes now (may be negative: requests in flight the API has not counted yet). */
  readonly available: number;
  /** Requests that come back each second. @default 0 */
  readonly refillPerSecond?: number;
  /** The most requests the budget holds. @default no cap */
  readonly capacity?: number;
  /** When a window budget is whole again; past it the report no longer limits. */
  readonly resetAtMs?: number;
  /** Requests the window holds once reset, when the API said: they are the most that go out until a response reports again. */
  readonly afterReset?: number;
}

/** The reported budget as the bucket keeps it. */
interface ApiBudget {
  tokens: number;
  readonly ratePerMs: number;
  readonly capacity: number;
  resetAtMs: number | undefined;
  afterReset: number | undefined;
  refilledAt: number;
}

/** Hands out one token per request, waiting when the bucket is empty; callers are served in order. */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private api: ApiBudget | undefined;
  private queue: Promise<void> = RESOLVED;
  /** Takers queued and not yet through. */
  private waiting = 0;

  constructor(options: TokenBucketOptions) {
    this.ratePerMs = options.ratePerSecond / 1000;
    this.capacity = options.capacity ?? Math.max(1, Number.isFinite(options.ratePerSecond) ? options.ratePerSecond : 1);
    this.clock = options.clock ?? systemClock;
    this.tokens = this.capacity;
    this.refilledAt = this.clock.now();
  }

  /** Waits for a token. Rejects with the signal's reason if it aborts while waiting. */
  take(signal?: AbortSignal): Promise<void> {
    // No rate, no pause, nobody ahead: nothing to wait for, so no trip through the queue (a few
    // promise turns on the path between one page's response and the next page's request).
    if (this.waiting === 0 && !Number.isFinite(this.ratePerMs)) {
      const now = this.clock.now();
      if (now >= this.pausedUntil && this.apiWaitMs(now) === 0) {
        this.takeApiToken();
        return RESOLVED;
      }
    }
    this.waiting++;
    const turn = this.queue.then(() => this.waitForToken(signal)).finally(() => this.waiting--);
    // A rejected waiter must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Holds every request until `epochMs`, e.g. when the server reports its quota is spent. */
  pauseUntil(epochMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, epochMs);
  }

  /**
   * Limits the requests to come by the budget the API just reported, on top of the bucket's own
   * rate: the latest report replaces the one before.
   */
  adapt(budget: ReportedBudget): void {
    const now = this.clock.now();
    const ratePerMs = Math.max(0, budget.refillPerSecond ?? 0) / 1000;
    // A report that can never let a request through again (nothing left, no refill, no reset) would hold every request forever.
    if (ratePerMs === 0 && budget.resetAtMs === undefined && budget.available < 1) {
      this.api = undefined;
      return;
    }
    const capacity = budget.capacity ?? Number.POSITIVE_INFINITY;
    this.api = { tokens: Math.min(capacity, budget.available), ratePerMs, capacity, resetAtMs: budget.resetAtMs, afterReset: budget.afterReset, refilledAt: now };
  }

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      const apiWait = this.apiWaitMs(now);
      let ownWait = 0;
      if (Number.isFinite(this.ratePerMs)) {
        this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.ratePerMs);
        this.refilledAt = now;
        if (this.tokens < 1) ownWait = Math.ceil((1 - this.tokens) / this.ratePerMs);
      }
      if (apiWait === 0 && ownWait === 0) {
        if (Number.isFinite(this.ratePerMs)) this.tokens -= 1;
        this.takeApiToken();
        return;
      }
      await this.clock.sleep(Math.max(apiWait, ownWait), signal);
    }
  }

  /** Brings the reported budget up to `now`; how long until it holds a request (0: now). */
  private apiWaitMs(now: number): number {
    const api = this.api;
    if (!api) return 0;
    if (api.resetAtMs !== undefined && now >= api.resetAtMs) {
      // A new window: as much as the API said it holds (then the next response reports again), or no limit of its own.
      if (api.afterReset === undefined) {
        this.api = undefined;
        return 0;
      }
      Object.assign(api, { tokens: api.afterReset, resetAtMs: undefined, afterReset: undefined, refilledAt: now });
    }
    api.tokens = Math.min(api.capacity, api.tokens + (now - api.refilledAt) * api.ratePerMs);
    api.refilledAt = now;
    if (api.tokens >= 1) return 0;
    if (api.ratePerMs > 0) return Math.ceil((1 - api.tokens) / api.ratePerMs);
    if (api.resetAtMs !== undefined) return api.resetAtMs - now;
    // Spent, with nothing that refills it: the report no longer says anything.
    this.api = undefined;
    return 0;
  }

  private takeApiToken(): void {
    if (this.api) this.api.tokens -= 1;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
