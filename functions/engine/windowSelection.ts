/** Which windows a command runs: the streams of a source it names, and their windows in a range, the latest, or a list. */

import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { InputError } from '../errors.js';
import { landedStreams } from '../config/landedStreams.js';
import { formatDuration } from '../window/duration.js';
import { streamSettleMs, streamWindowMs } from '../window/streamTiming.js';
import { countWindowsIn, isoSeconds, windowBefore, windowsIn, type TimeWindow } from '../window/TimeWindow.js';

/**
 * Most windows one command may run, all streams together: a year of 5-minute windows of two
 * streams (105,408 each in a leap year), or of hourly windows of 28. Past it a typo such as
 * `--to 9999-12-31` fails at once, saying how many windows it asked for, instead of starting a run
 * that cannot end.
 */
export const MAX_WINDOWS_PER_COMMAND = 250_000;

/** What windows to run: a range split into each stream's windows, or explicit windows. */
export type WindowSelection =
  /** Every window overlapping `[from, to)` that has ended and settled by `completeBy` (default: no limit). */
  | { readonly kind: 'range'; readonly from: Date; readonly to: Date; readonly completeBy?: Date }
  /** The latest window, per stream, that has ended and settled by `at`: what a schedule tick runs. */
  | { readonly kind: 'latest'; readonly at: Date }
  | { readonly kind: 'windows'; readonly windows: readonly TimeWindow[] };

/** The streams of a source a run covers: the landed ones. @throws InputError for an unknown stream, or one that is not landed. */
export function selectStreams(source: SourceDefinition, stream?: string): StreamDefinition[] {
  const landed = landedStreams(source);
  if (stream === undefined) return landed;
  const found = source.streams.find((s) => s.name === stream);
  if (!found) throw new InputError(`source "${source.name}" has no stream "${stream}" (streams: ${landed.map((s) => s.name).join(', ')})`);
  if (!found.land) {
    const children = source.streams.filter((s) => s.parent?.stream === stream).map((s) => `"${s.name}"`);
    throw new InputError(`stream "${stream}" of source "${source.name}" is not landed (land: false): it only serves as the parent of ${children.join(', ')}; run those instead`);
  }
  return [found];
}

/**
 * The windows of one stream for a selection, aligned to the stream's window size, generated
 * lazily; `latest` and a range yield only windows that have ended, and settled (the stream's
 * `settle`), by `at` or `completeBy`.
 */
export function* windowsOf(source: SourceDefinition, stream: StreamDefinition, selection: WindowSelection): Generator<TimeWindow> {
  switch (selection.kind) {
    case 'windows':
      yield* selection.windows;
      return;
    case 'latest':
      yield windowBefore(selection.at, streamWindowMs(source, stream), streamSettleMs(stream));
      return;
    case 'range':
      yield* windowsIn(selection.from, selection.to, streamWindowMs(source, stream), settledBy(stream, selection.completeBy));
  }
}

/** The instant by which a window must have ended to have settled at `completeBy`. */
function settledBy(stream: StreamDefinition, completeBy: Date | undefined): Date | undefined {
  return completeBy === undefined ? undefined : new Date(completeBy.getTime() - streamSettleMs(stream));
}

/**
 * The windows of one stream for a selection, as an array.
 * @throws InputError past {@link MAX_WINDOWS_PER_COMMAND}, before building any.
 */
export function windowsFor(source: SourceDefinition, stream: StreamDefinition, selection: WindowSelection): readonly TimeWindow[] {
  countWindows(source, [stream], selection);
  return [...windowsOf(source, stream, selection)];
}

/**
 * How many windows a selection holds over some streams, counted without building them.
 * @throws InputError when there are more than {@link MAX_WINDOWS_PER_COMMAND}, saying how many.
 */
export function countWindows(source: SourceDefinition, streams: readonly StreamDefinition[], selection: WindowSelection): number {
  const counts = streams.map((stream) => {
    switch (selection.kind) {
      case 'windows':
        return selection.windows.length;
      case 'latest':
        return 1;
      case 'range':
        return countWindowsIn(selection.from, selection.to, streamWindowMs(source, stream), settledBy(stream, selection.completeBy));
    }
  });
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > MAX_WINDOWS_PER_COMMAND) {
    const range = selection.kind === 'range' ? ` [${isoSeconds(selection.from)}, ${isoSeconds(selection.to)})` : '';
    const parts = streams.map((stream, i) => `${counts[i]!.toLocaleString('en-US')} ${formatDuration(streamWindowMs(source, stream))} windows of stream "${stream.name}"`);
    throw new InputError(
      `the range${range} holds ${total.toLocaleString('en-US')} complete windows (${parts.join(', ')}), more than the ${MAX_WINDOWS_PER_COMMAND.toLocaleString('en-US')} one command may run: narrow --from/--to, or run the range in parts`,
      { context: { windows: total } },
    );
  }
  return total;
}

/** One stream over one window: the unit of work of a run. */
export interface WindowJob {
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
}

/** What {@link forEachWindow} runs over, and whom it tells as windows start and end. */
export interface ForEachWindowInput<R> {
  readonly source: SourceDefinition;
  /** Only this stream. @default every stream */
  readonly stream?: string;
  readonly selection: WindowSelection;
  /** Windows run at once. @default 1 */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Called as each window starts (not for a window that never starts). */
  readonly onWindowStart?: (stream: StreamDefinition, window: TimeWindow) => void;
  /** Called with each window's result as it ends, a window that never started included. */
  readonly onWindowEnd?: (result: R) => void;
}

/**
 * Runs `run` over every stream × window of a selection, `concurrency` at a time, in window order;
 * windows are generated as workers take them, never all up front. Once `signal` aborts, no new
 * window starts (those in flight stop on their own): each window left gets `notStarted`'s result
 * instead, without touching the lake. Results come back in window order, one per window.
 * @throws InputError for an unknown stream, or past {@link MAX_WINDOWS_PER_COMMAND} windows, before any runs
 */
export async function forEachWindow<R>(input: ForEachWindowInput<R>, run: (job: WindowJob) => Promise<R>, notStarted: (job: WindowJob) => R): Promise<R[]> {
  const streams = selectStreams(input.source, input.stream);
  countWindows(input.source, streams, input.selection);
  const jobs = (function* () {
    for (const stream of streams) for (const window of windowsOf(input.source, stream, input.selection)) yield { stream, window };
  })();
  const results: R[] = [];
  let taken = 0;
  const worker = async () => {
    for (let job = jobs.next(); !job.done; job = jobs.next()) {
      const index = taken++;
      let result: R;
      if (input.signal?.aborted) result = notStarted(job.value);
      else {
        input.onWindowStart?.(job.value.stream, job.value.window);
        result = await run(job.value);
      }
      input.onWindowEnd?.(result);
      results[index] = result;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.concurrency ?? 1) }, worker));
  return results;
}
