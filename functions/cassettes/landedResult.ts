/**
 * What a committed window landed, in the terms a cassette pins: records, the SHA-256 of their
 * bytes, pages, and the typed columns' conversion errors. The hash covers each envelope line
 * from `_parent` (when present) on, so the record bytes exactly as landed, without the fields
 * that differ on every run (`_extracted_at`, `_run_id`); lines in landing order.
 */

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { SinkError } from '../errors.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { parseManifestKey } from '../sink/lakeLayout.js';
import { parseManifest } from '../sink/manifest.js';
import type { WindowExpectation } from './cassette.js';

const RUN_ID_FIELD = Buffer.from('"_run_id":"');
const FIELD_END = Buffer.from('",');

/**
 * The result of the commit at `manifestKey`.
 * @throws SinkError when the manifest or a part cannot be read
 */
export async function landedResult(storage: LakeStorage, manifestKey: string): Promise<WindowExpectation> {
  const at = parseManifestKey(manifestKey);
  const bytes = await storage.read(manifestKey);
  if (!at || !bytes) throw new SinkError(`manifest ${manifestKey} cannot be read`);
  const manifest = parseManifest(bytes, manifestKey, at);
  const hash = createHash('sha256');
  let records = 0;
  for (const part of manifest.parts) {
    const stored = await storage.read(part.key);
    if (!stored) throw new SinkError(`part ${part.key} of ${manifestKey} is missing`);
    const text = gunzipSync(stored);
    for (let start = 0; start < text.length;) {
      let end = text.indexOf(0x0a, start);
      if (end < 0) end = text.length;
      const line = text.subarray(start, end);
      start = end + 1;
      if (line.length === 0) continue;
      hash.update(recordBytes(line, part.key));
      hash.update('\n');
      records++;
    }
  }
  return { records, sha256: hash.digest('hex'), pages: manifest.pages, type_errors: { ...(manifest.type_errors ?? {}) } };
}

/** The line from the field after `_run_id` on. */
function recordBytes(line: Buffer, key: string): Buffer {
  const field = line.indexOf(RUN_ID_FIELD);
  const end = field < 0 ? -1 : line.indexOf(FIELD_END, field + RUN_ID_FIELD.length);
  if (end < 0) throw new SinkError(`part ${key} holds a line that is not an envelope`);
  return line.subarray(end + FIELD_END.length);
}

/** How `landed` differs from `expected`, one line each; empty when it does not. */
export function compareResults(expected: WindowExpectation, landed: WindowExpectation): string[] {
  const out: string[] = [];
  if (expected.records !== landed.records) out.push(`records: expected ${expected.records}, landed ${landed.records}`);
  if (expected.sha256 !== landed.sha256) out.push(`record bytes (sha256): expected ${expected.sha256.slice(0, 12)}…, landed ${landed.sha256.slice(0, 12)}…`);
  if (expected.pages !== landed.pages) out.push(`pages: expected ${expected.pages}, landed ${landed.pages}`);
  for (const column of [...new Set([...Object.keys(expected.type_errors), ...Object.keys(landed.type_errors)])].sort()) {
    const a = expected.type_errors[column] ?? 0;
    const b = landed.type_errors[column] ?? 0;
    if (a !== b) out.push(`type_errors.${column}: expected ${a}, landed ${b}`);
  }
  return out;
}
