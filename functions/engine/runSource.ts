/** Runs the streams of one source over a set of windows: the engine's entry point for the CLI and Lambda. */

import type { Clock } from '../clock.js';
import { streamWindowMs } from '../config/checkSource.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { InputError } from '../errors.js';
import type { HttpClient } from '../http/HttpClient.js';
import { ConcurrencyLimiter } from '../http/ConcurrencyLimiter.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { splitIntoWindows, windowBefore, type TimeWindow } from '../window/TimeWindow.js';
import { runWindow, type WindowResult } from './runWindow.js';

/** What windows to run: a range split into each stream's windows, or explicit windows. */
export type WindowSelection =
  /** Every window overlapping `[from, to)` that has ended by `completeBy` (default: no limit). */
  | { readonly kind: 'range'; readonly from: Date; readonly to: Date; readonly completeBy?: Date }
  /** The last complete window before `at`, per stream: what a schedule tick runs. */
  | { readonly kind: 'latest'; readonly at: Date }
  | { readonly kind: 'windows'; readonly windows: readonly TimeWindow[] };

/** What {@link runSource} needs. */
export interface SourceRunInput {
  readonly source: SourceDefinition;
  /** Only this stream. @default every stream */
  readonly stream?: string;
  readonly selection: WindowSelection;
  readonly client: HttpClient;
  readonly storage: LakeStorage;
  readonly force?: boolean;
  /** Windows run at once; they share the client's rate limit. @default 1 */
  readonly windowConcurrency?: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Called as each window starts and ends. */
  readonly onWindowStart?: (stream: StreamDefinition, window: TimeWindow) => void;
  readonly onWindowEnd?: (result: WindowResult) => void;
}

/** The streams of a source a run covers. @throws InputError for an unknown stream. */
export function selectStreams(source: SourceDefinition, stream?: string): StreamDefinition[] {
  if (stream === undefined) return source.streams;
  const found = source.streams.find((s) => s.name === stream);
  if (!found) throw new InputError(`source "${source.name}" has no stream "${stream}" (streams: ${source.streams.map((s) => s.name).join(', ')})`);
  return [found];
}

/** The windows of one stream for a selection, aligned to the stream's window size. */
export function windowsFor(source: SourceDefinition, stream: StreamDefinition, selection: WindowSelection): readonly TimeWindow[] {
  switch (selection.kind) {
    case 'windows':
      return selection.windows;
    case 'latest':
      return [windowBefore(selection.at, streamWindowMs(source, stream))];
    case 'range': {
      const windows = splitIntoWindows(selection.from, selection.to, streamWindowMs(source, stream));
      const limit = selection.completeBy?.getTime() ?? Number.POSITIVE_INFINITY;
      return windows.filter((w) => w.end.getTime() <= limit);
    }
  }
}

/**
 * Runs every selected stream × window. Failed windows are reported in the results, not thrown,
 * so one bad window never hides what the others did. Results come back in window order.
 */
export async function runSource(input: SourceRunInput): Promise<WindowResult[]> {
  // A lake that cannot be written fails here, before the API is called once.
  await input.storage.checkWritable();
  const jobs = selectStreams(input.source, input.stream).flatMap((stream) =>
    windowsFor(input.source, stream, input.selection).map((window) => ({ stream, window })),
  );
  const limiter = new ConcurrencyLimiter(input.windowConcurrency ?? 1);
  return Promise.all(
    jobs.map(({ stream, window }) =>
      limiter.run(async () => {
        input.onWindowStart?.(stream, window);
        const result = await runWindow({
          source: input.source,
          stream,
          window,
          client: input.client,
          storage: input.storage,
          force: input.force,
          signal: input.signal,
          clock: input.clock,
        });
        input.onWindowEnd?.(result);
        return result;
      }),
    ),
  );
}
