/**
 * What the body parsers share around their own format: decoding a chunk with encoding errors
 * told as {@link ResponseEncodingError}, and the stats of a page read to its end.
 */

import type { ResponseEncoding } from '../config/responseEncoding.js';
import { Utf8DecodeError, type BodyDecoder } from './BodyDecoder.js';
import { ResponseEncodingError, type BodyOrigin } from './bodyErrors.js';

/** What reading a body did, for manifests and metrics. */
export interface PageStats {
  /** Bytes received, before decoding. */
  readonly bytes: number;
  readonly records: number;
  /** Sum of the records' bytes as landed. */
  readonly recordBytes: number;
  readonly encoding: ResponseEncoding;
  /** A UTF-8 byte order mark led the body and was skipped. */
  readonly bom: boolean;
  /** `replace`: characters that became U+FFFD. */
  readonly replacedChars: number;
  /** `latin1`: characters transcoded to UTF-8 (bytes ≥ 0x80). */
  readonly transcodedChars: number;
  /** Records that are not the API's bytes (only with a non-key-path `records` expression). */
  readonly reserialisedRecords: number;
}

/** What a parser counted of a page. */
export interface PageCounts {
  /** Bytes received, before decoding. */
  readonly bytes: number;
  readonly records: number;
  readonly recordBytes: number;
  /** @default 0: records built from their fields (CSV, XML) or landed as the API's bytes */
  readonly reserialisedRecords?: number;
}

/** A page's stats: what the parser counted, and how `decoder` read the body. */
export function pageStats(decoder: BodyDecoder, counts: PageCounts): PageStats {
  return {
    bytes: counts.bytes,
    records: counts.records,
    recordBytes: counts.recordBytes,
    encoding: decoder.encoding,
    bom: decoder.stats.bom,
    replacedChars: decoder.stats.replacedChars,
    transcodedChars: decoder.stats.transcodedChars,
    reserialisedRecords: counts.reserialisedRecords ?? 0,
  };
}

/**
 * Decodes one chunk (the last one when `final`) and checks what the decoder holds so far.
 * @throws ResponseEncodingError at `origin` for bytes that are not valid UTF-8
 */
export function decodeChecked(decoder: BodyDecoder, chunk: Uint8Array, final: boolean, origin: BodyOrigin): Buffer {
  try {
    const decoded = decoder.decode(chunk, final);
    decoder.check();
    return decoded;
  } catch (error) {
    if (error instanceof Utf8DecodeError) throw new ResponseEncodingError(origin, error.offset, error.bytes, error.utf16);
    throw error;
  }
}
