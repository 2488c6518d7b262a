/**
 * When a job record may go (gc, commitProtocol I5 by the same clock): once its window is
 * committed at or past the commit the record was for, its job's records are landed; and once the
 * storage's clock says the record is older than the orphan horizon plus the job's own timeout,
 * no attempt can still be polling it (a later attempt of the window then creates a new job).
 */

import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { JOBS_PREFIX, parseJobRecordKey, streamPrefix } from './lakeLayout.js';
import { deleteJobRecord, parseJobRecord } from './jobRecord.js';
import { currentCommitNumber, readWindowState } from './windowState.js';

/** Options of {@link collectJobRecords}. */
export interface JobRecordGarbageOptions extends StorageCallOptions {
  /** The storage's now, asked only when a record is not settled by its window's commit. */
  readonly storageNow: () => Promise<Date>;
  readonly horizonMs: number;
  readonly dryRun?: boolean;
}

/**
 * Removes the job records of a stream that no attempt needs any more.
 * @returns the keys removed (or, dry, that would be)
 */
export async function collectJobRecords(storage: LakeStorage, source: string, stream: string, options: JobRecordGarbageOptions): Promise<string[]> {
  const removed: string[] = [];
  for (const object of await storage.list(streamPrefix(JOBS_PREFIX, source, stream), options)) {
    const ref = parseJobRecordKey(object.key);
    if (!ref || ref.source !== source || ref.stream !== stream) continue;
    const bytes = await storage.read(object.key, options);
    const record = bytes === undefined ? undefined : parseJobRecord(bytes, ref);
    const state = await readWindowState(storage, ref, options);
    const landed = record !== undefined && state.kind === 'committed' && currentCommitNumber(state) >= record.commit;
    let expired = false;
    if (!landed) {
      const age = (await options.storageNow()).getTime() - object.lastModified.getTime();
      expired = age > options.horizonMs + (record?.timeout_ms ?? 0);
    }
    if (!landed && !expired) continue;
    if (!options.dryRun) await deleteJobRecord(storage, ref, options);
    removed.push(object.key);
  }
  return removed;
}
