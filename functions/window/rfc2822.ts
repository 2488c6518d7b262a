/**
 * RFC 2822 (RFC 5322) date-times, as Twilio and mail-derived APIs send them:
 * `Fri, 01 Mar 2024 10:00:00 +0000`. Read exactly, never with `Date.parse`.
 *
 * Accepted (RFC 5322 §3.3 and the obsolete forms of §4.3): an optional day of the week (which
 * must be the date's), a day of 1 or 2 digits, an English month abbreviation, a year of 4 digits
 * (2 digits: 00–49 are 2000–2049, 50–99 are 1950–1999; 3 digits: + 1900), `HH:mm` with optional
 * `:ss`, and a zone: `±hhmm`, `UT`, `GMT`, `UTC`, `Z`, the US zones `EST` `EDT` `CST` `CDT` `MST`
 * `MDT` `PST` `PDT`, or another single military letter, which §4.3 says to read as `-0000` (UTC,
 * no local zone known). Names in any case, any whitespace between the parts, a trailing comment
 * such as `(UTC)`. Refused: second 60 (a leap second), dates that do not exist, a wrong day of the week.
 */

import { daysFromCivil, daysInMonth, weekday } from './civilDate.js';
import { inTimestampRange } from './isoTimestamp.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Offsets of the named zones of RFC 5322 §4.3, in hours. */
const NAMED_ZONES: Readonly<Record<string, number>> = { ut: 0, utc: 0, gmt: 0, est: -5, edt: -4, cst: -6, cdt: -5, mst: -7, mdt: -6, pst: -8, pdt: -7 };

const RFC_2822 = /^\s*(?:([a-z]{3})\s*,\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{2,4})\s+(\d{2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*([+-]\d{4}|[a-z]{2,3}|[a-ik-z])\s*(?:\([^()]*\)\s*)?$/i;
const DAY_MS = 86_400_000;

/** Epoch milliseconds of RFC 2822 text, or undefined when it is not a valid RFC 2822 date-time. */
export function parseRfc2822(text: string): number | undefined {
  const m = RFC_2822.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[3]!.toLowerCase()) + 1;
  const digits = m[4]!;
  const written = Number(digits);
  const year = digits.length === 4 ? written : digits.length === 3 ? written + 1900 : written < 50 ? written + 2000 : written + 1900;
  const [day, hour, minute, second] = [Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0)];
  if (month === 0 || year < 1 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const days = daysFromCivil(year, month, day);
  if (m[1] !== undefined && WEEKDAYS.indexOf(m[1].toLowerCase()) !== weekday(days)) return undefined;
  const offsetMinutes = zoneMinutes(m[8]!);
  if (offsetMinutes === undefined) return undefined;
  return inTimestampRange(days * DAY_MS + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000);
}

function zoneMinutes(zone: string): number | undefined {
  if (zone[0] === '+' || zone[0] === '-') {
    const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(3))];
    if (hours > 23 || minutes > 59) return undefined;
    return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const name = zone.toLowerCase();
  if (name.length === 1) return 0; // military zones, Z included: -0000 per RFC 5322 §4.3
  const hours = NAMED_ZONES[name];
  return hours === undefined ? undefined : hours * 60;
}
