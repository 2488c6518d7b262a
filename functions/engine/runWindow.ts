/**
 * Runs one stream over one window: find the window's current commit, skip it if committed, page
 * through the API streaming envelope lines into this run's parts, then commit. Every decision
 * about commits and deletions is the commit protocol's (`sink/commitProtocol.ts`); this module
 * calls it in order and turns the outcome into a result.
 */

import { systemClock, type Clock } from '../clock.js';
import { streamSettleMs } from '../config/checkSource.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { ApilakeError, InputError, SinkError } from '../errors.js';
import type { HttpClient, HttpStats } from '../http/HttpClient.js';
import { DecodingTally } from '../records/DecodingTally.js';
import type { RecordBatch } from '../records/RecordBatch.js';
import {
  collectWindowGarbage,
  commitWindow,
  currentCommitNumber,
  dataFiles,
  deleteParts,
  MAX_ATTEMPT_MS,
  publishSymlink,
  readWindowState,
  type WindowState,
} from '../sink/commitProtocol.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { manifestKey, newRunId, type WindowRef } from '../sink/lakeLayout.js';
import { buildManifest, type Manifest } from '../sink/manifest.js';
import { WindowWriter, type RecordsMeta, type WrittenFiles } from '../sink/WindowWriter.js';
import { tableSpec } from '../tables/tableSpec.js';
import { describeWindow, isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import { formatDuration } from '../window/duration.js';
import { streamPages, type PageTally } from './streamPages.js';

/** What a window run needs. */
export interface WindowRunInput {
  readonly source: SourceDefinition;
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
  readonly client: HttpClient;
  readonly storage: LakeStorage;
  /** Replace a committed window with a new commit. @default false */
  readonly force?: boolean;
  /** Stops the window between pages (deadline, Ctrl-C); it then fails cleanly. */
  readonly signal?: AbortSignal;
  /**
   * Bounds every storage call (the invocation's hard deadline in Lambda), so a stalled S3 call
   * fails the window instead of outliving the function. @default unbounded
   */
  readonly storageSignal?: AbortSignal;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default a new run id from the clock */
  readonly runId?: string;
  /** Called after each page lands in the writer. */
  readonly onPage?: (page: { index: number; records: number }) => void;
}

/** The outcome of one window, also what progress lines and metrics report. */
export interface WindowResult {
  readonly source: string;
  readonly stream: string;
  readonly window: TimeWindow;
  readonly status: 'committed' | 'skipped' | 'failed';
  /** Why a window was skipped: committed before this run, or by a concurrent run while this one landed it. */
  readonly skipReason?: 'already_committed' | 'concurrent_commit';
  readonly records: number;
  readonly pages: number;
  readonly parts: number;
  /** Compressed bytes landed. */
  readonly bytes: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
  readonly durationMs: number;
  /** The window's current commit, when there is one. */
  readonly manifestKey: string;
  /** This run's id, or the committing run's when skipped. */
  readonly runId: string;
  /** Problems that did not fail the window (a symlink not yet repaired, orphans left for gc). */
  readonly warnings?: readonly string[];
  readonly error?: ApilakeError | Error;
}

/** Runs one window. Never throws for a failed window: the result says `failed` and why. */
export async function runWindow(input: WindowRunInput): Promise<WindowResult> {
  const { source, stream, window, storage, client } = input;
  const clock = input.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const runId = input.runId ?? newRunId(startedAt);
  const ref: WindowRef = { source: source.name, stream: stream.name, window };
  const stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  const storageCall = { signal: input.storageSignal };
  const warnings: string[] = [];
  let pages = 0;
  let currentKey = '';
  const result = (status: WindowResult['status'], extra: Partial<WindowResult> = {}): WindowResult => ({
    source: source.name,
    stream: stream.name,
    window,
    status,
    records: 0,
    pages,
    parts: 0,
    bytes: 0,
    requests: stats.requests,
    retries: stats.retries,
    throttled: stats.throttled,
    durationMs: clock.now() - startedAt.getTime(),
    manifestKey: currentKey,
    runId,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...extra,
  });
  const figures = (manifest: Manifest) => ({ records: manifest.totals.records, parts: manifest.totals.parts, bytes: manifest.totals.bytes, manifestKey: manifestKey(ref, manifest.commit) });
  const warn = (what: string, error: unknown) => warnings.push(`${what}: ${client.redactor.text(error instanceof Error ? error.message : String(error))}`);

  if (window.end.getTime() > clock.now()) {
    // Committing a window that is still open would lose whatever arrives after now: it would be skipped as done.
    return result('failed', { error: new InputError(`window ${describeWindow(window)} has not ended yet; only complete windows are landed`) });
  }
  const settleMs = streamSettleMs(stream);
  if (window.end.getTime() + settleMs > clock.now()) {
    // The API may still show records of this window late (the stream's settle): landing it now would miss them for good.
    const from = new Date(window.end.getTime() + settleMs);
    return result('failed', {
      error: new InputError(`window ${describeWindow(window)} has not settled yet: stream "${stream.name}" lands a window only ${formatDuration(settleMs)} (settle) after it ends, from ${isoSeconds(from)}`),
    });
  }

  let base: WindowState;
  try {
    base = await readWindowState(storage, ref, storageCall);
  } catch (error) {
    return result('failed', { error: new SinkError(`cannot tell whether the window is committed, so it was not touched: ${(error as Error).message}`, { cause: error }) });
  }
  if (base.kind !== 'empty') currentKey = base.key;
  if (base.kind === 'committed' && !input.force) {
    try {
      await publishSymlink(storage, ref, { ...storageCall, known: base });
    } catch (error) {
      warn('the Athena symlink could not be repaired (apilake gc repairs it)', error);
    }
    return result('skipped', { skipReason: 'already_committed', ...figures(base.manifest), runId: base.manifest.run_id });
  }
  if (base.kind === 'unreadable') warnings.push(`${base.error.message}; the window counts as not committed and is landed again as commit ${base.commit + 1}`);

  const decoding = new DecodingTally();
  const writer = new WindowWriter(storage, ref, {
    runId,
    partSizeBytes: Math.round(source.lake.part_size_mb * 1024 * 1024),
    ...(source.lake.parquet ? { table: tableSpec(source, stream) } : {}),
    ...storageCall,
  });
  const tally: PageTally = { pages: 0, parents: 0 };
  let filtered = 0;
  // Ends whatever paging is still in flight when the window ends early (a failure, an early stop of concurrent parents).
  const paging = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, paging.signal]) : paging.signal;
  let files: WrittenFiles;
  try {
    // A page lands after its body ended (below), or, once its turn has come, while its body
    // still arrives (a large page, through landEarly); both parts of it carry one extraction time.
    const earlyMeta = new Map<number, RecordsMeta>();
    const landEarly = async (index: number, batch: RecordBatch) => {
      let meta = earlyMeta.get(index);
      if (!meta) earlyMeta.set(index, (meta = { extractedAt: new Date(clock.now()) }));
      await writer.writeRecords(batch, meta);
    };
    const landing = streamPages({ source, window, client, signal, stats, tally, landEarly }, stream, () => tally.parents++);
    for await (const page of landing) {
      decoding.add(page.page.response.stats);
      filtered += page.filtered;
      // The records go to the raw part as the API's bytes, and to the Parquet file, in one pass.
      const meta = page.parent ? { extractedAt: new Date(clock.now()), parent: page.parent.key.json } : (earlyMeta.get(page.page.index) ?? { extractedAt: new Date(clock.now()) });
      earlyMeta.delete(page.page.index);
      for (const batch of page.batches) await writer.writeRecords(batch, meta);
      pages = tally.pages;
      input.onPage?.({ index: page.page.index, records: page.records });
    }
    pages = tally.pages;
    files = await writer.finish();
    const age = clock.now() - startedAt.getTime();
    if (age > MAX_ATTEMPT_MS) {
      // Past this age its parts may already be collected as orphans by gc (commitProtocol I4, I5).
      throw new ApilakeError(`the run took ${formatDuration(Math.round(age / 60_000) * 60_000)}, more than the ${formatDuration(MAX_ATTEMPT_MS)} a run may take before committing; use a smaller window`);
    }
  } catch (error) {
    pages = tally.pages;
    // No commit was tried: this run's parts can never be referenced, so they go (I5 a).
    const failure = error instanceof Error ? error : new Error(String(error));
    try {
      await writer.discard(failure);
    } catch (cleanupError) {
      warn('cleanup', cleanupError);
    }
    return result('failed', { error: failure });
  } finally {
    paging.abort('the window has finished paging');
  }

  const manifest = buildManifest({
    ref,
    commit: currentCommitNumber(base) + 1,
    ...(base.kind === 'committed' ? { replaces: { commit: base.commit, run_id: base.manifest.run_id } } : {}),
    runId,
    startedAt,
    committedAt: new Date(clock.now()),
    parts: files.parts,
    ...(files.curated ? { curated: files.curated } : {}),
    ...(files.typeErrors ? { typeErrors: files.typeErrors } : {}),
    pages,
    ...stats,
    ...decoding.manifestField(stream.response_encoding),
    ...(stream.incremental ? { filtered } : {}),
    ...(stream.parent ? { parents: tally.parents } : {}),
  });
  const outcome = await commitWindow(storage, ref, manifest, {
    ...storageCall,
    // The read-back that settles an unknown outcome gets a few seconds of its own, even past the deadline.
    readBackSignal: AbortSignal.timeout(5_000),
    sleep: (ms) => clock.sleep(ms, input.storageSignal),
  });

  if (outcome.kind === 'unknown') {
    return result('failed', { error: outcome.error, manifestKey: outcome.key });
  }
  if (outcome.kind === 'lost') {
    try {
      await deleteParts(storage, ref, writer.keys, storageCall);
    } catch (error) {
      warn('this run lost the commit; its parts are left for gc', error);
    }
    const winner = outcome.winner;
    return result('skipped', {
      skipReason: 'concurrent_commit',
      ...(winner ? { ...figures(winner), runId: winner.run_id } : { manifestKey: outcome.key }),
    });
  }

  // Committed. What follows only tidies up; a failure here is a warning, never a failed window.
  currentKey = outcome.key;
  try {
    await publishSymlink(storage, ref, storageCall);
  } catch (error) {
    // Athena may still read the replaced commit's files through the old symlink: none may go yet.
    warn('the Athena symlink was not written, so the files it may still list are kept (the next run of this window or apilake gc writes it)', error);
    return result('committed', figures(outcome.manifest));
  }
  if (base.kind === 'committed') {
    try {
      const kept = new Set(dataFiles(outcome.manifest).map((p) => p.key));
      await deleteParts(storage, ref, dataFiles(base.manifest).map((p) => p.key).filter((key) => !kept.has(key)), storageCall);
    } catch (error) {
      warn('the parts of the replaced commit are left for gc', error);
    }
  }
  try {
    await collectWindowGarbage(storage, ref, { ...storageCall, nowMs: clock.now() });
  } catch (error) {
    warn('orphans of earlier runs are left for gc', error);
  }
  return result('committed', figures(outcome.manifest));
}
