/**
 * Runs one stream over one window: an attempt of the commit protocol (sink/commitProtocol.ts)
 * walked through its stages, open, land the pages, commit, with the outcome turned into a
 * result. Every decision about commits and deletions is the protocol's.
 */

import { stopwatch, systemClock, type Clock } from '../clock.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { AbortedError, type ApilakeError, InputError } from '../errors.js';
import type { HttpClient, HttpStats } from '../http/HttpClient.js';
import { openWindow, type OpenedWindow } from '../sink/commitProtocol.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { newRunId, type WindowRef } from '../sink/lakeLayout.js';
import { buildManifest } from '../sink/manifest.js';
import { windowJobRecords } from '../sink/jobRecord.js';
import { WindowWriter } from '../sink/WindowWriter.js';
import { tableSpec } from '../tables/tableSpec.js';
import { formatDuration } from '../window/duration.js';
import { streamSettleMs } from '../window/streamTiming.js';
import { describeWindow, isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import { commitFigures, commitWindow } from './commitWindow.js';
import { landPages, type LandedPages } from './landPages.js';
import type { ParentKeyCache } from './ParentKeyCache.js';
import type { PageTally } from './streamPages.js';

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
  /** The run's parent keys, shared by its windows (parents paged once per run). @default paged for this window */
  readonly parents?: ParentKeyCache;
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
  /**
   * How long the slowest part of the window took to fill, in ms, its last part counted for as long
   * as it filled: what a window landed in slices must fit in an invocation (ingest/sliceReserve.ts).
   * Set when {@link runWindow} landed the window's pages.
   */
  readonly slowestPartMs?: number;
  /** Problems that did not fail the window (a symlink not yet repaired, orphans left for gc). */
  readonly warnings?: readonly string[];
  readonly error?: ApilakeError | Error;
}

/** The result of a window a stopped run never started: failed, having touched nothing. */
export function notStartedResult(source: SourceDefinition, job: { readonly stream: StreamDefinition; readonly window: TimeWindow }, signal: AbortSignal | undefined): WindowResult {
  return {
    source: source.name,
    stream: job.stream.name,
    window: job.window,
    status: 'failed',
    records: 0,
    pages: 0,
    parts: 0,
    bytes: 0,
    requests: 0,
    retries: 0,
    throttled: 0,
    durationMs: 0,
    manifestKey: '',
    runId: '',
    error: new AbortedError(`not started: ${String(signal?.reason ?? 'the run was stopped')}`),
  };
}

/** Runs one window. Never throws for a failed window: the result says `failed` and why. */
export async function runWindow(input: WindowRunInput): Promise<WindowResult> {
  const { source, stream, window, storage, client } = input;
  const clock = input.clock ?? systemClock;
  const startedAt = new Date(clock.now());
  const age = stopwatch(clock);
  const runId = input.runId ?? newRunId(startedAt);
  const ref: WindowRef = { source: source.name, stream: stream.name, window };
  const stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  const tally: PageTally = { pages: 0, parents: 0 };
  const storageCall = { signal: input.storageSignal };
  const warnings: string[] = [];
  const warn = (texts: readonly string[]) => warnings.push(...texts.map((text) => client.redactor.text(text)));
  const result = (status: WindowResult['status'], extra: Partial<WindowResult> = {}): WindowResult => ({
    source: source.name,
    stream: stream.name,
    window,
    status,
    records: 0,
    pages: tally.pages,
    parts: 0,
    bytes: 0,
    requests: stats.requests,
    retries: stats.retries,
    throttled: stats.throttled,
    durationMs: clock.now() - startedAt.getTime(),
    manifestKey: '',
    runId,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...extra,
  });
  const notReady = readiness(window, stream, clock.now());
  if (notReady) return result('failed', { error: notReady });

  let opened: OpenedWindow;
  try {
    opened = await openWindow(storage, ref, { ...storageCall, force: input.force });
  } catch (error) {
    return result('failed', { error: error as Error });
  }
  warn(opened.warnings);
  if (opened.kind === 'committed') return result('skipped', { skipReason: 'already_committed', ...commitFigures(ref, opened.state.manifest) });
  const { attempt } = opened;
  const baseKey = attempt.base.kind === 'empty' ? '' : attempt.base.key;

  const table = tableSpec(source, stream);
  const writer = new WindowWriter(storage, ref, { runId, partSizeBytes: Math.round(source.lake.part_size_mb * 1024 * 1024), ...(source.lake.parquet ? { table } : {}), ...storageCall });
  let landed: LandedPages;
  try {
    const job = stream.job ? { job: { ref, records: windowJobRecords(storage, ref, storageCall), commit: attempt.nextCommit, runId, clock } } : {};
    landed = await landPages({
      source,
      stream,
      window,
      client,
      writer,
      clock,
      stats,
      tally,
      onPage: input.onPage,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.parents ? { parents: input.parents } : {}),
      ...job,
    });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    await writer.abort(failure);
    warn(await attempt.abandon(writer.keys));
    return result('failed', { error: failure, manifestKey: baseKey });
  }

  const { files, decoding, filtered } = landed;
  const slowestPartMs = Math.round(Math.max(landed.longestPartMs ?? 0, landed.lastPartMs));
  const manifest = buildManifest({
    ref,
    commit: attempt.nextCommit,
    ...(attempt.replaces ? { replaces: attempt.replaces } : {}),
    runId,
    startedAt,
    committedAt: new Date(clock.now()),
    parts: files.parts,
    ...(files.curated ? { curated: files.curated } : {}),
    ...(files.typeErrors ? { typeErrors: files.typeErrors } : {}),
    table,
    pages: tally.pages,
    ...stats,
    ...decoding.manifestField(stream.response_encoding),
    ...(stream.incremental ? { filtered } : {}),
    ...(stream.parent ? { parents: tally.parents } : {}),
    ...(tally.ignored ? { ignoredPages: tally.ignored } : {}),
  });
  const committed = await commitWindow(attempt, manifest, writer.keys, { ref, storage, clock, age, storageSignal: input.storageSignal, jobRecord: stream.job !== undefined });
  warn(committed.warnings);
  return result(committed.status, { ...committed.fields, slowestPartMs });
}

/** Why a window may not be landed yet, or undefined when it may. */
export function readiness(window: TimeWindow, stream: StreamDefinition, nowMs: number): InputError | undefined {
  if (window.end.getTime() > nowMs) {
    // Committing a window that is still open would lose whatever arrives after now: it would be skipped as done.
    return new InputError(`window ${describeWindow(window)} has not ended yet; only complete windows are landed`);
  }
  const settleMs = streamSettleMs(stream);
  if (window.end.getTime() + settleMs > nowMs) {
    // The API may still show records of this window late (the stream's settle): landing it now would miss them for good.
    const from = new Date(window.end.getTime() + settleMs);
    return new InputError(
      `window ${describeWindow(window)} has not settled yet: stream "${stream.name}" lands a window only ${formatDuration(settleMs)} (settle) after it ends, from ${isoSeconds(from)}`,
    );
  }
  return undefined;
}
