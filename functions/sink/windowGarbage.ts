/**
 * The orphans of a window and when they may go (invariant I5 c, commitProtocol.ts): files that no
 * current commit lists, of attempts that wrote nothing for the horizon by the storage's own clock.
 */

import type { IncompleteWrite, LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { parsePartKey, symlinkKey, windowManifestPrefix, windowPartPrefix, type WindowRef } from './lakeLayout.js';
import { dataFiles, deleteParts, readWindowState, type WindowState } from './windowState.js';

/** A file or unfinished write of a window, dated by the storage. */
export interface DatedFile {
  readonly key: string;
  readonly at: Date;
}

/**
 * The attempt a file belongs to (I5 c): its run id in its window, or, for a part of no run or
 * a temp file of a commit or symlink, the file alone.
 */
export function attemptOf(key: string): string {
  const part = parsePartKey(key);
  return part?.runId ? `run ${part.runId}` : `file ${key}`;
}

/**
 * The attempts of a window that are dead by the storage's clock (I5 c): those whose newest
 * storage timestamp is more than `horizonMs` before `storageNowMs`. A timestamp ahead of the
 * storage's now (a file written after the probe) only makes its attempt younger.
 */
export function deadAttempts(files: readonly DatedFile[], storageNowMs: number, horizonMs: number): Set<string> {
  const lastActivity = new Map<string, number>();
  for (const file of files) {
    const attempt = attemptOf(file.key);
    // A timestamp storage did not give (NaN) counts as now: it can only keep files.
    const at = Number.isFinite(file.at.getTime()) ? file.at.getTime() : storageNowMs;
    lastActivity.set(attempt, Math.max(lastActivity.get(attempt) ?? -Infinity, at));
  }
  return new Set([...lastActivity].filter(([, at]) => storageNowMs - at > horizonMs).map(([attempt]) => attempt));
}

/** What {@link collectWindowGarbage} removed or left. */
export interface WindowGarbage {
  readonly deletedParts: string[];
  readonly abortedWrites: string[];
  /** Unlisted parts and unfinished writes kept: their attempt wrote within the horizon, or the storage's clock could not be read. */
  readonly youngOrphans: string[];
  /** The current commit cannot be read, so nothing of the window was touched. */
  readonly skippedUnreadable?: string;
  /** The storage's clock could not be read, so nothing of the window was deleted. */
  readonly clockError?: string;
}

/** Options of {@link collectWindowGarbage}. */
export interface WindowGarbageOptions extends StorageCallOptions {
  /** The storage's now (`storageClock.ts`); asked only when the window has files to date. */
  readonly storageNow: () => Promise<Date>;
  /** How long an attempt must have written nothing (`ORPHAN_HORIZON_MS`). */
  readonly horizonMs: number;
  readonly dryRun?: boolean;
  /** A state just read, to save the first read. */
  readonly known?: WindowState;
}

/**
 * Removes the window's orphans (I5 c): parts its current commit does not list and unfinished
 * writes, of attempts that wrote nothing within the horizon by the storage's clock. Touches
 * nothing when the current commit cannot be read, and deletes nothing when the storage's clock
 * cannot be read.
 */
export async function collectWindowGarbage(storage: LakeStorage, ref: WindowRef, options: WindowGarbageOptions): Promise<WindowGarbage> {
  const state = options.known ?? (await readWindowState(storage, ref, options));
  if (state.kind === 'unreadable') return { deletedParts: [], abortedWrites: [], youngOrphans: [], skippedUnreadable: state.key };
  const listed = new Set(state.kind === 'committed' ? dataFiles(state.manifest).map((p) => p.key) : []);
  // Every file of the window dates its attempt, listed ones too (a committed attempt's listed
  // parts and its leftovers are one attempt).
  const dated: DatedFile[] = [];
  const orphans: string[] = [];
  for (const kind of ['raw', 'curated'] as const) {
    for (const object of await storage.list(windowPartPrefix(ref, kind), options)) {
      if (!parsePartKey(object.key)) continue;
      dated.push({ key: object.key, at: object.lastModified });
      if (!listed.has(object.key)) orphans.push(object.key);
    }
  }
  // Unfinished writes: multipart uploads or temp files of parts, and temp files of commits and
  // symlinks that a killed process left.
  const writes: IncompleteWrite[] = [];
  for (const prefix of [windowPartPrefix(ref, 'raw'), windowPartPrefix(ref, 'curated'), windowManifestPrefix(ref), symlinkKey(ref, 'raw'), symlinkKey(ref, 'curated')]) {
    writes.push(...(await storage.listIncomplete(prefix, options)));
  }
  dated.push(...writes.map((write) => ({ key: write.key, at: write.startedAt })));
  if (orphans.length === 0 && writes.length === 0) return { deletedParts: [], abortedWrites: [], youngOrphans: [] };

  let storageNow: Date;
  try {
    storageNow = await options.storageNow();
  } catch (error) {
    return { deletedParts: [], abortedWrites: [], youngOrphans: [...orphans, ...writes.map((w) => w.key)], clockError: (error as Error).message };
  }
  const dead = deadAttempts(dated, storageNow.getTime(), options.horizonMs);
  const deletable = orphans.filter((key) => dead.has(attemptOf(key)));
  const aborted: string[] = [];
  for (const write of writes) {
    if (!dead.has(attemptOf(write.key))) continue;
    if (!options.dryRun) await storage.abortIncomplete(write, options);
    aborted.push(write.key);
  }
  if (!options.dryRun) await deleteParts(storage, ref, deletable, options);
  const young = [...orphans.filter((key) => !dead.has(attemptOf(key))), ...writes.filter((w) => !dead.has(attemptOf(w.key))).map((w) => w.key)];
  return { deletedParts: deletable, abortedWrites: aborted, youngOrphans: young };
}
