/**
 * The one reader of the timestamps APIs send, shared by `incremental.cursor_field` (which window
 * a record lands in) and typed `timestamp`/`date` columns, so the two cannot disagree. Exact:
 * integer arithmetic on the value's digits, never `Date.parse` (whose non-ISO formats vary by
 * engine) nor a float (which would round 10:59:59.9999999 into the next hour).
 *
 * **ISO 8601 / RFC 3339 text**: `2024-01-31T12:00:00Z`, `…T12:00:00.123456+02:00`, `…+0200`,
 * `…+02`, `2024-01-31 12:00:00` (space separator), `2024-01-31T12:00`, a date alone
 * `2024-01-31`; `t`/`z` in lower case and a comma fraction too. No zone means UTC. Fractions past
 * the millisecond are cut, never rounded. Dates and times that do not exist (February 30th,
 * 24:00) are refused.
 *
 * **RFC 2822 text**: `Fri, 01 Mar 2024 10:00:00 +0000`, with the obsolete zone names (`GMT`,
 * `UT`, `EST`…) of its §4.3 (rfc2822.ts).
 *
 * **Epoch numbers**: a JSON number, or text of a decimal number whose integer part has at least
 * 9 digits (so a compact date such as `"20240101"` is refused, not read as 1970-08-23). Without a
 * declared unit, the unit is told by the magnitude of the integer part:
 *
 * | integer part of the value | unit         | instants from 1970 to 2200 in this unit read right |
 * |---------------------------|--------------|-----------------------------------------------------|
 * | below 1e11 (≤ 11 digits)  | seconds      | all of them (2200 is 7,258,118,400 s)               |
 * | 1e11 to below 1e14        | milliseconds | from 1973-03-03T09:46:40Z on                        |
 * | 1e14 to below 1e17        | microseconds | from 1973-03-03T09:46:40Z on                        |
 * | 1e17 to below 1e20        | nanoseconds  | from 1973-03-03T09:46:40Z on                        |
 * | 1e20 and above            | refused      |                                                     |
 *
 * The overlap: a value in ms, µs or ns of an instant before 1973-03-03T09:46:40Z has the
 * magnitude of a coarser unit and is read in it, at least 1000 times further from 1970. For
 * instants from 1970-03-26T00:08:38.4Z on that lands after 2200 ({@link isPlausibleInstant}
 * says no, and a cursor fails its window); before it, on a wrong instant in 1970–2200. A
 * declared `unit` reads every number in that unit and removes the overlap.
 *
 * **A declared format** (`format:`, timeFormat.ts) replaces all of the above: text is read with
 * that format only, in the given zone when it carries no offset; `epoch`/`epoch_ms` read epoch
 * numbers in seconds/milliseconds as a declared `unit` does.
 *
 * Results outside years 0001–9999 are refused.
 */

import { isLosslessNumber } from 'lossless-json';
import { decimalParts, floorDiv, type DecimalParts } from '../commons/decimalText.js';
import { inTimestampRange as inRange, parseIsoTimestamp } from './isoTimestamp.js';
import { parseRfc2822 } from './rfc2822.js';
import type { TimeFormat } from './timeFormat.js';

export { daysFromCivil } from './civilDate.js';
export { parseIsoTimestamp } from './isoTimestamp.js';

/** The epoch units a source may declare (`incremental.unit`). */
export const EPOCH_UNITS = ['s', 'ms', 'us', 'ns'] as const;
/** An epoch unit: seconds, milliseconds, microseconds or nanoseconds. */
export type EpochUnit = (typeof EPOCH_UNITS)[number];

/** How a value is to be read. */
export interface TimestampSpec {
  /** Epoch numbers are in this unit, whatever their magnitude. @default told by magnitude */
  readonly unit?: EpochUnit | undefined;
  /** Values are read with this format only (`format:`). @default ISO 8601, RFC 2822 or epoch numbers */
  readonly format?: TimeFormat | undefined;
  /** The IANA zone text read with `format` is in when it carries no offset. @default UTC */
  readonly timeZone?: string | undefined;
}

/** A timestamp as read: the instant, and the form it was read in (for messages). */
export interface ReadTimestamp {
  /** Epoch milliseconds. */
  readonly ms: number;
  readonly form: 'iso' | 'rfc2822' | 'format' | EpochUnit;
}

/** Instants a record's cursor may hold: from 1970-01-01T00:00:00Z up to, not including, 2200-01-01T00:00:00Z. */
export const PLAUSIBLE_INSTANTS = { from: 0, until: 7_258_118_400_000 } as const;

/** Long names of the forms, for messages. */
export const FORM_NAMES: Readonly<Record<ReadTimestamp['form'], string>> = {
  iso: 'ISO 8601',
  rfc2822: 'RFC 2822',
  format: 'its format',
  s: 'epoch seconds',
  ms: 'epoch milliseconds',
  us: 'epoch microseconds',
  ns: 'epoch nanoseconds',
};

/** Digits below the unit's whole number, up to the nanosecond. */
const FRACTION_DIGITS: Readonly<Record<EpochUnit, number>> = { s: 9, ms: 6, us: 3, ns: 0 };
/** Integer digits of an epoch in text, at least (100,000,000 s is 1973-03-03T09:46:40Z). */
const MIN_TEXT_DIGITS = 9;

/**
 * Reads a timestamp value: ISO or RFC 2822 text, or an epoch number (a JSON number, lossless-json's
 * exact number, or number text) in `spec.unit` or by magnitude; or, with `spec.format`, what that
 * format reads (see the module comment).
 * @returns `undefined` when the value is none of these (null, an object, `"yesterday"`, `"20240101"`,
 *   `2024-02-30`, text that does not match the format) or lies outside years 0001–9999.
 */
export function parseTimestamp(value: unknown, spec: TimestampSpec = {}): ReadTimestamp | undefined {
  if (spec.format !== undefined) return readWithFormat(value, spec.format, spec.timeZone ?? 'UTC');
  if (typeof value === 'string') {
    const text = value.trim();
    const iso = parseIsoTimestamp(text);
    if (iso !== undefined) return { ms: iso, form: 'iso' };
    const rfc = parseRfc2822(text);
    if (rfc !== undefined) return { ms: rfc, form: 'rfc2822' };
    const parts = decimalParts(text);
    if (parts === undefined || (spec.unit === undefined && (parts.whole === '0' ? 0 : parts.whole.length) < MIN_TEXT_DIGITS)) return undefined;
    return epochOf(parts, spec.unit);
  }
  // Whole numbers below 2^53 (most epoch cursors) need no digit arithmetic: many times faster.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return integerEpoch(value, spec.unit);
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : undefined) : isLosslessNumber(value) ? value.toString() : undefined;
  const parts = text === undefined ? undefined : decimalParts(text);
  return parts === undefined ? undefined : epochOf(parts, spec.unit);
}

/**
 * The date a `date` column holds for a value (days since 1970-01-01): the date text written
 * without an offset names, as written (`format:` in any zone, or ISO 8601 such as `2024-03-01`);
 * else the UTC date of the instant {@link parseTimestamp} reads.
 */
export function parseDay(value: unknown, spec: TimestampSpec = {}): number | undefined {
  if (spec.format !== undefined && spec.format.epochUnit === undefined) {
    return typeof value === 'string' ? spec.format.readDay(value, spec.timeZone ?? 'UTC') : undefined;
  }
  const read = parseTimestamp(value, spec);
  return read === undefined ? undefined : epochDay(read.ms);
}

/** A value read with a declared format: text with a pattern, `iso`, or epoch numbers with `epoch`/`epoch_ms`. */
function readWithFormat(value: unknown, format: TimeFormat, timeZone: string): ReadTimestamp | undefined {
  if (format.epochUnit !== undefined) {
    // Epoch numbers only: ISO or RFC 2822 text is not what the format declares.
    if (typeof value === 'string' && decimalParts(value.trim()) === undefined) return undefined;
    return parseTimestamp(value, { unit: format.epochUnit });
  }
  if (typeof value !== 'string') return undefined;
  const ms = format.read(value, timeZone);
  return ms === undefined ? undefined : { ms, form: 'format' };
}

/** Whether an instant lies in {@link PLAUSIBLE_INSTANTS}. */
export function isPlausibleInstant(ms: number): boolean {
  return ms >= PLAUSIBLE_INSTANTS.from && ms < PLAUSIBLE_INSTANTS.until;
}

/**
 * Epoch milliseconds of an epoch value (number, or its exact text) in `unit`, or by the magnitude
 * of its integer part (see the module comment); undefined when it is not a number or out of range.
 */
export function parseEpoch(value: number | string, unit?: EpochUnit): number | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  const parts = decimalParts(typeof value === 'number' ? String(value) : value);
  return parts === undefined ? undefined : epochOf(parts, unit)?.ms;
}

/** The unit an epoch's integer part says by its magnitude; undefined from 1e20 on. */
function unitByMagnitude(parts: DecimalParts): EpochUnit | undefined {
  const digits = parts.whole === '0' ? 0 : parts.whole.length;
  return digits <= 11 ? 's' : digits <= 14 ? 'ms' : digits <= 17 ? 'us' : digits <= 20 ? 'ns' : undefined;
}

/**
 * The instant of an epoch's digits. Exact: scaled to nanoseconds as a big integer, then floored to
 * the millisecond (so -1.5 s is -1500 ms and -1 µs is -1 ms).
 */
function epochOf(parts: DecimalParts, declared: EpochUnit | undefined): ReadTimestamp | undefined {
  const unit = declared ?? unitByMagnitude(parts);
  if (unit === undefined) return undefined;
  const fractionDigits = FRACTION_DIGITS[unit];
  let nanos = BigInt(parts.whole + parts.fraction.slice(0, fractionDigits).padEnd(fractionDigits, '0'));
  // Digits below the nanosecond only matter to the floor of a negative value.
  if (parts.negative && /[1-9]/.test(parts.fraction.slice(fractionDigits))) nanos += 1n;
  const ms = inRange(Number(floorDiv(parts.negative ? -nanos : nanos, 1_000_000n)));
  return ms === undefined ? undefined : { ms, form: unit };
}

/** {@link epochOf} of a safe integer, exactly, in float arithmetic (every step stays below 2^53 or is refused by the range). */
function integerEpoch(value: number, declared: EpochUnit | undefined): ReadTimestamp | undefined {
  const magnitude = Math.abs(value);
  // A safe integer is below 9.1e15: never nanoseconds by magnitude.
  const unit = declared ?? (magnitude < 1e11 ? 's' : magnitude < 1e14 ? 'ms' : 'us');
  const ms = unit === 's' ? value * 1000 : unit === 'ms' ? value : floorBy(value, unit === 'us' ? 1000 : 1_000_000);
  const checked = inRange(ms + 0); // + 0 turns -0 into 0
  return checked === undefined ? undefined : { ms: checked, form: unit };
}

/** Floor division of a safe integer, exact (`value / by` as a float could round up to the next integer). */
function floorBy(value: number, by: number): number {
  const rest = value % by;
  return (value - rest) / by - (rest < 0 ? 1 : 0);
}

const DAY_MS = 86_400_000;

/** The UTC date (days since epoch) of epoch milliseconds. */
export function epochDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}
