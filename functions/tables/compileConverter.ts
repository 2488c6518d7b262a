/**
 * Converts a JSON value (as parsed from the API) into the value a typed column stores. A value
 * that does not convert yields {@link INVALID}: the column is NULL for that record and the
 * failure is counted, never thrown (the exact text stays in `data`). JSON null and a missing
 * path are NULL, not failures.
 *
 * | type          | accepts                                                           | stores                    |
 * |---------------|-------------------------------------------------------------------|---------------------------|
 * | string        | string; number or boolean as its JSON text                        | string                    |
 * | bigint        | integral number or number text within int64 (`"1e3"`, `"12.0"` too)| bigint                    |
 * | double        | number; number text                                               | number                    |
 * | boolean       | true/false; the strings "true"/"false"                            | boolean                   |
 * | timestamp     | ISO 8601 or RFC 2822 text; epoch s/ms/µs/ns by magnitude; or the column's `format` (parseTimestamp) | epoch milliseconds |
 * | date          | `YYYY-MM-DD`; any timestamp above (its UTC date); a `format`'s date as written (parseDay) | days since 1970-01-01 |
 * | decimal(p,s)  | number or number text, rounded half away from zero to s places    | unscaled bigint           |
 * | json          | anything but null                                                 | JSON text                 |
 * | array<T>      | an array whose every element converts to T (null elements kept)   | array of T's stored values|
 *
 * Numbers past 2^53 reach here exactly: as lossless-json's number wrapper (functions/body/
 * preciseJson.ts) or as text; both are read from their digits, never through a float.
 */

import { isLosslessNumber, stringify as losslessStringify } from 'lossless-json';
import type { ColumnType } from '../config/columnType.js';
import { decimalParts, toUnscaled } from '../commons/decimalText.js';
import { parseDay, parseTimestamp, type TimestampSpec } from '../window/parseTimestamp.js';

/** Returned for a value that does not convert to the column's type. */
export const INVALID: unique symbol = Symbol('apilake.invalid');

/** A compiled converter: the stored value, `null`, or {@link INVALID}. */
export type Converter = (value: unknown) => unknown;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The converter of a column type.
 * @param timestamps how `timestamp` and `date` values (array elements too) are read: the column's `format` and the source's zone
 */
export function compileConverter(type: ColumnType, timestamps: TimestampSpec = {}): Converter {
  const convert = scalarConverter(type, timestamps);
  return (value) => (value === null || value === undefined ? null : convert(value));
}

function scalarConverter(type: ColumnType, timestamps: TimestampSpec): Converter {
  switch (type.kind) {
    case 'string':
      return toString;
    case 'bigint':
      return toBigint;
    case 'double':
      return toDouble;
    case 'boolean':
      return toBoolean;
    case 'timestamp':
      return (value) => parseTimestamp(value, timestamps)?.ms ?? INVALID;
    case 'date':
      return (value) => parseDay(value, timestamps) ?? INVALID;
    case 'json':
      return toJsonText;
    case 'decimal': {
      const limit = 10n ** BigInt(type.precision);
      return (value) => {
        const parts = decimalParts(numberTextOf(value) ?? '');
        if (parts === undefined) return INVALID;
        const unscaled = toUnscaled(parts, type.scale);
        return unscaled < limit && unscaled > -limit ? unscaled : INVALID;
      };
    }
    case 'array': {
      const element = compileConverter(type.element, timestamps);
      return (value) => {
        if (!Array.isArray(value)) return INVALID;
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const converted = element(value[i]);
          if (converted === INVALID) return INVALID;
          out[i] = converted;
        }
        return out;
      };
    }
  }
}

/** The exact text of a JSON number (plain number, lossless wrapper or text), else undefined. */
function numberTextOf(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string') return value;
  if (isLosslessNumber(value)) return value.toString();
  return undefined;
}

function toString(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isLosslessNumber(value)) return value.toString();
  return INVALID;
}

function toBigint(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? BigInt(value) : INVALID;
  const text = numberTextOf(value);
  const parts = text === undefined ? undefined : decimalParts(text);
  if (parts === undefined || parts.fraction !== '') return INVALID;
  const n = BigInt(parts.negative ? `-${parts.whole}` : parts.whole);
  return n >= INT64_MIN && n <= INT64_MAX ? n : INVALID;
}

function toDouble(value: unknown): unknown {
  if (typeof value === 'number') return value;
  const text = typeof value === 'string' || isLosslessNumber(value) ? String(value) : undefined;
  if (text === undefined || decimalParts(text) === undefined) return INVALID;
  const n = Number(text);
  return Number.isFinite(n) ? n : INVALID;
}

function toBoolean(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return INVALID;
}

/** JSON text of a parsed value; numbers kept exactly when the record came through lossless-json. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value);
  // Only records holding precise numbers contain the wrapper; re-serialise just those.
  return text.includes('"isLosslessNumber":true') ? (losslessStringify(value) ?? 'null') : text;
}
