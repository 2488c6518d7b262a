/**
 * The job record of a window of a job stream (`jobs/…/<start>_<end>.json`): which export job the
 * window's attempts share, so an attempt that died while the job ran, or after it finished and
 * before the commit, is followed by one that polls and downloads the same job instead of creating
 * another. Written by the attempt that created the job, before it polls; marked abandoned when the
 * job failed, timed out or is gone (the next attempt creates another, under a new idempotency key); removed
 * by the commit that lands the window (commitProtocol.ts) and by gc. No reader lists `jobs/`.
 */

import { SinkError } from '../errors.js';
import type { LakeStorage, StorageCallOptions } from './LakeStorage.js';
import { jobRecordKey, type WindowRef } from './lakeLayout.js';
import { isoSeconds } from '../window/TimeWindow.js';

/** The content of a job record. */
export interface JobRecord {
  readonly format: 1;
  readonly source: string;
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
  /** The commit the job is landed as: a record for another commit (an older one, before a --force) is not reused. */
  readonly commit: number;
  /** The job's id at the API. */
  readonly job_id: string;
  /** When the job was created, by the creating run's clock; `poll.timeout` counts from it. */
  readonly created_at: string;
  /** The run that created it. */
  readonly run_id: string;
  /** The stream's `poll.timeout` then: gc keeps a record at least this long past the orphan horizon. */
  readonly timeout_ms: number;
  /** Jobs of this commit abandoned before this one (`{job.key}` differs per generation). @default 0 */
  readonly generation?: number;
  /** When the job failed or timed out: the window's next attempt creates generation + 1. */
  readonly abandoned_at?: string;
}

/** What the engine does with the job record of the window it lands. */
export interface JobRecordStore {
  /** The window's record, if any (undefined too when it cannot be parsed: a new job is then created). */
  read(): Promise<JobRecord | undefined>;
  /** Writes the record unless one exists; returns the record that stands (another attempt's, if it was first). */
  create(record: JobRecord): Promise<JobRecord>;
  /** Replaces the record (one left by an attempt at an older commit). */
  replace(record: JobRecord): Promise<void>;
  /**
   * Marks the record's job abandoned (it failed, ran past its timeout or is gone): the next attempt
   * creates another. A record that names another job, or no record, is left as it stands.
   */
  abandon(record: JobRecord, at: string): Promise<void>;
}

/** The job record store of one window. */
export function windowJobRecords(storage: LakeStorage, ref: WindowRef, options: StorageCallOptions = {}): JobRecordStore {
  const key = jobRecordKey(ref);
  const read = () => readJobRecord(storage, ref, options);
  return {
    read,
    create: async (record) => {
      if ((await storage.putIfAbsent(key, serialize(record), options)) === 'created') return record;
      const standing = await read();
      if (!standing) throw new SinkError(`job record ${key} exists but cannot be read`);
      return standing;
    },
    replace: (record) => storage.writeBytes(key, serialize(record), options),
    abandon: async (record, at) => {
      // An attempt that polled or downloaded an older job may learn it is gone after another attempt
      // recorded a newer one, or committed the window: only the record of this very job is marked.
      const standing = await read();
      if (!standing || !sameJob(standing, record)) return;
      await storage.writeBytes(key, serialize({ ...standing, abandoned_at: standing.abandoned_at ?? at }), options);
    },
  };
}

/** A new job record of `ref`. */
export function newJobRecord(ref: WindowRef, fields: Pick<JobRecord, 'commit' | 'job_id' | 'created_at' | 'run_id' | 'timeout_ms' | 'generation'>): JobRecord {
  return { format: 1, source: ref.source, stream: ref.stream, window: { start: isoSeconds(ref.window.start), end: isoSeconds(ref.window.end) }, ...fields };
}

/** Reads the window's job record (listing first: on S3 a missing key reads as a denial). */
export async function readJobRecord(storage: LakeStorage, ref: WindowRef, options: StorageCallOptions = {}): Promise<JobRecord | undefined> {
  const key = jobRecordKey(ref);
  if (!(await storage.list(key, options)).some((o) => o.key === key)) return undefined;
  const bytes = await storage.read(key, options);
  return bytes === undefined ? undefined : parseJobRecord(bytes, ref);
}

/** A stored record, or undefined when it is not a job record of this window. */
export function parseJobRecord(bytes: Buffer, ref: WindowRef): JobRecord | undefined {
  let parsed: Partial<JobRecord>;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Partial<JobRecord>;
  } catch {
    return undefined;
  }
  const fits =
    parsed?.format === 1 &&
    parsed.source === ref.source &&
    parsed.stream === ref.stream &&
    parsed.window?.start === isoSeconds(ref.window.start) &&
    parsed.window.end === isoSeconds(ref.window.end) &&
    typeof parsed.job_id === 'string' &&
    parsed.job_id !== '' &&
    Number.isInteger(parsed.commit) &&
    typeof parsed.created_at === 'string' &&
    Number.isFinite(Date.parse(parsed.created_at)) &&
    Number.isInteger(parsed.timeout_ms) &&
    (parsed.generation === undefined || (Number.isInteger(parsed.generation) && parsed.generation >= 0)) &&
    (parsed.abandoned_at === undefined || typeof parsed.abandoned_at === 'string');
  return fits ? (parsed as JobRecord) : undefined;
}

/** Deletes the window's job record, if any. */
export async function deleteJobRecord(storage: LakeStorage, ref: WindowRef, options: StorageCallOptions = {}): Promise<void> {
  await storage.delete([jobRecordKey(ref)], options);
}

/** Whether two records name the same job: of the same commit and generation, with the same id. */
function sameJob(a: JobRecord, b: JobRecord): boolean {
  return a.commit === b.commit && a.job_id === b.job_id && (a.generation ?? 0) === (b.generation ?? 0);
}

function serialize(record: JobRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
