/** Sums what decoding did to a window's bodies, so the manifest records anything not landed as sent. */

import type { ResponseEncoding } from '../config/responseEncoding.js';
import type { PageStats } from './RecordParser.js';

/** The manifest's `decoding` field: present only when a body was not plain UTF-8 landed as is. */
export interface DecodingSummary {
  readonly encoding: ResponseEncoding;
  /** Bytes that became U+FFFD (`replace`). */
  readonly replaced_chars: number;
  /** Characters transcoded from ISO-8859-1 (`latin1`). */
  readonly transcoded_chars: number;
  /** Records that are not the API's bytes (a `records` expression that builds values). */
  readonly reserialised_records: number;
  /** Pages that began with a UTF-8 byte order mark (skipped). */
  readonly bom_pages: number;
}

/** A {@link DecodingTally}'s counts as JSON, to carry a window's tally from one invocation to the next. */
export interface DecodingCounts {
  readonly replaced: number;
  readonly transcoded: number;
  readonly reserialised: number;
  readonly bomPages: number;
}

/** Accumulates page stats over a window. */
export class DecodingTally {
  private replaced = 0;
  private transcoded = 0;
  private reserialised = 0;
  private bomPages = 0;

  /** @param from the counts of the pages landed before (a window landed in slices) */
  constructor(from?: DecodingCounts) {
    if (!from) return;
    this.replaced = from.replaced;
    this.transcoded = from.transcoded;
    this.reserialised = from.reserialised;
    this.bomPages = from.bomPages;
  }

  /** The counts so far. */
  counts(): DecodingCounts {
    return { replaced: this.replaced, transcoded: this.transcoded, reserialised: this.reserialised, bomPages: this.bomPages };
  }

  add(stats: PageStats): void {
    this.replaced += stats.replacedChars;
    this.transcoded += stats.transcodedChars;
    this.reserialised += stats.reserialisedRecords;
    if (stats.bom) this.bomPages++;
  }

  /** `{ decoding }` for the manifest, or nothing when every byte landed as sent. */
  manifestField(encoding: ResponseEncoding): { decoding?: DecodingSummary } {
    if (this.replaced + this.transcoded + this.reserialised + this.bomPages === 0) return {};
    return { decoding: { encoding, replaced_chars: this.replaced, transcoded_chars: this.transcoded, reserialised_records: this.reserialised, bom_pages: this.bomPages } };
  }
}
