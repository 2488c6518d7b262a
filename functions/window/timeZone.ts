/**
 * Wall-clock time in an IANA time zone, from the zone data the runtime ships (`Intl`), both ways:
 * an instant's wall clock and offset, and the instant(s) a wall-clock time names. Offsets are
 * cached per UTC hour, so reading many values in one zone costs about one `Intl` call per hour
 * they fall in.
 */

import { civilFromDays, daysFromCivil } from './civilDate.js';

/** The wall clock of an instant in a zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** The zone's offset from UTC at that instant, in milliseconds (Berlin in summer: 7,200,000). */
  readonly offsetMs: number;
}

/** What a wall-clock time names in a zone: one instant, two (the hour the clocks go back), or none (the hour they skip). */
export interface WallReadings {
  /** The instants, earliest first: one, two when the time occurs twice, none when it is skipped. */
  readonly instants: readonly number[];
  /**
   * The instant the time is read as: the only one; the earlier of two; for a skipped time, the
   * instant as many milliseconds after the skip as the time is after the last time before it
   * (02:30 on a night that skips from 02:00 to 03:00 is 03:30), as java.time and Temporal's
   * `compatible` disambiguation read it.
   */
  readonly instant: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Zones that are UTC under another name need no zone data. */
const UTC_NAMES = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/UCT',
  'UCT',
  'Etc/Universal',
  'Universal',
  'Etc/Zulu',
  'Zulu',
  'GMT',
  'Etc/GMT',
  'Etc/GMT0',
  'Etc/GMT+0',
  'Etc/GMT-0',
  'GMT0',
  'Etc/Greenwich',
  'Greenwich',
]);

/** Whether `zone` is UTC under one of its names. */
export function isUtcZone(zone: string): boolean {
  return UTC_NAMES.has(zone);
}

/** Whether the runtime knows `zone` as an IANA time zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `ms` (epoch milliseconds) in `zone`. */
export function wallClock(ms: number, zone: string): WallClock {
  const offsetMs = isUtcZone(zone) ? 0 : offsetAt(ms, zone);
  const local = ms + offsetMs;
  const days = Math.floor(local / DAY_MS);
  const [year, month, day] = civilFromDays(days);
  const inDay = local - days * DAY_MS;
  return {
    year,
    month,
    day,
    hour: Math.floor(inDay / HOUR_MS),
    minute: Math.floor(inDay / 60_000) % 60,
    second: Math.floor(inDay / 1000) % 60,
    millisecond: inDay % 1000,
    offsetMs,
  };
}

/**
 * The instants a wall-clock time names in `zone`.
 * @param local the wall-clock time as if it were UTC: `Date.UTC` of its fields (see {@link localMs})
 */
export function readWallClock(local: number, zone: string): WallReadings {
  if (isUtcZone(zone)) return { instants: [local], instant: local };
  // Zones change offset at most once within two days: the offsets a day before and a day after are the candidates.
  const before = offsetAt(local - DAY_MS, zone);
  const after = offsetAt(local + DAY_MS, zone);
  const instants = [...new Set([local - before, local - after])].filter((at) => offsetAt(at, zone) === local - at).sort((a, b) => a - b);
  return { instants, instant: instants[0] ?? local - before };
}

/** Epoch milliseconds of wall-clock fields read as UTC (no year 0–99 surprise, unlike `Date.UTC`). */
export function localMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond;
}

/** Per zone, the offset of each UTC hour in which it does not change. */
const offsetsByZone = new Map<string, Map<number, number>>();
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Hours remembered per zone before the cache starts over. */
const MAX_CACHED_HOURS = 100_000;

/** The offset of `zone` at `ms`, in milliseconds. */
function offsetAt(ms: number, zone: string): number {
  let cache = offsetsByZone.get(zone);
  if (!cache) offsetsByZone.set(zone, (cache = new Map<number, number>()));
  const hour = Math.floor(ms / HOUR_MS);
  const cached = cache.get(hour);
  if (cached !== undefined) return cached;
  const start = hour * HOUR_MS;
  const first = intlOffset(start, zone);
  const last = intlOffset(start + HOUR_MS - 1000, zone);
  // An hour whose two ends agree has one offset throughout: offsets change months apart, never twice within an hour.
  if (first !== last) return intlOffset(ms, zone);
  if (cache.size >= MAX_CACHED_HOURS) cache.clear();
  cache.set(hour, first);
  return first;
}

/** The offset `Intl` gives for the second `ms` falls in. */
function intlOffset(ms: number, zone: string): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const second = Math.floor(ms / 1000) * 1000;
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(second)) parts[part.type] = part.value;
  const year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year);
  return localMs(year, Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - second;
}
