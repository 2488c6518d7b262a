/**
 * The lake layout (DESIGN.md 3.2), shared by the filesystem and S3 sinks and by infra:
 * ```
 * raw/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>_part-<NNNNN>.jsonl.gz
 * manifests/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>.json
 * ```
 */

import type { TimeWindow } from '../window/TimeWindow.js';
import { isoSeconds } from '../window/TimeWindow.js';

/** Top-level prefix of the data Athena reads. */
export const RAW_PREFIX = 'raw';
/** Top-level prefix of the commit markers, outside `raw/` so Athena never reads them. */
export const MANIFEST_PREFIX = 'manifests';
/** File name ending of a part. */
export const PART_SUFFIX = '.jsonl.gz';

/** Identifies one window of one stream. */
export interface WindowRef {
  readonly source: string;
  readonly stream: string;
  readonly window: TimeWindow;
}

/** `2024-01-01T00:00:00.000Z` → `20240101T000000Z`. */
export function compactStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** `20240101T000000Z` → the Date, or undefined when the text is not a compact stamp. */
export function parseCompactStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/** The `dt` partition of a window: its start's UTC date. */
export function partitionDate(window: TimeWindow): string {
  return window.start.toISOString().slice(0, 10);
}

/** `source=<s>/stream=<t>/` under a top-level prefix. */
export function streamPrefix(top: typeof RAW_PREFIX | typeof MANIFEST_PREFIX, source: string, stream?: string): string {
  return `${top}/source=${source}/${stream === undefined ? '' : `stream=${stream}/`}`;
}

function windowBase(ref: WindowRef): string {
  return `source=${ref.source}/stream=${ref.stream}/dt=${partitionDate(ref.window)}/${compactStamp(ref.window.start)}_${compactStamp(ref.window.end)}`;
}

/** The key of part `n` (0-based) of a window. */
export function partKey(ref: WindowRef, n: number): string {
  return `${RAW_PREFIX}/${windowBase(ref)}_part-${String(n).padStart(5, '0')}${PART_SUFFIX}`;
}

/** The prefix every part of a window starts with (for listing stale parts). */
export function partPrefix(ref: WindowRef): string {
  return `${RAW_PREFIX}/${windowBase(ref)}_part-`;
}

/** The key of a window's manifest, the commit marker. */
export function manifestKey(ref: WindowRef): string {
  return `${MANIFEST_PREFIX}/${windowBase(ref)}.json`;
}

/** Parses a manifest key back into its window, or undefined for any other key. */
export function parseManifestKey(key: string): WindowRef | undefined {
  const m = /^manifests\/source=([a-z][a-z0-9_]*)\/stream=([a-z][a-z0-9_]*)\/dt=\d{4}-\d{2}-\d{2}\/(\d{8}T\d{6}Z)_(\d{8}T\d{6}Z)\.json$/.exec(key);
  if (!m) return undefined;
  const start = parseCompactStamp(m[3]!);
  const end = parseCompactStamp(m[4]!);
  return start && end ? { source: m[1]!, stream: m[2]!, window: { start, end } } : undefined;
}

/** What every line of a window shares. */
export interface EnvelopeFields {
  readonly runId: string;
  readonly extractedAt: Date;
}

/**
 * Serialises records into envelope lines (DESIGN.md 3.2). The record is embedded exactly as
 * parsed from the API; the shared prefix is built once per page, not per record.
 */
export function envelopeLines(
  ref: WindowRef,
  fields: EnvelopeFields,
  records: readonly unknown[],
  serialize: (record: unknown) => string = (record) => JSON.stringify(record ?? null),
): string[] {
  const prefix =
    `{"_source":${JSON.stringify(ref.source)},"_stream":${JSON.stringify(ref.stream)},` +
    `"_window_start":"${isoSeconds(ref.window.start)}","_window_end":"${isoSeconds(ref.window.end)}",` +
    `"_extracted_at":"${fields.extractedAt.toISOString()}","_run_id":${JSON.stringify(fields.runId)},"data":`;
  return records.map((record) => `${prefix}${serialize(record)}}\n`);
}
