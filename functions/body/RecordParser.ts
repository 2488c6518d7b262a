/**
 * The records of one response body, as the exact bytes the API sent, from a whole body
 * ({@link parsePage}) or from chunks as they arrive ({@link RecordParser}), with the same result.
 *
 * - Fidelity: a record is a span of the body (number text, key order, duplicate keys, escapes
 *   kept); nothing is re-serialised when `records` is a key path (`@`, `data`, `data.items`).
 * - Strictness: the body is valid UTF-8 (or decoded as `response_encoding` says, counted) and
 *   valid JSON (what `JSON.parse` accepts), nested at most `maxDepth` deep; each failure is a typed
 *   error with a byte offset.
 * - Bounded memory: records leave with each chunk; the parser holds the unfinished record, the
 *   body outside the records array (capped by `maxOutsideBytes`) and, up to `retainBytes`, the
 *   records pagination expressions may read. The whole body is capped by `maxPageBytes`.
 * - Other `records` expressions (filters, projections…): the body is held whole, parsed, and
 *   Powertools JMESPath selects the records; a selected object or array still lands as its
 *   bytes, anything else (scalars, objects JMESPath builds) is re-serialised and counted.
 */

import { asError, RecordsPathError } from '../errors.js';
import { stringifyJson } from './preciseJson.js';
import type { ResponseEncoding } from '../config/responseEncoding.js';
import { BodyDecoder, Utf8DecodeError } from './BodyDecoder.js';
import { JsonNestingError, JsonSyntaxError, PageTooLargeError, quoteNear, RecordsNotRetainedError, ResponseEncodingError, type BodyOrigin } from './bodyErrors.js';
import { JsonScanError, JsonScanner, TARGET } from './JsonScanner.js';
import { lazyRecordsArray } from './lazyRecordsArray.js';
import { memoizeByText } from '../expressions/memoizeByText.js';
import { pageStats, type PageStats } from './pageStats.js';
import { parseExact } from './parseExact.js';
import { parseValidJson } from './parseValidJson.js';
import { RecordBatch } from './RecordBatch.js';
import { parseRecordsPath, type RecordsPath } from '../expressions/recordsPath.js';
import { selectRecords } from './selectRecords.js';

const MiB = 1024 * 1024;

/** Defaults of {@link RecordParserOptions}, documented in one place. */
export const RECORD_PARSER_DEFAULTS = {
  encoding: 'strict',
  /** simdjson's default is 1024 and serde_json's 128; real APIs nest a few tens of levels. */
  maxDepth: 512,
  /** `max_page_mb`: a body larger than this fails the page. */
  maxPageBytes: 256 * MiB,
  /** Bytes of a streamed body outside its records array (metadata, cursors, totals). */
  maxOutsideBytes: 8 * MiB,
  /** Record bytes of a streamed page kept readable by pagination expressions. */
  retainBytes: 16 * MiB,
} as const satisfies Partial<Record<keyof RecordParserOptions, unknown>>;

/** How to read one body. */
export interface RecordParserOptions {
  /** The stream's `records` JMESPath, e.g. `data` or `@`. */
  readonly records: string;
  /** @default 'strict' */
  readonly encoding?: ResponseEncoding;
  /** Deepest nesting of arrays/objects accepted. @default 512 */
  readonly maxDepth?: number;
  /** @default 256 MiB */
  readonly maxPageBytes?: number;
  /** @default 8 MiB for {@link RecordParser}; unlimited for {@link parsePage} (the body is in memory anyway) */
  readonly maxOutsideBytes?: number;
  /**
   * Record bytes kept so that {@link ParsedPage.body} can show every record; past it only the
   * first and last records stay readable (enough for `data[-1].id`, `length(data)`).
   * @default 16 MiB for {@link RecordParser}; unlimited for {@link parsePage}
   */
  readonly retainBytes?: number;
  /** Page and redacted request, for error messages. @default page 1, "response body" */
  readonly origin?: BodyOrigin;
}

export type { PageStats } from './pageStats.js';

/** A body read to its end. */
export interface ParsedPage {
  /** The records not yet returned by {@link RecordParser.push}: all of them for {@link parsePage}. */
  readonly records: RecordBatch;
  /** Records of the whole body. */
  readonly recordCount: number;
  /**
   * The body for pagination expressions (`meta.next_cursor`, `data[-1].id`, `!has_more`):
   * parsed on first read, numbers exact; the records array parses a record only when read.
   */
  readonly body: unknown;
  readonly stats: PageStats;
}

const EMPTY = Buffer.alloc(0);

/** Records expressions classified, with their keys' bytes: a stream reads every page with the same one. */
const compiledPath = memoizeByText((records): { path: RecordsPath; keyBytes: readonly Uint8Array[] | undefined } => {
  const path = parseRecordsPath(records);
  return { path, keyBytes: path.kind === 'keys' ? path.keys.map((key) => Buffer.from(key)) : undefined };
});

/**
 * Reads one body chunk by chunk: `push` each chunk as it arrives and land the records it
 * returns, then `end()` (optionally with the last chunk) for the rest and the body.
 * @example
 * const parser = new RecordParser({ records: 'data', origin: { page: 1, request } });
 * for await (const chunk of response.body) await land(parser.push(chunk));
 * const page = parser.end();
 * await land(page.records);
 * const cursor = evaluate('meta.next_cursor', page.body);
 */
export class RecordParser {
  private readonly path: RecordsPath;
  private readonly decoder: BodyDecoder;
  private readonly scanner: JsonScanner;
  private readonly origin: BodyOrigin;
  private readonly maxPageBytes: number;
  private readonly maxOutsideBytes: number;
  private readonly retainBytes: number;
  private received = 0;
  /** Absolute offset, in decoded bytes, just past the last byte received. */
  private decodedEnd = 0;
  private started = false;
  /** Bytes from the first one still needed (an unfinished record or token) up to `decodedEnd`. */
  private carry: Buffer = EMPTY;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Where the next scan starts (absolute). */
  private resume = 0;
  /** The body outside the records array, up to `outsideUpTo`. */
  private outside: Buffer[] = [];
  private outsideBytes = 0;
  private outsideUpTo = 0;
  /** Tree fallback: the whole decoded body. */
  private readonly whole: Buffer[] | undefined;
  private wholeBytes = 0;
  private count = 0;
  private recordBytes = 0;
  private retained: RecordBatch[] | undefined = [];
  private retainedBytes = 0;
  private first: RecordBatch | undefined;
  private last: RecordBatch | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(readonly options: RecordParserOptions) {
    const { path, keyBytes } = compiledPath(options.records);
    this.path = path;
    this.decoder = new BodyDecoder(options.encoding ?? RECORD_PARSER_DEFAULTS.encoding);
    this.origin = options.origin ?? { page: 1, request: 'response body' };
    this.maxPageBytes = options.maxPageBytes ?? RECORD_PARSER_DEFAULTS.maxPageBytes;
    this.maxOutsideBytes = options.maxOutsideBytes ?? RECORD_PARSER_DEFAULTS.maxOutsideBytes;
    this.retainBytes = options.retainBytes ?? RECORD_PARSER_DEFAULTS.retainBytes;
    // Record spans are 32-bit offsets.
    if (!(this.maxPageBytes > 0 && this.maxPageBytes < 2 ** 32)) throw new RangeError(`maxPageBytes must be from 1 to 4 GiB, got ${this.maxPageBytes}`);
    const maxDepth = options.maxDepth ?? RECORD_PARSER_DEFAULTS.maxDepth;
    if (!(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= 100_000)) throw new RangeError(`maxDepth must be an integer from 1 to 100000, got ${maxDepth}`);
    if (this.path.kind === 'keys') {
      this.scanner = new JsonScanner(keyBytes, this.path.keys, maxDepth);
    } else {
      this.scanner = new JsonScanner(undefined, undefined, maxDepth);
      this.whole = [];
    }
  }

  /** Records parsed so far. */
  get recordCount(): number {
    return this.count;
  }

  /** Bytes the parser holds now (unfinished record, body outside the records, retained records). */
  get heldBytes(): number {
    return this.carry.length + this.pendingBytes + this.outsideBytes + this.retainedBytes + this.wholeBytes + this.decoder.heldBytes;
  }

  /**
   * Reads the next chunk of the body.
   * @returns the records the chunk completed, possibly none: views into the chunk's memory, so
   *   land (or copy) them before that memory is reused; the parser itself keeps no view of it.
   * @throws PageTooLargeError, ResponseEncodingError, JsonSyntaxError, JsonNestingError, RecordsPathError
   */
  push(chunk: Uint8Array): RecordBatch {
    if (this.ended) throw new Error('RecordParser.push after end()');
    return this.guard(() => this.feed(this.receive(chunk, false), false));
  }

  /**
   * Ends the body (with its last chunk, if not pushed yet): the records not returned yet, the
   * count, the body for pagination expressions, and the stats.
   * @throws PageTooLargeError, ResponseEncodingError, JsonSyntaxError, JsonNestingError, RecordsPathError
   */
  end(lastChunk: Uint8Array = EMPTY): ParsedPage {
    if (this.ended) throw new Error('RecordParser.end called twice');
    this.ended = true;
    return this.guard(() => this.finish(lastChunk));
  }

  /** Runs a step; after a failure every later call fails the same way (the state is not resumable). */
  private guard<T>(step: () => T): T {
    if (this.failure !== undefined) throw this.failure;
    try {
      return step();
    } catch (error) {
      this.failure = asError(error);
      throw this.failure;
    }
  }

  private finish(lastChunk: Uint8Array): ParsedPage {
    let records = this.feed(this.receive(lastChunk, true), true);
    let body: unknown;
    let reserialised = 0;
    if (this.path.kind === 'expression') {
      const selected = this.selectFromTree();
      records = selected.records;
      body = selected.body;
      reserialised = selected.reserialised;
      this.noteRecords(records);
    } else if (this.scanner.target !== TARGET.array) {
      this.failPath();
    }
    const stats = pageStats(this.decoder, { bytes: this.received, records: this.count, recordBytes: this.recordBytes, reserialisedRecords: reserialised });
    const count = this.count;
    let cached: { value: unknown } | undefined = body === undefined ? undefined : { value: body };
    const readBody = () => (cached ??= { value: this.bodyWithRecords() }).value;
    return {
      records,
      recordCount: count,
      get body() {
        return readBody();
      },
      stats,
    };
  }

  private receive(chunk: Uint8Array, final: boolean): Buffer {
    this.received += chunk.length;
    if (this.received > this.maxPageBytes) throw new PageTooLargeError(this.origin, 'body', this.maxPageBytes, this.received);
    const decoded = this.decodingErrors(() => this.decoder.decode(chunk, final));
    if (!this.started && (decoded.length > 0 || final)) {
      this.started = true;
      // Offsets in messages count the skipped byte order mark, as a hex editor would.
      if (this.decoder.stats.bom) this.decodedEnd = this.resume = this.outsideUpTo = 3;
    }
    return decoded;
  }

  private decodingErrors<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof Utf8DecodeError) throw new ResponseEncodingError(this.origin, error.offset, error.bytes, error.utf16);
      throw error;
    }
  }

  private feed(decoded: Buffer, final: boolean): RecordBatch {
    if (decoded.length > 0) {
      this.pending.push(decoded);
      this.pendingBytes += decoded.length;
      this.decodedEnd += decoded.length;
      if (this.whole) {
        this.whole.push(decoded);
        this.wholeBytes += decoded.length;
      }
    }
    // Rescanning waits until at least as many new bytes as carried ones arrived, so a record or
    // string spanning many chunks costs linear time, not quadratic.
    if (!final && !this.decoder.failed && (this.pendingBytes === 0 || this.pendingBytes < this.carry.length)) return RecordBatch.EMPTY;
    const parts = this.carry.length > 0 ? [this.carry, ...this.pending] : this.pending;
    const data = parts.length === 1 ? parts[0]! : parts.length === 0 ? EMPTY : Buffer.concat(parts);
    const base = this.decodedEnd - data.length;
    this.pending = [];
    this.pendingBytes = 0;
    // Before an invalid UTF-8 sequence the body has not ended: scan what precedes it as a middle.
    const ends = final && !this.decoder.failed;
    let stop: number;
    try {
      stop = this.scanner.scan(data, this.resume - base, data.length, base, ends);
    } catch (error) {
      throw this.located(error, data, base);
    }
    this.resume = base + stop;
    if (!this.whole) this.keepOutside(data, base, this.resume);
    // The bytes before an invalid UTF-8 sequence are scanned first: a syntax error there wins.
    this.decodingErrors(() => this.decoder.check());
    const { spans, unsafe } = this.scanner.takeRecords();
    const batch = spans.length === 0 ? RecordBatch.EMPTY : new RecordBatch(data, spans, unsafe);
    const keep = final ? this.decodedEnd : this.scanner.keepFrom(this.resume);
    // Copied: the caller may reuse its chunk's memory once the batch is consumed. Rescans wait
    // until as many new bytes arrived, so copying the carry costs O(1) per byte.
    this.carry = keep < this.decodedEnd ? Buffer.from(data.subarray(keep - base)) : EMPTY;
    this.noteRecords(batch);
    return batch;
  }

  /** Copies the bytes in `[outsideUpTo, upTo)` that are not inside the records array. */
  private keepOutside(data: Buffer, base: number, upTo: number): void {
    const from = this.outsideUpTo;
    if (upTo <= from) return;
    const { arrayOpen, arrayClose } = this.scanner;
    const add = (start: number, end: number) => {
      if (end <= start) return;
      const piece = Buffer.from(data.subarray(start - base, end - base));
      this.outside.push(piece);
      this.outsideBytes += piece.length;
    };
    if (arrayOpen < 0) add(from, upTo);
    else {
      add(from, Math.min(upTo, arrayOpen + 1));
      if (arrayClose >= 0) add(Math.max(from, arrayClose), upTo);
    }
    this.outsideUpTo = upTo;
    if (this.outsideBytes > this.maxOutsideBytes) {
      const notFound = arrayOpen < 0 ? `records path "${this.options.records}" not found in them` : undefined;
      throw new PageTooLargeError(this.origin, 'outside', this.maxOutsideBytes, this.outsideBytes, notFound);
    }
  }

  private noteRecords(batch: RecordBatch): void {
    const n = batch.count;
    if (n === 0) return;
    this.count += n;
    this.recordBytes += batch.byteLength;
    if (this.retained) {
      this.retained.push(batch);
      this.retainedBytes += batch.byteLength;
      if (this.retainedBytes <= this.retainBytes) return;
      this.first = this.retained[0]!.slice(0, 1).compact();
      this.retained = undefined;
      this.retainedBytes = 0;
    }
    this.last = batch.slice(n - 1).compact();
  }

  /** Record `index` of the page, for the body's lazy records array. */
  private recordValue(index: number): unknown {
    if (this.retained) {
      let offset = 0;
      for (const batch of this.retained) {
        if (index < offset + batch.count) return batch.value(index - offset);
        offset += batch.count;
      }
    } else if (index === 0) return this.first!.value(0);
    else if (index === this.count - 1) return this.last!.value(0);
    throw new RecordsNotRetainedError(index, this.count, this.retainBytes);
  }

  /** The body outside the records, parsed; the records array (empty in the text) is left as it is. */
  private outsideValue(): unknown {
    return parseExact(Buffer.concat(this.outside, this.outsideBytes), this.scanner.outsideUnsafe);
  }

  private bodyWithRecords(): unknown {
    const keys = (this.path as Extract<RecordsPath, { kind: 'keys' }>).keys;
    const records = lazyRecordsArray(this.count, (index) => this.recordValue(index));
    if (keys.length === 0) return records;
    const body = this.outsideValue();
    let parent = body as Record<string, unknown>;
    // Own properties only: a key named "__proto__" is data here, as JSON.parse makes it.
    for (const key of keys.slice(0, -1)) parent = Object.getOwnPropertyDescriptor(parent, key)!.value as Record<string, unknown>;
    Object.defineProperty(parent, keys.at(-1)!, { value: records, enumerable: true, writable: true, configurable: true });
    return body;
  }

  /** The records path did not lead to an array: the same error `selectRecords` gives for a parsed body. */
  private failPath(): never {
    const { page, request, redact } = this.origin;
    const body = this.outsideValue();
    selectRecords(body, this.options.records, page, request, redact);
    throw new RecordsPathError(page, this.options.records, 'could not be followed to an array', request, { body });
  }

  private selectFromTree(): { records: RecordBatch; body: unknown; reserialised: number } {
    const data = Buffer.concat(this.whole!, this.wholeBytes);
    const { value, spans } = parseValidJson(data, { spans: true });
    const selected = selectRecords(value, this.options.records, this.origin.page, this.origin.request, this.origin.redact);
    const pieces: Buffer[] = [];
    const recordSpans = new Uint32Array(selected.length * 2);
    let pos = 0;
    let reserialised = 0;
    selected.forEach((record, i) => {
      const span = record !== null && typeof record === 'object' ? spans!.get(record) : undefined;
      let piece: Buffer;
      if (span) piece = data.subarray(span[0], span[1]);
      else {
        piece = Buffer.from(stringifyJson(record, true));
        reserialised++;
      }
      pieces.push(piece);
      recordSpans[2 * i] = pos;
      pos += piece.length;
      recordSpans[2 * i + 1] = pos;
    });
    return { records: new RecordBatch(Buffer.concat(pieces, pos), recordSpans, undefined, selected), body: value, reserialised };
  }

  private located(error: unknown, data: Buffer, base: number): unknown {
    if (!(error instanceof JsonScanError)) return error;
    const { page, request } = this.origin;
    if (error.kind === 'depth') return new JsonNestingError(this.origin, error.offset, this.scanner.maxDepth);
    if (error.kind === 'duplicate') {
      return new RecordsPathError(
        page,
        this.options.records,
        `is ambiguous: ${error.message} in one object (at bytes ${error.firstOffset} and ${error.offset}); JSON.parse would keep the last, apilake refuses to guess`,
        request,
      );
    }
    const decoded = this.decoder.stats.transcodedChars > 0 || this.decoder.stats.replacedChars > 0 ? ` (offset in the body after ${this.decoder.encoding} decoding)` : '';
    const relative = Math.min(Math.max(error.offset - base, 0), data.length);
    return new JsonSyntaxError(this.origin, error.offset, `${error.message}${decoded}`, quoteNear(data, relative, this.origin), { cause: error });
  }
}

/**
 * Reads a whole body: the records (all of them), the body for pagination expressions, the stats.
 * Same result as pushing the body through a {@link RecordParser} in any chunks.
 * @throws PageTooLargeError, ResponseEncodingError, JsonSyntaxError, JsonNestingError, RecordsPathError
 */
export function parsePage(body: Uint8Array, options: RecordParserOptions): ParsedPage {
  return new RecordParser({ maxOutsideBytes: Number.POSITIVE_INFINITY, retainBytes: Number.POSITIVE_INFINITY, ...options }).end(body);
}
