/**
 * Says how a window misses the grid of its stream, so an operator who sent
 * `[09:00:00.500Z, 10:00:00.500Z)` reads "starts 500 ms after a 1h boundary" instead of a
 * window that looks aligned once the milliseconds are cut off.
 */

import { formatDuration } from './duration.js';
import type { TimeWindow } from './TimeWindow.js';

/**
 * What is wrong with `window` as one window of `sizeMs`; `undefined` when it is one.
 * @example describeMisalignment({ start: 09:00:00.500, end: 10:00:00.500 }, 1h) // 'starts 500 ms after a 1h boundary'
 */
export function describeMisalignment(window: TimeWindow, sizeMs: number): string | undefined {
  const start = window.start.getTime();
  const length = window.end.getTime() - start;
  const offset = ((start % sizeMs) + sizeMs) % sizeMs;
  const size = formatDuration(sizeMs);
  const problems: string[] = [];
  if (offset !== 0) {
    // Name the nearer boundary: 59m 59.5s after one is 500 ms before the next.
    problems.push(offset <= sizeMs / 2 ? `starts ${formatSpan(offset)} after a ${size} boundary` : `starts ${formatSpan(sizeMs - offset)} before a ${size} boundary`);
  }
  if (length !== sizeMs) problems.push(`lasts ${formatSpan(length)}, not ${size}`);
  return problems.length === 0 ? undefined : problems.join(' and ');
}

/** ISO 8601 UTC, with milliseconds only when there are some: `2024-01-01T09:00:00Z`, `2024-01-01T09:00:00.500Z`. */
export function isoExact(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** A span in the largest units that add up to it exactly: `500 ms`, `1h 30m`, `1m 0.25s` → `1m 250 ms`. */
export function formatSpan(ms: number): string {
  if (ms < 0) return `-${formatSpan(-ms)}`;
  if (ms === 0) return '0 ms';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest} ms`);
  return parts.join(' ');
}
