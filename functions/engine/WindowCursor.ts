/**
 * Where the pages of a stream window stand after a page, as JSON: the paging walk's position and
 * the incremental filter's order check. A window landed in legs (one per durable step) takes up
 * its pages from here; the stream's parent, when it has one, leaves nothing to take up (such a
 * window lands in one leg).
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
