/**
 * Reads a record's cursor value (`incremental.cursor_field`) as an instant, so it can be
 * compared with a window's bounds. Two kinds of values are accepted, told apart by type and size:
 *
 * - **ISO 8601 / RFC 3339 text**: `2024-01-01T10:00:00Z`, `…T10:00:00.123456+02:00`, `…T10:00:00+0200`,
 *   a space instead of `T`, a date alone (`2024-01-01`). Without an offset the time is UTC.
 *   Fractions past milliseconds are cut, never rounded, so a value just before a window's end
 *   stays in that window.
 * - **Epoch numbers**: a JSON number, or a string of digits (with an optional fraction, as Slack's
 *   `"1704067200.000100"`). Below 100,000,000,000 the value is seconds, from there milliseconds:
 *   1e11 seconds is the year 5138 and 1e11 milliseconds is 1973-03-03, so every timestamp between
 *   1973 and 5138 reads right in either unit. A digit string needs at least 9 digits before any
 *   fraction, so a compact date such as `20240101` is refused instead of read as 1970-08-23.
 */

import { parseInstant } from './parseInstant.js';

/** Epoch values below this are seconds; from it on, milliseconds. */
export const EPOCH_MILLIS_FROM = 100_000_000_000;

const EPOCH_TEXT = /^-?\d{9,}(?:\.\d+)?$/;
const ISO_TEXT = /^(\d{4}-\d{2}-\d{2})(?:[T t](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(z|Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * The instant (epoch milliseconds) a cursor value stands for.
 * @returns `undefined` when the value is neither ISO 8601 text nor an epoch number (null, an
 *   object, `"yesterday"`, a date that does not exist such as `2024-02-30`).
 */
export function cursorInstant(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? epochMs(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (EPOCH_TEXT.test(text)) return epochTextMs(text);
  const iso = ISO_TEXT.exec(text);
  if (!iso) return undefined;
  const [, date, time, offset] = iso;
  // parseInstant checks that the date and time exist; it wants a dot fraction and ±hh:mm or ±hhmm.
  const normalised = time === undefined ? date! : `${date}T${time.replace(',', '.')}${offset === undefined ? '' : normaliseOffset(offset)}`;
  return parseInstant(normalised)?.getTime();
}

/** Seconds or milliseconds, by magnitude; milliseconds are floored to whole ones. */
function epochMs(value: number): number {
  return Math.floor(Math.abs(value) < EPOCH_MILLIS_FROM ? value * 1000 : value);
}

/**
 * {@link epochMs} of decimal text, digit by digit: `1704106799999.9999999` is 1704106799999 ms
 * (a float would make it 1704106800000, the next window's first millisecond).
 */
function epochTextMs(text: string): number {
  const [whole, fraction = ''] = text.split('.') as [string, string?];
  const integer = Number(whole);
  if (Math.abs(integer) >= EPOCH_MILLIS_FROM) return integer + (whole.startsWith('-') && /[1-9]/.test(fraction) ? -1 : 0);
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const below = /[1-9]/.test(fraction.slice(3)) ? 1 : 0;
  return whole.startsWith('-') ? integer * 1000 - millis - below : integer * 1000 + millis;
}

function normaliseOffset(offset: string): string {
  if (offset === 'z' || offset === 'Z') return 'Z';
  return offset.length === 3 ? `${offset}:00` : offset;
}
