/**
 * Runs one stream over one window: an attempt of the commit protocol (sink/commitProtocol.ts)
 * walked through its stages, open, land the pages, commit, with the outcome turned into a
 * result. Every decision about commits and deletions is the protocol's. It is the first and only
 * slice of runWindowSlice, asked never to stop: one code path lands every window, whole or sliced.
 */

import { runWindowSlice } from './runWindowSlice.js';
import type { WindowResult, WindowRunInput } from './windowRun.js';

export { NOTHING_LANDED, notStartedResult, readiness, type WindowResult, type WindowRunInput } from './windowRun.js';

/** Runs one window. Never throws for a failed window: the result says `failed` and why. */
export async function runWindow(input: WindowRunInput): Promise<WindowResult> {
  // Nothing resumes a whole-window run, so its parts may roll inside a page as they fill.
  const outcome = await runWindowSlice({ ...input, pageAligned: false });
  // Only a slice asked to stop (stopWhen) pauses.
  if (outcome.kind === 'paused') throw new Error(`window run of stream "${input.stream.name}" paused without being asked to stop`);
  return outcome.result;
}
