/**
 * Builds the typed Parquet file of a committed window from its raw parts, without calling the
 * API, and commits it as the window's next commit: same raw parts, plus the curated file
 * (commitProtocol I2, I4). A window committed without one (landed before typed tables, or with
 * `lake.parquet: false`) gets one; forced, a window that has one gets it rebuilt under the
 * stream's columns of today, and its old file goes once the new commit is current (I5 b).
 */

import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { stopwatch, systemClock, type Clock } from '../clock.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { ApilakeError, SinkError } from '../errors.js';
import { parseJson } from '../body/preciseJson.js';
import { openWindow, type OpenedWindow } from '../sink/commitProtocol.js';
import { lazyStorageTime } from '../sink/storageClock.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { newRunId, partKey, type WindowRef } from '../sink/lakeLayout.js';
import { buildManifest } from '../sink/manifest.js';
import { CuratedFile } from '../sink/WindowWriter.js';
import { ColumnExtractor } from '../tables/ColumnExtractor.js';
import { hasTextRecords, tableSpec } from '../tables/tableSpec.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { NOTHING_LANDED, notStartedResult, type WindowResult } from './windowRun.js';
import { forEachWindow, type ForEachWindowInput } from './windowSelection.js';

/** Records handed to the Parquet writer at once. */
const BATCH = 2_000;

/** What {@link curateWindow} needs. */
export interface CurateInput {
  readonly source: SourceDefinition;
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
  readonly storage: LakeStorage;
  readonly clock?: Clock;
  /** Rebuild the table of a window whose commit has one already (after its `columns` changed). @default false */
  readonly force?: boolean;
}

/** Curates one window. Never throws for a window: the result says what happened. */
export async function curateWindow(input: CurateInput): Promise<WindowResult> {
  const { source, stream, window, storage } = input;
  const clock = input.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const age = stopwatch(clock);
  const runId = newRunId(startedAt);
  const ref: WindowRef = { source: source.name, stream: stream.name, window };
  const base = { ...NOTHING_LANDED, source: source.name, stream: stream.name, window, runId };
  const result = (status: WindowResult['status'], extra: Partial<WindowResult> = {}): WindowResult => ({ ...base, status, durationMs: clock.now() - startedAt.getTime(), ...extra });

  let opened: OpenedWindow;
  try {
    // Forced: a committed window is what this adds a commit to.
    opened = await openWindow(storage, ref, { force: true });
  } catch (error) {
    return result('failed', { error: error as Error });
  }
  if (opened.kind !== 'open') throw new Error('a forced open always opens an attempt');
  const { attempt } = opened;
  const state = attempt.base;
  if (state.kind === 'unreadable') return result('failed', { error: state.error });
  if (state.kind === 'empty') return result('skipped', { warnings: ['not committed: nothing to curate (land it with run or backfill)'] });
  const manifest = state.manifest;
  if (manifest.curated !== undefined && !input.force) return result('skipped', { skipReason: 'already_curated', records: manifest.totals.records, manifestKey: state.key, runId: manifest.run_id });

  const spec = tableSpec(source, stream);
  const extractor = spec.columns.length > 0 ? new ColumnExtractor(spec.columns, { textRecords: hasTextRecords(stream) }) : undefined;
  const key = partKey(ref, runId, 0, 'curated');
  // The file is this run's (its key); its rows are the records of the run that landed them, whose
  // id each envelope carries: a commit made by an earlier curation names that curation, not it.
  let file: CuratedFile | undefined;
  let landedBy: string | undefined;
  try {
    let data: string[] = [];
    let values: unknown[][] = [];
    let meta = { extractedAt: '', parent: null as string | null };
    const flush = async () => {
      if (data.length > 0) await file!.file.writePage({ extractedAt: meta.extractedAt, parent: meta.parent, data, values });
      data = [];
      values = [];
    };
    for (const part of manifest.parts) {
      const bytes = await storage.read(part.key);
      if (!bytes) throw new SinkError(`${state.key} lists ${part.key}, which cannot be read`);
      for await (const line of createInterface({ input: Readable.from([bytes]).pipe(createGunzip()), crlfDelay: Infinity })) {
        if (line === '') continue;
        // The record's text is everything after the envelope's `"data":`, exactly as it was landed.
        const at = line.indexOf('"data":');
        if (at < 0 || !line.endsWith('}')) throw new SinkError(`${part.key}: a line is not an apilake envelope`);
        const envelope = JSON.parse(`${line.slice(0, at)}"data":null}`) as { _extracted_at: string; _run_id?: unknown; _parent?: unknown };
        const lineRun = typeof envelope._run_id === 'string' ? envelope._run_id : manifest.run_id;
        landedBy ??= lineRun;
        if (lineRun !== landedBy) throw new SinkError(`${part.key}: records of two runs (${landedBy}, ${lineRun}) in one commit, which one Parquet file cannot hold`);
        file ??= new CuratedFile(key, spec, ref, landedBy, storage, {});
        // The key's JSON text as landed (`0.1000`, a number past 2^53), not as a float would print it; it ends with the comma before "data".
        const parent = envelope._parent === undefined ? null : line.slice(line.indexOf('"_parent":') + 10, at - 1);
        if (envelope._extracted_at !== meta.extractedAt || parent !== meta.parent || data.length >= BATCH) {
          await flush();
          meta = { extractedAt: envelope._extracted_at, parent };
        }
        const text = line.slice(at + 7, -1);
        data.push(text);
        values.push(extractor ? extractor.extract(parseJson(text).value) : []);
      }
    }
    await flush();
    // A window of no records gets no file, as a landing run writes none for it.
    const curated = file ? [await file.close()] : [];
    const next = buildManifest({
      ref,
      commit: attempt.nextCommit,
      replaces: { commit: state.commit, run_id: manifest.run_id },
      runId,
      startedAt,
      committedAt: new Date(clock.now()),
      parts: manifest.parts,
      curated,
      ...(extractor ? { typeErrors: extractor.typeErrors } : {}),
      table: spec,
      pages: manifest.pages,
      requests: 0,
      retries: 0,
      throttled: 0,
    });
    const outcome = await attempt.commit(next, file ? [key] : [], {
      age,
      sleep: (ms) => clock.sleep(ms),
      readBackSignal: AbortSignal.timeout(5_000),
      storageNow: lazyStorageTime(storage, source.name, {}),
    });
    const warnings = outcome.warnings.length > 0 ? { warnings: outcome.warnings } : {};
    if (outcome.kind === 'lost') {
      return result('skipped', { skipReason: 'concurrent_commit', manifestKey: outcome.key, ...(outcome.winner ? { records: outcome.winner.totals.records } : {}), ...warnings });
    }
    if (outcome.kind === 'failed') return result('failed', { error: outcome.error, manifestKey: outcome.key ?? state.key, ...warnings });
    return result('committed', {
      records: next.totals.records,
      parts: curated.length,
      bytes: curated[0]?.bytes ?? 0,
      manifestKey: outcome.key,
      ...(next.type_errors ? { typeErrors: next.type_errors } : {}),
      ...warnings,
    });
  } catch (error) {
    await file?.abort(error as Error);
    const left = await attempt.abandon([key]);
    return result('failed', { error: error instanceof Error ? error : new ApilakeError(String(error)), ...(left.length > 0 ? { warnings: left } : {}) });
  }
}

/** What {@link curateRange} needs: the windows (`concurrency` of them curated at once) and the lake. */
export interface CurateRangeInput extends ForEachWindowInput<WindowResult> {
  readonly storage: LakeStorage;
  /** Rebuild the tables of windows that have one too (`backfill --curate-only --force`). @default false */
  readonly force?: boolean;
}

/** `backfill --curate-only`: curates every window of a range, N at once; windows are generated as they run. */
export async function curateRange(input: CurateRangeInput): Promise<WindowResult[]> {
  return forEachWindow(
    input,
    ({ stream, window }) => curateWindow({ source: input.source, stream, window, storage: input.storage, ...(input.force ? { force: true } : {}) }),
    (job) => notStartedResult(input.source, job, input.signal),
  );
}
