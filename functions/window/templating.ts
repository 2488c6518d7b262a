/** Fills `{window.start}`-style placeholders into paths, params and bodies. */

import type { TimeWindow } from './TimeWindow.js';
import { isoSeconds } from './TimeWindow.js';

/** The placeholders every window provides. */
export const WINDOW_PLACEHOLDERS = ['window.start', 'window.end', 'window.start_epoch', 'window.end_epoch', 'window.start_date', 'window.end_date'] as const;

/** Values available to templates: the window's placeholders plus the source's `vars`. */
export type TemplateValues = Readonly<Record<string, string | number>>;

const PLACEHOLDER = /\{([a-zA-Z_][a-zA-Z0-9_.]*)\}/g;

/** Builds the values of the window placeholders for one window. */
export function windowValues(window: TimeWindow, vars: Readonly<Record<string, string | number>> = {}): TemplateValues {
  return {
    ...vars,
    'window.start': isoSeconds(window.start),
    'window.end': isoSeconds(window.end),
    'window.start_epoch': Math.floor(window.start.getTime() / 1000),
    'window.end_epoch': Math.floor(window.end.getTime() / 1000),
    'window.start_date': window.start.toISOString().slice(0, 10),
    'window.end_date': window.end.toISOString().slice(0, 10),
  };
}

/** The placeholder names used in `text`, in order of appearance. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Replaces every known placeholder in `text`; unknown ones were rejected when the config loaded. */
export function renderString(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/**
 * Renders placeholders inside any JSON value. A string that is exactly one placeholder whose
 * value is a number becomes that number, so a JSON body can carry `{window.start_epoch}` as an
 * integer, as APIs that take epochs expect.
 * @param whole the values such a lone placeholder takes, where they differ from the text
 *   `values` gives (a parent key `0.1000` is that text in a string, the number 0.1 alone).
 */
export function renderValue(value: unknown, values: TemplateValues, whole: TemplateValues = values): unknown {
  if (typeof value === 'string') {
    const only = /^\{([a-zA-Z_][a-zA-Z0-9_.]*)\}$/.exec(value);
    if (only && typeof whole[only[1]!] === 'number') return whole[only[1]!];
    return renderString(value, values);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, values, whole));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, values, whole)]));
  }
  return value;
}
