/**
 * What reads one body into records, chunk by chunk, whatever its format: `push` each chunk as it
 * arrives and land the records it returns, then `end()` for the rest. {@link RecordParser} (JSON)
 * is one; JsonLinesParser, CsvParser and XmlRecordParser are the others.
 */

import type { RecordBatch } from './RecordBatch.js';
import type { PageStats } from './pageStats.js';
import type { ParsedPage } from './RecordParser.js';

/** A body reader of any format. */
export interface RecordReader {
  /**
   * Reads the next chunk.
   * @returns the records it completed: views of the reader's or the chunk's memory, to land before the next push.
   */
  push(chunk: Uint8Array): RecordBatch;
  /** Ends the body: the records not returned yet, the count, the body for pagination expressions (JSON only) and the stats. */
  end(lastChunk?: Uint8Array): ParsedPage;
  /** The stats of the chunks read so far, for a body whose reading stops before its end. @default not told */
  statsSoFar?(): PageStats;
}
