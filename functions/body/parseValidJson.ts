/**
 * Builds the value of JSON bytes the scanner already validated, with numbers exact, and
 * optionally remembers the bytes each object and array came from.
 *
 * Two users: the exact parse of a record or of the body outside the records when they hold a
 * number a float would change (instead of lossless-json's parser, which recurses, so it
 * overflows the stack on deep input, and throws on duplicate keys where JSON.parse keeps the
 * last); and the records fallback, where Powertools JMESPath evaluates any `records` expression on
 * the value and each selected object or array is then landed as its original bytes (filters,
 * slices, flattens and sorts return the very objects of the body, not copies).
 *
 * The input is trusted (validated, nesting bounded), so the loop checks nothing and never recurses.
 */

import { LosslessNumber } from 'lossless-json';
import { exactNumber } from './exactNumber.js';

/** A parsed body and, when asked for, where each of its objects and arrays is. */
export interface ParsedJson {
  readonly value: unknown;
  /** `[start, end)` byte offsets of each object and array of `value`. */
  readonly spans?: WeakMap<object, readonly [number, number]>;
}

type Container = Record<string, unknown> | unknown[];

/**
 * Parses valid JSON bytes (see the module comment) as JSON.parse would, except that a number a
 * float would change becomes a lossless-json `LosslessNumber` holding its exact text.
 * @param options.spans remember where each object and array came from.
 * @param options.numberText make every number a `LosslessNumber` holding the text the API sent
 *   (`0.1000` and `-0` too, which a float would print as `0.1` and `0`).
 */
export function parseValidJson(b: Buffer, options: { spans?: boolean; numberText?: boolean } = {}): ParsedJson {
  const spans = options.spans ? new WeakMap<object, readonly [number, number]>() : undefined;
  const number = options.numberText ? (text: string) => new LosslessNumber(text) : exactNumber;
  const containers: Container[] = [];
  const starts: number[] = [];
  const keys: (string | undefined)[] = [];
  let root: unknown;
  let i = 0;
  const end = b.length;

  const attach = (value: unknown) => {
    const top = containers.length - 1;
    if (top < 0) {
      root = value;
      return;
    }
    const container = containers[top]!;
    if (Array.isArray(container)) container.push(value);
    else {
      const key = keys[top]!;
      // JSON.parse defines "__proto__" as an own property; plain assignment would set the prototype.
      if (key === '__proto__') Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
      else container[key] = value;
      keys[top] = undefined;
    }
  };

  while (i < end) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c || c === 0x3a) {
      i++;
    } else if (c === 0x7b || c === 0x5b) {
      containers.push(c === 0x7b ? {} : []);
      starts.push(i);
      keys.push(undefined);
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      const container = containers.pop()!;
      keys.pop();
      const start = starts.pop()!;
      i++;
      spans?.set(container, [start, i]);
      attach(container);
    } else if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      while (b[j] !== 0x22) {
        if (b[j] === 0x5c) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const text = escaped ? (JSON.parse(b.toString('utf8', i, j + 1)) as string) : b.toString('utf8', i + 1, j);
      i = j + 1;
      const top = containers.length - 1;
      if (top >= 0 && !Array.isArray(containers[top]) && keys[top] === undefined) keys[top] = text;
      else attach(text);
    } else if (c === 0x74) {
      i += 4;
      attach(true);
    } else if (c === 0x66) {
      i += 5;
      attach(false);
    } else if (c === 0x6e) {
      i += 4;
      attach(null);
    } else {
      let j = i + 1;
      while (j < end && isNumberByte(b[j]!)) j++;
      attach(number(b.toString('latin1', i, j)));
      i = j;
    }
  }
  return spans ? { value: root, spans } : { value: root };
}

function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
