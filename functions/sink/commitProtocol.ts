/**
 * The commit protocol of a window: how attempts land a window exactly once whatever crashes,
 * races and lost responses happen, and what readers may see. Every decision about what is
 * committed, and about what may be deleted, is made here, in the stages an attempt goes
 * through: opened ({@link openWindow}), then abandoned (it failed before committing) or
 * committed ({@link WindowAttempt.commit}: the one commit point, then the tidying up after it).
 * The writer only writes parts; the runner only walks an attempt through its stages; the
 * operations on a window's objects are in windowState.ts, and the orphans of I5 c in windowGarbage.ts.
 *
 * Objects of one window (keys in `lakeLayout.ts`):
 * - data files, each written by one run (attempt): raw parts `raw/…/<start>_<end>_<run>_part-<n>.jsonl.gz`
 *   and the typed Parquet file `curated/…/<start>_<end>_<run>_part-00000.parquet` ("parts" below)
 * - commits `manifests/…/<start>_<end>.<NNNNNN>.json` — commit 1, 2, …; each lists its data files
 * - symlinks `symlinks/{raw,curated}/…/<start>_<end>.txt` — the current commit's files, for Athena
 *
 * Invariants
 * - I1 The window's content is its highest commit, the current one; no commit means not
 *   committed. A current commit that cannot be parsed is reported, and the window counts as not
 *   committed (it is landed again as the next commit; nothing is deleted on its account).
 * - I2 Commits are created only by put-if-absent (S3 `If-None-Match: *`, an exclusive hard link
 *   on disk): commit n is created once, by one run, and is never rewritten or deleted. This is
 *   the one atomic commit point; Delta Lake's log works the same way.
 * - I3 A run writes parts only under its own run id: no other run ever writes those keys. (A
 *   commit may list raw parts of the commit it replaces when it only adds or rebuilds a Parquet
 *   file: `backfill --curate-only [--force]`; they are then not the replaced commit's to delete.)
 * - I4 A run creates commit n + 1 only if it saw n as current when it started (n = 0: nothing),
 *   and only while its age is within {@link MAX_ATTEMPT_MS}: checked before its first commit try
 *   and again before each retry. Its age is the longer of two readings of the time since it
 *   started, its wall clock's and its monotonic clock's (`clock.ts` stopwatch), so neither a wall
 *   clock set back nor a monotonic clock that stood still through a suspend makes it younger. If
 *   n + 1 exists already another run won; the loser commits nothing and reports the window as
 *   committed by that run.
 * - I5 Deletion. A run deletes (a) its own parts, only when its commit does not exist and never
 *   will (it failed before trying, or commit n + 1 belongs to another run); (b) after its commit
 *   and once the symlink lists it, the parts of the commit it replaced; (c) orphans of dead
 *   attempts, also only once the symlink lists the current commit (a stale one may name them). An attempt is every data
 *   file and unfinished write of one run id in one window (a file of no run, and a temp file of a
 *   commit or symlink, is an attempt of its own). Its last activity is the newest timestamp the
 *   storage gave any of them (S3 `LastModified` and multipart `Initiated`, file mtimes). It is
 *   dead once that is more than {@link ORPHAN_HORIZON_MS} before the storage's now, read from a
 *   probe object written at the time (`storageClock.ts`); then its files that the current commit
 *   does not list go. No wall clock takes part: not the collector's, and not the run's (the time
 *   in a run id is a name only). Why that is safe: every storage timestamp of an attempt is later
 *   than the attempt's start, so a dead attempt started more than the horizon ago by the
 *   storage's clock; the horizon is twice {@link MAX_ATTEMPT_MS}, so by I4 such a run can no
 *   longer commit, and the half left over covers a commit already under way (its tries are
 *   bounded by storage call timeouts). An attempt that wrote anything within the horizon keeps
 *   all of its files, however old its first ones are: a run streaming one long part for hours
 *   wrote its upload's start or its last part, both within its life. When the probe fails,
 *   nothing is deleted. When a commit's outcome is unknown (lost response, 5xx, timeout, stall) the run
 *   reads the commit back to learn who won before touching any part; if it still cannot tell, it
 *   deletes nothing and its parts become orphans for (c).
 * - I6 Readers read only the parts listed by current commits: the local reader from the commits
 *   themselves, Athena through the symlink file, which is written after the commit from the
 *   current commit and checked again afterwards until it matches (a stale or missing symlink is
 *   repaired by the next run that sees the window, and by `apilake gc`). A stale symlink lists a
 *   whole earlier commit whose files are all still there (I5 b, c): Athena sees the window's
 *   previous content until the repair, never a partial one.
 */

import { ApilakeError, SinkError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import type { WindowRef } from './lakeLayout.js';
import type { Manifest } from './manifest.js';
import { formatDuration } from '../window/duration.js';
import { deleteJobRecord } from './jobRecord.js';
import { collectWindowGarbage } from './windowGarbage.js';
import { createCommit, currentCommitNumber, dataFiles, deleteParts, publishSymlink, readWindowState, type WindowState } from './windowState.js';

/** Longest a run may take from its start to its commit; a slower run fails instead of committing (I4). */
export const MAX_ATTEMPT_MS = 6 * 3_600_000;
/**
 * How long, by the storage's clock, an attempt must have written nothing before its uncommitted
 * files are garbage (I5 c). Twice {@link MAX_ATTEMPT_MS}: such an attempt can no longer commit.
 */
export const ORPHAN_HORIZON_MS = 2 * MAX_ATTEMPT_MS;

/** Why a run of this age may no longer commit (I4), or undefined while it may. */
export function attemptExpired(ageMs: number): string | undefined {
  if (ageMs <= MAX_ATTEMPT_MS) return undefined;
  return `the run took ${formatDuration(Math.round(ageMs / 60_000) * 60_000)}, more than the ${formatDuration(MAX_ATTEMPT_MS)} a run may take before committing; use a smaller window`;
}

/** How a window stood when an attempt began. */
export type OpenedWindow =
  /** Committed already, and not forced: nothing to land. A stale symlink was repaired (I6). */
  | { readonly kind: 'committed'; readonly state: Extract<WindowState, { kind: 'committed' }>; readonly warnings: readonly string[] }
  /** The attempt may land the window as the next commit. */
  | { readonly kind: 'open'; readonly attempt: WindowAttempt; readonly warnings: readonly string[] };

/** Options of {@link openWindow}. */
export interface OpenWindowOptions extends StorageCallOptions {
  /** Land a committed window again, as a new commit that replaces it. @default false */
  readonly force?: boolean;
}

/**
 * Begins an attempt on a window: reads its current commit (I1) and decides whether there is
 * anything to land.
 * @throws SinkError when storage cannot tell whether the window is committed: nothing is touched
 */
export async function openWindow(storage: LakeStorage, ref: WindowRef, options: OpenWindowOptions = {}): Promise<OpenedWindow> {
  const call = { signal: options.signal };
  let state: WindowState;
  try {
    state = await readWindowState(storage, ref, call);
  } catch (error) {
    throw new SinkError(`cannot tell whether the window is committed, so it was not touched: ${(error as Error).message}`, { cause: error });
  }
  const warnings: string[] = [];
  if (state.kind === 'committed' && !options.force) {
    try {
      await publishSymlink(storage, ref, { ...call, known: state });
    } catch (error) {
      warnings.push(warning('the Athena symlink could not be repaired (apilake gc repairs it)', error));
    }
    return { kind: 'committed', state, warnings };
  }
  if (state.kind === 'unreadable') warnings.push(`${state.error.message}; the window counts as not committed and is landed again as commit ${state.commit + 1}`);
  return { kind: 'open', attempt: new WindowAttempt(storage, ref, state, call), warnings };
}

/** How an attempt's commit ended. */
export type AttemptOutcome =
  /** Its commit is the window's content; what was tidied after it is in `warnings` when it failed. */
  | { readonly kind: 'committed'; readonly manifest: Manifest; readonly key: string; readonly warnings: readonly string[] }
  /** Another run created this commit first; `winner` is its manifest when readable. */
  | { readonly kind: 'lost'; readonly winner?: Manifest; readonly key: string; readonly warnings: readonly string[] }
  /** It may no longer commit (I4), or its commit may or may not exist: either way the window failed. */
  | { readonly kind: 'failed'; readonly error: Error; readonly key?: string; readonly warnings: readonly string[] };

/** Options of {@link WindowAttempt.commit}. */
export interface AttemptCommitOptions {
  /** The attempt's age (a stopwatch), asked before each commit try (I4). */
  readonly age: () => number;
  /** Waits between commit tries. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Bounds the read-back that settles an unknown outcome; it must outlive the storage signal. */
  readonly readBackSignal?: AbortSignal;
  /** The storage's now, for the orphans collected after the commit (I5 c). */
  readonly storageNow: () => Promise<Date>;
  /** The window is a job stream's: its job record goes once the window is committed, by this attempt or another. @default false */
  readonly jobRecord?: boolean;
}

/** One attempt on a window, from the state it found to its commit or its end. */
export class WindowAttempt {
  constructor(
    private readonly storage: LakeStorage,
    private readonly ref: WindowRef,
    /** What the window held when the attempt began. */
    readonly base: WindowState,
    private readonly call: StorageCallOptions,
  ) {}

  /** The commit this attempt creates if it wins: the one after the commit it found (I4). */
  get nextCommit(): number {
    return currentCommitNumber(this.base) + 1;
  }

  /** The commit this attempt replaces, for its manifest. */
  get replaces(): { readonly commit: number; readonly run_id: string } | undefined {
    return this.base.kind === 'committed' ? { commit: this.base.commit, run_id: this.base.manifest.run_id } : undefined;
  }

  /**
   * Ends an attempt that never tried to commit: its commit does not exist and never will, so the
   * files it started (`ownKeys`) go (I5 a). Abort their writes first.
   * @returns what could not be removed (left for gc)
   */
  async abandon(ownKeys: readonly string[]): Promise<string[]> {
    try {
      await deleteParts(this.storage, this.ref, ownKeys, this.call);
      return [];
    } catch (error) {
      return [warning(`could not remove this run's files (${ownKeys.length}); gc removes them later`, error)];
    }
  }

  /**
   * Creates the attempt's commit with put-if-absent (I2), unless it is too old (I4), and settles a
   * lost response by reading the commit back. Then: a lost attempt removes its own files (I5 a);
   * a committed one removes what its commit replaced (I5 b), publishes the symlinks (I6) and
   * collects the window's orphans (I5 c). Tidying up never fails the window: it only warns.
   * @param ownKeys every file this attempt started
   */
  async commit(manifest: Manifest, ownKeys: readonly string[], options: AttemptCommitOptions): Promise<AttemptOutcome> {
    if (manifest.commit !== this.nextCommit) throw new Error(`commit ${manifest.commit} is not this attempt's (${this.nextCommit})`);
    const tooOld = attemptExpired(options.age());
    if (tooOld) return { kind: 'failed', error: new ApilakeError(tooOld), warnings: await this.abandon(ownKeys) };
    const outcome = await createCommit(this.storage, this.ref, manifest, {
      ...this.call,
      sleep: options.sleep,
      expired: () => attemptExpired(options.age()),
      ...(options.readBackSignal ? { readBackSignal: options.readBackSignal } : {}),
    });
    // Unknown: nothing may be deleted on this attempt's account; its files become orphans (I5).
    if (outcome.kind === 'unknown') return { kind: 'failed', error: outcome.error, key: outcome.key, warnings: [] };
    if (outcome.kind === 'lost') {
      const left = await this.abandon(ownKeys);
      return { ...outcome, warnings: [...left.map((w) => `this run lost the commit; ${w}`), ...(await this.dropJobRecord(options))] };
    }
    return { ...outcome, warnings: [...(await this.tidyUp(outcome.manifest, options)), ...(await this.dropJobRecord(options))] };
  }

  /** The window is committed: its job's records are landed, and no attempt may poll or download the job again. */
  private async dropJobRecord(options: AttemptCommitOptions): Promise<string[]> {
    if (!options.jobRecord) return [];
    try {
      await deleteJobRecord(this.storage, this.ref, this.call);
      return [];
    } catch (error) {
      return [warning('the job record of the window is left for gc', error)];
    }
  }

  /** After this attempt's commit: the symlinks follow it, then what it replaced and orphans go. */
  private async tidyUp(committed: Manifest, options: AttemptCommitOptions): Promise<string[]> {
    const warnings: string[] = [];
    try {
      await publishSymlink(this.storage, this.ref, this.call);
    } catch (error) {
      // Athena may still read the replaced commit's files through the old symlink: none may go yet (I5 b, c).
      return [warning('the Athena symlink was not written, so the files it may still list are kept (the next run of this window or apilake gc writes it)', error)];
    }
    if (this.base.kind === 'committed') {
      const kept = new Set(dataFiles(committed).map((p) => p.key));
      const replaced = dataFiles(this.base.manifest)
        .map((p) => p.key)
        .filter((key) => !kept.has(key));
      await deleteParts(this.storage, this.ref, replaced, this.call).catch((error) => warnings.push(warning('the parts of the replaced commit are left for gc', error)));
    }
    await collectWindowGarbage(this.storage, this.ref, { ...this.call, storageNow: options.storageNow, horizonMs: ORPHAN_HORIZON_MS }).catch((error) =>
      warnings.push(warning('orphans of earlier runs are left for gc', error)),
    );
    return warnings;
  }
}

function warning(what: string, error: unknown): string {
  return `${what}: ${error instanceof Error ? error.message : String(error)}`;
}
