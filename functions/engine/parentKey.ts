/** The key a parent record gives its child stream (`parent.key`): what `{<as>}` becomes, and the envelope's `_parent`. */

import { isLosslessNumber } from 'lossless-json';
import { isExactAsFloat } from '../body/exactNumber.js';
import { parseValidJson } from '../body/parseValidJson.js';
import type { RecordBatch } from '../body/RecordBatch.js';

/** A parent key in the forms a child needs. */
export interface ParentKey {
  /** JSON text for the envelope's `"_parent"`: a string quoted, a number exactly as the API sent it (`0.1000`, `-0`). */
  readonly json: string;
  /** What `{<as>}` becomes in a path, a parameter or other text: the string, or the number's exact text. */
  readonly text: string;
  /**
   * What a JSON body value that is only `{<as>}` becomes: the string, or the number when a float
   * holds it exactly (a body carries the value: `0.1000` is sent as 0.1), else its exact text.
   */
  readonly value: string | number;
}

/**
 * The key of a parent record from the value `parent.key` selected (see {@link selectParentKey}).
 * @returns `undefined` when it is not a string or a finite number (missing, null, an object, an array, a boolean).
 */
export function parentKeyOf(raw: unknown): ParentKey | undefined {
  if (typeof raw === 'string') return { json: JSON.stringify(raw), text: raw, value: raw };
  if (typeof raw === 'number' && Number.isFinite(raw)) return numberKey(String(raw));
  if (isLosslessNumber(raw)) return numberKey(raw.toString());
  return undefined;
}

/**
 * What `read` (the `parent.key` reader) selects in record `i` of `batch`; a number comes back as a
 * `LosslessNumber` holding the text the API sent, read again from the record's bytes.
 */
export function selectParentKey(batch: RecordBatch, i: number, read: (record: unknown) => unknown): unknown {
  const raw = read(batch.value(i));
  if (typeof raw !== 'number') return raw;
  try {
    const exact = read(parseValidJson(batch.bytes(i), { numberText: true }).value);
    // The same number, as sent: a path (`id`, `items[0].id`) selects it again.
    if (isLosslessNumber(exact) && Number(exact.toString()) === raw) return exact;
  } catch {
    // An expression that computes on numbers (max, sum) cannot take them as text: its result has no text of the API's.
  }
  return raw;
}

function numberKey(text: string): ParentKey {
  return { json: text, text, value: isExactAsFloat(text) ? Number(text) : text };
}
