/** Runs the streams of one source over a set of windows: the engine's entry point for the CLI and Lambda. */

import type { Clock } from '../clock.js';
import type { HttpClient } from '../http/HttpClient.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { notStartedResult, runWindow, type WindowResult } from './runWindow.js';
import { forEachWindow, selectStreams, type ForEachWindowInput } from './windowSelection.js';

/** What {@link runSource} needs. */
export interface SourceRunInput extends Omit<ForEachWindowInput<WindowResult>, 'concurrency'> {
  readonly client: HttpClient;
  readonly storage: LakeStorage;
  readonly force?: boolean;
  /** Windows run at once; they share the client's rate limit. @default 1 */
  readonly windowConcurrency?: number;
  readonly clock?: Clock;
}

/**
 * Runs every selected stream × window. Failed windows are reported in the results, not thrown,
 * so one bad window never hides what the others did. Results come back in window order; once
 * `signal` aborts, no new window starts.
 */
export async function runSource(input: SourceRunInput): Promise<WindowResult[]> {
  selectStreams(input.source, input.stream);
  // A lake that cannot be written fails here, before the API is called once.
  await input.storage.checkWritable();
  return forEachWindow(
    { ...input, concurrency: input.windowConcurrency },
    ({ stream, window }) => runWindow({ source: input.source, stream, window, client: input.client, storage: input.storage, force: input.force, signal: input.signal, clock: input.clock }),
    (job) => notStartedResult(input.source, job, input.signal),
  );
}
