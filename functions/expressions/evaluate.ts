/** JMESPath evaluation over API bodies: dotted paths read directly, the rest through Powertools' implementation. */

import { compilePath } from './compilePath.js';
import { memoizeByText } from './memoizeByText.js';
import { plainValue } from './plainValue.js';

/** Compiled expressions, by text: a source names a handful, each evaluated once per page. */
const compiled = memoizeByText(compilePath);

/**
 * Evaluates a JMESPath expression; `null` when the path does not exist (as JMESPath defines).
 * A precise big number comes back as its exact text, so a cursor keeps every digit. A dotted
 * path (`meta.next_cursor`) is read directly rather than interpreted: it is on the path between
 * one page's response and the next page's request.
 */
export function evaluate(expression: string, body: unknown): unknown {
  return plainValue(compiled(expression)(body));
}

/** JMESPath truthiness: false, null, "", [] and {} are false; everything else is true. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
