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
 *   and only within {@link MAX_ATTEMPT_MS} of its start. If n + 1 exists already another run won;
 *   the loser commits nothing and reports the window as committed by that run.
 * - I5 Deletion. A run deletes (a) its own parts, only when its commit does not exist and never
 *   will (it failed before trying, or commit n + 1 belongs to another run); (b) after its commit
 *   and once the symlink lists it, the parts of the commit it replaced; (c) orphans: parts that
 *   the current commit does not list and whose run started more than {@link ORPHAN_HORIZON_MS}
 *   ago, which is longer than any run may live, so a live run's parts are never touched — also
 *   only once the symlink lists the current commit, since a stale one may still name them. When
 *   a commit's outcome is unknown (lost response, 5xx, timeout, stall) the run reads the commit
 *   back to learn who won before touching any part; if it still cannot tell, it deletes nothing
 *   and its parts become orphans for (c).
 * - I6 Readers read only the parts listed by current commits: the local reader from the commits
 *   themselves, Athena through the symlink file, which is written after the commit from the
 *   current commit and checked again afterwards until it matches (a stale or missing symlink is
 *   repaired by the next run that sees the window, and by `apilake gc`). A stale symlink lists a
 *   whole earlier commit whose files are all still there (I5 b, c): Athena sees the window's
 *   previous content until the repair, never a partial one.
 */

import { ApilakeError, SinkError, StorageStallError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import {
  manifestKey,
  parseManifestKey,
  parsePartKey,
  runStartedAt,
  symlinkKey,
  windowManifestPrefix,
  windowPartPrefix,
  type DataKind,
  type WindowRef,
} from './lakeLayout.js';
import { parseManifest, serializeManifest, type Manifest, type PartInfo } from './manifest.js';

/** Longest a run may take from its start to its commit; a slower run fails instead of committing. */
export const MAX_ATTEMPT_MS = 6 * 3_600_000;
/**
 * Age past which a run's uncommitted files are garbage. Twice {@link MAX_ATTEMPT_MS}, so clocks
 * that disagree by hours still never let a live run's files be collected.
 */
export const ORPHAN_HORIZON_MS = 2 * MAX_ATTEMPT_MS;

/** What a window holds right now. */
export type WindowState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'committed'; readonly commit: number; readonly key: string; readonly manifest: Manifest }
  | { readonly kind: 'unreadable'; readonly commit: number; readonly key: string; readonly error: SinkError };

/** The number of the window's current commit (0 when none, or only the first layout's). */
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
    try {
      // A retry after a lost response finds the key taken — by this run's own earlier try, which
      // the read-back in whoWon tells apart from another run's commit.
      if ((await storage.putIfAbsent(key, bytes, options)) === 'created') return { kind: 'committed', manifest, key };
      return await whoWon(storage, ref, key, manifest, options);
    } catch (error) {
      lastError = error;
      // A stall has used every attempt storage gives a call, each as long as its timeout: more
      // tries would multiply the wait, and only the read-back can tell whether it was applied.
      if (error instanceof StorageStallError) break;
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

/** When a part's run started: from its run id, else (first layout) when storage last wrote it. */
export function partAgeMs(key: string, lastModified: Date, nowMs: number): number {
  const runId = parsePartKey(key)?.runId;
  const started = (runId && runStartedAt(runId)) || lastModified;
  return nowMs - started.getTime();
}

/** What {@link collectWindowGarbage} removed or left. */
export interface WindowGarbage {
  readonly deletedParts: string[];
  readonly abortedWrites: string[];
  /** Unlisted parts still too young to be sure their run is dead. */
  readonly youngOrphans: string[];
  /** The current commit cannot be read, so nothing of the window was touched. */
  readonly skippedUnreadable?: string;
}

/**
 * Removes the window's orphans (I5 c): parts its current commit does not list and unfinished
 * writes, once their run started more than `horizonMs` before `nowMs`. Touches nothing when the
 * current commit cannot be read.
 */
export async function collectWindowGarbage(
  storage: LakeStorage,
  ref: WindowRef,
  options: StorageCallOptions & { nowMs: number; horizonMs?: number; dryRun?: boolean; known?: WindowState },
): Promise<WindowGarbage> {
  const horizon = options.horizonMs ?? ORPHAN_HORIZON_MS;
  const state = options.known ?? (await readWindowState(storage, ref, options));
  if (state.kind === 'unreadable') return { deletedParts: [], abortedWrites: [], youngOrphans: [], skippedUnreadable: state.key };
  const listed = new Set(state.kind === 'committed' ? dataFiles(state.manifest).map((p) => p.key) : []);
  const deletable: string[] = [];
  const young: string[] = [];
  for (const kind of ['raw', 'curated'] as const) {
    for (const object of await storage.list(windowPartPrefix(ref, kind), options)) {
      if (listed.has(object.key) || !parsePartKey(object.key)) continue;
      (partAgeMs(object.key, object.lastModified, options.nowMs) > horizon ? deletable : young).push(object.key);
    }
  }
  const aborted: string[] = [];
  // Unfinished writes: multipart uploads or temp files of parts, and temp files of commits and
  // symlinks that a killed process left (those are named after no run, so their age is storage's).
  for (const prefix of [windowPartPrefix(ref, 'raw'), windowPartPrefix(ref, 'curated'), windowManifestPrefix(ref), symlinkKey(ref, 'raw'), symlinkKey(ref, 'curated')]) {
    for (const write of await storage.listIncomplete(prefix, options)) {
      if (partAgeMs(write.key, write.startedAt, options.nowMs) <= horizon) continue;
      if (!options.dryRun) await storage.abortIncomplete(write, options);
      aborted.push(write.key);
    }
  }
  if (!options.dryRun) await deleteParts(storage, ref, deletable, options);
  return { deletedParts: deletable, abortedWrites: aborted, youngOrphans: young };
}

function sameWindow(a: WindowRef, b: WindowRef): boolean {
  return a.source === b.source && a.stream === b.stream && a.window.start.getTime() === b.window.start.getTime() && a.window.end.getTime() === b.window.end.getTime();
}
