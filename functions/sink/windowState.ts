/**
 * The objects of one window and the operations on them: reading its current commit (I1),
 * creating a commit with put-if-absent and learning who won (I2), publishing its symlinks (I6),
 * deleting parts. When each is done, and what may be deleted, is the commit protocol's to decide
 * (commitProtocol.ts, where the invariants I1–I6 are stated).
 */

import { ApilakeError, SinkError, StorageStallError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { manifestKey, parseManifestKey, parsePartKey, symlinkKey, windowManifestPrefix, windowPartPrefix, type DataKind, type WindowRef } from './lakeLayout.js';
import { parseManifest, serializeManifest, type Manifest, type PartInfo } from './manifest.js';

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

/** Options of {@link createCommit}. */
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
export async function createCommit(storage: LakeStorage, ref: WindowRef, manifest: Manifest, options: CommitOptions): Promise<CommitOutcome> {
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
  // The run id alone does not tell: the invocations of one durable run share it, but each lists files of its own.
  const files = (m: Manifest) => JSON.stringify(dataFiles(m).map((p) => p.key));
  return theirs.run_id === mine.run_id && files(theirs) === files(mine) ? { kind: 'committed', manifest: theirs, key } : { kind: 'lost', winner: theirs, key };
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

/** Whether two references name the same window. */
export function sameWindow(a: WindowRef, b: WindowRef): boolean {
  return a.source === b.source && a.stream === b.stream && a.window.start.getTime() === b.window.start.getTime() && a.window.end.getTime() === b.window.end.getTime();
}
