/** A clock for replays: waits (retry backoff, rate limits, Retry-After) pass at once, and time moves on by them. */

import type { Clock } from '../clock.js';

/**
 * Starts at the real time; each `sleep` returns on the next turn of the event loop and moves
 * the clock forward by what it was asked to wait, so a replay of a throttled recording takes
 * milliseconds while every policy sees the time it expects pass.
 */
export function replayClock(): Clock {
  let skipped = 0;
  return {
    now: () => Date.now() + skipped,
    monotonic: () => performance.now() + skipped,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        skipped += Math.max(0, ms);
        setImmediate(() => (signal?.aborted ? reject(signal.reason as Error) : resolve()));
      }),
  };
}
