/**
 * What a window run takes and gives: its input, its result, and whether the window may be landed
 * yet. Shared by the whole-window run (runWindow.ts) and the slices of a durable one
 * (runWindowSlice.ts), which are one code path.
 */

import type { Clock } from '../clock.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { AbortedError, type ApilakeError, InputError } from '../errors.js';
import type { HttpClient } from '../http/HttpClient.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { formatDuration } from '../window/duration.js';
import { streamSettleMs } from '../window/streamTiming.js';
import { describeWindow, isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import type { ParentKeyCache } from './ParentKeyCache.js';

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
  /**
   * Why a window was skipped: committed before this run, or by a concurrent run while this one
   * landed it; for a curate-only run, its commit already has its typed table.
   */
  readonly skipReason?: 'already_committed' | 'concurrent_commit' | 'already_curated';
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
   * Set when the window's pages landed and it committed.
   */
  readonly slowestPartMs?: number;
  /**
   * Values per typed column that did not convert and were stored as NULL (the manifest's
   * `type_errors`), in the window's current commit; absent when none.
   */
  readonly typeErrors?: Readonly<Record<string, number>>;
  /** Problems that did not fail the window (a symlink not yet repaired, orphans left for gc). */
  readonly warnings?: readonly string[];
  readonly error?: ApilakeError | Error;
}

/** The figures of a window result that landed nothing: every count zero, no manifest, no run. */
export const NOTHING_LANDED = Object.freeze({
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
} satisfies Partial<WindowResult>);

/** The result of a window a stopped run never started: failed, having touched nothing. */
export function notStartedResult(source: SourceDefinition, job: { readonly stream: StreamDefinition; readonly window: TimeWindow }, signal: AbortSignal | undefined): WindowResult {
  return {
    ...NOTHING_LANDED,
    source: source.name,
    stream: job.stream.name,
    window: job.window,
    status: 'failed',
    error: new AbortedError(`not started: ${String(signal?.reason ?? 'the run was stopped')}`),
  };
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
