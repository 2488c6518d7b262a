/** The budget of one process: a token bucket and a concurrency cap, as the source's `rate_limit` says. */

import type { Clock } from '../clock.js';
import { ConcurrencyLimiter } from '../commons/ConcurrencyLimiter.js';
import type { BudgetRelease, RateBudget } from './RateBudget.js';
import { TokenBucket } from './TokenBucket.js';

/** Limits of a {@link LocalRateBudget}. */
export interface LocalRateBudgetOptions {
  /** @default unlimited */
  readonly requestsPerSecond?: number;
  /** Token bucket size. @default max(1, requestsPerSecond) */
  readonly burst?: number;
  /** @default 1 */
  readonly concurrency?: number;
  readonly clock?: Clock;
}

/** Rate and concurrency enforced within this process only. */
export class LocalRateBudget implements RateBudget {
  private readonly bucket: TokenBucket;
  private readonly slots: ConcurrencyLimiter;

  constructor(options: LocalRateBudgetOptions = {}) {
    this.bucket = new TokenBucket({ ratePerSecond: options.requestsPerSecond ?? Number.POSITIVE_INFINITY, capacity: options.burst, clock: options.clock });
    this.slots = new ConcurrencyLimiter(options.concurrency ?? 1);
  }

  async acquire(signal?: AbortSignal): Promise<BudgetRelease> {
    // A slot first, then a token: a token is never spent by a request that then waits for a slot.
    const release = await this.slots.acquire(signal);
    try {
      await this.bucket.take(signal);
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  pauseUntil(epochMs: number): void {
    this.bucket.pauseUntil(epochMs);
  }

  async close(): Promise<void> {}
}
