/**
 * Numbers as the record pipeline hands them to JMESPath and to later consumers: a plain number
 * when a float holds the value exactly, else a lossless-json `LosslessNumber` with the exact
 * text (which `evaluate` turns into that text, and lossless-json's `stringify` writes back
 * verbatim). `1.50` is the number 1.5 here: its text is kept by landing record bytes, not values.
 */

import { isSafeNumber, LosslessNumber } from 'lossless-json';

/** Whether a float holds the number's value exactly (`1.50` yes; `9007199254740993`, `1e400`, `0.1000000000000000055` no). */
export function isExactAsFloat(text: string): boolean {
  return isSafeNumber(text);
}

/** A number's text as a plain number when a float holds it exactly, else a `LosslessNumber`. */
export function exactNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}
