/** How long a stream's windows are and how long each settles: from its `window` and `settle`, else its source's schedule. */

import { parseDuration, rateIntervalMs } from './duration.js';

/** The settle delay of a stream in milliseconds (0 without `settle`). Only call on a validated source. */
export function streamSettleMs(stream: { readonly settle?: string }): number {
  return stream.settle === undefined ? 0 : (parseDuration(stream.settle) ?? 0);
}

/**
 * The window size of a stream in milliseconds: its `window`, else the schedule's rate interval.
 * Only call on a validated source (validation requires a `window` when the schedule has no fixed interval).
 */
export function streamWindowMs(source: { readonly name: string; readonly schedule: string }, stream: { readonly name: string; readonly window?: string }): number {
  const size = stream.window === undefined ? rateIntervalMs(source.schedule) : parseDuration(stream.window);
  if (size === undefined) throw new Error(`stream ${source.name}.${stream.name} has no window size; validation should have refused it`);
  return size;
}
