/**
 * What a stream holds, as readers must see it: the current commit of every window (commitProtocol
 * I1), and on request what no reader should see — orphaned parts, unfinished writes, unreadable
 * commits, missing symlinks. Shared by `apilake query`, `status` and `gc`.
 */

import { ConcurrencyLimiter } from '../commons/ConcurrencyLimiter.js';
import { SinkError } from '../errors.js';
import type { IncompleteWrite, LakeStorage, StorageCallOptions, StoredObject } from './LakeStorage.js';
import {
  CURATED_PREFIX,
  CURATED_SYMLINKS,
  MANIFEST_PREFIX,
  manifestDayBounds,
  parseManifestKey,
  parsePartKey,
  parseSymlinkKey,
  RAW_PREFIX,
  RAW_SYMLINKS,
  streamPrefix,
  symlinkKey,
  windowId,
  type WindowRef,
} from './lakeLayout.js';
import { dataFiles } from './windowState.js';
import { parseManifest, type Manifest } from './manifest.js';

/** A window and its current, readable commit. */
export interface CommittedWindow {
  readonly ref: WindowRef;
  readonly commit: number;
  readonly key: string;
  readonly manifest: Manifest;
}

/** A window whose current commit cannot be read: not committed, and reported (I1). */
export interface UnreadableWindow {
  readonly ref: WindowRef;
  readonly key: string;
  readonly error: SinkError;
}

/** One stream of the lake. */
export interface StreamSnapshot {
  readonly source: string;
  readonly stream: string;
  /** Sorted by window start. */
  readonly committed: readonly CommittedWindow[];
  readonly unreadable: readonly UnreadableWindow[];
  /** With `audit`: parts that no current commit lists (a run in flight, crashed, or replaced). */
  readonly orphanParts?: readonly StoredObject[];
  /** With `audit`: writes that never finished (temp files, multipart uploads). */
  readonly incomplete?: readonly IncompleteWrite[];
  /** With `audit`: committed windows with parts whose Athena symlink file is missing. */
  readonly missingSymlinks?: readonly WindowRef[];
  /** With `audit`: symlink files of windows that have no readable commit with parts. */
  readonly strandedSymlinks?: readonly string[];
}

/** Options of {@link snapshotStream}. */
export interface SnapshotOptions extends StorageCallOptions {
  /** Also list parts, unfinished writes and symlinks to find what readers must not see. @default false */
  readonly audit?: boolean;
  /** Manifests read at once. @default 16 */
  readonly concurrency?: number;
}

/** A window's current commit: its manifest with the highest number. */
export interface CurrentCommit {
  readonly ref: WindowRef;
  readonly commit: number;
  readonly key: string;
}

/** Options of {@link currentCommits}. */
export interface CurrentCommitsOptions extends StorageCallOptions {
  /** Only windows that start within these bounds (and others of the same UTC days): a long history is not listed for a few days of it. */
  readonly starts?: { readonly first: Date; readonly last: Date };
}

/** The current commit of every committed window of a stream, by `windowId`, from one listing of its manifests (none read). */
export async function currentCommits(storage: LakeStorage, source: string, stream: string, options: CurrentCommitsOptions = {}): Promise<Map<string, CurrentCommit>> {
  const current = new Map<string, CurrentCommit>();
  const { starts, ...call } = options;
  const bounds = starts ? manifestDayBounds(source, stream, starts.first, starts.last) : {};
  for (const object of await storage.list(streamPrefix(MANIFEST_PREFIX, source, stream), { ...call, ...bounds })) {
    const parsed = parseManifestKey(object.key);
    if (!parsed || parsed.ref.source !== source || parsed.ref.stream !== stream) continue;
    const id = windowId(parsed.ref);
    if ((current.get(id)?.commit ?? -1) < parsed.commit) current.set(id, { ...parsed, key: object.key });
  }
  return current;
}

/** Reads the current commit of every window of a stream. */
export async function snapshotStream(storage: LakeStorage, source: string, stream: string, options: SnapshotOptions = {}): Promise<StreamSnapshot> {
  const current = await currentCommits(storage, source, stream, options);
  const limiter = new ConcurrencyLimiter(options.concurrency ?? 16);
  const committed: CommittedWindow[] = [];
  const unreadable: UnreadableWindow[] = [];
  await Promise.all(
    [...current.values()].map((entry) =>
      limiter.run(async () => {
        const bytes = await storage.read(entry.key, options);
        try {
          if (bytes === undefined) throw new SinkError(`manifest ${entry.key} was listed but could not be read`);
          committed.push({ ...entry, manifest: parseManifest(bytes, entry.key, entry) });
        } catch (error) {
          if (!(error instanceof SinkError)) throw error;
          unreadable.push({ ref: entry.ref, key: entry.key, error });
        }
      }),
    ),
  );
  committed.sort((a, b) => a.ref.window.start.getTime() - b.ref.window.start.getTime() || a.ref.window.end.getTime() - b.ref.window.end.getTime());
  const snapshot: StreamSnapshot = { source, stream, committed, unreadable };
  return options.audit ? { ...snapshot, ...(await audit(storage, source, stream, committed, unreadable, options)) } : snapshot;
}

async function audit(
  storage: LakeStorage,
  source: string,
  stream: string,
  committed: readonly CommittedWindow[],
  unreadable: readonly UnreadableWindow[],
  options: StorageCallOptions,
): Promise<Pick<StreamSnapshot, 'orphanParts' | 'incomplete' | 'missingSymlinks' | 'strandedSymlinks'>> {
  const listed = new Set(committed.flatMap((w) => dataFiles(w.manifest).map((p) => p.key)));
  const unreadableWindows = new Set(unreadable.map((w) => windowId(w.ref)));
  const orphanParts = [...(await storage.list(streamPrefix(RAW_PREFIX, source, stream), options)), ...(await storage.list(streamPrefix(CURATED_PREFIX, source, stream), options))].filter((object) => {
    const part = parsePartKey(object.key);
    // Files of a window whose commit cannot be read are neither listed nor orphans: nobody can tell.
    return part !== undefined && !listed.has(object.key) && !unreadableWindows.has(windowId(part.ref));
  });
  const areas = [RAW_PREFIX, CURATED_PREFIX, MANIFEST_PREFIX, RAW_SYMLINKS, CURATED_SYMLINKS] as const;
  const incomplete = (await Promise.all(areas.map((area) => storage.listIncomplete(streamPrefix(area, source, stream), options)))).flat();
  const symlinks = new Set(
    [...(await storage.list(streamPrefix(RAW_SYMLINKS, source, stream), options)), ...(await storage.list(streamPrefix(CURATED_SYMLINKS, source, stream), options))]
      .map((o) => o.key)
      .filter((key) => parseSymlinkKey(key) !== undefined),
  );
  const expected = new Set<string>();
  for (const w of committed) {
    if (w.manifest.parts.length > 0) expected.add(symlinkKey(w.ref, 'raw'));
    if ((w.manifest.curated ?? []).length > 0) expected.add(symlinkKey(w.ref, 'curated'));
  }
  const missing = new Map<string, WindowRef>();
  for (const w of committed) for (const kind of ['raw', 'curated'] as const) if (expected.has(symlinkKey(w.ref, kind)) && !symlinks.has(symlinkKey(w.ref, kind))) missing.set(windowId(w.ref), w.ref);
  const missingSymlinks = [...missing.values()];
  const strandedSymlinks = [...symlinks].filter((key) => !expected.has(key));
  return { orphanParts, incomplete, missingSymlinks, strandedSymlinks };
}
