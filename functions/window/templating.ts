/**
 * Fills placeholders into paths, params and bodies:
 * ```
 * placeholder := "{" name [offset] [":" format] "}"
 * offset      := ("+" | "-") <digits> ("ms" | "s" | "m" | "h" | "d")      e.g. -1s, +1d (1d is 24 h)
 * format      := a named format or a pattern (timeFormat.ts), e.g. epoch_ms, yyyy-MM-dd HH:mm, utc:date
 * ```
 * `{window.start}` and `{window.end}` take an offset and a format (without one: ISO 8601 UTC,
 * seconds); `{window.start_epoch}`, `{window.start_date}` and their `end` twins are fixed forms;
 * any other name is a key of `vars` or a parent's `as`. The same parser serves validation
 * ({@link templateProblems}) and rendering, and rendering refuses anything validation would, so
 * no placeholder is ever sent as literal text.
 */

import { PlaceholderError } from '../errors.js';
import { parseDuration } from './duration.js';
import { compileTimeFormat, type TimeFormat } from './timeFormat.js';
import type { TimeWindow } from './TimeWindow.js';

/** The placeholders every window provides. */
export const WINDOW_PLACEHOLDERS = ['window.start', 'window.end', 'window.start_epoch', 'window.end_epoch', 'window.start_date', 'window.end_date'] as const;

/** The window placeholders that take an offset and a format. */
export const FORMATTED_PLACEHOLDERS = ['window.start', 'window.end'] as const;

/** Values of the placeholders that are not the window's: `vars` and parent keys, by name. */
export type TemplateValues = Readonly<Record<string, string | number>>;

/** What placeholders are filled from. */
export interface TemplateScope {
  readonly window: TimeWindow;
  /** IANA zone that formats without a zone of their own render in: the source's `timezone`. */
  readonly timeZone: string;
  /** `vars` and parent keys, by name. */
  readonly values: TemplateValues;
}

/** One placeholder as written. */
export interface Placeholder {
  /** The whole text, braces included: `{window.start-1s:epoch}`. */
  readonly text: string;
  readonly name: string;
  /** As written, sign included (`-1s`); absent without one. */
  readonly offset?: string;
  /** As written after the first `:`; absent without one. */
  readonly format?: string;
  /** Position in the text. */
  readonly index: number;
}

/** Longest offset accepted: a year and a day, in either direction. */
export const MAX_OFFSET_MS = 366 * 86_400_000;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.]*)([+-][^:{}]*)?(?::([^{}]*))?\}/g;
const WHOLE = /^\{([A-Za-z_][A-Za-z0-9_.]*)([+-][^:{}]*)?(?::([^{}]*))?\}$/;
/** The start of something meant as a window placeholder. */
const WINDOW_LIKE = /\{\s*window\s*\./g;
const OFFSET = /^([+-])(\d{1,12})(ms|s|m|h|d)$/;
const DEFAULT_FORMAT = 'iso';
const FORMS =
  '{window.start}, {window.end} (with an offset and a format: {window.start-1s:yyyy-MM-dd HH:mm}, {window.end:epoch_ms}), {window.start_epoch}, {window.end_epoch}, {window.start_date}, {window.end_date}';

/** The placeholders in `text`, in order of appearance. */
export function placeholdersOf(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    text: m[0],
    name: m[1]!,
    ...(m[2] === undefined ? {} : { offset: m[2] }),
    ...(m[3] === undefined ? {} : { format: m[3] }),
    index: m.index,
  }));
}

/** The placeholder names used in `text`, in order of appearance. */
export function placeholdersIn(text: string): string[] {
  return placeholdersOf(text).map((p) => p.name);
}

/** Milliseconds of an offset such as `-1s` or `+1d`, or why it is not one. */
export function parseOffset(text: string): { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string } {
  const m = OFFSET.exec(text);
  const size = m === null ? undefined : m[3] === 'ms' ? Number(m[2]) : parseDuration(`${m[2]}${m[3]}`);
  if (m === null || size === undefined) return { ok: false, message: `"${text}" is not an offset: expected + or - then a duration in ms, s, m, h or d (e.g. -1s, +1d)` };
  if (size > MAX_OFFSET_MS) return { ok: false, message: `offset "${text}" is longer than 366d` };
  return { ok: true, ms: m[1] === '-' ? -size : size };
}

/**
 * Every problem of the placeholders in `text`: unknown names, offsets and formats that do not
 * parse, offsets or formats where they do not apply, and text that looks like a window
 * placeholder but is not one (`{window.start }`, an unclosed brace). Empty when `text` renders.
 * @param known the names besides the window's: keys of `vars` and parents' `as`
 */
export function templateProblems(text: string, known: ReadonlySet<string>): string[] {
  const placeholders = placeholdersOf(text);
  const problems = placeholders.flatMap((p) => {
    const problem = placeholderProblem(p, known);
    return problem === undefined ? [] : [problem];
  });
  const starts = new Set(placeholders.map((p) => p.index));
  for (const m of text.matchAll(WINDOW_LIKE)) {
    if (!starts.has(m.index)) problems.push(`"${excerpt(text, m.index)}" is not a placeholder: expected ${FORMS}`);
  }
  return problems;
}

/**
 * The placeholders of `text` that would be sent as literal text if it were not filled: window
 * placeholders (or text meant as one) and `known` names. For fields that are sent as written
 * (headers, `vars` values), where braces are otherwise legitimate text.
 * @param known the names besides the window's: keys of `vars` and parents' `as`
 */
export function unfilledPlaceholders(text: string, known: ReadonlySet<string>): string[] {
  const found = placeholdersOf(text)
    .filter((p) => p.name.startsWith('window.') || known.has(p.name))
    .map((p) => p.text);
  const starts = new Set(placeholdersOf(text).map((p) => p.index));
  for (const m of text.matchAll(WINDOW_LIKE)) if (!starts.has(m.index)) found.push(excerpt(text, m.index));
  return found;
}

/** What is wrong with one placeholder; undefined when it renders. */
function placeholderProblem(p: Placeholder, known: ReadonlySet<string>): string | undefined {
  if ((FORMATTED_PLACEHOLDERS as readonly string[]).includes(p.name)) {
    if (p.offset !== undefined) {
      const offset = parseOffset(p.offset);
      if (!offset.ok) return `${p.text}: ${offset.message}`;
    }
    if (p.format !== undefined) {
      const format = compileTimeFormat(p.format);
      if (!format.ok) return `${p.text}: ${format.message}`;
    }
    return undefined;
  }
  if ((WINDOW_PLACEHOLDERS as readonly string[]).includes(p.name)) {
    if (p.offset === undefined && p.format === undefined) return undefined;
    const base = p.name.replace(/_(epoch|date)$/, '');
    const format = p.name.endsWith('_epoch') ? 'epoch' : 'utc:date';
    return `${p.text}: {${p.name}} takes no offset or format; write {${base}${p.offset ?? ''}:${p.format ?? format}}`;
  }
  if (!known.has(p.name)) return `unknown placeholder {${p.name}}: expected one of ${FORMS}, or a key of vars`;
  if (p.offset !== undefined || p.format !== undefined) return `${p.text}: only {window.start} and {window.end} take an offset or a format`;
  return undefined;
}

/**
 * Renders every placeholder of `text`. Whatever {@link templateProblems} reports is refused here
 * too, as is a time of day that would name two instants (see {@link TimeFormat.ambiguity}).
 * @param where the field, for messages: `params.jql`
 * @param encode applied to each rendered value (a path's segments are percent-encoded)
 * @throws PlaceholderError naming `where`, the placeholder and what is wrong
 */
export function renderString(text: string, scope: TemplateScope, where: string, encode: (text: string) => string = (t) => t): string {
  const stray = templateProblems(text, new Set(Object.keys(scope.values)))[0];
  if (stray !== undefined) throw new PlaceholderError(`${where}: ${stray}`);
  return text.replace(PLACEHOLDER, (whole: string, name: string, offset?: string, format?: string) => encode(String(renderPlaceholder({ text: whole, name, offset, format }, scope, where))));
}

/**
 * Renders placeholders inside any JSON value. A string that is exactly one placeholder whose
 * value is a number (`{window.start:epoch}`, `{window.end_epoch}`, a number in `vars`) becomes
 * that number, so a JSON body can carry epochs as integers, as APIs that take epochs expect.
 * @param whole the values such a lone placeholder takes, where they differ from the text
 *   `scope.values` gives (a parent key `0.1000` is that text in a string, the number 0.1 alone).
 * @throws PlaceholderError naming the body path, the placeholder and what is wrong
 */
export function renderValue(value: unknown, scope: TemplateScope, where = 'body', whole: Readonly<Record<string, unknown>> = {}): unknown {
  if (typeof value === 'string') {
    const only = WHOLE.exec(value);
    if (only) {
      const problem = templateProblems(value, new Set(Object.keys(scope.values)))[0];
      if (problem !== undefined) throw new PlaceholderError(`${where}: ${problem}`);
      const rendered = renderPlaceholder({ text: value, name: only[1]!, offset: only[2], format: only[3] }, scope, where);
      if (typeof rendered === 'number') return rendered;
      if (only[1]! in whole && only[2] === undefined && only[3] === undefined) return whole[only[1]!];
    }
    return renderString(value, scope, where);
  }
  if (Array.isArray(value)) return value.map((item, i) => renderValue(item, scope, `${where}[${i}]`, whole));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope, `${where}.${k}`, whole)]));
  }
  return value;
}

/** The value of one placeholder that {@link templateProblems} accepts. */
function renderPlaceholder(p: { text: string; name: string; offset?: string | undefined; format?: string | undefined }, scope: TemplateScope, where: string): string | number {
  const { window } = scope;
  switch (p.name) {
    case 'window.start_epoch':
      return Math.floor(window.start.getTime() / 1000);
    case 'window.end_epoch':
      return Math.floor(window.end.getTime() / 1000);
    case 'window.start_date':
      return window.start.toISOString().slice(0, 10);
    case 'window.end_date':
      return window.end.toISOString().slice(0, 10);
    case 'window.start':
    case 'window.end': {
      const offset = p.offset === undefined ? 0 : (parseOffset(p.offset) as { ms: number }).ms;
      const at = (p.name === 'window.start' ? window.start : window.end).getTime() + offset;
      const format = (compileTimeFormat(p.format ?? DEFAULT_FORMAT) as { format: TimeFormat }).format;
      const rendered = format.render(at, scope.timeZone);
      const twice = format.ambiguity(at, scope.timeZone);
      if (twice) {
        throw new PlaceholderError(
          `${where}: ${p.text} renders "${rendered}" for ${iso(at)}, a time ${scope.timeZone} shows twice (at ${iso(twice[0])} and ${iso(twice[1])}, when the clocks go back), ` +
            `so the API cannot tell which is meant; a format without an offset cannot name this instant: add XXX if the API reads offsets, ` +
            `or set timezone: UTC (with the API's user or account in UTC too), or choose windows that do not start or end in that hour`,
        );
      }
      return rendered;
    }
    default:
      return scope.values[p.name]!;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Up to 40 characters of `text` from `index`, for messages. */
function excerpt(text: string, index: number): string {
  const rest = text.slice(index);
  return rest.length > 40 ? `${rest.slice(0, 39)}…` : rest;
}
