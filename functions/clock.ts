/** Time as a dependency, so policies and limiters are tested without waiting. */

import { abortReason } from './errors.js';

/** A source of time and of waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Milliseconds since an arbitrary origin, moving only forward at the pace of real time while
   * the process runs (`performance.now()`): unaffected when the wall clock is set. Optional:
   * without it, {@link stopwatch} measures with `now()` alone.
   */
  monotonic?(): number;
  /** Resolves after `ms`, or rejects with the signal's reason (an Error: {@link abortReason}) when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * Time elapsed since the call, as the longer of the wall clock's and the monotonic clock's
 * readings: a wall clock set back cannot shorten it, and neither can a monotonic clock that
 * stood still while the machine slept. For limits that must never be undercounted.
 */
export function stopwatch(clock: Clock): () => number {
  const wallStart = clock.now();
  const monotonicStart = clock.monotonic?.();
  return () => Math.max(clock.now() - wallStart, monotonicStart === undefined ? 0 : clock.monotonic!() - monotonicStart);
}
