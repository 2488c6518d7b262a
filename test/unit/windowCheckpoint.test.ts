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

describe('parseWindowCheckpoint', () => {
  it('reads back what a slice returned, through JSON', () => {
    expect(parseWindowCheckpoint(JSON.parse(checkpointJson(GOOD)))).toEqual(GOOD);
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
    ['a job position that is not a poll', { ...GOOD, next: { job: 'download', pollInMs: 1 } }, 'job "download" is not "poll"'],
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
