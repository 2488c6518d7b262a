/**
 * Reads a successful response's body into records as it arrives: bytes go straight into the
 * record parser (never through a JS string), the size cap applies before and while reading, and
 * every body problem is a typed, located error. A page whose turn has come (every earlier page
 * landed) lands its records while the rest of its body arrives, so a page of any size is read in
 * bounded memory.
 */

import type { FormatConfig } from '../config/formatSchema.js';
import { JSON_FORMAT } from '../config/jsonFormat.js';
import { PageTooLargeError, type BodyOrigin } from './bodyErrors.js';
import { bodyMembers } from './bodyMembers.js';
import { createRecordReader } from './createRecordReader.js';
import type { RecordBatch } from './RecordBatch.js';
import type { PageStats, ParsedPage, RecordParserOptions } from './RecordParser.js';
import type { TransportResponse } from '../http/Transport.js';

/**
 * How a page's body is read (from the stream's `records`, `response_encoding`, `max_page_mb` and
 * `format`). For JSON `maxPageBytes` bounds the body; for the other formats, one record.
 */
export type PageReading = Omit<RecordParserOptions, 'origin'> & {
  /** @default json */
  readonly format?: FormatConfig;
  /**
   * The body is a file's bytes from this offset, which a range request may take up within: a plain
   * (neither gzip nor zip) JSON Lines body then yields batches that say where their last line ends
   * ({@link RecordBatch.end}), and lands them as they arrive. @default not a file taken up by offset
   */
  readonly fileOffset?: number;
};

/** A page read to its end: the records not landed early, in order, and the rest of what the parser found. */
export interface PageBody extends Omit<ParsedPage, 'records'> {
  /** Records still to land (all of them unless some landed early through {@link EarlyLanding}). */
  readonly batches: readonly RecordBatch[];
  /** Records of the page already landed while its body arrived. @default 0 */
  readonly landedRecords?: number;
  /**
   * The sink took no more of the body ({@link EarlyLanding.land} said so): reading stopped there,
   * and the page is the records landed before. @default false
   */
  readonly cut?: boolean;
}

/** Where a page's records go while its body still arrives, once its turn has come. */
export interface EarlyLanding {
  /** Resolves when every earlier page has landed; rejects when the page is discarded. */
  readonly turn: Promise<void>;
  /**
   * Lands a batch of the page's records, in order; resolves when the sink took it (back-pressure),
   * with false when it took none of it and wants no more of the body.
   */
  readonly land: (batch: RecordBatch) => Promise<boolean | void>;
}

/** What has landed of the page being read; the client reads it when the body fails. */
export interface LandingProgress {
  landedRecords: number;
}

/**
 * Bytes of a page held before its records land early: pages below it land whole after their
 * body ends (the common case, one write per page); above it a page streams to the sink.
 */
export const EARLY_LANDING_BYTES = 4 * 1024 * 1024;

/**
 * Streams the response's body (each document of an archive in turn) through the reader of its format.
 * @throws PageTooLargeError, ResponseEncodingError, JsonSyntaxError, JsonNestingError, RecordsPathError
 *   (not worth retrying), or the stream's own error (a reset: worth retrying unless records landed)
 */
export async function readPageBody(
  response: Pick<TransportResponse, 'headers' | 'body' | 'discard'>,
  reading: PageReading,
  origin: BodyOrigin,
  landing?: EarlyLanding,
  progress: LandingProgress = { landedRecords: 0 },
): Promise<PageBody> {
  const { format = JSON_FORMAT, fileOffset, ...options } = reading;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const max = reading.maxPageBytes;
  if (format.type === 'json' && max !== undefined && Number.isFinite(declared) && declared > max) {
    response.discard();
    // Refused before a byte is read: the size the server declares is enough.
    throw new PageTooLargeError(origin, 'body', max, declared);
  }
  let myTurn = false;
  landing?.turn.then(
    () => (myTurn = true),
    () => undefined,
  );
  const batches: RecordBatch[] = [];
  let held = 0;
  let last: ParsedPage | undefined;
  let recordCount = 0;
  let stats: PageStats | undefined;
  // A gzip body is one member, a zip archive one per file; each is a document of its own (a CSV file has its own header).
  for await (const member of bodyMembers(response.body, origin)) {
    // Offsets of a gzip or zip member are not the file's: such a file is taken up only whole.
    const byOffset = member.plain === true && fileOffset !== undefined;
    const reader = createRecordReader(format, { ...options, origin, ...(byOffset ? { fileOffset } : {}) });
    for await (const chunk of member.chunks) {
      const batch = reader.push(chunk);
      // The batch views the chunk (or the reader's buffer), which is never reused.
      if (batch.count > 0) {
        batches.push(batch);
        held += chunk.length;
      }
      // A batch that says where the file can be taken up lands at once: where landing stops, the rest is not fetched twice.
      if (landing && myTurn && (held >= EARLY_LANDING_BYTES || batch.end !== undefined)) {
        // Awaiting the sink holds the socket read back: the body arrives only as fast as it lands.
        for (const early of batches) {
          if ((await landing.land(early)) === false) {
            response.discard();
            // What was read counts (a byte order mark the rest of the file will not have), where the reader tells it.
            const read = reader.statsSoFar?.();
            const cutStats = read ? (stats ? addStats(stats, read) : read) : emptyStats(reading);
            return { batches: [], recordCount: progress.landedRecords, body: null, stats: cutStats, landedRecords: progress.landedRecords, cut: true };
          }
          progress.landedRecords += early.count;
        }
        batches.length = 0;
        held = 0;
      }
    }
    last = reader.end();
    if (last.records.count > 0) batches.push(last.records);
    recordCount += last.recordCount;
    stats = stats ? addStats(stats, last.stats) : last.stats;
  }
  // bodyMembers yields at least one member, except for an empty zip archive.
  const body = last?.body ?? null;
  return { batches, recordCount, body, stats: stats ?? emptyStats(reading), landedRecords: progress.landedRecords };
}

function addStats(a: PageStats, b: PageStats): PageStats {
  return {
    bytes: a.bytes + b.bytes,
    records: a.records + b.records,
    recordBytes: a.recordBytes + b.recordBytes,
    encoding: a.encoding,
    bom: a.bom || b.bom,
    replacedChars: a.replacedChars + b.replacedChars,
    transcodedChars: a.transcodedChars + b.transcodedChars,
    reserialisedRecords: a.reserialisedRecords + b.reserialisedRecords,
  };
}

function emptyStats(reading: PageReading): PageStats {
  return { bytes: 0, records: 0, recordBytes: 0, encoding: reading.encoding ?? 'strict', bom: false, replacedChars: 0, transcodedChars: 0, reserialisedRecords: 0 };
}
