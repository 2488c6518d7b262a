/**
 * Reads a successful response's body into records as it arrives: bytes go straight into the
 * record parser (never through a JS string), the size cap applies before and while reading, and
 * every body problem is a typed, located error.
 */

import { PageTooLargeError, type BodyOrigin } from '../records/bodyErrors.js';
import type { RecordBatch } from '../records/RecordBatch.js';
import { RecordParser, type ParsedPage, type RecordParserOptions } from '../records/RecordParser.js';
import type { TransportResponse } from './Transport.js';

/** How a page's body is read (from the stream's `records`, `response_encoding`, `max_page_mb`). */
export type PageReading = Omit<RecordParserOptions, 'origin'>;

/** A page read to its end: its records in the order they arrived, and the rest of what the parser found. */
export interface PageBody extends Omit<ParsedPage, 'records'> {
  readonly batches: readonly RecordBatch[];
}

/**
 * Streams the response's body through a {@link RecordParser}.
 * @throws PageTooLargeError, ResponseEncodingError, JsonSyntaxError, JsonNestingError, RecordsPathError
 *   (not worth retrying), or the stream's own error (a reset: worth retrying)
 */
export async function readPageBody(response: TransportResponse, reading: PageReading, origin: BodyOrigin): Promise<PageBody> {
  const parser = new RecordParser({ ...reading, origin });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const max = reading.maxPageBytes;
  if (max !== undefined && Number.isFinite(declared) && declared > max) {
    response.discard();
    // Refused before a byte is read: the size the server declares is enough.
    throw new PageTooLargeError(origin, 'body', max, declared);
  }
  const batches: RecordBatch[] = [];
  for await (const chunk of response.body) {
    const batch = parser.push(chunk);
    // The batch views the chunk, which the stream hands over and never reuses.
    if (batch.count > 0) batches.push(batch);
  }
  const page = parser.end();
  if (page.records.count > 0) batches.push(page.records);
  return { batches, recordCount: page.recordCount, body: page.body, stats: page.stats };
}
