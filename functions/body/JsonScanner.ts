/**
 * A validating JSON scanner over UTF-8 bytes that finds the records array of a body and the
 * byte span of every record in it, without building any value.
 *
 * Why by hand: `JSON.parse` builds every value only for `JSON.stringify` to write it back
 * (number text, key order and duplicate keys lost on the way), and cannot say where a value
 * starts and ends. This scanner validates exactly what `JSON.parse` accepts (RFC 8259; the
 * property test compares the two on random bodies) and reports the records as spans, so each
 * record lands as the bytes the API sent.
 *
 * It is iterative (an explicit container stack, never recursion), so nesting is bounded by
 * `maxDepth` with a located error instead of a stack overflow, and resumable at token
 * boundaries, so a body can arrive in chunks split anywhere (see {@link RecordParser}).
 */

import { isExactAsFloat } from './exactNumber.js';

/** A problem found while scanning, located by absolute byte offset; {@link RecordParser} turns it into a typed error. */
export class JsonScanError extends Error {
  constructor(
    readonly kind: 'syntax' | 'depth' | 'duplicate',
    readonly offset: number,
    message: string,
    /** For `duplicate`: where the first occurrence of the key starts. */
    readonly firstOffset?: number,
  ) {
    super(message);
    this.name = 'JsonScanError';
  }
}

/** Where the records path led, once the whole body is scanned. */
export const TARGET = { none: 0, array: 1, other: 2 } as const;
/** One of {@link TARGET}. */
export type Target = (typeof TARGET)[keyof typeof TARGET];

const OBJECT = 1;
const ARRAY = 2;

// What may come next, as bits so a token checks its permission with one AND.
const E_VALUE = 1;
const E_KEY = 2;
const E_END_OBJECT = 4;
const E_END_ARRAY = 8;
const E_COMMA = 16;
const E_COLON = 32;
const E_EOF = 64;

/** A number this long (sign, point and exponent included) may not survive a float: check it. */
const UNSAFE_NUMBER_LENGTH = 16;
const NOT_FOUND = -1;
/** Bytes of a string checked one at a time before switching to four at a time. */
const SHORT_STRING = 8;
const INITIAL_SPANS = 128;

/** The scanner's state; fields rather than locals so a scan can stop at a chunk's end and resume. */
export class JsonScanner {
  private readonly stack: Uint8Array;
  private readonly pathSeen: Uint8Array;
  private readonly pathLength: number;
  private depth = 0;
  private expect = E_VALUE;
  /** The next value is the one the records path leads to so far (the root always is). */
  private nextOnPath: boolean;
  /** Depth of the on-path object whose keys are compared with the path; NOT_FOUND when none. */
  private keyDepth = NOT_FOUND;
  /** Depth of values inside the records array while it is open; NOT_FOUND otherwise. */
  private recordDepth = NOT_FOUND;
  /** Absolute offset where the record being scanned starts; NOT_FOUND between records. */
  private recordStart = NOT_FOUND;
  private recordUnsafe = 0;
  private outsideUnsafeFlag = false;
  private spans = new Uint32Array(INITIAL_SPANS * 2);
  private unsafe = new Uint8Array(INITIAL_SPANS);
  private count = 0;
  private readonly pathKeyOffset: Float64Array;

  /** Absolute offset of the records array's `[`; NOT_FOUND until seen. */
  arrayOpen = NOT_FOUND;
  /** Absolute offset of the records array's `]`; NOT_FOUND until seen. */
  arrayClose = NOT_FOUND;
  /** What the records path led to. */
  target: Target = TARGET.none;

  /**
   * @param path the records path as UTF-8 key bytes (`[]` for `@`), or `undefined` to validate only.
   * @param pathKeys the same keys as strings, to compare keys written with escapes.
   */
  constructor(
    private readonly path: readonly Uint8Array[] | undefined,
    private readonly pathKeys: readonly string[] | undefined,
    readonly maxDepth: number,
  ) {
    this.stack = new Uint8Array(maxDepth + 1);
    this.pathLength = path ? path.length : NOT_FOUND;
    // Keys are compared only in on-path objects, at depths 1 to path.length.
    this.pathSeen = new Uint8Array(this.pathLength + 2);
    this.pathKeyOffset = new Float64Array(this.pathLength + 2);
    this.nextOnPath = path !== undefined;
  }

  /** Makes the scanner ready for another document from its first byte (JSON Lines: one a line). */
  reset(): void {
    this.depth = 0;
    this.expect = E_VALUE;
    this.nextOnPath = this.path !== undefined;
    this.keyDepth = NOT_FOUND;
    this.recordDepth = NOT_FOUND;
    this.recordStart = NOT_FOUND;
    this.recordUnsafe = 0;
    this.outsideUnsafeFlag = false;
    this.count = 0;
    this.pathSeen.fill(0);
    this.arrayOpen = NOT_FOUND;
    this.arrayClose = NOT_FOUND;
    this.target = TARGET.none;
  }

  /** The body outside the records array holds a number that may not survive a float. */
  get outsideUnsafe(): boolean {
    return this.outsideUnsafeFlag;
  }

  /**
   * The first absolute offset whose bytes are still needed after a scan that stopped at `resume`:
   * the start of an unfinished record, else `resume` itself.
   */
  keepFrom(resume: number): number {
    return this.recordStart !== NOT_FOUND && this.recordStart < resume ? this.recordStart : resume;
  }

  /**
   * Records completed since the last call: `[start, end)` pairs relative to the buffer of the
   * last scan, and a flag per record that it holds a number a float may round.
   */
  takeRecords(): { spans: Uint32Array; unsafe: Uint8Array } {
    const n = this.count;
    this.count = 0;
    return { spans: this.spans.slice(0, n * 2), unsafe: this.unsafe.slice(0, n) };
  }

  /**
   * Scans `b[from, end)`. `base` is the absolute offset of `b[0]`.
   * @returns the index where scanning stopped: `end`, or the start of a token cut by the end of
   *   `b` (scan again from there once more bytes arrived).
   * @param final no more bytes follow: a cut token is an error, and so is an unfinished value.
   * @throws JsonScanError
   */
  scan(b: Uint8Array, from: number, end: number, base: number, final: boolean): number {
    const stack = this.stack;
    const maxDepth = this.maxDepth;
    let depth = this.depth;
    let expect = this.expect;
    let recordDepth = this.recordDepth;
    let recordStart = this.recordStart;
    let nextOnPath = this.nextOnPath;
    let keyDepth = this.keyDepth;
    let i = from;
    let cut = false;
    let c = 0;
    // 32-bit words over the same memory, for the long-string loop (the tests it runs look for
    // any matching byte in a word, so byte order does not matter).
    const offset = b.byteOffset;
    const words = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    const wordEnd = (offset + end) >>> 2;

    scan: for (;;) {
      // Whitespace (RFC 8259: only these four; JSON.parse agrees).
      while (i < end && WHITESPACE[(c = b[i]!)] === 1) i++;
      if (i >= end) break;
      const start = i;

      // Punctuation first: it is the most frequent token and never starts a value.
      if (c === 0x2c) {
        if ((expect & E_COMMA) === 0) this.unexpected(b, i, base, expect);
        expect = stack[depth] === OBJECT ? E_KEY : E_VALUE;
        i++;
        continue;
      }
      if (c === 0x3a) {
        if (expect !== E_COLON) this.unexpected(b, i, base, expect);
        expect = E_VALUE;
        i++;
        continue;
      }

      if (c === 0x22) {
        if ((expect & (E_VALUE | E_KEY)) === 0) this.unexpected(b, i, base, expect);
        // Plain string bytes: anything but a quote, a backslash or a control character.
        let j = i + 1;
        let escaped = false;
        for (;;) {
          const probe = j + SHORT_STRING < end ? j + SHORT_STRING : end;
          while (j < probe && STRING_BYTE[b[j]!] === 1) j++;
          if (j === probe && j < end) {
            // A long string: test four bytes at a time for a quote, a backslash or a control
            // byte (bit tricks from "Bit Twiddling Hacks", S. Anderson: haszero/hasless),
            // then find the byte itself one at a time.
            while (((offset + j) & 3) !== 0 && STRING_BYTE[b[j]!] === 1) j++;
            if (((offset + j) & 3) === 0) {
              let w = (offset + j) >>> 2;
              while (w < wordEnd) {
                const x = words[w]!;
                const quote = x ^ 0x22222222;
                const backslash = x ^ 0x5c5c5c5c;
                if ((((x - 0x20202020) & ~x) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) break;
                w++;
              }
              j = (w << 2) - offset;
            }
            while (j < end && STRING_BYTE[b[j]!] === 1) j++;
          }
          if (j >= end) {
            cut = true;
            break scan;
          }
          c = b[j]!;
          if (c === 0x22) break;
          if (c === 0x5c) {
            const n = this.escapeLength(b, j, end, base);
            if (n === 0) {
              cut = true;
              break scan;
            }
            escaped = true;
            j += n;
            continue;
          }
          throw new JsonScanError('syntax', base + j, `control character 0x${hex(c)} inside a string at byte ${base + j} (JSON requires it escaped)`);
        }
        i = j + 1;
        if ((expect & E_KEY) !== 0) {
          if (depth === keyDepth) nextOnPath = this.isPathKey(b, start + 1, j, escaped, depth, base + start);
          expect = E_COLON;
          continue;
        }
        if (nextOnPath) {
          nextOnPath = false;
          if (depth === this.pathLength) this.target = TARGET.other;
        }
        if (depth === recordDepth) this.pushRecord(base + start, i, base);
        expect = depth === 0 ? E_EOF : stack[depth] === OBJECT ? E_COMMA | E_END_OBJECT : E_COMMA | E_END_ARRAY;
        continue;
      }

      if (c === 0x7b || c === 0x5b) {
        if ((expect & E_VALUE) === 0) this.unexpected(b, i, base, expect);
        if (depth === maxDepth) {
          throw new JsonScanError('depth', base + i, `nesting deeper than ${maxDepth} levels at byte ${base + i}`);
        }
        if (depth === recordDepth) recordStart = base + i;
        stack[++depth] = c === 0x7b ? OBJECT : ARRAY;
        if (nextOnPath) {
          nextOnPath = false;
          if (depth - 1 === this.pathLength) {
            if (c === 0x5b) {
              recordDepth = depth;
              this.arrayOpen = base + i;
              this.target = TARGET.array;
            } else this.target = TARGET.other;
          } else if (c === 0x7b) {
            keyDepth = depth;
            this.pathSeen[depth] = 0;
          }
        }
        expect = c === 0x7b ? E_KEY | E_END_OBJECT : E_VALUE | E_END_ARRAY;
        i++;
        continue;
      }

      if (c === 0x7d || c === 0x5d) {
        if ((expect & (c === 0x7d ? E_END_OBJECT : E_END_ARRAY)) === 0) this.unexpected(b, i, base, expect);
        if (depth === recordDepth) {
          this.arrayClose = base + i;
          recordDepth = NOT_FOUND;
        }
        if (depth === keyDepth) keyDepth = depth - 1;
        depth--;
        i++;
        if (depth === recordDepth) {
          this.pushRecord(recordStart, i, base);
          recordStart = NOT_FOUND;
        }
        expect = depth === 0 ? E_EOF : stack[depth] === OBJECT ? E_COMMA | E_END_OBJECT : E_COMMA | E_END_ARRAY;
        continue;
      }

      if ((expect & E_VALUE) === 0) this.unexpected(b, i, base, expect);

      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        let j = i;
        if (c === 0x2d) j++;
        if (j >= end) {
          cut = true;
          break;
        }
        c = b[j]!;
        if (c === 0x30) j++;
        else if (c >= 0x31 && c <= 0x39) {
          j++;
          while (j < end && (c = b[j]!) >= 0x30 && c <= 0x39) j++;
        } else this.unexpectedIn(b, j, base, 'a digit');
        let unsafe = false;
        if (j < end && b[j] === 0x2e) {
          j++;
          if (j >= end) {
            cut = true;
            break;
          }
          c = b[j]!;
          if (c < 0x30 || c > 0x39) this.unexpectedIn(b, j, base, 'a digit after the decimal point');
          while (j < end && (c = b[j]!) >= 0x30 && c <= 0x39) j++;
        }
        if (j < end && (b[j]! | 0x20) === 0x65) {
          j++;
          if (j < end && ((c = b[j]!) === 0x2b || c === 0x2d)) j++;
          if (j >= end) {
            cut = true;
            break;
          }
          c = b[j]!;
          if (c < 0x30 || c > 0x39) this.unexpectedIn(b, j, base, 'a digit in the exponent');
          const digits = j;
          while (j < end && (c = b[j]!) >= 0x30 && c <= 0x39) j++;
          // 1e400 overflows a float to Infinity; keep such numbers exact too.
          if (j - digits >= 3) unsafe = true;
        }
        // A number that reaches the end of the bytes may go on in the next chunk.
        if (j >= end && !final) {
          cut = true;
          break;
        }
        if ((unsafe || j - i >= UNSAFE_NUMBER_LENGTH) && !isExactAsFloat(Buffer.from(b.buffer, b.byteOffset + i, j - i).toString('latin1'))) {
          if (recordDepth !== NOT_FOUND && depth >= recordDepth) this.recordUnsafe = 1;
          else this.outsideUnsafeFlag = true;
        }
        i = j;
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        // true, false, null
        const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        if (i + word.length > end) {
          for (let k = 1; k < end - i; k++) if (b[i + k] !== word[k]) this.unexpectedIn(b, i + k, base, `"${String.fromCharCode(...word)}"`);
          cut = true;
          break;
        }
        for (let k = 1; k < word.length; k++) if (b[i + k] !== word[k]) this.unexpectedIn(b, i + k, base, `"${String.fromCharCode(...word)}"`);
        i += word.length;
        if (nextOnPath && c === 0x6e) {
          // A records path that leads to null is a missing path, as JMESPath sees it.
          nextOnPath = false;
          if (depth === this.pathLength) this.target = TARGET.none;
        }
      } else {
        this.unexpected(b, i, base, expect);
      }
      if (nextOnPath) {
        nextOnPath = false;
        if (depth === this.pathLength) this.target = TARGET.other;
      }
      if (depth === recordDepth) this.pushRecord(base + start, i, base);
      expect = depth === 0 ? E_EOF : stack[depth] === OBJECT ? E_COMMA | E_END_OBJECT : E_COMMA | E_END_ARRAY;
    }

    // A cut token is rescanned from its start (`i`) once more bytes arrived; a record's
    // earlier bytes are kept through keepFrom().
    if (cut && final) this.endInside(b, i, end, base);
    this.depth = depth;
    this.expect = expect;
    this.recordDepth = recordDepth;
    this.recordStart = recordStart;
    this.nextOnPath = nextOnPath;
    this.keyDepth = keyDepth;
    if (final && expect !== E_EOF) {
      if (expect === E_VALUE && depth === 0) throw new JsonScanError('syntax', base + end, `the body holds no JSON value (${base + end} bytes, all whitespace)`);
      throw new JsonScanError('syntax', base + end, `the body ends at byte ${base + end}, expected ${describeExpected(expect)}`);
    }
    return i;
  }

  /** Length of the escape at `b[j]` (a backslash), 0 when the bytes end inside it. */
  private escapeLength(b: Uint8Array, j: number, end: number, base: number): number {
    if (j + 1 >= end) return 0;
    const e = b[j + 1]!;
    if (e === 0x75) {
      for (let k = 2; k < 6; k++) {
        if (j + k >= end) return 0;
        const h = b[j + k]!;
        const isHex = (h >= 0x30 && h <= 0x39) || ((h | 0x20) >= 0x61 && (h | 0x20) <= 0x66);
        if (!isHex) throw new JsonScanError('syntax', base + j + k, `bad \\u escape at byte ${base + j}: expected 4 hex digits, got ${describeByte(b, j + k)}`);
      }
      return 6;
    }
    // " \ / b f n r t
    if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) return 2;
    throw new JsonScanError('syntax', base + j + 1, `bad escape at byte ${base + j}: \\${describeByte(b, j + 1)} is not a JSON escape`);
  }

  /** Compares a key of an on-path object with the path's key at that depth. */
  private isPathKey(b: Uint8Array, from: number, to: number, escaped: boolean, depth: number, offset: number): boolean {
    const want = this.path![depth - 1]!;
    let match: boolean;
    if (escaped) {
      match = (JSON.parse(Buffer.from(b.buffer, b.byteOffset + from - 1, to - from + 2).toString('utf8')) as string) === this.pathKeys![depth - 1];
    } else {
      match = to - from === want.length;
      for (let k = 0; match && k < want.length; k++) match = b[from + k] === want[k];
    }
    if (!match) return false;
    // JSON.parse keeps the last of two equal keys; landing either one would be a guess.
    if (this.pathSeen[depth]) throw new JsonScanError('duplicate', offset, `key "${this.pathKeys![depth - 1]}" appears twice`, this.pathKeyOffset[depth]);
    this.pathSeen[depth] = 1;
    this.pathKeyOffset[depth] = offset;
    return true;
  }

  private pushRecord(start: number, end: number, base: number): void {
    const n = this.count;
    if (n * 2 === this.spans.length) {
      const spans = new Uint32Array(this.spans.length * 2);
      spans.set(this.spans);
      this.spans = spans;
      const unsafe = new Uint8Array(this.unsafe.length * 2);
      unsafe.set(this.unsafe);
      this.unsafe = unsafe;
    }
    this.spans[n * 2] = start - base;
    this.spans[n * 2 + 1] = end;
    this.unsafe[n] = this.recordUnsafe;
    this.recordUnsafe = 0;
    this.count = n + 1;
  }

  private endInside(b: Uint8Array, start: number, end: number, base: number): never {
    const c = b[start];
    const token = c === 0x22 ? 'a string' : c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39) ? 'a number' : 'a literal';
    throw new JsonScanError('syntax', base + end, `the body ends at byte ${base + end} inside ${token} that starts at byte ${base + start}`);
  }

  private unexpected(b: Uint8Array, i: number, base: number, expect: number): never {
    throw new JsonScanError('syntax', base + i, `unexpected ${describeByte(b, i)} at byte ${base + i}, expected ${describeExpected(expect)}`);
  }

  private unexpectedIn(b: Uint8Array, i: number, base: number, expected: string): never {
    throw new JsonScanError('syntax', base + i, `unexpected ${describeByte(b, i)} at byte ${base + i}, expected ${expected}`);
  }
}

/** 1 for the bytes a string holds as they are: not a quote, a backslash or a control character. */
const STRING_BYTE = new Uint8Array(256).map((_, c) => (c >= 0x20 && c !== 0x22 && c !== 0x5c ? 1 : 0));
const WHITESPACE = new Uint8Array(256).map((_, c) => (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 ? 1 : 0));

const TRUE = Uint8Array.of(0x74, 0x72, 0x75, 0x65);
const FALSE = Uint8Array.of(0x66, 0x61, 0x6c, 0x73, 0x65);
const NULL = Uint8Array.of(0x6e, 0x75, 0x6c, 0x6c);

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** `'x'` for printable ASCII, the character and its code point for other UTF-8, the byte otherwise. */
function describeByte(b: Uint8Array, i: number): string {
  const c = b[i]!;
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  if (c === 0x20) return 'a space';
  if (c >= 0xc0) {
    const ch = Buffer.from(b.buffer, b.byteOffset + i, Math.min(4, b.length - i))
      .toString('utf8')
      .codePointAt(0)!;
    if (ch !== 0xfffd) return `U+${ch.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `byte 0x${hex(c)}`;
}

function describeExpected(expect: number): string {
  const names: string[] = [];
  if (expect & E_VALUE) names.push('a value');
  if (expect & E_KEY) names.push('a string key');
  if (expect & E_COLON) names.push("':'");
  if (expect & E_COMMA) names.push("','");
  if (expect & E_END_OBJECT) names.push("'}'");
  if (expect & E_END_ARRAY) names.push("']'");
  if (expect & E_EOF) names.push('the end of the body');
  return names.join(' or ');
}
