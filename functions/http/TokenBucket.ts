/** A client-side token bucket: at most `ratePerSecond` requests per second on average, bursts up to `capacity`. */

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

/** Hands out one token per request, waiting when the bucket is empty; callers are served in order. */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
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
    if (this.waiting === 0 && !Number.isFinite(this.ratePerMs) && this.clock.now() >= this.pausedUntil) return RESOLVED;
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

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      if (!Number.isFinite(this.ratePerMs)) return; // no rate configured: only pauses apply
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.ratePerMs);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.ratePerMs), signal);
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
