/**
 * Commits a landed window: the attempt's commit (sink/commitProtocol.ts) with the options a window
 * run gives it, and its outcome turned into what the window's result reports. A window landed in
 * one run (runWindow) and one landed in slices across invocations (runWindowSlice) commit through
 * this one place, so both wait, settle a lost response and tidy up alike, and report the same.
 */

import type { Clock } from '../clock.js';
import type { WindowAttempt } from '../sink/commitProtocol.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { manifestKey, type WindowRef } from '../sink/lakeLayout.js';
import type { Manifest } from '../sink/manifest.js';
import { lazyStorageTime } from '../sink/storageClock.js';

/** What a window's result takes from a commit of the window. */
export interface CommitFigures {
  readonly records: number;
  readonly parts: number;
  /** Compressed bytes landed. */
  readonly bytes: number;
  readonly manifestKey: string;
  readonly runId: string;
  /** Values per typed column that did not convert and were stored as NULL; absent when none. */
  readonly typeErrors?: Readonly<Record<string, number>>;
}

/** The figures of `manifest`, a commit of the window `ref`. */
export function commitFigures(ref: WindowRef, manifest: Manifest): CommitFigures {
  return {
    records: manifest.totals.records,
    parts: manifest.totals.parts,
    bytes: manifest.totals.bytes,
    manifestKey: manifestKey(ref, manifest.commit),
    runId: manifest.run_id,
    ...(manifest.type_errors ? { typeErrors: manifest.type_errors } : {}),
  };
}

/** What committing a window needs besides its attempt and manifest. */
export interface WindowCommitInput {
  readonly ref: WindowRef;
  readonly storage: LakeStorage;
  readonly clock: Clock;
  /** The attempt's age, from its first page (a sliced window's first slice), asked before each commit try (I4). */
  readonly age: () => number;
  /** Bounds every storage call, and the waits between commit tries. @default unbounded */
  readonly storageSignal?: AbortSignal;
  /** The window is a job stream's: its job record goes once the window is committed. */
  readonly jobRecord: boolean;
}

/** How the commit ended, as the window's result reports it. */
export interface WindowCommit {
  readonly status: 'committed' | 'skipped' | 'failed';
  /** The result's fields: the current commit's figures (the winner's, when this attempt lost), or the error. */
  readonly fields: Partial<CommitFigures> & { readonly skipReason?: 'concurrent_commit'; readonly error?: Error };
  /** What the commit left undone that does not fail the window (files left for gc). */
  readonly warnings: readonly string[];
}

/**
 * Commits `manifest` through `attempt`. Never throws for a failed commit: the status says `failed`.
 * @param ownKeys the files this invocation started: the only ones a lost attempt removes
 */
export async function commitWindow(attempt: WindowAttempt, manifest: Manifest, ownKeys: readonly string[], input: WindowCommitInput): Promise<WindowCommit> {
  const { ref, storage, clock, storageSignal } = input;
  const outcome = await attempt.commit(manifest, ownKeys, {
    age: input.age,
    sleep: (ms) => clock.sleep(ms, storageSignal),
    // The read-back that settles an unknown outcome gets a few seconds of its own, even past the deadline.
    readBackSignal: AbortSignal.timeout(5_000),
    storageNow: lazyStorageTime(storage, ref.source, { signal: storageSignal }),
    jobRecord: input.jobRecord,
  });
  const { warnings } = outcome;
  switch (outcome.kind) {
    case 'failed': {
      const baseKey = attempt.base.kind === 'empty' ? '' : attempt.base.key;
      return { status: 'failed', fields: { error: outcome.error, manifestKey: outcome.key ?? baseKey }, warnings };
    }
    case 'lost':
      return { status: 'skipped', fields: { skipReason: 'concurrent_commit', ...(outcome.winner ? commitFigures(ref, outcome.winner) : { manifestKey: outcome.key }) }, warnings };
    case 'committed':
      return { status: 'committed', fields: commitFigures(ref, outcome.manifest), warnings };
  }
}
