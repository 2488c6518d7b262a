import { describe, expect, it } from 'vitest';
import { checkpointJson, MAX_CHECKPOINT_BYTES, parseWindowCheckpoint, type WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';

const PART = { key: 'raw/source=s/stream=t/dt=2024-01-01/20240101T000000Z_20240102T000000Z_20250101T000000Z-0123456789ab_part-00000.jsonl.gz', records: 10, bytes: 900, sha256: 'a'.repeat(64) };
const GOOD: WindowCheckpoint = {
  format: 1,
  runId: '20250101T000000Z-0123456789ab',
  startedAt: '2025-01-01T00:00:00.000Z',
  commit: 1,
  slices: 2,
  next: { paging: { kind: 'sequential', index: 20, request: { url: 'https://api.example.com/x?cursor=20' }, seen: ['abc'] } },
  parts: [PART],
  counters: { pages: 20, filtered: 0, requests: 21, retries: 0, throttled: 0, decoding: { replaced: 0, transcoded: 0, reserialised: 0, bomPages: 0 } },
};

/** Within a job's download: the third of its three result files, or page 21 of its results. */
const DOWNLOAD_FILE = { job: 'download', jobId: '750R00000000001AAA', file: 2, files: 3, listing: 'h7Jq0Zs3n9Uu2mLk8xYb1w' } as const;
const DOWNLOAD_PAGE = {
  job: 'download',
  jobId: '750R00000000001AAA',
  paging: { kind: 'sequential', index: 20, request: { url: 'https://api.example.com/results?locator=20' }, seen: ['abc'] },
} as const;

describe('parseWindowCheckpoint', () => {
  it('reads back what a slice returned, through JSON', () => {
    expect(parseWindowCheckpoint(JSON.parse(checkpointJson(GOOD)))).toEqual(GOOD);
  });

  it.each<[string, WindowCheckpoint['next']]>([
    ['at the next result file', DOWNLOAD_FILE],
    ['at the next page of results', DOWNLOAD_PAGE],
    ['at the next page of results, with an incremental position', { ...DOWNLOAD_PAGE, incremental: { at: 1_700_000_000_000, label: 'page 3, record 7' } }],
    ['at the next page of results, with parameters to fill from the poll', { ...DOWNLOAD_PAGE, fromPoll: ['token'] }],
  ])("reads back a job stream's checkpoint within its download, %s", (_, next) => {
    const job: WindowCheckpoint = { ...GOOD, next };
    expect(parseWindowCheckpoint(JSON.parse(checkpointJson(job)))).toEqual(job);
  });

  it("reads back a job stream's checkpoint, which polls the job again and has no parts", () => {
    const job: WindowCheckpoint = { ...GOOD, next: { job: 'poll', pollInMs: 15_000 }, parts: [] };
    expect(parseWindowCheckpoint(JSON.parse(checkpointJson(job)))).toEqual(job);
  });

  it.each<[string, unknown, string]>([
    ['a non-object', 'x', 'it is not an object'],
    ['another format', { ...GOOD, format: 2 }, 'unknown format 2'],
    ['no run id', { ...GOOD, runId: '' }, 'it has no run id'],
    ['a start that is no timestamp', { ...GOOD, startedAt: 'soon' }, 'its start is not a timestamp'],
    ['commit 0', { ...GOOD, commit: 0 }, 'commit 0 is not a commit number'],
    ['a part without sha256', { ...GOOD, parts: [{ ...PART, sha256: undefined }] }, 'its parts are not a list'],
    ['missing counters', { ...GOOD, counters: { pages: 1 } }, 'its counters are incomplete'],
    ['a job position that is neither a poll nor a download', { ...GOOD, next: { job: 'create' } }, 'job "create" is neither "poll" nor "download"'],
    ['a download without its job', { ...GOOD, next: { job: 'download', file: 1, files: 2 } }, "cannot continue the job's download from the stored position: job id undefined is not a job's id"],
    ['a download with neither a file nor a paging position', { ...GOOD, next: { job: 'download', jobId: 'j1' } }, 'it gives neither a file nor a paging position, or both'],
    ['a download with both a file and a paging position', { ...GOOD, next: { ...DOWNLOAD_FILE, paging: GOOD.next } }, 'it gives neither a file nor a paging position, or both'],
    ['a download at a file past the last', { ...GOOD, next: { ...DOWNLOAD_FILE, file: 3 } }, "file 3 is not one of the job's 3 result files (0-based)"],
    ['a download at a negative file', { ...GOOD, next: { ...DOWNLOAD_FILE, file: -1 } }, "file -1 is not one of the job's 3 result files"],
    ['a download without its count of files', { ...GOOD, next: { job: 'download', jobId: 'j1', file: 1 } }, 'files undefined is not a count of result files'],
    ['a file download without the listing of its files', { ...GOOD, next: { job: 'download', jobId: 'j1', file: 1, files: 2 } }, "listing undefined is not a digest of the job's result files"],
    ['a file download with an incremental position', { ...GOOD, next: { ...DOWNLOAD_FILE, incremental: { at: 1, label: 'x' } } }, 'a result file is taken up whole'],
    ['a paged download whose token has no request', { ...GOOD, next: { job: 'download', jobId: 'j1', paging: { kind: 'sequential', index: 2, seen: [] } } }, 'its request has no valid URL'],
    ['a paged download with a broken list of parameters from the poll', { ...GOOD, next: { ...DOWNLOAD_PAGE, fromPoll: [''] } }, 'fromPoll [""] is not a list of parameter names'],
    ['a file download with parameters from the poll', { ...GOOD, next: { ...DOWNLOAD_FILE, fromPoll: ['token'] } }, 'a result file is taken up whole'],
    ['a paged download with a broken incremental position', { ...GOOD, next: { ...DOWNLOAD_PAGE, incremental: { at: 'soon' } } }, 'its incremental position is not {at, label}'],
    ['a job poll without its wait', { ...GOOD, next: { job: 'poll' } }, "the wait before the job's next poll, undefined, is not a duration in ms"],
    ['a job poll with a negative wait', { ...GOOD, next: { job: 'poll', pollInMs: -5 } }, "the wait before the job's next poll, -5, is not a duration in ms"],
    ['a paging position without a request', { ...GOOD, next: { paging: { kind: 'sequential', index: 3, seen: [] } } }, 'its request has no valid URL'],
  ])('fails on %s', (_, value, message) => {
    expect(() => parseWindowCheckpoint(value)).toThrow(message);
  });
});

describe('checkpointJson', () => {
  it('fails on a checkpoint larger than a durable step may return, saying how to make it smaller', () => {
    const parts = Array.from({ length: Math.ceil(MAX_CHECKPOINT_BYTES / JSON.stringify(PART).length) + 1 }, () => PART);
    expect(() => checkpointJson({ ...GOOD, parts })).toThrow(/more than the 200 KB a durable step may return; raise lake.part_size_mb/);
  });

  it('keeps a checkpoint of 800 parts under the limit', () => {
    const parts = Array.from({ length: 800 }, () => ({ ...PART, sha256: 'f'.repeat(64) }));
    expect(Buffer.byteLength(checkpointJson({ ...GOOD, parts }))).toBeLessThan(MAX_CHECKPOINT_BYTES);
  });
});
