/**
 * Runs one stream over one window in slices, for a window that may not finish inside one Lambda
 * invocation: each slice lands pages until it is asked to stop, stops at the next part boundary,
 * and returns a checkpoint ({@link WindowCheckpoint}) that the next slice, in another invocation,
 * starts from. The attempt is one attempt of the commit protocol (sink/commitProtocol.ts) from its
 * first slice to its commit: one run id in every envelope and in the manifest, one put-if-absent
 * commit at the end listing every slice's files, nothing visible before it.
 *
 * Each slice writes its files under a slice id of its own (the first slice under the run id), so
 * two invocations taking up one checkpoint never write the same key: they race to the commit, one
 * wins, and the other removes only the files of its own last slice. Files of a slice that never
 * reached a checkpoint (a killed invocation) are orphans of a dead attempt, removed by gc past the
 * horizon. A slice takes up a checkpoint only while the attempt is younger than the commit
 * protocol allows (I4), so gc never removes a file a live attempt may still commit.
 *
 * Parts end at page ends (the writer is page-aligned), so where a sliced window's parts end does not
 * depend on where its slices ended: its raw parts are byte for byte those of an uninterrupted run
 * with the same run id and clock. A resumed slice fetches again only the page that would have
 * started the next part. A stream with a parent or `max_results` lands its pages in one slice. A
 * job stream's window may first pause while its export job runs (`pauseJobWhen`): such a slice
 * lands nothing, and its checkpoint says to poll the job again. The slice that finds the job done
 * downloads its results, and may stop within the download like any paged window: at a part
 * boundary of a paged `download.path`, or right after a result file of `download.urls` (so no
 * file is fetched twice; its parts then end where its slices did), or at a part boundary within a
 * file that can be taken up there by byte offset (fetchPage.ts). The slice after it polls the
 * same job once more and goes on downloading; the slice that lands the last page commits.
 */

import { stopwatch, systemClock } from '../clock.js';
import { DecodingTally, type DecodingCounts } from '../body/DecodingTally.js';
import { ApilakeError } from '../errors.js';
import type { HttpStats } from '../http/HttpClient.js';
import { attemptExpired, openWindow, type OpenedWindow } from '../sink/commitProtocol.js';
import { newRunId, type WindowRef } from '../sink/lakeLayout.js';
import { buildManifest } from '../sink/manifest.js';
import { windowJobRecords } from '../sink/jobRecord.js';
import { WindowWriter, type WrittenFiles } from '../sink/WindowWriter.js';
import { hasTextRecords, tableSpec } from '../tables/tableSpec.js';
import { commitFigures, commitWindow } from './commitWindow.js';
import { JobPendingError } from './jobPages.js';
import { landPages, type LandedPages, type PartPace } from './landPages.js';
import { readiness, type WindowResult, type WindowRunInput } from './windowRun.js';
import type { PageTally } from './streamPages.js';
import { checkpointJson, parseWindowCheckpoint, type WindowCheckpoint } from './WindowCheckpoint.js';
import { isJobDownload, isJobPoll, type SliceCursor } from './WindowCursor.js';

/** What a slice needs: a window run's input, where to start, and when to stop. */
export interface WindowSliceInput extends WindowRunInput {
  /** The checkpoint the previous slice returned. @default the window's first slice */
  readonly checkpoint?: WindowCheckpoint;
  /**
   * Asked after each page lands, with how long the window's parts take to fill: once true, the
   * slice stops at the next part boundary and returns a checkpoint (a function's deadline drawing
   * near). @default never: the slice lands the whole window
   */
  readonly stopWhen?: (pace: PartPace) => boolean;
  /**
   * Let a part roll only between pages, so a later slice can start from any part boundary.
   * @default whether the stream can be sliced ({@link canSlice})
   */
  readonly pageAligned?: boolean;
  /**
   * Asked, for a job stream, before each wait for the job's next poll, with the wait in ms: once
   * true, the slice pauses with a checkpoint that polls the job again (a function's deadline drawing
   * near, or a wait that costs less suspended than in a running invocation).
   * @default never: the slice waits for the job however long it takes
   */
  readonly pauseJobWhen?: (nextPollInMs: number) => boolean;
}

/** How a slice ended. */
export type WindowSliceOutcome =
  /** The window is not finished: the next slice starts from `checkpoint`. */
  | { readonly kind: 'paused'; readonly checkpoint: WindowCheckpoint; readonly slicePages: number }
  /** The window ended (committed, skipped or failed). */
  | { readonly kind: 'done'; readonly result: WindowResult };

/** Whether a stream's window can be landed in several slices. */
export function canSlice(stream: WindowRunInput['stream']): boolean {
  // A split window (max_results) is several walks, and a parent's keys are paged anew with each slice.
  return stream.parent === undefined && stream.max_results === undefined;
}

/** Why `stream`'s window cannot go on from `next`, if it cannot. */
function cursorMismatch(next: SliceCursor, stream: WindowRunInput['stream']): string | undefined {
  if (isJobPoll(next) || isJobDownload(next)) return stream.job ? undefined : `it ${isJobPoll(next) ? 'polls' : 'downloads the results of'} a job, and the stream has none`;
  if (!canSlice(stream)) return 'the stream has a parent or max_results';
  return stream.job ? "it pages the stream's own path, and the stream is a job stream" : undefined;
}

/** Runs one slice of a window. Never throws for a failed window: the result says `failed` and why. */
export async function runWindowSlice(input: WindowSliceInput): Promise<WindowSliceOutcome> {
  const { source, stream, window, storage, client } = input;
  const clock = input.clock ?? systemClock;
  const sliceStart = clock.now();
  const sliceAge = stopwatch(clock);
  const prior = input.checkpoint && parseWindowCheckpoint(input.checkpoint);
  const startedAt = prior ? new Date(prior.startedAt) : new Date(sliceStart);
  const runId = prior?.runId ?? input.runId ?? newRunId(startedAt);
  // The attempt's age: from its first slice by the wall clock, and never less than this slice's own (I4).
  const age = () => Math.max(clock.now() - startedAt.getTime(), sliceAge());
  const ref: WindowRef = { source: source.name, stream: stream.name, window };
  const stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  const tally: PageTally = { pages: 0, parents: 0 };
  const storageCall = { signal: input.storageSignal };
  const warnings: string[] = [];
  const warn = (texts: readonly string[]) => warnings.push(...texts.map((text) => client.redactor.text(text)));
  const counters = prior?.counters;
  const done = (status: WindowResult['status'], extra: Partial<WindowResult> = {}): WindowSliceOutcome => ({
    kind: 'done',
    result: {
      source: source.name,
      stream: stream.name,
      window,
      status,
      records: 0,
      pages: (counters?.pages ?? 0) + tally.pages,
      parts: 0,
      bytes: 0,
      requests: (counters?.requests ?? 0) + stats.requests,
      retries: (counters?.retries ?? 0) + stats.retries,
      throttled: (counters?.throttled ?? 0) + stats.throttled,
      durationMs: clock.now() - startedAt.getTime(),
      manifestKey: '',
      runId,
      ...(warnings.length > 0 ? { warnings } : {}),
      ...extra,
    },
  });

  const mismatch = prior && cursorMismatch(prior.next, stream);
  if (mismatch) return done('failed', { error: new ApilakeError(`stream "${stream.name}": its window cannot be continued from this checkpoint: ${mismatch}`) });
  if (!prior) {
    const notReady = readiness(window, stream, clock.now());
    if (notReady) return done('failed', { error: notReady });
  } else {
    // A checkpoint older than a run may take can no longer commit, and gc may already be removing its files (I4, I5 c).
    const tooOld = attemptExpired(age());
    if (tooOld) return done('failed', { error: new ApilakeError(`${tooOld}; its files are left for gc`) });
  }

  let opened: OpenedWindow;
  try {
    // A continued attempt reads the window again: the commit it found must still be the current one.
    opened = await openWindow(storage, ref, { ...storageCall, force: prior ? true : input.force });
  } catch (error) {
    return done('failed', { error: error as Error });
  }
  warn(opened.warnings);
  if (opened.kind === 'committed') return done('skipped', { skipReason: 'already_committed', ...commitFigures(ref, opened.state.manifest) });
  const { attempt } = opened;
  const baseKey = attempt.base.kind === 'empty' ? '' : attempt.base.key;
  if (prior && attempt.nextCommit !== prior.commit) {
    // Another run committed the window since this attempt began: this attempt lost; its files are orphans for gc.
    const winner = attempt.base.kind === 'committed' ? commitFigures(ref, attempt.base.manifest) : { manifestKey: baseKey };
    return done('skipped', { skipReason: 'concurrent_commit', ...winner });
  }

  const sliced = canSlice(stream);
  const table = tableSpec(source, stream);
  const fileRunId = prior ? newRunId(new Date(sliceStart)) : runId;
  const writer = new WindowWriter(storage, ref, {
    runId,
    fileRunId,
    firstPart: prior?.parts.length ?? 0,
    pageAligned: input.pageAligned ?? sliced,
    partSizeBytes: Math.round(source.lake.part_size_mb * 1024 * 1024),
    ...(source.lake.parquet ? { table, textRecords: hasTextRecords(stream) } : {}),
    ...storageCall,
  });
  let landed: LandedPages | undefined;
  let pending: JobPendingError | undefined;
  try {
    // A job stream's job record lives beside the window until the commit, so a slice after a pause, or within the download, polls the same job.
    const pauseWhen = input.pauseJobWhen ? { pauseWhen: input.pauseJobWhen } : {};
    const job = stream.job ? { job: { ref, records: windowJobRecords(storage, ref, storageCall), commit: attempt.nextCommit, runId, clock, ...pauseWhen } } : {};
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
      ...(prior && !isJobPoll(prior.next) ? { resume: prior.next } : {}),
      ...(prior?.longestPartMs === undefined ? {} : { longestPartMs: prior.longestPartMs }),
      ...(sliced && input.stopWhen ? { stopWhen: input.stopWhen } : {}),
      ...job,
    });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    await writer.abort(failure);
    // The job still runs, and its record stays for the next slice: nothing was written (its results are downloaded once it is done).
    if (error instanceof JobPendingError && writer.keys.length === 0) pending = error;
    else {
      // Only this slice's files: earlier slices' files may be listed by a commit of another invocation of this attempt.
      warn(await attempt.abandon(writer.keys));
      return done('failed', { error: failure, manifestKey: baseKey });
    }
  }

  const files: WrittenFiles = landed?.files ?? { parts: [] };
  const parts = [...(prior?.parts ?? []), ...files.parts];
  const curated = files.curated && [...(prior?.curated ?? []), ...files.curated];
  const decoding = addDecoding(counters?.decoding, (landed?.decoding ?? new DecodingTally()).counts());
  const typeErrors = addCounts(counters?.typeErrors, files.typeErrors);
  const sums = {
    pages: (counters?.pages ?? 0) + tally.pages,
    filtered: (counters?.filtered ?? 0) + (landed?.filtered ?? 0),
    requests: (counters?.requests ?? 0) + stats.requests,
    retries: (counters?.retries ?? 0) + stats.retries,
    throttled: (counters?.throttled ?? 0) + stats.throttled,
  };

  const next: SliceCursor | undefined = pending ? { job: 'poll', pollInMs: pending.pollInMs } : landed?.next;
  if (next) {
    const checkpoint: WindowCheckpoint = {
      format: 1,
      runId,
      startedAt: startedAt.toISOString(),
      commit: attempt.nextCommit,
      slices: (prior?.slices ?? 0) + 1,
      next,
      ...(landed?.longestPartMs === undefined ? {} : { longestPartMs: Math.round(landed.longestPartMs) }),
      parts,
      ...(curated ? { curated } : {}),
      counters: { ...sums, decoding, ...(typeErrors ? { typeErrors } : {}) },
    };
    try {
      // The durable execution service stores the checkpoint and shows it in its console: no credential may be in it.
      if (client.redactor.holdsCredential(checkpointJson(checkpoint))) {
        throw new ApilakeError(
          `the window's next request holds a credential where the client does not set it (its path, body or a paging header), and a checkpoint is stored by the durable execution service: this stream's windows must land within one invocation (a longer function timeout or a shorter window)`,
        );
      }
    } catch (error) {
      warn(await attempt.abandon(writer.keys));
      return done('failed', { error: error as Error, manifestKey: baseKey });
    }
    return { kind: 'paused', checkpoint, slicePages: tally.pages };
  }

  // A slice without a next request landed its pages: only a job that is still running stops one before them.
  const { longestPartMs, lastPartMs } = landed!;
  const manifest = buildManifest({
    ref,
    commit: attempt.nextCommit,
    ...(attempt.replaces ? { replaces: attempt.replaces } : {}),
    runId,
    startedAt,
    committedAt: new Date(clock.now()),
    parts,
    ...(curated ? { curated } : {}),
    ...(typeErrors ? { typeErrors } : {}),
    table,
    pages: sums.pages,
    requests: sums.requests,
    retries: sums.retries,
    throttled: sums.throttled,
    ...new DecodingTally(decoding).manifestField(stream.response_encoding),
    ...(stream.incremental ? { filtered: sums.filtered } : {}),
    ...(stream.parent ? { parents: tally.parents } : {}),
    // An ignored page ends its paging, so only the last slice (or the one slice of a parent's stream) has any.
    ...(tally.ignored ? { ignoredPages: tally.ignored } : {}),
  });
  // Only this slice's files are this invocation's own: a losing invocation must not remove files the winner lists.
  const committed = await commitWindow(attempt, manifest, writer.keys, { ref, storage, clock, age, storageSignal: input.storageSignal, jobRecord: stream.job !== undefined });
  warn(committed.warnings);
  // The slowest part of every slice: the checkpoint carried the earlier slices' into this one's pace.
  const slowestPartMs = Math.round(Math.max(longestPartMs ?? 0, lastPartMs));
  return done(committed.status, { ...committed.fields, slowestPartMs });
}

function addDecoding(a: DecodingCounts | undefined, b: DecodingCounts): DecodingCounts {
  if (!a) return b;
  return { replaced: a.replaced + b.replaced, transcoded: a.transcoded + b.transcoded, reserialised: a.reserialised + b.reserialised, bomPages: a.bomPages + b.bomPages };
}

function addCounts(a: Readonly<Record<string, number>> | undefined, b: Readonly<Record<string, number>> | undefined): Record<string, number> | undefined {
  if (!a && !b) return undefined;
  const sum: Record<string, number> = { ...a };
  for (const [k, n] of Object.entries(b ?? {})) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}
