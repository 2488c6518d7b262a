/**
 * The lake layout, shared by the filesystem and S3 sinks, the readers and infra. Every key a run
 * writes names the window it belongs to, and every data file also names the run (attempt) that
 * wrote it, so two attempts of one window never write the same key (see `commitProtocol.ts`):
 * ```
 * raw/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>_<run>_part-<NNNNN>.jsonl.gz   data, attempt-scoped
 * curated/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>_<run>_part-<NNNNN>.parquet the same records, typed
 * manifests/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>.<NNNNNN>.json           commit n of the window
 * symlinks/{raw,curated}/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>.txt        what Athena reads
 * jobs/source=<s>/stream=<t>/dt=<YYYY-MM-DD>/<start>_<end>.json                         a job stream's export job, until the window commits
 * ```
 * Keys of the single-manifest layout (`<start>_<end>_part-<NNNNN>.jsonl.gz`,
 * `<start>_<end>.json`) are still read: such a part has no run, such a manifest is commit 0.
 */

import { randomBytes } from 'node:crypto';
import type { TimeWindow } from '../window/TimeWindow.js';
import { isoSeconds } from '../window/TimeWindow.js';

/** Top-level prefix of the record parts. */
export const RAW_PREFIX = 'raw';
/** Top-level prefix of the commits, outside `raw/` so nothing that scans `raw/` reads them. */
export const MANIFEST_PREFIX = 'manifests';
/** Top-level prefix of the Athena symlink files (`symlinks/raw/…`), one per committed window. */
export const SYMLINK_PREFIX = 'symlinks';
/** Top-level prefix of the typed Parquet files, one per run of a window. */
export const CURATED_PREFIX = 'curated';
/** Top-level prefix of the job records of job streams: no reader lists it. */
export const JOBS_PREFIX = 'jobs';
/** File name ending of a part. */
export const PART_SUFFIX = '.jsonl.gz';
/** File name ending of a curated (Parquet) file. */
export const CURATED_SUFFIX = '.parquet';

/** The two kinds of data file a commit lists. */
export type DataKind = 'raw' | 'curated';

/** The top-level folders a source writes under. */
export type LakeArea = typeof RAW_PREFIX | typeof CURATED_PREFIX | typeof MANIFEST_PREFIX | typeof JOBS_PREFIX | `${typeof SYMLINK_PREFIX}/${DataKind}`;

/** The symlink area of raw parts. */
export const RAW_SYMLINKS: LakeArea = `${SYMLINK_PREFIX}/${RAW_PREFIX}`;
/** The symlink area of curated files. */
export const CURATED_SYMLINKS: LakeArea = `${SYMLINK_PREFIX}/${CURATED_PREFIX}`;

/** Every area a source's runs write. */
export const SOURCE_AREAS: readonly LakeArea[] = [RAW_PREFIX, CURATED_PREFIX, MANIFEST_PREFIX, RAW_SYMLINKS, CURATED_SYMLINKS, JOBS_PREFIX];

/** Identifies one window of one stream. */
export interface WindowRef {
  readonly source: string;
  readonly stream: string;
  readonly window: TimeWindow;
}

const NAME = '[a-z][a-z0-9_]*';
const STAMP = '\\d{8}T\\d{6}Z';
/** A run id: the attempt's start as a compact stamp, then 48 random bits. */
const RUN = `${STAMP}-[0-9a-f]{12}`;

/** `2024-01-01T00:00:00.000Z` → `20240101T000000Z`. */
export function compactStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** `20240101T000000Z` → the Date, or undefined when the text is not a compact stamp. */
export function parseCompactStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  // Date rolls 2024-02-30 over to March: only a stamp that formats back to itself is a date.
  return Number.isNaN(date.getTime()) || compactStamp(date) !== stamp ? undefined : date;
}

/**
 * A new run id, e.g. `20241125T120000Z-3fa9c2d4b1e0`: unique per attempt. The time in it is the
 * start by the clock of the machine that ran it, for people reading keys; no decision is made on
 * it (garbage collection dates an attempt by the storage's own timestamps: `commitProtocol.ts` I5).
 */
export function newRunId(startedAt: Date, random: () => Buffer = () => randomBytes(6)): string {
  return `${compactStamp(startedAt)}-${random().toString('hex').slice(0, 12).padEnd(12, '0')}`;
}

/** When the run started, read from its id; undefined for ids of another shape. */
export function runStartedAt(runId: string): Date | undefined {
  const m = new RegExp(`^(${STAMP})-[0-9a-f]{12}$`).exec(runId);
  return m ? parseCompactStamp(m[1]!) : undefined;
}

/** The `dt` partition of a window: its start's UTC date. */
export function partitionDate(window: TimeWindow): string {
  return window.start.toISOString().slice(0, 10);
}

/** `<area>/source=<s>/[stream=<t>/]`. */
export function streamPrefix(area: LakeArea, source: string, stream?: string): string {
  return `${area}/source=${source}/${stream === undefined ? '' : `stream=${stream}/`}`;
}

/**
 * The listing bounds (`ListOptions`) of the manifests of a stream's windows that start
 * between `first` and `last`, by whole UTC days: a window's manifests are kept under the day it
 * starts (`dt=`), and day folders sort in date order.
 */
export function manifestDayBounds(source: string, stream: string, first: Date, last: Date): { readonly startAfter: string; readonly before: string } {
  const prefix = streamPrefix(MANIFEST_PREFIX, source, stream);
  const dayAfterLast = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate() + 1));
  // `…/dt=2024-01-01` sorts just before every key under `…/dt=2024-01-01/`.
  return { startAfter: `${prefix}dt=${partitionDate({ start: first, end: first })}`, before: `${prefix}dt=${partitionDate({ start: dayAfterLast, end: dayAfterLast })}` };
}

/** `source=<s>/stream=<t>/dt=<d>/<start>_<end>`: what every key of a window starts with after its area. */
function windowBase(ref: WindowRef): string {
  return `source=${ref.source}/stream=${ref.stream}/dt=${partitionDate(ref.window)}/${compactStamp(ref.window.start)}_${compactStamp(ref.window.end)}`;
}

/** The key of part `n` (0-based) written by run `runId`: raw gzip JSON lines, or a curated Parquet file. */
export function partKey(ref: WindowRef, runId: string, n: number, kind: DataKind = 'raw'): string {
  const suffix = kind === 'raw' ? PART_SUFFIX : CURATED_SUFFIX;
  return `${kind === 'raw' ? RAW_PREFIX : CURATED_PREFIX}/${windowBase(ref)}_${runId}_part-${String(n).padStart(5, '0')}${suffix}`;
}

/** The prefix every data file of a kind of a window starts with, whatever run wrote it. */
export function windowPartPrefix(ref: WindowRef, kind: DataKind = 'raw'): string {
  return `${kind === 'raw' ? RAW_PREFIX : CURATED_PREFIX}/${windowBase(ref)}_`;
}

/** A data file key taken apart; `runId` is undefined for parts of the single-manifest layout. */
export interface PartKeyInfo {
  readonly ref: WindowRef;
  readonly kind: DataKind;
  readonly runId?: string;
  readonly index: number;
}

const PART_KEY = new RegExp(
  `^(${RAW_PREFIX}|${CURATED_PREFIX})/source=(${NAME})/stream=(${NAME})/dt=\\d{4}-\\d{2}-\\d{2}/(${STAMP})_(${STAMP})(?:_(${RUN}))?_part-(\\d{5})(\\.jsonl\\.gz|\\.parquet)$`,
);

/** Parses a raw part or curated file key, or undefined for any other key. */
export function parsePartKey(key: string): PartKeyInfo | undefined {
  const m = PART_KEY.exec(key);
  const ref = m && windowRefOf(m[2]!, m[3]!, m[4]!, m[5]!);
  if (!m || !ref) return undefined;
  const kind: DataKind = m[1] === RAW_PREFIX ? 'raw' : 'curated';
  if ((kind === 'raw') !== (m[8] === PART_SUFFIX)) return undefined;
  return { ref, kind, ...(m[6] ? { runId: m[6] } : {}), index: Number(m[7]) };
}

/** The key of commit `commit` (1, 2, …) of a window; commit 0 is the window's one manifest in the single-manifest layout. */
export function manifestKey(ref: WindowRef, commit: number): string {
  return commit === 0 ? `${MANIFEST_PREFIX}/${windowBase(ref)}.json` : `${MANIFEST_PREFIX}/${windowBase(ref)}.${String(commit).padStart(6, '0')}.json`;
}

/** The prefix of every commit of one window (and of no other window). */
export function windowManifestPrefix(ref: WindowRef): string {
  return `${MANIFEST_PREFIX}/${windowBase(ref)}.`;
}

const MANIFEST_KEY = new RegExp(`^${MANIFEST_PREFIX}/source=(${NAME})/stream=(${NAME})/dt=\\d{4}-\\d{2}-\\d{2}/(${STAMP})_(${STAMP})(?:\\.(\\d{6}))?\\.json$`);

/** Parses a manifest key into its window and commit number, or undefined for any other key. */
export function parseManifestKey(key: string): { readonly ref: WindowRef; readonly commit: number } | undefined {
  const m = MANIFEST_KEY.exec(key);
  const ref = m && windowRefOf(m[1]!, m[2]!, m[3]!, m[4]!);
  return m && ref ? { ref, commit: m[5] === undefined ? 0 : Number(m[5]) } : undefined;
}

/** An Athena symlink file of a window: the data files of one kind of its current commit, one URI a line. */
export function symlinkKey(ref: WindowRef, kind: DataKind = 'raw'): string {
  return `${SYMLINK_PREFIX}/${kind}/${windowBase(ref)}.txt`;
}

const SYMLINK_KEY = new RegExp(`^${SYMLINK_PREFIX}/(raw|curated)/source=(${NAME})/stream=(${NAME})/dt=\\d{4}-\\d{2}-\\d{2}/(${STAMP})_(${STAMP})\\.txt$`);

/** Parses a symlink key into its window, or undefined for any other key. */
export function parseSymlinkKey(key: string): WindowRef | undefined {
  const m = SYMLINK_KEY.exec(key);
  return m ? windowRefOf(m[2]!, m[3]!, m[4]!, m[5]!) : undefined;
}

/** The kind of data a symlink key lists. */
export function symlinkKind(key: string): DataKind | undefined {
  return SYMLINK_KEY.exec(key)?.[1] as DataKind | undefined;
}

/**
 * The job record of a window of a job stream: the export job its attempts share, written once the
 * job is created and removed once the window commits (docs/lake.md, job records).
 */
export function jobRecordKey(ref: WindowRef): string {
  return `${JOBS_PREFIX}/${windowBase(ref)}.json`;
}

const JOB_RECORD_KEY = new RegExp(`^${JOBS_PREFIX}/source=(${NAME})/stream=(${NAME})/dt=\\d{4}-\\d{2}-\\d{2}/(${STAMP})_(${STAMP})\\.json$`);

/** Parses a job record key into its window, or undefined for any other key. */
export function parseJobRecordKey(key: string): WindowRef | undefined {
  const m = JOB_RECORD_KEY.exec(key);
  return m ? windowRefOf(m[1]!, m[2]!, m[3]!, m[4]!) : undefined;
}

/**
 * Where gc reads the storage's clock: a small probe object a source's runs and gc write and
 * delete again (`storageClock.ts`). It lies under the source's own commit area, which the
 * function may write, yet outside every stream's prefix, so no listing of a stream sees it.
 */
export function clockProbePrefix(source: string): string {
  return `${MANIFEST_PREFIX}/source=${source}/_clock/`;
}

/** The key of one clock probe of a source. */
export function clockProbeKey(source: string, id: string): string {
  return `${clockProbePrefix(source)}${id}.probe`;
}

/** A stable text key of a window, for maps. */
export function windowId(ref: WindowRef): string {
  return windowBase(ref);
}

function windowRefOf(source: string, stream: string, start: string, end: string): WindowRef | undefined {
  const s = parseCompactStamp(start);
  const e = parseCompactStamp(end);
  return s && e && s < e ? { source, stream, window: { start: s, end: e } } : undefined;
}

/** What every line of a window shares. */
export interface EnvelopeFields {
  readonly runId: string;
  readonly extractedAt: Date;
  /** JSON text of the parent record's key, for child streams: the line then carries `_parent`. */
  readonly parent?: string;
}

/**
 * Serialises records into envelope lines. The record is embedded exactly as parsed from the API;
 * the shared prefix is built once per page, not per record.
 */
export function envelopeLines(ref: WindowRef, fields: EnvelopeFields, records: readonly unknown[], serialize: (record: unknown) => string = (record) => JSON.stringify(record ?? null)): string[] {
  const prefix =
    `{"_source":${JSON.stringify(ref.source)},"_stream":${JSON.stringify(ref.stream)},` +
    `"_window_start":"${isoSeconds(ref.window.start)}","_window_end":"${isoSeconds(ref.window.end)}",` +
    `"_extracted_at":"${fields.extractedAt.toISOString()}","_run_id":${JSON.stringify(fields.runId)},"data":`;
  return records.map((record) => `${prefix}${serialize(record)}}\n`);
}
