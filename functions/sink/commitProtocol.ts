/**
 * The commit protocol of a window: how attempts land a window exactly once whatever crashes,
 * races and lost responses happen, and what readers may see. Every decision about what is
 * committed, and about what may be deleted, is made here; the writer only writes parts and the
 * runner only calls these functions in order.
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
 *   commit may list raw parts of the commit it replaces when it only adds a Parquet file:
 *   `backfill --curate-only`; they are then not the replaced commit's to delete.)
 * - I4 A run creates commit n + 1 only if it saw n as current when it started (n = 0: nothing),
 *   and only while its age is within {@link MAX_ATTEMPT_MS}: checked before its first commit try
 *   and again before each retry. Its age is the longer of two readings of the time since it
 *   started, its wall clock's and its monotonic clock's (`clock.ts` stopwatch), so neither a wall
 *   clock set back nor a monotonic clock that stood still through a suspend makes it younger. If
 *   n + 1 exists already another run won; the loser commits nothing and reports the window as
 *   committed by that run.
 * - I5 Deletion. A run deletes (a) its own parts, only when its commit does not exist and never
 *   will (it failed before trying, or commit n + 1 belongs to another run); (b) after its commit,
 *   the parts of the commit it replaced; (c) orphans of dead attempts. An attempt is every data
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
 *   nothing is deleted. When a commit's outcome is unknown (lost response, 5xx, timeout) the run
 *   reads the commit back to learn who won before touching any part; if it still cannot tell, it
 *   deletes nothing and its parts become orphans for (c).
 * - I6 Readers read only the parts listed by current commits: the local reader from the commits
 *   themselves, Athena through the symlink file, which is written after the commit from the
 *   current commit and checked again afterwards until it matches (a stale or missing symlink is
 *   repaired by the next run that sees the window, and by `apilake gc`).
 */

import { ApilakeError, SinkError } from '../errors.js';
import type { IncompleteWrite, LakeStorage, StorageCallOptions } from './LakeStorage.js';
import {
  manifestKey,
  parseManifestKey,
  parsePartKey,
  symlinkKey,
  windowManifestPrefix,
  windowPartPrefix,
  type DataKind,
  type WindowRef,
} from './lakeLayout.js';
import { parseManifest, serializeManifest, type Manifest, type PartInfo } from './manifest.js';
import { formatDuration } from '../window/duration.js';

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

/** What a window holds right now. */
export type WindowState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'committed'; readonly commit: number; readonly key: string; readonly manifest: Manifest }
  | { readonly kind: 'unreadable'; readonly commit: number; readonly key: string; readonly error: SinkError };

/** The number of the window's current commit (0 when none, or only the single-manifest layout's). */
export function currentCommitNumber(state: WindowState): number {
  return state.kind === 'empty' ? 0 : state.commit;
}

/**
 * Reads the window's current commit (I1). Lists before reading, so a missing key is never asked
 * for: on S3 that would be a 403 for a role without an unconditioned s3:ListBucket.
 * @throws SinkError when storage cannot be listed or read: the state is then unknown, which is
 *   never the same as "not committed".
 */
export async function readWindowState(storage: LakeStorage, ref: WindowRef, options: StorageCallOptions = {}): Promise<WindowState> {
  const commits = (await storage.list(windowManifestPrefix(ref), options))
    .map((object) => ({ key: object.key, parsed: parseManifestKey(object.key) }))
    .filter((e) => e.parsed !== undefined && sameWindow(e.parsed.ref, ref))
    .sort((a, b) => a.parsed!.commit - b.parsed!.commit);
  const top = commits.at(-1);
  if (!top) return { kind: 'empty' };
  const commit = top.parsed!.commit;
  const bytes = await storage.read(top.key, options);
  if (bytes === undefined) {
    return { kind: 'unreadable', commit, key: top.key, error: new SinkError(`manifest ${top.key} was listed but could not be read (deleted outside apilake?)`) };
  }
  try {
    return { kind: 'committed', commit, key: top.key, manifest: parseManifest(bytes, top.key, { ref, commit }) };
  } catch (error) {
    if (!(error instanceof SinkError)) throw error;
    return { kind: 'unreadable', commit, key: top.key, error };
  }
}

/** How a commit ended. */
export type CommitOutcome =
  /** This run's commit is the window's content. */
  | { readonly kind: 'committed'; readonly manifest: Manifest; readonly key: string }
  /** Another run created this commit number first; `winner` is its manifest when readable. */
  | { readonly kind: 'lost'; readonly winner?: Manifest; readonly key: string }
  /** The commit may or may not exist; nothing may be deleted on this run's account (I5). */
  | { readonly kind: 'unknown'; readonly error: Error; readonly key: string };

/** Options of {@link commitWindow}. */
export interface CommitOptions extends StorageCallOptions {
  /** Bounds the read-back after an ambiguous failure; it must outlive `signal`. */
  readonly readBackSignal?: AbortSignal;
  /** Waits between tries. */
  readonly sleep: (ms: number) => Promise<void>;
  /** @default 3 */
  readonly attempts?: number;
  /** Why the run may no longer commit (I4), asked before each retry; undefined while it may. */
  readonly expired?: () => string | undefined;
}

/**
 * Creates commit `manifest.commit` of the window (I2, I4), resolving lost responses by reading
 * the commit back (I5).
 */
export async function commitWindow(storage: LakeStorage, ref: WindowRef, manifest: Manifest, options: CommitOptions): Promise<CommitOutcome> {
  const key = manifestKey(ref, manifest.commit);
  const bytes = serializeManifest(manifest);
  let lastError: unknown;
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; attempt <= attempts && !options.signal?.aborted; attempt++) {
    const expired = attempt > 1 ? options.expired?.() : undefined;
    if (expired) {
      lastError = new SinkError(`no further commit try: ${expired}`);
      break;
    }
    try {
      // A retry after a lost response finds the key taken — by this run's own earlier try, which
      // the read-back in whoWon tells apart from another run's commit.
      if ((await storage.putIfAbsent(key, bytes, options)) === 'created') return { kind: 'committed', manifest, key };
      return await whoWon(storage, ref, key, manifest, options);
    } catch (error) {
      lastError = error;
      if (attempt < attempts && !options.signal?.aborted) await options.sleep(200 * 2 ** (attempt - 1));
    }
  }
  try {
    return await whoWon(storage, ref, key, manifest, { signal: options.readBackSignal });
  } catch (readBackError) {
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    return {
      kind: 'unknown',
      key,
      error: new SinkError(`commit ${key} not confirmed (${why}); reading it back failed too (${(readBackError as Error).message}); its parts are kept for gc`, {
        cause: lastError,
      }),
    };
  }
}

/** After a conditional create found the key taken (or its outcome is unknown): whose commit is it? */
async function whoWon(storage: LakeStorage, ref: WindowRef, key: string, mine: Manifest, options: StorageCallOptions): Promise<CommitOutcome> {
  const listed = await storage.list(key, options);
  if (!listed.some((o) => o.key === key)) throw new SinkError(`commit ${key} is not there`);
  const bytes = await storage.read(key, options);
  if (bytes === undefined) throw new SinkError(`commit ${key} was listed but could not be read`);
  let theirs: Manifest;
  try {
    theirs = parseManifest(bytes, key, { ref, commit: mine.commit });
  } catch {
    return { kind: 'lost', key }; // this run's bytes are a valid manifest, so unreadable ones are another writer's
  }
  return theirs.run_id === mine.run_id ? { kind: 'committed', manifest: theirs, key } : { kind: 'lost', winner: theirs, key };
}

/** Every data file a commit lists: its raw parts and its curated files. */
export function dataFiles(manifest: Manifest): readonly PartInfo[] {
  return [...manifest.parts, ...(manifest.curated ?? [])];
}

/** A symlink file's text for a commit: one data file URI of that kind a line. */
export function symlinkText(storage: LakeStorage, manifest: Manifest, kind: DataKind = 'raw'): string {
  return (kind === 'raw' ? manifest.parts : (manifest.curated ?? [])).map((p) => `${storage.uri(p.key)}\n`).join('');
}

/**
 * Makes the window's symlink file list exactly the current commit's parts (I6): no file when the
 * window has no readable commit or no parts. Checks the commit again after writing, so a slower
 * run that wrote an older commit's list gives way to the newer one.
 * @param known a state just read, to save the first read
 * @returns whether the file changed
 */
export async function publishSymlink(storage: LakeStorage, ref: WindowRef, options: StorageCallOptions & { known?: WindowState } = {}): Promise<boolean> {
  let state = options.known ?? (await readWindowState(storage, ref, options));
  let changed = false;
  for (let round = 0; round < 5; round++) {
    let wrote = false;
    for (const kind of ['raw', 'curated'] as const) {
      const key = symlinkKey(ref, kind);
      const wanted = state.kind === 'committed' ? symlinkText(storage, state.manifest, kind) : '';
      const listed = (await storage.list(key, options)).some((o) => o.key === key);
      const current = listed ? ((await storage.read(key, options))?.toString('utf8') ?? '') : '';
      if (current === wanted && listed === (wanted !== '')) continue;
      if (wanted === '') await storage.delete([key], options);
      else await storage.writeBytes(key, wanted, options);
      wrote = true;
    }
    if (!wrote) return changed;
    changed = true;
    const after = await readWindowState(storage, ref, options);
    if (currentCommitNumber(after) === currentCommitNumber(state) && after.kind === state.kind) return true;
    state = after;
  }
  throw new SinkError(`the symlinks of ${symlinkKey(ref)} could not settle: commits of the window kept changing`);
}

/** Deletes the given parts of this window, refusing any key that is not one (a guard against bugs elsewhere). */
export async function deleteParts(storage: LakeStorage, ref: WindowRef, keys: readonly string[], options: StorageCallOptions = {}): Promise<void> {
  for (const key of keys) {
    const info = parsePartKey(key);
    if (!info || !sameWindow(info.ref, ref)) throw new ApilakeError(`refusing to delete ${key}: not a part of ${windowPartPrefix(ref)}…`);
  }
  if (keys.length > 0) await storage.delete(keys, options);
}

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
export function deadAttempts(files: readonly DatedFile[], storageNowMs: number, horizonMs: number = ORPHAN_HORIZON_MS): Set<string> {
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
  /** @default ORPHAN_HORIZON_MS */
  readonly horizonMs?: number;
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
  const dead = deadAttempts(dated, storageNow.getTime(), options.horizonMs ?? ORPHAN_HORIZON_MS);
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

function sameWindow(a: WindowRef, b: WindowRef): boolean {
  return a.source === b.source && a.stream === b.stream && a.window.start.getTime() === b.window.start.getTime() && a.window.end.getTime() === b.window.end.getTime();
}
