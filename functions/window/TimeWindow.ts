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
 * range to that window's edge. Materialises every window: for ranges of unknown length use
 * {@link windowsIn}, which yields them one by one.
 */
export function splitIntoWindows(from: Date, to: Date, sizeMs: number): TimeWindow[] {
  return [...windowsIn(from, to, sizeMs)];
}

/**
 * The windows of `[from, to)` (widened to the grid, as {@link splitIntoWindows}) that have ended
 * by `completeBy`, generated lazily: a range reaching year 9999 costs nothing until iterated,
 * and the windows after `completeBy` are never built at all.
 * @throws InputError when the range is empty.
 */
export function* windowsIn(from: Date, to: Date, sizeMs: number, completeBy?: Date): Generator<TimeWindow> {
  const { first, end } = gridRange(from, to, sizeMs, completeBy);
  for (let start = first; start + sizeMs <= end; start += sizeMs) {
    yield { start: new Date(start), end: new Date(start + sizeMs) };
  }
}

/** How many windows {@link windowsIn} yields, by arithmetic. @throws InputError when the range is empty. */
export function countWindowsIn(from: Date, to: Date, sizeMs: number, completeBy?: Date): number {
  const { first, end } = gridRange(from, to, sizeMs, completeBy);
  return Math.max(0, Math.floor((end - first) / sizeMs));
}

/** The first window start and the end no window may pass. */
function gridRange(from: Date, to: Date, sizeMs: number, completeBy: Date | undefined): { first: number; end: number } {
  if (!(from.getTime() < to.getTime())) {
    throw new InputError(`window range is empty: --from ${from.toISOString()} must be before --to ${to.toISOString()}`);
  }
  const last = ceilTo(to.getTime(), sizeMs);
  return { first: floorTo(from.getTime(), sizeMs), end: completeBy === undefined ? last : Math.min(last, completeBy.getTime()) };
}

/**
 * The window a schedule tick covers: the latest window whose end + `settleMs` is not after the tick.
 * A tick at 10:00:07 with a 1h window covers [09:00, 10:00), so a late or jittered
 * delivery still lands the same window under the same keys; with a 10m settle it covers
 * [08:00, 09:00), and a tick from 10:10 on covers [09:00, 10:00).
 */
export function windowBefore(tick: Date, sizeMs: number, settleMs = 0): TimeWindow {
  const end = floorTo(tick.getTime() - settleMs, sizeMs);
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
