/** The key a parent record gives its child stream (`parent.key`): what `{<as>}` becomes, and the envelope's `_parent`. */

import { isLosslessNumber } from 'lossless-json';

/** A parent key in the two forms a child needs. */
export interface ParentKey {
  /** JSON text for the envelope's `"_parent"`: a string quoted, a number exactly as the API sent it. */
  readonly json: string;
  /** The value templated into `{<as>}`; a number a float would change is its exact text. */
  readonly value: string | number;
}

/**
 * The key of a parent record from the value `parent.key` selected (numbers exact, as `compilePath` reads them).
 * @returns `undefined` when it is not a string or a finite number (missing, null, an object, an array, a boolean).
 */
export function parentKeyOf(raw: unknown): ParentKey | undefined {
  if (typeof raw === 'string') return { json: JSON.stringify(raw), value: raw };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { json: JSON.stringify(raw), value: raw };
  if (isLosslessNumber(raw)) return { json: raw.toString(), value: raw.toString() };
  return undefined;
}
