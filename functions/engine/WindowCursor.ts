/**
 * Where the pages of a stream window stand after a page, as JSON: the paging walk's position and
 * the incremental filter's order check. A window landed in legs (one per durable step) takes up
 * its pages from here; the stream's parent, when it has one, leaves nothing to take up (such a
 * window lands in one leg). A job stream's window stands before its pages while its job runs:
 * the next leg polls the job again ({@link JobPollCursor}).
 */

import { ApilakeError } from '../errors.js';
import { parsePagingToken, type PagingToken } from '../pagination/PagingToken.js';
import type { FilterPosition } from './IncrementalFilter.js';

/** Where a stream window's pages stand. */
export interface WindowCursor {
  readonly paging: PagingToken;
  /** The incremental filter's order check, with `incremental`. */
  readonly incremental?: FilterPosition;
}

/**
 * A job stream's window whose export job was not done when its leg paused: the next leg polls the
 * job its job record names again, after `pollInMs`, and downloads its results once it is done.
 */
export interface JobPollCursor {
  readonly job: 'poll';
  /** How long to wait before the next poll, in ms: the stream's `poll.every`, or the last poll's Retry-After. */
  readonly pollInMs: number;
}

/** Where a paused window continues: its pages, or its job's next poll. */
export type SliceCursor = WindowCursor | JobPollCursor;

/** Whether the window continues by polling its job again. */
export function isJobPoll(cursor: SliceCursor): cursor is JobPollCursor {
  return 'job' in cursor;
}

/**
 * Checks where a checkpoint says a paused window continues (written by this code: a wrong shape
 * is a version mismatch or a bug).
 * @throws PaginationError, ApilakeError saying what is wrong
 */
export function parseSliceCursor(value: unknown): SliceCursor {
  if (value !== null && typeof value === 'object' && 'job' in value) {
    const { job, pollInMs } = value as Record<string, unknown>;
    if (job !== 'poll') throw new ApilakeError(`cannot continue the window from the stored position: job ${JSON.stringify(job)} is not "poll"`);
    if (typeof pollInMs !== 'number' || !Number.isInteger(pollInMs) || pollInMs < 0) {
      throw new ApilakeError(`cannot continue the window from the stored position: the wait before the job's next poll, ${JSON.stringify(pollInMs)}, is not a duration in ms`);
    }
    return { job, pollInMs };
  }
  return parseWindowCursor(value);
}

/**
 * Checks a cursor read back from a checkpoint (written by this code: a wrong shape is a version
 * mismatch or a bug).
 * @throws PaginationError, ApilakeError saying what is wrong
 */
export function parseWindowCursor(value: unknown): WindowCursor {
  if (value === null || typeof value !== 'object') throw new ApilakeError('cannot continue the window from the stored position: it is not an object');
  const cursor = value as Record<string, unknown>;
  const paging = parsePagingToken(cursor.paging);
  const incremental = cursor.incremental as Record<string, unknown> | undefined;
  if (incremental !== undefined && (typeof incremental?.at !== 'number' || typeof incremental.label !== 'string')) {
    throw new ApilakeError('cannot continue the window from the stored position: its incremental position is not {at, label}');
  }
  return { paging, ...(incremental ? { incremental: incremental as unknown as FilterPosition } : {}) };
}
