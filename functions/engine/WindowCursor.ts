/**
 * Where the pages of a stream window stand after a page, as JSON: the paging walk's position and
 * the incremental filter's order check. A window landed in legs (one per durable step) takes up
 * its pages from here; the stream's parent, when it has one, leaves nothing to take up (such a
 * window lands in one leg). A job stream's window stands before its pages while its job runs
 * (the next leg polls the job again: {@link JobPollCursor}), and within its job's download once
 * the job is done ({@link JobDownloadCursor}).
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

/**
 * A job stream's window whose leg stopped within the download of its done job's results: the next
 * leg polls the same job once more (for its `{job.<field>}` values and result files) and goes on
 * downloading from here. Result files (`download.urls`) are taken up at the next file, or within a
 * file right after a record (`offset`), when the file is one that can be (fetchPage.ts).
 */
export interface JobDownloadCursor {
  readonly job: 'download';
  /** The job whose results these are: a leg whose job record names another job cannot go on. */
  readonly jobId: string;
  /** With `download.urls`: the next file to download (0-based), of `files`. */
  readonly file?: number;
  /** With `download.urls`: how many files the job's poll named. */
  readonly files?: number;
  /**
   * With `download.urls`: a digest of the files' origins and paths, in the order the job's poll named
   * them (not their queries, where a signature renewed at each poll lives). Files are taken up by
   * their place in the list, so a poll that names other files, or the same in another order, cannot go on.
   */
  readonly listing?: string;
  /** With `file`, taken up within it: the byte offset just after the last landed record's line (its line end included). */
  readonly offset?: number;
  /** With `offset`: the strong validator (`If-Range`) the file was first sent with; a file with another is another file. */
  readonly validator?: string;
  /** With `offset`: the file's length in bytes, when first sent. */
  readonly length?: number;
  /** With `download.path`: the results walk's next page. */
  readonly paging?: PagingToken;
  /** With `download.path`: parameters left out of `paging`'s next request, filled again from the next poll of the job (pollParams.ts). */
  readonly fromPoll?: readonly string[];
  /** With `download.path` and `incremental`: the filter's order check. */
  readonly incremental?: FilterPosition;
}

/** Where a window's pages stand: its own walk, or its job's download. */
export type PagesCursor = WindowCursor | JobDownloadCursor;

/** Where a paused window continues: its pages, its job's next poll, or its job's download. */
export type SliceCursor = PagesCursor | JobPollCursor;

/** Whether the window continues by polling its job again. */
export function isJobPoll(cursor: SliceCursor): cursor is JobPollCursor {
  return 'job' in cursor && cursor.job === 'poll';
}

/** Whether the window continues within its job's download. */
export function isJobDownload(cursor: SliceCursor): cursor is JobDownloadCursor {
  return 'job' in cursor && cursor.job === 'download';
}

/**
 * Checks where a checkpoint says a paused window continues (written by this code: a wrong shape
 * is a version mismatch or a bug).
 * @throws PaginationError, ApilakeError saying what is wrong
 */
export function parseSliceCursor(value: unknown): SliceCursor {
  if (value !== null && typeof value === 'object' && 'job' in value) {
    const { job } = value as Record<string, unknown>;
    if (job === 'poll') return parseJobPoll(value);
    if (job === 'download') return parseJobDownload(value);
    throw new ApilakeError(`cannot continue the window from the stored position: job ${JSON.stringify(job)} is neither "poll" nor "download"`);
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
  const incremental = parseIncremental(cursor.incremental);
  return { paging, ...(incremental ? { incremental } : {}) };
}

function parseJobPoll({ pollInMs }: Record<string, unknown>): JobPollCursor {
  if (!isCount(pollInMs)) throw new ApilakeError(`cannot continue the window from the stored position: the wait before the job's next poll, ${JSON.stringify(pollInMs)}, is not a duration in ms`);
  return { job: 'poll', pollInMs };
}

function parseJobDownload(cursor: Record<string, unknown>): JobDownloadCursor {
  const fail = (why: string): never => {
    throw new ApilakeError(`cannot continue the job's download from the stored position: ${why}`);
  };
  const { jobId, file, files, listing, paging } = cursor;
  if (typeof jobId !== 'string' || jobId === '') fail(`job id ${JSON.stringify(jobId)} is not a job's id`);
  const byFile = file !== undefined || files !== undefined || listing !== undefined;
  if (byFile === (paging !== undefined)) fail('it gives neither a file nor a paging position, or both');
  if (byFile) {
    if (!isCount(files) || files < 1) fail(`files ${JSON.stringify(files)} is not a count of result files`);
    if (!isCount(file) || file >= (files as number)) fail(`file ${JSON.stringify(file)} is not one of the job's ${JSON.stringify(files)} result files (0-based)`);
    if (typeof listing !== 'string' || listing === '') fail(`listing ${JSON.stringify(listing)} is not a digest of the job's result files`);
    if (cursor.incremental !== undefined || cursor.fromPoll !== undefined) fail('a result file is taken up whole or by byte offset, so it has no paging position within it');
    const byFile = { job: 'download', jobId: jobId as string, file: file as number, files: files as number, listing: listing as string } as const;
    const { offset, validator, length } = cursor;
    if (offset === undefined && validator === undefined && length === undefined) return byFile;
    if (!isCount(length) || length < 2) fail(`the file's length ${JSON.stringify(length)} is not a count of bytes`);
    if (!isCount(offset) || offset < 1 || offset >= (length as number))
      fail(`offset ${JSON.stringify(offset)} is not a byte within the file's ${JSON.stringify(length)} (after its first, before its end)`);
    // RFC 9110 §13.1.5: If-Range takes a strong entity tag or an HTTP date.
    if (typeof validator !== 'string' || !/^("[\x21\x23-\x7e\x80-\xff]*"|[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT)$/.test(validator)) {
      fail(`validator ${JSON.stringify(validator)} is neither a strong entity tag nor an HTTP date`);
    }
    return { ...byFile, offset: offset as number, validator: validator as string, length: length as number };
  }
  const incremental = parseIncremental(cursor.incremental);
  const { fromPoll } = cursor;
  if (fromPoll !== undefined && (!Array.isArray(fromPoll) || fromPoll.length === 0 || !fromPoll.every((name) => typeof name === 'string' && name !== ''))) {
    fail(`fromPoll ${JSON.stringify(fromPoll)} is not a list of parameter names`);
  }
  return {
    job: 'download',
    jobId: jobId as string,
    paging: parsePagingToken(paging),
    ...(fromPoll ? { fromPoll: fromPoll as string[] } : {}),
    ...(incremental ? { incremental } : {}),
  };
}

function parseIncremental(value: unknown): FilterPosition | undefined {
  if (value === undefined) return undefined;
  const incremental = value as Record<string, unknown> | null;
  if (typeof incremental?.at !== 'number' || typeof incremental.label !== 'string') {
    throw new ApilakeError('cannot continue the window from the stored position: its incremental position is not {at, label}');
  }
  return incremental as unknown as FilterPosition;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
