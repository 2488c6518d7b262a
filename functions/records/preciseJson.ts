/**
 * JSON that keeps every number exactly as the API sent it. `JSON.parse` rounds integers past
 * 2^53 (tweet ids, snowflakes, bank amounts in minor units); those pages go through
 * lossless-json, which keeps such numbers as text and writes them back verbatim.
 */

import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/** A number with 16+ digits may not survive a float; shorter ones always do. */
const MAYBE_IMPRECISE = /\d{16,}/;

/** A parsed body, and whether it holds numbers that need the precise serialiser. */
export interface ParsedJson {
  readonly value: unknown;
  readonly precise: boolean;
}

/** Parses JSON; throws SyntaxError like JSON.parse. */
export function parseJson(text: string): ParsedJson {
  if (!MAYBE_IMPRECISE.test(text)) return { value: JSON.parse(text), precise: false };
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

/** A precise number becomes its exact text (for cursors and counts); anything else is unchanged. */
export function plainValue(value: unknown): unknown {
  return isLosslessNumber(value) ? value.toString() : value;
}
