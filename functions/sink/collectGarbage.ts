/**
 * `apilake gc`: removes what no reader will ever see, for every window of a source, by the rules
 * of the commit protocol (I5 c, I6): orphaned parts and unfinished writes of attempts that wrote
 * nothing within the horizon by the storage's clock, and symlink files that do not match the
 * current commit. The clock of the machine running it plays no part.
 */

import { ConcurrencyLimiter } from '../commons/ConcurrencyLimiter.js';
import { ORPHAN_HORIZON_MS } from './commitProtocol.js';
import { collectJobRecords } from './jobRecordGarbage.js';
import { collectWindowGarbage } from './windowGarbage.js';
import { publishSymlink, readWindowState, symlinkText } from './windowState.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { parseManifestKey, parsePartKey, parseSymlinkKey, symlinkKey, windowId, type WindowRef } from './lakeLayout.js';
import { snapshotStream } from './lakeSnapshot.js';
import { lazyStorageTime } from './storageClock.js';

/** What gc did (or, dry, would do) to one stream. */
export interface StreamGarbageReport {
  readonly stream: string;
  readonly deletedParts: number;
  readonly abortedWrites: number;
  /** Orphans younger than the horizon: possibly a run still in flight, so kept. */
  readonly youngOrphans: number;
  readonly repairedSymlinks: number;
  /** Windows whose current commit cannot be read: untouched, listed for a human. */
  readonly unreadable: readonly string[];
  /** The storage's now, when it was read (only when something needed dating). */
  readonly storageTime?: Date;
  /** Why the storage's clock could not be read: then nothing of the stream was deleted. */
  readonly clockError?: string;
  /** Job records removed: their window committed, or past the horizon (present when any). */
  readonly deletedJobRecords?: number;
}

/** Options of {@link collectGarbage}. */
export interface CollectGarbageOptions extends StorageCallOptions {
  readonly streams: readonly string[];
  /** @default ORPHAN_HORIZON_MS; a shorter horizon could delete the parts of a run still in flight */
  readonly horizonMs?: number;
  readonly dryRun?: boolean;
}

/** Collects the garbage of the given streams of a source. */
export async function collectGarbage(storage: LakeStorage, source: string, options: CollectGarbageOptions): Promise<StreamGarbageReport[]> {
  const reports: StreamGarbageReport[] = [];
  for (const stream of options.streams) {
    const snapshot = await snapshotStream(storage, source, stream, { ...options, audit: true });
    // Only windows where something is off need a closer look.
    const windows = new Map<string, WindowRef>();
    const note = (ref: WindowRef) => windows.set(windowId(ref), ref);
    for (const object of snapshot.orphanParts ?? []) note(parsePartKey(object.key)!.ref);
    for (const write of snapshot.incomplete ?? []) {
      const ref = parsePartKey(write.key)?.ref ?? parseManifestKey(write.key)?.ref ?? parseSymlinkKey(write.key);
      if (ref) note(ref);
    }
    for (const ref of snapshot.missingSymlinks ?? []) note(ref);
    // A symlink that exists may still list another commit's parts (a run died between its commit and the rewrite).
    const limiter = new ConcurrencyLimiter(16);
    await Promise.all(
      snapshot.committed.map((window) =>
        limiter.run(async () => {
          for (const kind of ['raw', 'curated'] as const) {
            const text = await storage.read(symlinkKey(window.ref, kind), options).catch(() => undefined);
            if (text !== undefined && text.toString('utf8') !== symlinkText(storage, window.manifest, kind)) note(window.ref);
          }
        }),
      ),
    );
    for (const key of snapshot.strandedSymlinks ?? []) note(parseSymlinkKey(key)!);

    let deletedParts = 0;
    let abortedWrites = 0;
    let youngOrphans = 0;
    let repairedSymlinks = 0;
    let clockError: string | undefined;
    // Probed once per stream, and only when a window has files to date.
    const probe = lazyStorageTime(storage, source, options);
    let storageTime: Date | undefined;
    const storageNow = async () => (storageTime = await probe());
    for (const ref of windows.values()) {
      const known = await readWindowState(storage, ref, options);
      // The symlink first: until it is repaired, Athena may still read the files an orphan sweep would delete.
      if (!options.dryRun && known.kind !== 'unreadable' && (await publishSymlink(storage, ref, { ...options, known }))) repairedSymlinks++;
      const garbage = await collectWindowGarbage(storage, ref, { ...options, storageNow, horizonMs: options.horizonMs ?? ORPHAN_HORIZON_MS, known });
      clockError ??= garbage.clockError;
      deletedParts += garbage.deletedParts.length;
      abortedWrites += garbage.abortedWrites.length;
      youngOrphans += garbage.youngOrphans.length;
    }
    let deletedJobRecords = 0;
    if (!clockError) {
      try {
        deletedJobRecords = (await collectJobRecords(storage, source, stream, { ...options, storageNow, horizonMs: options.horizonMs ?? ORPHAN_HORIZON_MS })).length;
      } catch (error) {
        clockError = (error as Error).message;
      }
    }
    reports.push({
      stream,
      deletedParts,
      abortedWrites,
      youngOrphans,
      repairedSymlinks,
      unreadable: snapshot.unreadable.map((w) => w.key),
      ...(storageTime ? { storageTime } : {}),
      ...(clockError ? { clockError } : {}),
      ...(deletedJobRecords > 0 ? { deletedJobRecords } : {}),
    });
  }
  return reports;
}
