/** Half-open time windows `[start, end)` and how a range or a schedule tick maps onto them. */

import { InputError } from '../errors.js';
import { formatDuration } from './duration.js';

/** A half-open interval of time `[start, end)` that one run of a stream covers. */
export interface TimeWindow {
  readonly start: Date;
  readonly end: Date;
}

/**
 * Splits `[from, to)` into consecutive windows of `sizeMs`, aligned to multiples of the size
 * since the Unix epoch, so the same instant always falls into the same window and keys stay
 * deterministic whatever range a user asks for. A `from` or `to` inside a window widens the
 * range to that window's edge.
 */
export function splitIntoWindows(from: Date, to: Date, sizeMs: number): TimeWindow[] {
  if (!(from.getTime() < to.getTime())) {
    throw new InputError(`window range is empty: --from ${from.toISOString()} must be before --to ${to.toISOString()}`);
  }
  const first = floorTo(from.getTime(), sizeMs);
  const last = ceilTo(to.getTime(), sizeMs);
  const windows: TimeWindow[] = [];
  for (let start = first; start < last; start += sizeMs) {
    windows.push({ start: new Date(start), end: new Date(start + sizeMs) });
  }
  return windows;
}

/**
 * The window a schedule tick covers: the last complete window before the tick.
 * A tick at 10:00:07 with a 1h window covers [09:00, 10:00), so a late or jittered
 * delivery still lands the same window under the same keys.
 */
export function windowBefore(tick: Date, sizeMs: number): TimeWindow {
  const end = floorTo(tick.getTime(), sizeMs);
  return { start: new Date(end - sizeMs), end: new Date(end) };
}

/** Whether the window sits exactly on the grid of `sizeMs` (what `splitIntoWindows` produces). */
export function isAligned(window: TimeWindow, sizeMs: number): boolean {
  return window.start.getTime() % sizeMs === 0 && window.end.getTime() - window.start.getTime() === sizeMs;
}

/** A one-line description such as `[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h)`. */
export function describeWindow(window: TimeWindow): string {
  const size = formatDuration(window.end.getTime() - window.start.getTime());
  return `[${isoSeconds(window.start)}, ${isoSeconds(window.end)}) (${size})`;
}

/** ISO 8601 UTC without milliseconds: `2024-01-01T00:00:00Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function floorTo(ms: number, sizeMs: number): number {
  return Math.floor(ms / sizeMs) * sizeMs;
}

function ceilTo(ms: number, sizeMs: number): number {
  return Math.ceil(ms / sizeMs) * sizeMs;
}
