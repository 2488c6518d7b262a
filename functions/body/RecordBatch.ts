/**
 * Records as byte spans over one buffer: what a page (or one chunk of a streamed page) yields.
 * Bytes are views, never copies; values are parsed only when asked for.
 */

import { parseExact } from './parseExact.js';

const NO_SPANS = new Uint32Array(0);

/** A run of records, each the exact UTF-8 bytes the API sent (or, in the tree fallback, re-serialised). */
export class RecordBatch {
  /** A batch without records. */
  static readonly EMPTY = new RecordBatch(Buffer.alloc(0), NO_SPANS);

  private totalBytes = -1;

  /**
   * @param source the bytes the spans point into (held, not copied: a batch keeps its chunk alive).
   * @param spans `[start, end)` pairs into `source`, one per record, in order.
   * @param unsafe per record: 1 when it holds a number a float may change (it is then parsed exactly).
   * @param values per record: an already parsed value (the tree fallback), instead of parsing the bytes.
   * @param end where the reader knows it: the byte offset in the file just past the last record's
   *   line (its line end included), where a range request takes the file up at the next record.
   */
  constructor(
    readonly source: Buffer,
    readonly spans: Uint32Array,
    private readonly unsafe?: Uint8Array,
    private readonly values?: readonly unknown[],
    readonly end?: number,
  ) {}

  /** Number of records. */
  get count(): number {
    return this.spans.length >>> 1;
  }

  /** Sum of the records' byte lengths. */
  get byteLength(): number {
    if (this.totalBytes < 0) {
      let total = 0;
      for (let k = 0; k < this.spans.length; k += 2) total += this.spans[k + 1]! - this.spans[k]!;
      this.totalBytes = total;
    }
    return this.totalBytes;
  }

  /** Record `i`'s bytes: a view into the batch's buffer. */
  bytes(i: number): Buffer {
    this.check(i);
    return this.source.subarray(this.spans[2 * i], this.spans[2 * i + 1]);
  }

  /** Record `i` as JSON text. */
  text(i: number): string {
    this.check(i);
    return this.source.toString('utf8', this.spans[2 * i], this.spans[2 * i + 1]);
  }

  /**
   * Record `i` parsed, numbers exact (a number a float would change is a lossless-json
   * `LosslessNumber`). Parsed on each call: cache it if you need it twice.
   */
  value(i: number): unknown {
    if (this.values) {
      this.check(i);
      return this.values[i];
    }
    return parseExact(this.bytes(i), this.unsafe?.[i] === 1);
  }

  /** Whether record `i` holds a number that only an exact parse keeps. */
  hasUnsafeNumber(i: number): boolean {
    this.check(i);
    return this.unsafe?.[i] === 1;
  }

  /** The records' bytes in order. */
  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.count; i++) yield this.bytes(i);
  }

  /** Records `from` to `to` (exclusive) as a batch over the same buffer. */
  slice(from: number, to = this.count): RecordBatch {
    // Only a slice to the last record ends where the batch does.
    const end = to === this.count ? this.end : undefined;
    return new RecordBatch(this.source, this.spans.subarray(from * 2, to * 2), this.unsafe?.subarray(from, to), this.values?.slice(from, to), end);
  }

  /** A copy of the batch that holds only its records' bytes, not the buffer they came from. */
  compact(): RecordBatch {
    const out = Buffer.allocUnsafe(this.byteLength);
    const spans = new Uint32Array(this.spans.length);
    let pos = 0;
    for (let k = 0; k < this.spans.length; k += 2) {
      spans[k] = pos;
      pos += this.source.copy(out, pos, this.spans[k], this.spans[k + 1]);
      spans[k + 1] = pos;
    }
    return new RecordBatch(out, spans, this.unsafe?.slice(), this.values, this.end);
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.count && Number.isInteger(i))) throw new RangeError(`record ${i} is not in this batch of ${this.count}`);
  }
}
