/**
 * Envelope lines (the lake layout, docs/lake.md) built as bytes: one Buffer per batch of records, ready for gzip
 * without a detour through JS strings. The record bytes are copied as the API sent them.
 *
 * The line format is the one `envelopeLines` in `sink/lakeLayout.ts` writes (a unit test holds
 * the two byte-identical); this is the form the record pipeline hands to the part writer.
 */

import type { EnvelopeFields, WindowRef } from './lakeLayout.js';
import { isoSeconds } from '../window/TimeWindow.js';
import type { RecordBatch } from '../body/RecordBatch.js';

/** `}` then `\n`: what closes every line after the record. */
const LINE_END_0 = 0x7d;
const LINE_END_1 = 0x0a;

/**
 * The bytes every line of a page starts with, up to and including `"data":`. Build it once per
 * page (it holds the extraction time) and reuse it for every batch of the page.
 */
export function envelopePrefix(ref: WindowRef, fields: EnvelopeFields): Buffer {
  return Buffer.from(
    `{"_source":${JSON.stringify(ref.source)},"_stream":${JSON.stringify(ref.stream)},` +
      `"_window_start":"${isoSeconds(ref.window.start)}","_window_end":"${isoSeconds(ref.window.end)}",` +
      `"_extracted_at":"${fields.extractedAt.toISOString()}","_run_id":${JSON.stringify(fields.runId)},` +
      `${fields.parent === undefined ? '' : `"_parent":${fields.parent},`}"data":`,
  );
}

/** Bytes of the envelope lines of `batch` with `prefix`: what {@link writeEnvelopeLines} writes. */
export function envelopeBytes(prefix: Uint8Array, batch: RecordBatch): number {
  return batch.count * (prefix.length + 2) + batch.byteLength;
}

/**
 * One envelope line per record of `batch`, concatenated: `prefix`, the record's bytes, `}\n`.
 * @returns a Buffer of `batch.count` complete lines (empty for an empty batch).
 */
export function envelopeChunk(prefix: Uint8Array, batch: RecordBatch): Buffer {
  const out = Buffer.allocUnsafe(envelopeBytes(prefix, batch));
  writeEnvelopeLines(prefix, batch, out, 0);
  return out;
}

/**
 * Writes the lines {@link envelopeChunk} returns into `out` from `at` instead, so a part writer
 * can build them in the buffer it hands to gzip, with no buffer per batch.
 * @returns the offset after the last line (`at` + {@link envelopeBytes})
 */
export function writeEnvelopeLines(prefix: Uint8Array, batch: RecordBatch, out: Buffer, at: number): number {
  const { source, spans } = batch;
  let pos = at;
  for (let k = 0; k < spans.length; k += 2) {
    out.set(prefix, pos);
    pos += prefix.length;
    pos += source.copy(out, pos, spans[k], spans[k + 1]);
    out[pos++] = LINE_END_0;
    out[pos++] = LINE_END_1;
  }
  return pos;
}
