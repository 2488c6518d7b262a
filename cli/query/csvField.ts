/**
 * One CSV field, quoted as RFC 4180 asks and, unless told otherwise, safe to open in a
 * spreadsheet. A spreadsheet reads a cell that begins with `=`, `+`, `-`, `@`, a tab or a
 * carriage return as a formula, so a value an API sent (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`)
 * would run when the file is opened. OWASP's recommendation, followed here, is to prefix such a
 * cell with a single quote, which the spreadsheet shows as text, and to quote the cell:
 * https://owasp.org/www-community/attacks/CSV_Injection (OWASP ASVS 5.0 requirement 1.2.10 also
 * names NUL, which is prefixed too).
 *
 * The rule is decided per column type, never per value: a cell of a numeric column (integers,
 * decimals, floating point) is written as it is, so `-5` stays the number -5; every other cell
 * (text, JSON, dates, lists…) is prefixed when it begins with one of those characters, so a text
 * column holding `-5` is written `"'-5"`.
 */

import { valueText } from '../format.js';

/** The characters that make a spreadsheet read a cell as a formula when they begin it. */
export const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r', '\0']);

/** How a field is written. */
export interface CsvFieldOptions {
  /** The value comes from a numeric column: it is never prefixed. */
  readonly numeric: boolean;
  /** Prefix formula-like cells (`--no-formula-escape` turns it off). */
  readonly escapeFormulas: boolean;
}

/**
 * The CSV text of one value: NULL is an empty field, objects and lists are their JSON text.
 * @example csvField('=HYPERLINK("http://x")', { numeric: false, escapeFormulas: true }) // `"'=HYPERLINK(""http://x"")"`
 */
export function csvField(value: unknown, options: CsvFieldOptions): string {
  const text = valueText(value, '');
  if (text === '') return '';
  if (options.escapeFormulas && !options.numeric && FORMULA_TRIGGERS.has(text.charAt(0))) return `"'${text.replaceAll('"', '""')}"`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
