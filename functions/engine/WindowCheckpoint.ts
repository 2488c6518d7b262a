/**
 * Where a window landed in slices stands after a slice, as JSON: what the next slice (the next
 * invocation of a durable function) starts from. It holds the attempt (its run id, its start, the
 * commit it creates), the next request, the files stored so far with what the manifest needs of
 * them, and the counters the manifest sums. A job stream's window paused while its job runs has
 * no files yet, and its next request is the job's next poll. Nothing in it is visible to readers:
 * the files it lists become the window's content only with the commit at the end.
 */

import type { DecodingCounts } from '../body/DecodingTally.js';
import { ApilakeError } from '../errors.js';
import type { PartInfo } from '../sink/manifest.js';
import { parseSliceCursor, type SliceCursor } from './WindowCursor.js';

/**
 * Largest checkpoint, in bytes of JSON: a durable step's result may be at most 256 KB, and the
 * rest is the SDK's. A part takes about 230 bytes, so about 850 parts fit (54 GB of records at the
 * default part_size_mb of 64); a window with more needs a larger `part_size_mb`.
 */
export const MAX_CHECKPOINT_BYTES = 200 * 1024;

/** The counters of the pages landed so far. */
export interface CheckpointCounters {
  readonly pages: number;
  readonly filtered: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
  readonly decoding: DecodingCounts;
  readonly typeErrors?: Readonly<Record<string, number>>;
}

/** A window landed in slices, between two slices. */
export interface WindowCheckpoint {
  readonly format: 1;
  /** The attempt's run id: every envelope and the manifest carry it, from the first slice to the commit. */
  readonly runId: string;
  /** When the attempt began (ISO 8601, the first slice's clock): its age counts from here (commit protocol I4). */
  readonly startedAt: string;
  /** The commit the attempt creates: it saw commit − 1 as current when it began. */
  readonly commit: number;
  /** Slices landed so far. */
  readonly slices: number;
  /** The next page to fetch, or, for a job stream whose job was not done, the job's next poll. */
  readonly next: SliceCursor;
  /** The longest time a part took to fill so far, in ms: how early the next slice must stop to reach a part boundary in time. */
  readonly longestPartMs?: number;
  /** Raw parts stored so far, in order. */
  readonly parts: readonly PartInfo[];
  /** Parquet files stored so far, one per slice that wrote records (with a typed table). */
  readonly curated?: readonly PartInfo[];
  readonly counters: CheckpointCounters;
}

/**
 * Checks a checkpoint read back from the durable execution's history. It was written by this
 * code, so a wrong shape is a version mismatch or a bug, never user input.
 * @throws ApilakeError saying what is wrong
 */
export function parseWindowCheckpoint(value: unknown): WindowCheckpoint {
  const fail = (why: string): never => {
    throw new ApilakeError(`cannot continue the window from its checkpoint: ${why}`);
  };
  if (value === null || typeof value !== 'object') return fail('it is not an object');
  const c = value as Record<string, unknown>;
  if (c.format !== 1) fail(`unknown format ${JSON.stringify(c.format)}`);
  if (typeof c.runId !== 'string' || c.runId === '') fail('it has no run id');
  if (typeof c.startedAt !== 'string' || Number.isNaN(Date.parse(c.startedAt))) fail('its start is not a timestamp');
  if (!isCount(c.commit) || c.commit < 1) fail(`commit ${JSON.stringify(c.commit)} is not a commit number`);
  if (!isCount(c.slices)) fail(`slices ${JSON.stringify(c.slices)} is not a count`);
  if (c.longestPartMs !== undefined && !isCount(c.longestPartMs)) fail(`longestPartMs ${JSON.stringify(c.longestPartMs)} is not a duration in ms`);
  if (!Array.isArray(c.parts) || !c.parts.every(isPart)) fail('its parts are not a list of {key, records, bytes, sha256}');
  if (c.curated !== undefined && (!Array.isArray(c.curated) || !c.curated.every(isPart))) fail('its Parquet files are not a list of {key, records, bytes, sha256}');
  const counters = c.counters as Record<string, unknown> | undefined;
  if (!counters || !['pages', 'filtered', 'requests', 'retries', 'throttled'].every((k) => isCount(counters[k])) || typeof counters.decoding !== 'object') fail('its counters are incomplete');
  return { ...(value as WindowCheckpoint), next: parseSliceCursor(c.next) };
}

/** The checkpoint as the JSON a durable step returns. @throws ApilakeError when it is larger than {@link MAX_CHECKPOINT_BYTES} */
export function checkpointJson(checkpoint: WindowCheckpoint): string {
  const text = JSON.stringify(checkpoint);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CHECKPOINT_BYTES) {
    throw new ApilakeError(
      `the window's checkpoint is ${Math.round(bytes / 1024)} KB with ${checkpoint.parts.length} parts, more than the ${MAX_CHECKPOINT_BYTES / 1024} KB a durable step may return; raise lake.part_size_mb so the window needs fewer parts`,
    );
  }
  return text;
}

function isPart(value: unknown): boolean {
  const p = value as Partial<PartInfo> | null;
  return !!p && typeof p.key === 'string' && isCount(p.records) && isCount(p.bytes) && typeof p.sha256 === 'string';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
