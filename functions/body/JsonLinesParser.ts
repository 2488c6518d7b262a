/**
 * Reads a JSON Lines body (https://jsonlines.org): every line is one record, landed as the exact
 * bytes of the line (without its `\n` or `\r\n`); blank lines are skipped. Each line is validated
 * by the same scanner as JSON bodies (what `JSON.parse` accepts, nested at most `maxDepth` deep),
 * so a line that is not one JSON value fails the page with its line number and byte offset.
 * Memory holds the unfinished line only, so a file of any size streams. Read as a file's bytes from
 * a known offset (`fileOffset`) in strict decoding, where bytes read are bytes sent, each batch
 * says where in the file its last record's line ends, so the file can be taken up right after it.
 */

import { BodyDecoder } from './BodyDecoder.js';
import { JsonNestingError, JsonSyntaxError, quoteNear, RecordTooLargeError, type BodyOrigin } from './bodyErrors.js';
import { JsonScanError, JsonScanner } from './JsonScanner.js';
import { decodeChecked, pageStats, type PageStats } from './pageStats.js';
import { RecordBatch } from './RecordBatch.js';
import { RECORD_PARSER_DEFAULTS, type ParsedPage, type RecordParserOptions } from './RecordParser.js';
import type { RecordReader } from './RecordReader.js';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;

/** JSON whitespace (RFC 8259). */
function isBlank(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/** Options of a {@link JsonLinesParser}. */
export type JsonLinesOptions = Omit<RecordParserOptions, 'records'> & {
  /**
   * The body is a file's bytes from this offset (0: the whole file; more: the file taken up there,
   * with no byte order mark to look for). Batches then carry {@link RecordBatch.end}, in strict
   * decoding only (another decoding changes the bytes, so offsets would not be the file's).
   * @default not a file's bytes: batches carry no end
   */
  readonly fileOffset?: number;
};

/** A JSON Lines body, read as it arrives. */
export class JsonLinesParser implements RecordReader {
  private readonly decoder: BodyDecoder;
  private readonly scanner: JsonScanner;
  private readonly origin: BodyOrigin;
  private readonly maxLineBytes: number;
  /** The unfinished last line, copied. */
  private carry: Buffer = EMPTY;
  /** Absolute offset (decoded bytes) of `carry`'s first byte. */
  private carryAt = 0;
  private line = 1;
  private received = 0;
  private count = 0;
  private recordBytes = 0;
  private started = false;
  /** Batches carry the file offset past their last line. */
  private readonly marksEnds: boolean;
  /** Where in the file the body starts: a file taken up mid-way numbers no lines, so its lines are named by offset. */
  private readonly startsAt: number;

  constructor(options: JsonLinesOptions) {
    const encoding = options.encoding ?? RECORD_PARSER_DEFAULTS.encoding;
    this.decoder = new BodyDecoder(encoding, (options.fileOffset ?? 0) === 0);
    this.carryAt = this.startsAt = options.fileOffset ?? 0;
    this.marksEnds = options.fileOffset !== undefined && encoding === 'strict';
    this.scanner = new JsonScanner(undefined, undefined, options.maxDepth ?? RECORD_PARSER_DEFAULTS.maxDepth);
    this.origin = options.origin ?? { page: 1, request: 'response body' };
    this.maxLineBytes = options.maxPageBytes ?? RECORD_PARSER_DEFAULTS.maxPageBytes;
  }

  push(chunk: Uint8Array): RecordBatch {
    return this.read(chunk, false);
  }

  end(lastChunk: Uint8Array = EMPTY): ParsedPage {
    const records = this.read(lastChunk, true);
    return { records, recordCount: this.count, body: null, stats: this.statsSoFar() };
  }

  statsSoFar(): PageStats {
    return pageStats(this.decoder, { bytes: this.received, records: this.count, recordBytes: this.recordBytes });
  }

  private read(chunk: Uint8Array, final: boolean): RecordBatch {
    this.received += chunk.length;
    const decoded = decodeChecked(this.decoder, chunk, final, this.origin);
    if (!this.started && (decoded.length > 0 || final)) {
      this.started = true;
      if (this.decoder.stats.bom) this.carryAt = 3;
    }
    const data = this.carry.length === 0 ? decoded : decoded.length === 0 ? this.carry : Buffer.concat([this.carry, decoded]);
    const base = this.carryAt;
    const spans: number[] = [];
    const unsafe: number[] = [];
    let from = 0;
    // Lines already searched for their end in an earlier chunk are not searched again.
    let search = this.carry.length;
    let end = 0;
    for (;;) {
      const nl = data.indexOf(LF, search);
      if (nl < 0 && !final) break;
      const lineEnd = nl < 0 ? data.length : nl;
      if (lineEnd > from || nl >= 0) {
        const before = spans.length;
        this.take(data, from, lineEnd, base, spans, unsafe);
        if (spans.length > before) end = base + (nl < 0 ? data.length : nl + 1);
      }
      if (nl < 0) {
        from = data.length;
        break;
      }
      this.line++;
      from = search = nl + 1;
    }
    if (data.length - from > this.maxLineBytes) throw new RecordTooLargeError(this.origin, this.lineAt(base + from), this.maxLineBytes, data.length - from);
    this.carry = from < data.length ? Buffer.from(data.subarray(from)) : EMPTY;
    this.carryAt = base + from;
    if (spans.length === 0) return RecordBatch.EMPTY;
    return new RecordBatch(data, Uint32Array.from(spans), Uint8Array.from(unsafe), undefined, this.marksEnds ? end : undefined);
  }

  /** The current line, by number; in a file taken up mid-way, by the offset where it starts. */
  private lineAt(offset: number): string {
    return this.startsAt > 0 ? `the line at byte ${offset} of the file` : `line ${this.line}`;
  }

  /** Validates line `[from, to)` of `data` and notes it as a record unless it is blank. */
  private take(data: Buffer, from: number, to: number, base: number, spans: number[], unsafe: number[]): void {
    const end = to > from && data[to - 1] === CR ? to - 1 : to;
    if (isBlank(data, from, end)) return;
    if (end - from > this.maxLineBytes) throw new RecordTooLargeError(this.origin, this.lineAt(base + from), this.maxLineBytes, end - from);
    this.scanner.reset();
    try {
      this.scanner.scan(data, from, end, base, true);
    } catch (error) {
      if (!(error instanceof JsonScanError)) throw error;
      if (error.kind === 'depth') throw new JsonNestingError(this.origin, error.offset, this.scanner.maxDepth);
      const at = Math.min(Math.max(error.offset - base, from), end);
      throw new JsonSyntaxError(this.origin, error.offset, `${this.lineAt(base + from)} is not one JSON value: ${error.message}`, quoteNear(data, at, this.origin), { cause: error });
    }
    spans.push(from, end);
    unsafe.push(this.scanner.outsideUnsafe ? 1 : 0);
    this.count++;
    this.recordBytes += end - from;
  }
}
