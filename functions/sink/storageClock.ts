/**
 * The storage's own clock. Garbage collection compares the storage's timestamps of a window's
 * files (S3 `LastModified` and multipart `Initiated`, file mtimes) with the storage's notion of
 * now, never with the clock of the machine that runs it (commitProtocol I5): the machine may be
 * hours off, and the run that wrote the files may have been too.
 */

import { randomBytes } from 'node:crypto';
import { SinkError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { clockProbeKey, clockProbePrefix } from './lakeLayout.js';

/** Probes older than this (by the storage's clock) were left by a killed process, and go. */
const STALE_PROBE_MS = 3_600_000;

/**
 * The storage's now: writes an empty probe object under the source's clock prefix, reads the
 * timestamp storage gave it from a listing, and deletes it (and probes a killed process left).
 * @throws SinkError when the probe cannot be written, listed or dated: the caller then cannot tell
 *   any file's age and must delete nothing.
 */
export async function probeStorageTime(storage: LakeStorage, source: string, options: StorageCallOptions = {}): Promise<Date> {
  const key = clockProbeKey(source, randomBytes(6).toString('hex'));
  const leftovers: string[] = [];
  try {
    await storage.writeBytes(key, '', options);
    const listed = await storage.list(clockProbePrefix(source), options);
    const probe = listed.find((object) => object.key === key);
    if (!probe) throw new SinkError(`the clock probe ${key} was written but is not listed`);
    const now = probe.lastModified.getTime();
    if (!Number.isFinite(now) || now <= 0) throw new SinkError(`storage gave the clock probe ${key} no usable timestamp`);
    for (const object of listed) if (object.key !== key && now - object.lastModified.getTime() > STALE_PROBE_MS) leftovers.push(object.key);
    return probe.lastModified;
  } catch (error) {
    throw new SinkError(`cannot read the storage's clock at ${storage.uri(clockProbePrefix(source))}: ${(error as Error).message}`, { cause: error });
  } finally {
    // A probe that could not be removed is harmless (empty, outside every stream) and goes with the next one.
    await storage.delete([key, ...leftovers], options).catch(() => undefined);
  }
}

/** The storage's now, probed once when first asked for (nothing is probed when nothing needs dating). */
export function lazyStorageTime(storage: LakeStorage, source: string, options: StorageCallOptions = {}): () => Promise<Date> {
  let probed: Promise<Date> | undefined;
  return () => (probed ??= probeStorageTime(storage, source, options));
}
