/**
 * Turns the bytes of a response body, chunk by chunk, into UTF-8 that the JSON scanner may trust,
 * following the stream's `response_encoding`. Nothing is changed silently: `strict` refuses a body
 * that is not UTF-8 with the offset of the first bad byte; `latin1` and `replace` are opt-ins whose
 * changes are counted in {@link DecodeStats}.
 */

import { isUtf8 } from 'node:buffer';
import type { ResponseEncoding } from '../config/responseEncoding.js';

/** What decoding did to a body. */
export interface DecodeStats {
  /** A UTF-8 byte order mark led the body and was skipped (RFC 8259 §8.1 allows ignoring it). */
  bom: boolean;
  /** `replace`: characters that became U+FFFD. */
  replacedChars: number;
  /** `latin1`: bytes at or above 0x80 transcoded to two-byte UTF-8. */
  transcodedChars: number;
}

/** The first invalid byte of a body that is not UTF-8, for {@link ResponseEncodingError}. */
export class Utf8DecodeError extends Error {
  constructor(
    /** Absolute offset of the first byte of the invalid sequence. */
    readonly offset: number,
    /** The ill-formed sequence, up to the byte that makes it so, in hex. */
    readonly bytes: string,
    /** The body starts with a UTF-16 byte order mark. */
    readonly utf16: boolean,
  ) {
    super(`invalid UTF-8 at byte ${offset} (bytes ${bytes})`);
    this.name = 'Utf8DecodeError';
  }
}

const EMPTY = Buffer.alloc(0);
const BOM = [0xef, 0xbb, 0xbf] as const;

/** Decodes one body; feed chunks in order, then call `decode(…, true)` once with the last (or an empty) chunk. */
export class BodyDecoder {
  readonly stats: DecodeStats = { bom: false, replacedChars: 0, transcodedChars: 0 };
  /** Bytes held back: an unfinished UTF-8 sequence, or the first bytes until the BOM is decided. */
  private carry: Buffer = EMPTY;
  /** Raw bytes received so far. */
  private received = 0;
  private leadDecided = false;
  private utf16 = false;
  /** Set once an invalid sequence was found in `strict` mode; see {@link BodyDecoder.check}. */
  private failure: Utf8DecodeError | undefined;

  /** @param atStart the body is a file's first bytes, where a byte order mark may be (not a file taken up within). */
  constructor(
    readonly encoding: ResponseEncoding = 'strict',
    atStart = true,
  ) {
    this.leadDecided = !atStart;
  }

  /** An invalid sequence was found (strict mode): the bytes returned so far are all there will be. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** @throws Utf8DecodeError if the body held an invalid sequence (strict mode). */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Bytes held back and not yet returned. */
  get heldBytes(): number {
    return this.carry.length;
  }

  /**
   * The UTF-8 bytes of `chunk` that are complete; an unfinished sequence at its end waits for the
   * next chunk. In `strict` mode, an invalid sequence ends the output before it: call
   * {@link BodyDecoder.check} once the returned bytes are consumed.
   * @throws Utf8DecodeError when called again after an invalid sequence
   */
  decode(chunk: Uint8Array, final = false): Buffer {
    this.check();
    const start = this.received - this.carry.length;
    this.received += chunk.length;
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : toBuffer(chunk);
    this.carry = EMPTY;
    if (this.encoding === 'latin1') return this.latin1(data);

    let offset = start;
    if (!this.leadDecided) {
      if (data.length < BOM.length && !final) {
        this.carry = Buffer.from(data);
        return EMPTY;
      }
      this.leadDecided = true;
      this.utf16 = (data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff);
      if (data[0] === BOM[0] && data[1] === BOM[1] && data[2] === BOM[2]) {
        this.stats.bom = true;
        data = data.subarray(BOM.length);
        offset += BOM.length;
      }
    }
    const complete = final ? data.length : completeLength(data);
    if (complete < data.length) {
      // Copied, so the chunk it came from can be freed.
      this.carry = Buffer.from(data.subarray(complete));
      data = data.subarray(0, complete);
    }
    // simdutf in Node's core: validating costs a small fraction of scanning.
    if (isUtf8(data)) return data;
    if (this.encoding === 'strict') {
      // The valid bytes before the problem are returned first, and the error raised on the next
      // call: a body then reports its first problem in byte order, however it was chunked.
      const bad = firstInvalidUtf8(data)!;
      this.failure = new Utf8DecodeError(offset + bad.offset, hexBytes(data.subarray(bad.offset, bad.offset + bad.length)), this.utf16);
      this.carry = EMPTY;
      return data.subarray(0, bad.offset);
    }
    const before = countReplacementChars(data);
    const decoded = Buffer.from(data.toString('utf8'), 'utf8');
    this.stats.replacedChars += countReplacementChars(decoded) - before;
    return decoded;
  }

  private latin1(data: Buffer): Buffer {
    let high = 0;
    for (let i = 0; i < data.length; i++) if (data[i]! >= 0x80) high++;
    if (high === 0) return data;
    this.stats.transcodedChars += high;
    return Buffer.from(data.toString('latin1'), 'utf8');
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Length of `data` without an unfinished multi-byte sequence at its end. */
export function completeLength(data: Uint8Array): number {
  const n = data.length;
  for (let k = 1; k <= Math.min(3, n); k++) {
    const c = data[n - k]!;
    if ((c & 0xc0) === 0x80) continue;
    if (c < 0x80) return n;
    // Only C2..F4 start a sequence; any other byte is invalid already and nothing to wait for.
    const need = c >= 0xf5 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 1;
    return k < need ? n - k : n;
  }
  return n;
}

/**
 * The first ill-formed sequence (Unicode 15, table 3-7) of `data`: its offset, and its length up to
 * and including the byte that makes it ill-formed (to the end of `data` when it is cut short).
 * Only runs once a body is known to be invalid.
 */
export function firstInvalidUtf8(data: Uint8Array): { offset: number; length: number } | undefined {
  const n = data.length;
  let i = 0;
  while (i < n) {
    const c = data[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return { offset: i, length: 1 };
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { offset: i, length: n - i };
      const b = data[i + k]!;
      if (k === 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf) return { offset: i, length: k + 1 };
    }
    i += need + 1;
  }
  return undefined;
}

function countReplacementChars(data: Buffer): number {
  let count = 0;
  for (let i = data.indexOf(0xef); i !== -1 && i + 2 < data.length; i = data.indexOf(0xef, i + 1)) {
    if (data[i + 1] === 0xbf && data[i + 2] === 0xbd) count++;
  }
  return count;
}

function hexBytes(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}
