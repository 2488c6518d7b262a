/**
 * Reads a CSV body (RFC 4180) as it arrives: the first row is the header, and every later row
 * lands as a JSON object of strings keyed by the header, in the header's order
 * (`{"Id":"001","Name":"Acme, Inc."}`). Quoted fields may hold the delimiter, line breaks and
 * doubled quotes; rows end with `\n` or `\r\n`; empty lines are skipped; a quote inside an
 * unquoted field is kept as text. A row with more or fewer fields than the header, a repeated
 * header name, or text after a closing quote fails the page, naming the row. Typed columns
 * (`columns:`) convert the strings.
 *
 * Why by hand rather than csv-parse: a row is written straight from the body's bytes into the
 * JSON bytes it lands as, with no JS string per field and no object-mode stream hop per row.
 */

import { BodyDecoder } from './BodyDecoder.js';
import { BodyFormatError, RecordTooLargeError, type BodyOrigin } from './bodyErrors.js';
import { decodeChecked, pageStats } from './pageStats.js';
import { RecordBatch } from './RecordBatch.js';
import { RECORD_PARSER_DEFAULTS, type ParsedPage, type RecordParserOptions } from './RecordParser.js';
import type { RecordReader } from './RecordReader.js';

/** CSV options (`format: { type: csv, delimiter, quote }`). */
export interface CsvOptions {
  /** @default , */
  readonly delimiter?: string;
  /** @default " */
  readonly quote?: string;
}

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
const HEX = '0123456789abcdef';
/** The output buffer grows to this size; a full one is replaced, not grown. */
const OUT_BYTES = 1024 * 1024;

// Where the parser is within a field.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted field: either the closing quote or the first of a doubled one. */
const QUOTE_IN_QUOTED = 3;
/** Just after a CR that ended a row: an LF next is part of the same line break. */
const AFTER_CR = 4;

/** A CSV body, read as it arrives. */
export class CsvParser implements RecordReader {
  private readonly decoder: BodyDecoder;
  private readonly origin: BodyOrigin;
  private readonly maxRowBytes: number;
  private readonly delimiter: number;
  private readonly quote: number;
  private state = FIELD_START;
  /** Header names while the first row is read, then each name's `"name":` bytes. */
  private header: string[] | undefined;
  private keys: Buffer[] | undefined;
  /** The first row's field being read (header only). */
  private headerField: number[] = [];
  /** Output: JSON bytes of the rows, the unfinished row at the end. */
  private out: Buffer = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  /** Where the rows not yet in a batch start: bytes before it belong to batches handed out. */
  private batchStart = 0;
  private rowStart = 0;
  private field = 0;
  /** Whether the current row has any byte (an empty line is skipped). */
  private rowHasBytes = false;
  private row = 1;
  private received = 0;
  private count = 0;
  private recordBytes = 0;
  private readonly spans: number[] = [];

  constructor(options: Omit<RecordParserOptions, 'records'> & CsvOptions) {
    this.decoder = new BodyDecoder(options.encoding ?? RECORD_PARSER_DEFAULTS.encoding);
    this.origin = options.origin ?? { page: 1, request: 'response body' };
    this.maxRowBytes = options.maxPageBytes ?? RECORD_PARSER_DEFAULTS.maxPageBytes;
    this.delimiter = (options.delimiter ?? ',').charCodeAt(0);
    this.quote = (options.quote ?? '"').charCodeAt(0);
  }

  push(chunk: Uint8Array): RecordBatch {
    this.scan(this.decode(chunk, false));
    return this.batch();
  }

  end(lastChunk: Uint8Array = EMPTY): ParsedPage {
    this.scan(this.decode(lastChunk, true));
    this.finish();
    const records = this.batch();
    // No reserialised records: every row is built from its fields, not landed as the body's bytes; the format says so.
    const stats = pageStats(this.decoder, { bytes: this.received, records: this.count, recordBytes: this.recordBytes });
    return { records, recordCount: this.count, body: null, stats };
  }

  private decode(chunk: Uint8Array, final: boolean): Buffer {
    this.received += chunk.length;
    return decodeChecked(this.decoder, chunk, final, this.origin);
  }

  /**
   * The rows completed since the last batch, as a batch over the output. Later rows are written
   * after them into the same buffer, never over them, until it is full: a buffer per chunk,
   * collected only after its rows land, let several times the body's size in dead buffers pile up.
   */
  private batch(): RecordBatch {
    if (this.spans.length === 0) return RecordBatch.EMPTY;
    const batch = new RecordBatch(this.out.subarray(0, this.rowStart), Uint32Array.from(this.spans));
    this.spans.length = 0;
    this.batchStart = this.rowStart;
    return batch;
  }

  private scan(b: Buffer): void {
    const { delimiter, quote } = this;
    this.reserve(b.length * 2 + 16);
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      switch (this.state) {
        case AFTER_CR:
          this.state = FIELD_START;
          // CR LF is one line break; a CR alone ended its row too.
          if (c === LF) continue;
        // falls through
        case FIELD_START:
          if (c === quote) {
            this.startField();
            this.state = QUOTED;
          } else if (c === delimiter) {
            this.startField();
            this.endField();
          } else if (c === LF || c === CR) {
            // After a delimiter the row's last field is empty; on an empty line there is no row.
            if (this.rowHasBytes) {
              this.startField();
              this.endField();
            }
            this.endRow(c);
          } else {
            this.startField();
            this.state = UNQUOTED;
            this.byte(c);
          }
          continue;
        case UNQUOTED:
          if (c === delimiter) {
            this.endField();
            this.state = FIELD_START;
          } else if (c === LF || c === CR) {
            this.endField();
            this.endRow(c);
          } else this.byte(c);
          continue;
        case QUOTED:
          if (c === quote) this.state = QUOTE_IN_QUOTED;
          else this.byte(c);
          continue;
        case QUOTE_IN_QUOTED:
          if (c === quote) {
            this.byte(c);
            this.state = QUOTED;
          } else if (c === delimiter) {
            this.endField();
            this.state = FIELD_START;
          } else if (c === LF || c === CR) {
            this.endField();
            this.endRow(c);
          } else this.fail(`row ${this.row}, field ${this.field + 1}: ${JSON.stringify(String.fromCharCode(c))} after the closing quote; expected the delimiter or the end of the row`);
          continue;
      }
    }
    if (this.pos - this.rowStart > this.maxRowBytes) throw new RecordTooLargeError(this.origin, `row ${this.row}`, this.maxRowBytes, this.pos - this.rowStart);
  }

  /** What is left at the end of the body: a last row without a line break. */
  private finish(): void {
    if (this.state === QUOTED) this.fail(`the body ends inside a quoted field of row ${this.row}`);
    if (this.state === UNQUOTED || this.state === QUOTE_IN_QUOTED) {
      this.endField();
      this.endRow(LF);
    } else if (this.state === FIELD_START && this.rowHasBytes) {
      this.startField();
      this.endField();
      this.endRow(LF);
    }
  }

  private startField(): void {
    this.rowHasBytes = true;
    if (!this.keys) {
      this.headerField = [];
      return;
    }
    if (this.field >= this.keys.length) this.fail(`row ${this.row} has more fields than the header's ${this.keys.length}`);
    this.write(this.field === 0 ? '{' : ',');
    this.writeBytes(this.keys[this.field]!);
    this.write('"');
  }

  private endField(): void {
    if (!this.keys) {
      this.header ??= [];
      this.header.push(Buffer.from(this.headerField).toString('utf8'));
    } else this.write('"');
    this.field++;
  }

  /** Ends the row its fields were read into (the line break `c` ended it); an empty line is no row. */
  private endRow(c: number): void {
    this.state = c === CR ? AFTER_CR : FIELD_START;
    if (!this.rowHasBytes) {
      this.row++;
      return;
    }
    if (!this.keys) {
      const names = this.header ?? [];
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name)) this.fail(`the header names column ${JSON.stringify(name)} twice`);
        seen.add(name);
      }
      this.keys = names.map((name) => Buffer.from(`${JSON.stringify(name)}:`));
      this.header = undefined;
    } else {
      if (this.field < this.keys.length) this.fail(`row ${this.row} has ${this.field} fields, the header ${this.keys.length}`);
      this.write('}');
      this.spans.push(this.rowStart, this.pos);
      this.count++;
      this.recordBytes += this.pos - this.rowStart;
      this.rowStart = this.pos;
    }
    this.field = 0;
    this.rowHasBytes = false;
    this.row++;
  }

  /** A byte of a field's text, escaped for a JSON string. */
  private byte(c: number): void {
    if (!this.keys) {
      this.headerField.push(c);
      return;
    }
    if (this.pos + 6 > this.out.length) this.reserve(6);
    const out = this.out;
    if (c === 0x22 || c === 0x5c) {
      out[this.pos++] = 0x5c;
      out[this.pos++] = c;
    } else if (c < 0x20) {
      out[this.pos++] = 0x5c;
      if (c === LF) out[this.pos++] = 0x6e;
      else if (c === CR) out[this.pos++] = 0x72;
      else if (c === 0x09) out[this.pos++] = 0x74;
      else {
        out[this.pos++] = 0x75;
        out[this.pos++] = 0x30;
        out[this.pos++] = 0x30;
        out[this.pos++] = HEX.charCodeAt(c >> 4);
        out[this.pos++] = HEX.charCodeAt(c & 15);
      }
    } else out[this.pos++] = c;
  }

  private write(text: string): void {
    if (this.pos + text.length > this.out.length) this.reserve(text.length);
    this.pos += this.out.write(text, this.pos, 'latin1');
  }

  private writeBytes(bytes: Buffer): void {
    if (this.pos + bytes.length > this.out.length) this.reserve(bytes.length);
    this.pos += bytes.copy(this.out, this.pos);
  }

  /**
   * Room for `more` bytes past `pos` (and a field's escapes: each byte may take 6). A full buffer
   * is left to the batches that view it: the rows not yet in a batch move to a new one, up to
   * {@link OUT_BYTES} long, or longer for a row that needs it.
   */
  private reserve(more: number): void {
    const needed = this.pos + more + 6 + (this.keys ? this.keys.reduce((n, k) => n + k.length + 3, 2) : 0);
    if (needed <= this.out.length) return;
    const from = this.batchStart;
    const grown = Buffer.allocUnsafe(Math.max(needed - from, Math.min(OUT_BYTES, this.out.length * 2)));
    this.out.copy(grown, 0, from, this.pos);
    this.out = grown;
    for (let k = 0; k < this.spans.length; k++) this.spans[k]! -= from;
    this.pos -= from;
    this.rowStart -= from;
    this.batchStart = 0;
  }

  private fail(detail: string): never {
    throw new BodyFormatError(this.origin, 'CSV', detail);
  }
}
