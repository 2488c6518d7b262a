import type { Clock } from '../../functions/clock.js';
import { abortReason } from '../../functions/errors.js';

/**
 * A clock whose sleeps return at once and move time forward, recording every requested delay,
 * so retry and rate-limit tests assert the waits without waiting.
 */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(private nowMs: number = Date.parse('2025-01-01T00:00:00Z')) {}

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    this.sleeps.push(ms);
    this.nowMs += Math.max(0, ms);
    return Promise.resolve();
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }
}
