/**
 * The time format language of window placeholders (`{window.start:yyyy-MM-dd HH:mm}`) and of
 * timestamps read with `format:` (`incremental.format`, `columns[].format`). A format is compiled
 * once into one object that renders instants and reads text back, so what apilake sends and what
 * it reads follow the same rules.
 *
 * | token     | renders                                   | reads                             |
 * |-----------|-------------------------------------------|-----------------------------------|
 * | `yyyy`    | year, 4 digits                            | 4 digits                          |
 * | `MM`      | month 01–12                               | 2 digits                          |
 * | `MMM`     | month Jan–Dec                             | the same, any case                |
 * | `dd`      | day of the month 01–31                    | 2 digits                          |
 * | `EEE`     | day of the week Mon–Sun                   | the same, any case; must match the date |
 * | `HH`      | hour 00–23                                | 2 digits                          |
 * | `mm`      | minute 00–59                              | 2 digits                          |
 * | `ss`      | second 00–59                              | 2 digits                          |
 * | `S`…`SSSSSSSSS` | fraction of the second, 1–9 digits (cut, never rounded) | exactly that many digits |
 * | `XXX`     | offset `+02:00`, `Z` when zero            | `Z` or `±hh:mm`                   |
 * | `xxx`     | offset `+02:00`, `+00:00` when zero       | `±hh:mm`                          |
 * | `XX`      | offset `+0200`, `Z` when zero             | `Z` or `±hhmm`                    |
 * | `xx`      | offset `+0200`, `+0000` when zero         | `±hhmm`                           |
 * | `Z`, `'Z'`| the letter Z; the format is in UTC         | `Z`                               |
 * | `'text'`  | text as is (`''` is one quote)            | the same text                     |
 *
 * Every other letter is an error (so `YYYY` or `hh` is caught, not sent); other characters are
 * literal. Named formats: `iso` (`yyyy-MM-dd'T'HH:mm:ssZ`, read as any ISO 8601 text), `date`
 * (`yyyy-MM-dd`), `epoch` and `epoch_ms` (a number of seconds or milliseconds).
 *
 * Zone: a format renders in the zone it is given (the source's `timezone`) unless it is in UTC:
 * it has a `Z` designator, or is written with the prefix `utc:` (`utc:yyyy-MM-dd`). Text read
 * without an offset is read in that zone: a time the clocks skip is moved forward by the skip, a
 * time they show twice is the earlier instant (see {@link readWallClock}).
 */

import { daysFromCivil, daysInMonth, weekday } from './civilDate.js';
import { inTimestampRange, parseIsoTimestamp } from './isoTimestamp.js';
import { isUtcZone, localMs, readWallClock, wallClock, type WallClock } from './timeZone.js';

/** The named formats. */
export const NAMED_FORMATS = ['iso', 'date', 'epoch', 'epoch_ms'] as const;

/** The prefix that puts a format in UTC whatever the zone. */
export const UTC_PREFIX = 'utc:';

/** A compiled format: renders instants, reads text back. */
export interface TimeFormat {
  /** The format as written, for messages. */
  readonly text: string;
  /** In UTC whatever the zone: a `Z` designator, `utc:`, or a named `iso`, `epoch`, `epoch_ms`. */
  readonly utc: boolean;
  /** The unit of an epoch format (renders a number); undefined for text formats. */
  readonly epochUnit?: 's' | 'ms';
  /** Text it renders carries an offset (`XXX`, `xxx`, `XX`, `xx`): it names an instant in any zone. */
  readonly hasOffset: boolean;
  /** Why text cannot be read with it as a timestamp (no year, month or day); undefined when it can. */
  readonly unreadable?: string;
  /** `ms` (epoch milliseconds) as text, or as a number for `epoch`/`epoch_ms`. */
  render(ms: number, zone: string): string | number;
  /** The instant `text` names (epoch ms), or undefined when it does not match or names no valid time. Epoch formats read nothing here. */
  read(text: string, zone: string): number | undefined;
  /** The date `text` names (days since 1970-01-01): as written when it has no offset, else the UTC date of its instant. */
  readDay(text: string, zone: string): number | undefined;
  /**
   * The instants the text {@link render} gives for `ms` could name, when there are two: a time of
   * day without an offset, in the hour a zone shows twice. Undefined when the text names one instant.
   */
  ambiguity(ms: number, zone: string): readonly [number, number] | undefined;
}

/** What {@link compileTimeFormat} returns: the format, or what is wrong with it. */
export type CompiledTimeFormat = { readonly ok: true; readonly format: TimeFormat } | { readonly ok: false; readonly message: string };

type Field = 'year' | 'month' | 'day' | 'weekday' | 'hour' | 'minute' | 'second' | 'fraction' | 'offset';

type Token =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'year' | 'month' | 'monthName' | 'day' | 'weekday' | 'hour' | 'minute' | 'second' | 'designator' }
  | { readonly kind: 'fraction'; readonly digits: number }
  | { readonly kind: 'offset'; readonly colon: boolean; readonly zulu: boolean };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const DAY_MS = 86_400_000;

/** The tokens, by the letters that spell them. */
const TOKENS: Readonly<Record<string, Token>> = {
  yyyy: { kind: 'year' },
  MM: { kind: 'month' },
  MMM: { kind: 'monthName' },
  dd: { kind: 'day' },
  EEE: { kind: 'weekday' },
  HH: { kind: 'hour' },
  mm: { kind: 'minute' },
  ss: { kind: 'second' },
  XXX: { kind: 'offset', colon: true, zulu: true },
  xxx: { kind: 'offset', colon: true, zulu: false },
  XX: { kind: 'offset', colon: false, zulu: true },
  xx: { kind: 'offset', colon: false, zulu: false },
  Z: { kind: 'designator' },
};

/** What a letter that spells no token probably meant. */
const HINTS: Readonly<Record<string, string>> = {
  y: 'write yyyy for the year (4 digits)',
  Y: 'write yyyy for the year (Y is the week-based year elsewhere)',
  M: 'write MM for the month (01–12) or MMM (Jan–Dec)',
  d: 'write dd for the day of the month (01–31)',
  D: 'write dd for the day of the month (D is the day of the year elsewhere)',
  E: 'write EEE for the day of the week (Mon–Sun)',
  H: 'write HH for the hour (00–23)',
  h: 'write HH for the hour (00–23): there is no 12-hour clock',
  a: 'write HH for the hour (00–23): there is no 12-hour clock',
  m: 'write mm for the minute',
  s: 'write ss for the second',
  S: 'write S to SSSSSSSSS for 1 to 9 digits of the fraction of a second',
  X: 'write XXX (+02:00, Z when zero), xxx (+02:00), XX (+0200, Z when zero) or xx (+0200) for the offset',
  x: 'write XXX (+02:00, Z when zero), xxx (+02:00), XX (+0200, Z when zero) or xx (+0200) for the offset',
  Z: 'Z stands alone (it renders the letter Z and puts the format in UTC); write XXX or xx for an offset',
  T: "put literal letters in single quotes: 'T'",
};

const TOKEN_LIST = 'yyyy MM MMM dd EEE HH mm ss S…SSSSSSSSS XXX xxx XX xx Z';

const compiled = new Map<string, CompiledTimeFormat>();

/**
 * Compiles a format (named, or a pattern of tokens, optionally after `utc:`). Memoised: the same
 * text returns the same object.
 * @example compileTimeFormat('yyyy-MM-dd HH:mm') // { ok: true, format } ; format.render(Date.parse('2024-03-01T10:00Z'), 'UTC') === '2024-03-01 10:00'
 */
export function compileTimeFormat(text: string): CompiledTimeFormat {
  let result = compiled.get(text);
  if (!result) {
    result = compile(text);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(text, result);
  }
  return result;
}

function compile(written: string): CompiledTimeFormat {
  const utcPrefix = written.startsWith(UTC_PREFIX);
  const body = utcPrefix ? written.slice(UTC_PREFIX.length) : written;
  const fail = (message: string): CompiledTimeFormat => ({ ok: false, message: `format "${written}": ${message}` });
  if (body === '') return fail(`empty: expected a named format (${NAMED_FORMATS.join(', ')}) or a pattern such as yyyy-MM-dd HH:mm`);
  if (body === 'epoch' || body === 'epoch_ms') return { ok: true, format: epochFormat(written, body === 'epoch' ? 's' : 'ms') };
  if (body === 'iso') {
    const pattern = patternFormat(written, tokenize("yyyy-MM-dd'T'HH:mm:ssZ") as Token[], true);
    const read = (text: string) => parseIsoTimestamp(text.trim());
    const readDay = (text: string) => {
      const ms = read(text);
      return ms === undefined ? undefined : Math.floor(ms / DAY_MS);
    };
    return { ok: true, format: { ...pattern, read, readDay } };
  }
  const tokens = tokenize(body === 'date' ? 'yyyy-MM-dd' : body);
  if (typeof tokens === 'string') return fail(tokens);
  const seen = new Map<Field, string>();
  for (const token of tokens) {
    const field = fieldOf(token);
    if (field === undefined) continue;
    const earlier = seen.get(field);
    if (earlier !== undefined) return fail(`the ${field} appears twice (${earlier} and ${spelling(token)})`);
    seen.set(field, spelling(token));
  }
  return { ok: true, format: patternFormat(written, tokens, utcPrefix || tokens.some((t) => t.kind === 'designator')) };
}

/** The tokens of a pattern, or why it is not one. */
function tokenize(pattern: string): Token[] | string {
  const tokens: Token[] = [];
  const literal = (text: string) => {
    const last = tokens.at(-1);
    if (last?.kind === 'literal') tokens[tokens.length - 1] = { kind: 'literal', text: last.text + text };
    else tokens.push({ kind: 'literal', text });
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        literal("'");
        i += 2;
        continue;
      }
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) return `the quote at character ${i + 1} is never closed: literal text goes in single quotes, '' is one quote`;
        if (pattern[j] === "'") {
          if (pattern[j + 1] !== "'") break;
          text += "'";
          j += 2;
          continue;
        }
        text += pattern[j];
        j++;
      }
      // A quoted 'Z' is the designator, as Java patterns write it.
      if (text === 'Z') tokens.push({ kind: 'designator' });
      else literal(text);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z]+/.exec(pattern.slice(i))![0];
      const runs = word.match(/([A-Za-z])\1*/g)!;
      const wordTokens = runs.map(tokenOf);
      const unknown = runs.find((_, k) => wordTokens[k] === undefined);
      if (unknown !== undefined) {
        // A word none of whose letters spells a token is text left unquoted ("at", "Iso"), not a mistyped token.
        if (runs.length > 1 && wordTokens.every((t) => t === undefined)) return `"${word}" is not a token: put literal text in single quotes ('${word}')`;
        const hint = HINTS[unknown[0]!];
        return `"${unknown}" is not a token${hint ? `: ${hint}` : ''} (tokens: ${TOKEN_LIST}; literal text goes in single quotes, e.g. 'T')`;
      }
      tokens.push(...(wordTokens as Token[]));
      i += word.length;
      continue;
    }
    literal(c);
    i++;
  }
  return tokens;
}

/** The token a run of one letter spells, if any. */
function tokenOf(letters: string): Token | undefined {
  return TOKENS[letters] ?? (letters[0] === 'S' && letters.length <= 9 ? { kind: 'fraction', digits: letters.length } : undefined);
}

function fieldOf(token: Token): Field | undefined {
  switch (token.kind) {
    case 'literal':
      return undefined;
    case 'monthName':
      return 'month';
    case 'designator':
      return 'offset';
    default:
      return token.kind;
  }
}

function spelling(token: Token): string {
  if (token.kind === 'fraction') return 'S'.repeat(token.digits);
  if (token.kind === 'literal') return `'${token.text}'`;
  return Object.entries(TOKENS).find(([, t]) => t.kind === token.kind && (token.kind !== 'offset' || (t.kind === 'offset' && t.colon === token.colon && t.zulu === token.zulu)))![0];
}

function epochFormat(text: string, unit: 's' | 'ms'): TimeFormat {
  return {
    text,
    utc: true,
    epochUnit: unit,
    hasOffset: false,
    render: (ms) => (unit === 's' ? Math.floor(ms / 1000) : ms),
    read: () => undefined,
    readDay: () => undefined,
    ambiguity: () => undefined,
  };
}

/** The fields text read with a pattern gave; absent ones take their lowest value. */
interface ReadFields {
  year: number;
  month: number;
  day: number;
  weekday?: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  offsetMs?: number;
}

function patternFormat(text: string, tokens: readonly Token[], utc: boolean): TimeFormat {
  const has = (kind: Token['kind']) => tokens.some((t) => t.kind === kind);
  const hasOffset = has('offset');
  const hasDate = has('year') && (has('month') || has('monthName')) && has('day');
  const finest = has('fraction') ? 'fraction' : has('second') ? 'second' : has('minute') ? 'minute' : has('hour') ? 'hour' : undefined;
  const matcher = new RegExp(`^${tokens.map(sourceOf).join('')}$`);
  const zoneOf = (zone: string) => (utc ? 'UTC' : zone);

  const render = (ms: number, zone: string): string => {
    const wall = wallClock(ms, zoneOf(zone));
    return tokens.map((token) => renderToken(token, wall)).join('');
  };

  const fields = (value: string): ReadFields | undefined => {
    const match = matcher.exec(value.trim());
    if (!match) return undefined;
    const out: ReadFields = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
    let group = 1;
    for (const token of tokens) {
      if (token.kind === 'literal') continue;
      const part = match[group++]!;
      if (!readToken(token, part, out)) return undefined;
    }
    if (out.month > 12 || out.month < 1 || out.day < 1 || out.day > daysInMonth(out.year, out.month)) return undefined;
    if (out.hour > 23 || out.minute > 59 || out.second > 59) return undefined;
    if (out.weekday !== undefined && out.weekday !== weekday(daysFromCivil(out.year, out.month, out.day))) return undefined;
    return out;
  };

  const read = (value: string, zone: string): number | undefined => {
    const f = fields(value);
    if (f === undefined) return undefined;
    const local = localMs(f.year, f.month, f.day, f.hour, f.minute, f.second, f.millisecond);
    return inTimestampRange(f.offsetMs !== undefined ? local - f.offsetMs : readWallClock(local, zoneOf(zone)).instant);
  };

  return {
    text,
    utc,
    hasOffset,
    ...(hasDate ? {} : { unreadable: `it cannot read timestamps: it needs yyyy, MM (or MMM) and dd` }),
    render,
    read,
    readDay: (value, zone) => {
      const f = fields(value);
      if (f === undefined) return undefined;
      if (f.offsetMs === undefined) return daysFromCivil(f.year, f.month, f.day);
      const ms = read(value, zone);
      return ms === undefined ? undefined : Math.floor(ms / DAY_MS);
    },
    ambiguity: (ms, zone) => {
      if (utc || hasOffset || finest === undefined || isUtcZone(zone)) return undefined;
      const wall = wallClock(ms, zone);
      const keep = (field: typeof finest) => ['hour', 'minute', 'second', 'fraction'].indexOf(finest) >= ['hour', 'minute', 'second', 'fraction'].indexOf(field);
      const local = localMs(wall.year, wall.month, wall.day, wall.hour, keep('minute') ? wall.minute : 0, keep('second') ? wall.second : 0, keep('fraction') ? wall.millisecond : 0);
      const { instants } = readWallClock(local, zone);
      return instants.length === 2 ? [instants[0]!, instants[1]!] : undefined;
    },
  };
}

/** The regular expression source that matches one token's text (one capture group per non-literal token). */
function sourceOf(token: Token): string {
  switch (token.kind) {
    case 'literal':
      return token.text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    case 'year':
      return '(\\d{4})';
    case 'monthName':
    case 'weekday':
      return '([A-Za-z]{3})';
    case 'fraction':
      return `(\\d{${token.digits}})`;
    case 'offset':
      return `(${token.zulu ? '[Zz]|' : ''}[+-]\\d{2}${token.colon ? ':' : ''}\\d{2})`;
    case 'designator':
      return '([Zz])';
    default:
      return '(\\d{2})';
  }
}

function renderToken(token: Token, wall: WallClock): string {
  const two = (n: number) => String(n).padStart(2, '0');
  switch (token.kind) {
    case 'literal':
      return token.text;
    case 'year':
      return String(wall.year).padStart(4, '0');
    case 'month':
      return two(wall.month);
    case 'monthName':
      return MONTHS[wall.month - 1]!;
    case 'day':
      return two(wall.day);
    case 'weekday':
      return WEEKDAYS[weekday(daysFromCivil(wall.year, wall.month, wall.day))]!;
    case 'hour':
      return two(wall.hour);
    case 'minute':
      return two(wall.minute);
    case 'second':
      return two(wall.second);
    case 'fraction':
      return String(wall.millisecond).padStart(3, '0').padEnd(token.digits, '0').slice(0, token.digits);
    case 'designator':
      return 'Z';
    case 'offset': {
      if (token.zulu && wall.offsetMs === 0) return 'Z';
      const minutes = Math.trunc(Math.abs(wall.offsetMs) / 60_000);
      return `${wall.offsetMs < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}${token.colon ? ':' : ''}${two(minutes % 60)}`;
    }
  }
}

/** Reads one token's matched text into `out`; false when it names nothing (a month "Foo"). */
function readToken(token: Token, text: string, out: ReadFields): boolean {
  switch (token.kind) {
    case 'literal':
      return true;
    case 'year':
      out.year = Number(text);
      return out.year >= 1;
    case 'month':
      out.month = Number(text);
      return true;
    case 'monthName':
      out.month = MONTHS.findIndex((m) => m.toLowerCase() === text.toLowerCase()) + 1;
      return out.month > 0;
    case 'day':
      out.day = Number(text);
      return true;
    case 'weekday':
      out.weekday = WEEKDAYS.findIndex((d) => d.toLowerCase() === text.toLowerCase());
      return out.weekday >= 0;
    case 'hour':
      out.hour = Number(text);
      return true;
    case 'minute':
      out.minute = Number(text);
      return true;
    case 'second':
      out.second = Number(text);
      return true;
    case 'fraction':
      out.millisecond = Number(text.slice(0, 3).padEnd(3, '0'));
      return true;
    case 'designator':
      out.offsetMs = 0;
      return true;
    case 'offset': {
      if (text === 'Z' || text === 'z') {
        out.offsetMs = 0;
        return true;
      }
      const digits = text.slice(1).replace(':', '');
      const [hours, minutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
      if (hours > 23 || minutes > 59) return false;
      out.offsetMs = (text[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
      return true;
    }
  }
}
