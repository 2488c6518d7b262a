/**
 * Turns the timestamps APIs send into epoch milliseconds, exactly (integer arithmetic, no
 * `Date.parse`, whose non-ISO formats vary by engine).
 *
 * Text in ISO 8601 / RFC 3339: `2024-01-31T12:00:00Z`, `2024-01-31T12:00:00.123456+02:00`,
 * `2024-01-31 12:00:00` (space separator), `2024-01-31T12:00` or a date alone `2024-01-31`.
 * No zone means UTC. Fractions past the millisecond are truncated (Athena timestamps hold
 * milliseconds).
 *
 * Epoch numbers (JSON numbers, or text of digits): the unit is told by magnitude,
 *
 * | |value| below | unit          | so these dates read right                      |
 * |---------------|---------------|------------------------------------------------|
 * | 1e11          | seconds       | up to year 5138                                |
 * | 1e14          | milliseconds  | from 1973-03-03 on (below that, read as seconds) |
 * | 1e17          | microseconds  | from 1973-03-03 on                             |
 * | 1e20          | nanoseconds   | from 1973-03-03 on                             |
 *
 * The one ambiguity: an epoch in milliseconds before 1973-03-03T09:46:40Z is read as seconds.
 * Seconds may carry a fraction (`1700000000.5`). Results outside years 0001–9999 are rejected.
 */

import { decimalParts, floorDiv } from './decimalText.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DAY_MS = 86_400_000;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;

/** Epoch milliseconds of ISO 8601 text, or undefined when it is not a valid ISO timestamp/date. */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const ms = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
  return inRange(ms);
}

/**
 * Epoch milliseconds of an epoch value (number, or its exact text), the unit told by the
 * magnitude of its integer part (see the module comment); undefined when it is not a number or
 * out of range. Exact: the value is scaled to nanoseconds as a big integer, then floored to the
 * millisecond (so -1.5 s is -1500 ms and -1 µs is -1 ms).
 */
export function parseEpoch(value: number | string): number | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  const parts = decimalParts(typeof value === 'number' ? String(value) : value);
  if (parts === undefined) return undefined;
  const digits = parts.whole === '0' ? 0 : parts.whole.length;
  const unitDigits = digits <= 11 ? 9 : digits <= 14 ? 6 : digits <= 17 ? 3 : digits <= 20 ? 0 : -1;
  if (unitDigits < 0) return undefined;
  let nanos = BigInt(parts.whole + parts.fraction.slice(0, unitDigits).padEnd(unitDigits, '0'));
  // Digits below the nanosecond only matter to the floor of a negative value.
  if (parts.negative && /[1-9]/.test(parts.fraction.slice(unitDigits))) nanos += 1n;
  return inRange(Number(floorDiv(parts.negative ? -nanos : nanos, 1_000_000n)));
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The UTC date (days since epoch) of epoch milliseconds. */
export function epochDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function inRange(ms: number): number | undefined {
  return Number.isSafeInteger(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : undefined;
}
