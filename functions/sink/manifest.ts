/**
 * The manifest: one commit of a window. It lists every data file of the window's current
 * content; readers read exactly these files and nothing else (see `commitProtocol.ts`).
 */

import { SinkError } from '../errors.js';
import type { DecodingSummary } from '../body/DecodingTally.js';
import { parseStoredTableSpec, storedTableSpec, type StoredTableSpec } from '../tables/storedTableSpec.js';
import type { TableSpec } from '../tables/tableSpec.js';
import { isoSeconds } from '../window/TimeWindow.js';
import { parsePartKey, type DataKind, type WindowRef } from './lakeLayout.js';

/** One part as the manifest records it. */
export interface PartInfo {
  readonly key: string;
  readonly records: number;
  /** Compressed size of the object. */
  readonly bytes: number;
  /** Hex SHA-256 of the object's bytes. */
  readonly sha256: string;
}

/** The content of `manifests/…/<start>_<end>.<NNNNNN>.json`. */
export interface Manifest {
  /** 2 for commits of the attempt-scoped protocol; 1 for manifests of the single-manifest layout (commit 0). */
  readonly format: 1 | 2;
  readonly source: string;
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
  /** Its number in the window's history: 1 for the first commit, n + 1 for a replacement of n. */
  readonly commit: number;
  /** The commit this one replaced (a forced re-run), if any. */
  readonly replaces?: { readonly commit: number; readonly run_id: string };
  /** The run (attempt) that wrote the parts and this commit. */
  readonly run_id: string;
  readonly started_at: string;
  readonly committed_at: string;
  readonly duration_ms: number;
  /** The raw gzip JSON-lines parts: the window's records. */
  readonly parts: readonly PartInfo[];
  /** The typed Parquet files of the same records (`records` = rows), when the window has them. */
  readonly curated?: readonly PartInfo[];
  /**
   * The stream's table spec when the run committed (typed columns, primary key, cursor field), so
   * readers need no source definition; absent in commits made before the lake recorded it.
   */
  readonly table?: StoredTableSpec;
  /** Per typed column, values that did not convert and are NULL in the Parquet file (the text stays in `data`). */
  readonly type_errors?: Readonly<Record<string, number>>;
  readonly totals: { readonly records: number; readonly bytes: number; readonly parts: number };
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
  /** Present when some body was not landed byte for byte (a lenient `response_encoding`, a building `records` expression). */
  readonly decoding?: DecodingSummary;
  /** With `incremental`: records received whose cursor lay outside the window, dropped. */
  readonly filtered?: number;
  /** With `parent`: the distinct parent keys the window ran for. */
  readonly parents?: number;
  /** Pages a response rule ignored (counted as empty), when there were any. */
  readonly ignored_pages?: number;
}

/** What a run knows when it commits: the manifest's counters as they are, the rest in the run's terms. */
export interface ManifestInput extends Pick<Manifest, 'commit' | 'replaces' | 'parts' | 'curated' | 'pages' | 'requests' | 'retries' | 'throttled' | 'decoding' | 'filtered' | 'parents'> {
  /** Pages a response rule ignored. @default 0 */
  readonly ignoredPages?: number;
  readonly ref: WindowRef;
  readonly runId: string;
  readonly startedAt: Date;
  readonly committedAt: Date;
  readonly typeErrors?: Readonly<Record<string, number>>;
  /** The stream's table spec, recorded in the commit. */
  readonly table?: TableSpec;
}

/** Builds the manifest of a commit. */
export function buildManifest(input: ManifestInput): Manifest {
  const { ref, parts } = input;
  return {
    format: 2,
    source: ref.source,
    stream: ref.stream,
    window: { start: isoSeconds(ref.window.start), end: isoSeconds(ref.window.end) },
    commit: input.commit,
    ...(input.replaces ? { replaces: input.replaces } : {}),
    run_id: input.runId,
    started_at: input.startedAt.toISOString(),
    committed_at: input.committedAt.toISOString(),
    duration_ms: input.committedAt.getTime() - input.startedAt.getTime(),
    parts,
    ...(input.curated ? { curated: input.curated } : {}),
    ...(input.table ? { table: storedTableSpec(input.table) } : {}),
    ...(input.typeErrors && Object.values(input.typeErrors).some((n) => n > 0) ? { type_errors: input.typeErrors } : {}),
    totals: {
      records: parts.reduce((n, p) => n + p.records, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      parts: parts.length,
    },
    pages: input.pages,
    requests: input.requests,
    retries: input.retries,
    throttled: input.throttled,
    ...(input.decoding ? { decoding: input.decoding } : {}),
    ...(input.filtered !== undefined ? { filtered: input.filtered } : {}),
    ...(input.parents !== undefined ? { parents: input.parents } : {}),
    ...(input.ignoredPages ? { ignored_pages: input.ignoredPages } : {}),
  };
}

/** The bytes stored for a manifest. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Parses and checks a stored manifest against the key it was read from: it must describe that
 * window and commit, and list only parts of that window (and, from format 2, of its own run).
 * A truncated, foreign or tampered manifest is rejected, never half-trusted.
 * @throws SinkError saying what is wrong.
 */
export function parseManifest(bytes: Buffer, key: string, expected: { readonly ref: WindowRef; readonly commit: number }): Manifest {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new SinkError(`manifest ${key} is not valid JSON (${bytes.length} bytes; truncated or not written by apilake)`, { cause: error, context: { key } });
  }
  const fail = (why: string): never => {
    throw new SinkError(`manifest ${key} is not an apilake manifest of this window: ${why}`, { context: { key } });
  };
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('not a JSON object');
  const format = parsed.format ?? (parsed.version === 1 ? 1 : undefined);
  if (format !== 1 && format !== 2) return fail(`unknown format ${JSON.stringify(parsed.format ?? parsed.version)}`);
  const { ref } = expected;
  const window = parsed.window as { start?: unknown; end?: unknown } | undefined;
  if (parsed.source !== ref.source || parsed.stream !== ref.stream) fail(`it names ${String(parsed.source)}.${String(parsed.stream)}`);
  if (window?.start !== isoSeconds(ref.window.start) || window?.end !== isoSeconds(ref.window.end)) fail(`it names window [${String(window?.start)}, ${String(window?.end)})`);
  const commit = format === 1 ? 0 : parsed.commit;
  if (commit !== expected.commit) fail(`it says commit ${String(commit)}, its key says ${expected.commit}`);
  if (typeof parsed.run_id !== 'string' || parsed.run_id === '') fail('no run_id');
  if (!Array.isArray(parsed.parts)) fail('no parts list');
  // Raw parts may come from an earlier run (a commit that only added curated files keeps them), and
  // the files of a window landed in slices carry each slice's id: every file must belong to this window.
  const parts = (parsed.parts as unknown[]).map((part, i) => checkPart(part, `parts[${i}]`, ref, 'raw', undefined, fail));
  if (parsed.curated !== undefined && !Array.isArray(parsed.curated)) fail('curated is not a list');
  const curated = ((parsed.curated as unknown[] | undefined) ?? []).map((part, i) => checkPart(part, `curated[${i}]`, ref, 'curated', undefined, fail));
  const totals = parsed.totals as Manifest['totals'] | undefined;
  const records = parts.reduce((n, p) => n + p.records, 0);
  if (totals?.records !== records || totals.parts !== parts.length) fail(`totals (${totals?.records} records, ${totals?.parts} parts) disagree with its parts (${records}, ${parts.length})`);
  let table: StoredTableSpec | undefined;
  if (parsed.table !== undefined) {
    const stored = parseStoredTableSpec(parsed.table);
    if (!stored.ok) fail(`its table spec is not valid: ${stored.message}`);
    else table = stored.stored;
  }
  return { ...(parsed as unknown as Manifest), format, commit: commit as number, parts, ...(parsed.curated !== undefined ? { curated } : {}), ...(table ? { table } : {}) };
}

function checkPart(part: unknown, where: string, ref: WindowRef, kind: DataKind, runId: string | undefined, fail: (why: string) => never): PartInfo {
  const p = part as Partial<PartInfo> | null;
  if (!p || typeof p.key !== 'string' || !isCount(p.records) || !isCount(p.bytes) || typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)) {
    fail(`${where} is not {key, records, bytes, sha256}`);
  }
  const info = parsePartKey(p.key);
  const sameWindow =
    info &&
    info.kind === kind &&
    info.ref.source === ref.source &&
    info.ref.stream === ref.stream &&
    info.ref.window.start.getTime() === ref.window.start.getTime() &&
    info.ref.window.end.getTime() === ref.window.end.getTime();
  if (!sameWindow) fail(`${where} ${p.key} is not a ${kind} file of this window`);
  if (runId !== undefined && info.runId !== runId) fail(`${where} ${p.key} was written by another run`);
  return { key: p.key, records: p.records, bytes: p.bytes, sha256: p.sha256 };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
