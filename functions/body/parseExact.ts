/** Parses validated JSON bytes with every number exact, paying for exactness only when needed. */

import { parseValidJson } from './parseValidJson.js';

/**
 * Parses JSON bytes the scanner validated. `mayHoldUnsafeNumbers` comes from the scanner, which
 * saw every number: when false, `JSON.parse` is exact and fastest; when true, numbers a float
 * would change become `LosslessNumber`s (see exactNumber.ts).
 */
export function parseExact(bytes: Buffer, mayHoldUnsafeNumbers: boolean): unknown {
  return mayHoldUnsafeNumbers ? parseValidJson(bytes).value : JSON.parse(bytes.toString('utf8'));
}
