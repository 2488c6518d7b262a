/**
 * A job stream's download landed in slices, as the deployed durable function lands a download
 * longer than an invocation: a Salesforce Bulk API 2.0 download paged by Sforce-Locator stops at
 * part boundaries and goes on from the results walk's position; a job whose results are several
 * files (`download.urls`) stops after a file and goes on at the next. Each slice after the first
 * polls the recorded job once more; the window has one job, lands every record once, and commits
 * once. A checkpoint that no longer fits the window's job fails it clearly.
 */

import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { runWindowSlice, type WindowSliceOutcome } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import type { JobDownloadCursor } from '../../functions/engine/WindowCursor.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { EARLY_LANDING_BYTES } from '../../functions/body/readPageBody.js';
import { accountsEvery, startSalesforceBulkApi, type SalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { startBigPageApi } from '../support/bigPageApi.js';
import { exampleSource } from '../support/exampleSource.js';
import { jobFileSource, startJobFileHost } from '../support/jobFileSource.js';
import type { BreakingFileOptions } from '../support/breakingFileServer.js';
import { startJsonServer, type JsonAnswer } from '../support/jsonServer.js';
import { megabyteLake } from '../support/megabyteLake.js';
import { listFiles, readCommittedRecords, readManifests } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';
import { waitUntil } from '../support/waitUntil.js';

const SF_TOKEN = '00Dtest!sf_token_0123456789';
const FILES_TOKEN = 'files_token_0123456789';
const ENV = { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: SF_TOKEN }), APILAKE_SECRET_APILAKE_FILES: JSON.stringify({ token: FILES_TOKEN }) };
const RUN_ID = '20250101T000000Z-0123456789ab';
const DAY = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
let lake: string;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-job-download-'));
});

/** Lands the window slice by slice, each in a fresh client from the previous checkpoint read back from JSON, until it ends. */
async function landInSlices(source: SourceDefinition, storage: FsLakeStorage, options: { clock?: ManualClock; from?: WindowCheckpoint } = {}) {
  const clock = options.clock ?? new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const checkpoints: WindowCheckpoint[] = [];
  let checkpoint = options.from;
  for (let i = 0; i < 50; i++) {
    const outcome = await slice(source, storage, clock, checkpoint);
    if (outcome.kind === 'done') return { result: outcome.result, checkpoints };
    checkpoint = JSON.parse(JSON.stringify(outcome.checkpoint)) as WindowCheckpoint;
    checkpoints.push(checkpoint);
  }
  throw new Error('the window did not end in 50 slices');
}

/** One slice as the durable function asks for it: stop at the first place it may, pause for the job. */
async function slice(source: SourceDefinition, storage: FsLakeStorage, clock: ManualClock, checkpoint?: WindowCheckpoint): Promise<WindowSliceOutcome> {
  const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
  closers.push(() => client.close());
  return runWindowSlice({
    source,
    stream: source.streams[0]!,
    window: DAY,
    client,
    storage,
    clock,
    runId: RUN_ID,
    stopWhen: () => true,
    pauseJobWhen: () => true,
    ...(checkpoint ? { checkpoint } : {}),
  });
}

function paused(outcome: WindowSliceOutcome): WindowCheckpoint {
  if (outcome.kind !== 'paused') throw new Error(`expected a paused slice, got ${outcome.result.status} (${outcome.result.error?.message ?? ''})`);
  return JSON.parse(JSON.stringify(outcome.checkpoint)) as WindowCheckpoint;
}

function failure(outcome: WindowSliceOutcome): string {
  if (outcome.kind !== 'done' || outcome.result.status !== 'failed') throw new Error(`expected a failed window, got ${outcome.kind === 'done' ? outcome.result.status : 'a pause'}`);
  return outcome.result.error?.message ?? '';
}

describe('a Salesforce Bulk API 2.0 download landed in slices', () => {
  const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
  const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));

  async function bed(lakeDir: string, options: { pollsUntilDone?: number } = {}) {
    // Done at its first poll: every page of an uninterrupted run and of a sliced one lands at the same clock.
    const api = await startSalesforceBulkApi({ accounts, token: SF_TOKEN, pollsUntilDone: options.pollsUntilDone ?? 0 });
    closers.push(() => api.close());
    const source = await exampleSource('salesforce_bulk.yaml', (doc) => {
      doc.base_url = api.url;
      // Sets of 4 records, parts of about three sets.
      (doc.streams[0]!.job as { download: { params: Record<string, unknown> } }).download.params = { maxRecords: 4 };
      doc.lake = { part_size_mb: 0.004 };
    });
    return { api, source, storage: new FsLakeStorage(lakeDir) };
  }

  const results = (api: SalesforceBulkApi) => api.requests.filter((r) => r.url.pathname.endsWith('/results'));
  const polls = (api: SalesforceBulkApi) => api.requests.filter((r) => /\/jobs\/query\/[^/]+$/.test(r.url.pathname)).length;

  it('lands the raw bytes of an uninterrupted run across slices, with one job, each result page fetched at most twice', async () => {
    const wholeLake = await mkdtemp(join(tmpdir(), 'apilake-job-whole-'));
    const whole = await bed(wholeLake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const client = await createSourceClient(whole.source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    const reference = await runWindowSlice({ source: whole.source, stream: whole.source.streams[0]!, window: DAY, client, storage: whole.storage, clock, runId: RUN_ID });
    expect(reference).toMatchObject({ kind: 'done', result: { status: 'committed', records: day.length } });
    const [expected] = await readManifests(wholeLake);

    const { api, source, storage } = await bed(lake);
    const { result, checkpoints } = await landInSlices(source, storage);
    expect(result.error?.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'committed', records: day.length, runId: RUN_ID });
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    const jobId = api.created[0]!.id;
    for (const [i, checkpoint] of checkpoints.entries()) {
      expect(checkpoint).toMatchObject({ runId: RUN_ID, commit: 1, slices: i + 1, next: { job: 'download', jobId, paging: { kind: 'sequential' } } });
      expect(checkpoint.parts.length).toBe(i + 1);
      expect(JSON.stringify(checkpoint)).not.toContain(SF_TOKEN);
    }
    // One job; its first poll found it done, and each later slice polled it once more.
    expect(api.created).toHaveLength(1);
    expect(polls(api)).toBe(1 + checkpoints.length);
    const fetches = new Map<string, number>();
    for (const request of results(api)) {
      const locator = request.url.searchParams.get('locator') ?? 'first';
      fetches.set(locator, (fetches.get(locator) ?? 0) + 1);
    }
    expect(fetches.size).toBe(Math.ceil(day.length / 4));
    expect(Math.max(...fetches.values())).toBe(2);
    // A resumed slice fetches again the page that would have begun the next part, and the one requested while it landed.
    const again = [...fetches.values()].filter((n) => n === 2).length;
    expect(again).toBeGreaterThanOrEqual(checkpoints.length);
    expect(again).toBeLessThanOrEqual(2 * checkpoints.length);

    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id);
    expect(ids).toEqual(day.map((a) => a.Id));
    const [manifest, ...others] = await readManifests(lake);
    expect(others).toEqual([]);
    expect(manifest!.parts.map((p) => [p.records, p.bytes, p.sha256])).toEqual(expected!.parts.map((p) => [p.records, p.bytes, p.sha256]));
    // Each page counts once, however often it was fetched.
    expect(manifest!.pages).toBe(fetches.size);
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
  });

  it('goes on downloading after the slices that waited for the job, polling the same job', async () => {
    const { api, source, storage } = await bed(lake, { pollsUntilDone: 2 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const checkpoints: WindowCheckpoint[] = [];
    let outcome = await slice(source, storage, clock);
    while (outcome.kind === 'paused') {
      const checkpoint = paused(outcome);
      checkpoints.push(checkpoint);
      if ('pollInMs' in checkpoint.next) clock.advance(checkpoint.next.pollInMs);
      outcome = await slice(source, storage, clock, checkpoint);
    }
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'committed', records: day.length } });
    expect(checkpoints.map((c) => (c.next as { job?: string }).job)).toEqual(['poll', 'poll', ...Array<string>(checkpoints.length - 2).fill('download')]);
    expect(checkpoints.length).toBeGreaterThanOrEqual(5);
    expect(api.created).toHaveLength(1);
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id)).toEqual(day.map((a) => a.Id));
  });

  it('does nothing when taken up after another run committed the window: no request, no second job', async () => {
    const { api, source, storage } = await bed(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(first.next).toMatchObject({ job: 'download' });
    // Another delivery of the window reuses the recorded job and commits.
    const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    const other = await runWindow({ source, stream: source.streams[0]!, window: DAY, client, storage, clock });
    expect(other).toMatchObject({ status: 'committed', records: day.length });
    const requests = api.requests.length;

    const resumed = await slice(source, storage, clock, first);
    expect(resumed).toMatchObject({ kind: 'done', result: { status: 'skipped', skipReason: 'concurrent_commit', runId: other.runId } });
    expect(api.requests.length).toBe(requests);
    expect(api.created).toHaveLength(1);
    expect(await readManifests(lake)).toHaveLength(1);
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id)).toEqual(day.map((a) => a.Id));
  });

  it.each<[string, (next: JobDownloadCursor) => JobDownloadCursor, RegExp]>([
    [
      'names another job than its job record',
      (next) => ({ ...next, jobId: '750R00000000099AAA' }),
      /^cannot continue downloading the results of job 750R00000000099AAA: the window's job record names job 750R00000000001AAA;/,
    ],
    [
      'stands at a result file of a stream that downloads from a path',
      (next) => ({ job: 'download', jobId: next.jobId, file: 1, files: 2, listing: 'h7Jq0Zs3n9Uu2mLk8xYb1w' }),
      /^cannot continue downloading the results of job 750R00000000001AAA from the stored position: it is a result file, and the stream downloads from job.download.path/,
    ],
  ])('fails a slice whose checkpoint %s, creating no job and landing nothing', async (_, edit, message) => {
    const { api, source, storage } = await bed(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const bad = { ...first, next: edit(first.next as JobDownloadCursor) };
    expect(failure(await slice(source, storage, clock, bad))).toMatch(message);
    expect(api.created).toHaveLength(1);
    expect(await readManifests(lake)).toEqual([]);
    // The job record stays for the window's next attempt, which downloads the same job anew.
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toHaveLength(1);
  });

  it('fails a slice whose checkpoint is not a download position it can read, before any request', async () => {
    const { api, source, storage } = await bed(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const requests = api.requests.length;
    const broken = { ...first, next: { job: 'download', jobId: (first.next as JobDownloadCursor).jobId, paging: { kind: 'sequential', index: 3, seen: [] } } } as unknown as WindowCheckpoint;
    await expect(slice(source, storage, clock, broken)).rejects.toThrow(/^cannot continue paging from the stored position: its request has no valid URL/);
    expect(api.requests.length).toBe(requests);
  });

  it('fails a resumed slice whose poll finds the job no longer done, keeping its job record', async () => {
    const { api, source, storage } = await bed(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    // The API now says the job is running again.
    const lying = await startJsonServer((request) => {
      if (/\/jobs\/query\/[^/]+$/.test(request.url.pathname)) return { body: { id: api.created[0]!.id, state: 'InProgress' } };
      return { status: 500, body: 'no' };
    });
    closers.push(() => lying.close());
    const moved = { ...source, base_url: lying.url };
    const message = failure(await slice(moved, storage, clock, first));
    expect(message).toMatch(/^job 750R00000000001AAA was done when its download began, and its poll now finds it not done \(state == 'JobComplete'\): .*"state":"InProgress"/);
    expect(lying.requests).toHaveLength(1);
    expect(await readManifests(lake)).toEqual([]);
    const [record] = await listFiles(lake).then((keys) => keys.filter((k) => k.startsWith('jobs/')));
    expect(JSON.parse(await readFile(join(lake, record!), 'utf8'))).not.toHaveProperty('abandoned_at');
  });
});

/**
 * A job API whose done job names `files` result files (JSON Lines) on another origin, each URL
 * signed anew at every poll, as cloud storage signs them.
 */
async function startFilesJob(files: readonly (readonly { id: number }[])[], options: { failAfterPolls?: number; namedAt?: (poll: number) => readonly number[] } = {}) {
  let polls = 0;
  const host = await startJsonServer((request) => {
    const n = Number(/^\/results\/(\d+)\.jsonl$/.exec(request.url.pathname)?.[1] ?? Number.NaN);
    if (!request.url.searchParams.has('sig') || !(n >= 0 && n < files.length)) return { status: 403, body: 'denied' };
    return { headers: { 'content-type': 'application/jsonl' }, body: files[n]!.map((r) => JSON.stringify(r)).join('\n') + '\n' };
  });
  const api = await startJsonServer((request) => {
    if (request.method === 'POST') return { body: { id: 'job1' } };
    polls++;
    if (options.failAfterPolls !== undefined && polls > options.failAfterPolls) return { body: { id: 'job1', state: 'failed', message: 'export expired' } };
    const named = options.namedAt?.(polls) ?? files.map((_, i) => i);
    return { body: { id: 'job1', state: 'done', urls: named.map((i) => `${host.url}/results/${i}.jsonl?sig=${polls}`) } };
  });
  closers.push(
    () => api.close(),
    () => host.close(),
  );
  const source = jobFileSource(api, host, 'jsonl', 5, (doc) => {
    Object.assign(doc.streams[0]!.job, { failed_when: "state == 'failed'", error: 'message', download: { urls: 'urls' } });
  });
  return { api, host, source };
}

describe('a download of several result files landed in slices', () => {
  const files = [0, 1, 2].map((f) => Array.from({ length: 5 }, (_, i) => ({ id: f * 100 + i })));

  it('stops after each file and goes on at the next, fetching each file once, without credentials', async () => {
    const { api, host, source } = await startFilesJob(files);
    const { result, checkpoints } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result).toMatchObject({ status: 'committed', records: 15 });
    expect(checkpoints.map((c) => c.next)).toEqual([
      { job: 'download', jobId: 'job1', file: 1, files: 3, listing: expect.any(String) as string },
      { job: 'download', jobId: 'job1', file: 2, files: 3, listing: (checkpoints[0]!.next as JobDownloadCursor).listing },
    ]);
    // The listing is a digest: no URL, and no signature of one, is stored.
    expect(JSON.stringify(checkpoints)).not.toMatch(/sig=|results\//);
    expect(checkpoints.map((c) => c.parts.length)).toEqual([1, 2]);
    // Each slice polls once, and downloads the next file from the URL that poll signed.
    expect(api.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['POST /jobs', 'GET /jobs/job1', 'GET /jobs/job1', 'GET /jobs/job1']);
    expect(host.requests.map((r) => `${r.url.pathname}?${r.url.searchParams.toString()}`)).toEqual(['/results/0.jsonl?sig=1', '/results/1.jsonl?sig=2', '/results/2.jsonl?sig=3']);
    expect(host.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(files.flat().map((r) => r.id));
    const [manifest] = await readManifests(lake);
    expect(manifest!.parts.map((p) => p.records)).toEqual([5, 5, 5]);
    // Each part is whole lines of one file.
    const lines = gunzipSync(await readFile(join(lake, manifest!.parts[1]!.key)))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { data: { id: number } }).data.id)).toEqual([100, 101, 102, 103, 104]);
  });

  it('fails a slice whose job now names another number of files, downloading none of them', async () => {
    const { host, source } = await startFilesJob(files);
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const bad = { ...first, next: { ...(first.next as JobDownloadCursor), files: 4 } };
    expect(failure(await slice(source, storage, clock, bad))).toMatch(
      /^cannot continue downloading the results of job job1 from the stored position: the download began with 4 result files, and the job's poll now names 3; the window's next attempt downloads them anew/,
    );
    expect(host.requests).toHaveLength(1);
  });

  it.each([
    ['the same files in another order', [2, 1, 0]],
    ['another file in place of one', [0, 1, 3]],
  ])('fails a slice whose job now names %s, downloading none of them', async (_, named) => {
    const { host, source } = await startFilesJob([...files, files[0]!], { namedAt: (poll) => (poll === 1 ? [0, 1, 2] : named) });
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(failure(await slice(source, storage, clock, first))).toMatch(
      /^cannot continue downloading the results of job job1 from the stored position: the job's poll now names other result files than the download began with, or the same files in another order; the window's next attempt downloads them anew/,
    );
    expect(host.requests).toHaveLength(1);
    expect(await readManifests(lake)).toEqual([]);
  });

  it('goes on at the next file when only the signatures of the files changed', async () => {
    const { host, source } = await startFilesJob(files);
    const { result } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result).toMatchObject({ status: 'committed', records: 15 });
    expect(new Set(host.requests.map((r) => r.url.searchParams.get('sig'))).size).toBe(3);
  });

  it.each([404, 410])('fails a slice whose poll answers %i, marking the job record abandoned, and the next attempt lands a new job', async (status) => {
    const host = await startJsonServer((request) => {
      const n = Number(/^\/results\/(\d+)\.jsonl$/.exec(request.url.pathname)?.[1]);
      return { headers: { 'content-type': 'application/jsonl' }, body: files[n]!.map((r) => JSON.stringify(r)).join('\n') + '\n' };
    });
    // job1 is deleted once its first poll found it done; job2 is not.
    let created = 0;
    const api = await startJsonServer((request) => {
      if (request.method === 'POST') return { body: { id: `job${++created}` } };
      if (request.url.pathname === '/jobs/job1' && api.requests.filter((r) => r.url.pathname === '/jobs/job1').length > 1) return { status, body: { error: 'no such job' } };
      return { body: { state: 'done', urls: files.map((_, i) => `${host.url}/results/${i}.jsonl?sig=1`) } };
    });
    closers.push(api.close, host.close);
    const source = jobFileSource(api, host, 'jsonl', 5, (doc) => Object.assign(doc.streams[0]!.job, { download: { urls: 'urls' } }));
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(failure(await slice(source, storage, clock, first))).toMatch(
      new RegExp(`^job job1 was done when its download began, and its poll now answers HTTP ${status} \\(the job is gone, or its results expired\\); its record is marked abandoned`),
    );
    const [record] = (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(JSON.parse(await readFile(join(lake, record!), 'utf8'))).toHaveProperty('abandoned_at');

    // The window's next attempt creates a new job instead of polling the one that is gone.
    const { result } = await landInSlices(source, storage, { clock });
    expect(result).toMatchObject({ status: 'committed', records: 15 });
    expect(created).toBe(2);
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(files.flat().map((r) => r.id));
  });

  it('fails a slice whose signed file URL is refused (403) without printing its signature, keeping the job record', async () => {
    const host = await startJsonServer((request) => {
      const n = Number(/^\/results\/(\d+)\.jsonl$/.exec(request.url.pathname)?.[1]);
      if (n > 0) return { status: 403, body: '<Error><Code>ExpiredToken</Code></Error>' };
      return { headers: { 'content-type': 'application/jsonl' }, body: files[n]!.map((r) => JSON.stringify(r)).join('\n') + '\n' };
    });
    const signed = (i: number) => `${host.url}/results/${i}.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=bulk%40shop.iam&X-Goog-Signature=5ec7e75160a7b3`;
    const api = await startJsonServer((request) => (request.method === 'POST' ? { body: { id: 'job1' } } : { body: { state: 'done', urls: files.map((_, i) => signed(i)) } }));
    closers.push(api.close, host.close);
    const source = jobFileSource(api, host, 'jsonl', 1, (doc) => Object.assign(doc.streams[0]!.job, { download: { urls: 'urls' } }));
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(JSON.stringify(first)).not.toContain('5ec7e75160a7b3');
    const outcome = await slice(source, storage, clock, first);
    expect(failure(outcome)).toMatch(/^HTTP 403: <Error><Code>ExpiredToken<\/Code><\/Error> \(file 2 of 3, page 1, GET .*X-Goog-Signature=\*\*\*/);
    expect(JSON.stringify(outcome)).not.toMatch(/5ec7e75160a7b3|bulk%40shop/);
    const [record] = (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(JSON.parse(await readFile(join(lake, record!), 'utf8'))).not.toHaveProperty('abandoned_at');
  });

  it('fails a slice whose poll finds the job failed, abandoning its job record as any failed job', async () => {
    const { host, source } = await startFilesJob(files, { failAfterPolls: 1 });
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(failure(await slice(source, storage, clock, first))).toMatch(/^job job1 failed \(state == 'failed'\): export expired/);
    expect(host.requests).toHaveLength(1);
    const [record] = (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(JSON.parse(await readFile(join(lake, record!), 'utf8'))).toHaveProperty('abandoned_at');
    expect(await readManifests(lake)).toEqual([]);
  });
});

describe("a paged download whose requests carry a value of the job's poll", () => {
  /** 20 records, 4 a page; each poll hands out a new download token and expires the one before. */
  async function tokenJob() {
    let polls = 0;
    const token = () => `dl-token-${polls}-4f1c9a0b7e`;
    const api = await startJsonServer((request) => {
      if (request.method === 'POST') return { body: { id: 'job1' } };
      if (request.url.pathname === '/jobs/job1') {
        polls++;
        return { body: { state: 'done', download_token: token() } };
      }
      if (request.url.searchParams.get('token') !== token()) return { status: 403, body: { error: 'download token expired' } };
      const from = Number(request.url.searchParams.get('cursor') ?? 0);
      const data = Array.from({ length: 4 }, (_, i) => ({ id: from + i }));
      return { body: { data, next: from + 4 < 20 ? String(from + 4) : null } };
    });
    closers.push(api.close);
    const source = jobFileSource(api, api, 'json', 1, (doc) => {
      doc.lake = { part_size_mb: 0.0001 };
      Object.assign(doc.streams[0]!, { records: 'data' });
      Object.assign(doc.streams[0]!.job, {
        download: { path: '/jobs/{job.id}/results', params: { token: '{job.download_token}', limit: 4 }, pagination: { type: 'cursor', cursor: 'next', param: 'cursor' } },
      });
    });
    return { api, source, token };
  }

  it('leaves the value out of each checkpoint and takes the download up with the value of its own poll', async () => {
    const { api, source } = await tokenJob();
    const { result, checkpoints } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result.error?.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'committed', records: 20 });
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    for (const checkpoint of checkpoints) {
      expect(checkpoint.next).toMatchObject({ job: 'download', jobId: 'job1', fromPoll: ['token'] });
      expect(JSON.stringify(checkpoint)).not.toContain('dl-token');
    }
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(api.requests.filter((r) => r.url.pathname === '/jobs/job1')).toHaveLength(1 + checkpoints.length);
  });

  it('fails a slice whose poll no longer fills the value, downloading nothing', async () => {
    const { api, source } = await tokenJob();
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const requests = api.requests.length;
    const moved = { ...first, next: { ...(first.next as JobDownloadCursor), fromPoll: ['signature'] } };
    expect(failure(await slice(source, storage, clock, moved))).toMatch(
      /^cannot continue downloading the results of job job1 from the stored position: its next request takes signature from the job's poll, and the download's first request now has none;/,
    );
    expect(api.requests.slice(requests).map((r) => r.url.pathname)).toEqual(['/jobs/job1']);
  });
});

describe('an incremental paged download landed in slices', () => {
  /** 24 records 75 minutes apart, 4 a page, oldest first: 2 before the window, 2 after it; `swap` puts a record out of order. */
  async function incrementalJob(swap?: [number, number]) {
    const at = (i: number) => new Date(DAY.start.getTime() + (i - 2) * 4_500_000 + 60_000).toISOString();
    const stamps = Array.from({ length: 24 }, (_, i) => at(i));
    if (swap) [stamps[swap[0]], stamps[swap[1]]] = [stamps[swap[1]]!, stamps[swap[0]]!];
    const api = await startJsonServer((request) => {
      if (request.method === 'POST') return { body: { id: 'job1' } };
      if (request.url.pathname === '/jobs/job1') return { body: { state: 'done' } };
      const from = Number(request.url.searchParams.get('cursor') ?? 0);
      const data = Array.from({ length: 4 }, (_, i) => ({ id: from + i, updated_at: stamps[from + i] }));
      return { body: { data, next: from + 4 < 24 ? String(from + 4) : null } };
    });
    closers.push(api.close);
    const source = jobFileSource(api, api, 'json', 1, (doc) => {
      doc.lake = { part_size_mb: 0.0001 };
      Object.assign(doc.streams[0]!, { records: 'data', incremental: { cursor_field: 'updated_at', order: 'asc' } });
      Object.assign(doc.streams[0]!.job, { download: { path: '/jobs/{job.id}/results', params: { limit: 4 }, pagination: { type: 'cursor', cursor: 'next', param: 'cursor' } } });
    });
    return source;
  }

  async function uninterrupted(source: SourceDefinition, root: string) {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    return runWindow({ source, stream: source.streams[0]!, window: DAY, client, storage: new FsLakeStorage(root), clock });
  }

  it('lands the records of an uninterrupted run, each once, and filters the same', async () => {
    const wholeLake = await mkdtemp(join(tmpdir(), 'apilake-job-incremental-'));
    const whole = await uninterrupted(await incrementalJob(), wholeLake);
    expect(whole).toMatchObject({ status: 'committed', records: 20 });
    const { result, checkpoints } = await landInSlices(await incrementalJob(), new FsLakeStorage(lake));
    expect(result.error?.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'committed', records: 20 });
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    expect(checkpoints.every((c) => (c.next as JobDownloadCursor).incremental !== undefined)).toBe(true);
    const ids = async (root: string) => (await readCommittedRecords(root)).map((l) => (l.data as { id: number }).id);
    expect(await ids(lake)).toEqual(await ids(wholeLake));
    expect(await ids(lake)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const [[manifest], [expected]] = await Promise.all([readManifests(lake), readManifests(wholeLake)]);
    expect(manifest!.filtered).toBe(4);
    expect(manifest!.filtered).toBe(expected!.filtered);
  });

  it('fails a record out of order across a slice boundary as an uninterrupted run does', async () => {
    const whole = await uninterrupted(await incrementalJob([7, 13]), await mkdtemp(join(tmpdir(), 'apilake-job-incremental-')));
    expect(whole.status).toBe('failed');
    const { result, checkpoints } = await landInSlices(await incrementalJob([7, 13]), new FsLakeStorage(lake));
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(result.status).toBe('failed');
    const unported = (text = '') => text.replace(/127\.0\.0\.1:\d+/, 'api');
    expect(unported(result.error?.message)).toBe(unported(whole.error?.message));
    expect(await readManifests(lake)).toEqual([]);
  });
});

describe('a result file larger than the early-landing threshold', () => {
  /** Records of ~1 KB: this many make a file several times the threshold. */
  const BIG = Math.ceil((3 * EARLY_LANDING_BYTES) / 1000);

  it.each([
    ['by a local run', false],
    ['by a slice of the durable function', true],
  ])('lands as it arrives %s, every record once, the file fetched once', async (_, sliced) => {
    // The file host holds back the file's last record until a megabyte of raw part has been stored:
    // a client that lands a file only once its body ended would wait for it until it timed out.
    let stored!: () => void;
    const until = new Promise<void>((resolve) => (stored = resolve));
    const big = await startBigPageApi({ pages: [0, BIG], hold: { page: 1, until } });
    closers.push(() => big.close());
    const api = await startJsonServer((request) => (request.method === 'POST' ? { body: { id: 'job1' } } : { body: { id: 'job1', state: 'done', url: `${big.url}/big?cursor=1` } }));
    closers.push(() => api.close());
    const source = jobFileSource(api, big, 'json', 5, (doc) => {
      doc.timeout_ms = 20_000;
      Object.assign(doc.streams[0]!, { records: 'data', max_page_mb: 64 });
    });
    const events: string[] = [];
    const storage = await megabyteLake(events, stored);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    const input = { source, stream: source.streams[0]!, window: DAY, client, storage, clock };
    const result = sliced ? await runWindowSlice({ ...input, stopWhen: () => true }) : { kind: 'done' as const, result: await runWindow(input) };
    expect(result.kind === 'done' && result.result.error?.message).toBeFalsy();
    expect(result).toMatchObject({ kind: 'done', result: { status: 'committed', records: BIG } });
    expect(events).toEqual(['1 MB stored']);
    expect(big.requests).toEqual([0, 1]);
    const ids = (await readCommittedRecords(storage.root)).map((l) => (l.data as { id: number }).id);
    expect(ids).toEqual(Array.from({ length: BIG }, (_, i) => i));
  });
});

describe('one JSON Lines result file landed in slices within it', () => {
  /** `count` records of 1 to 2 KB, one a line. */
  const jsonLines = (count: number, options: { crlf?: boolean; lastNewline?: boolean } = {}) => {
    const eol = options.crlf ? '\r\n' : '\n';
    const text = Array.from({ length: count }, (_, i) => JSON.stringify({ id: i, pad: 'x'.repeat(1000 + ((i * 37) % 1000)) })).join(eol);
    return Buffer.from(options.lastNewline === false ? text : text + eol);
  };

  /** A job whose one result file comes from a host that serves byte ranges, in writes of 16 KB. */
  async function fileJob(versions: readonly Buffer[], options: Partial<BreakingFileOptions> = {}, partMb = 0.25) {
    const { api, files } = await startJobFileHost({ versions, contentType: 'application/jsonl', cuts: [], ranges: true, chunkBytes: 16 * 1024, ...options });
    closers.push(api.close, files.close);
    const source = jobFileSource(api, files, 'jsonl', 5, (doc) => {
      doc.lake = { part_size_mb: partMb };
    });
    return { api, files, source };
  }

  /** Every raw part of the window's commit, decompressed, in order. */
  async function landedBytes(root: string): Promise<string> {
    const [manifest, ...others] = await readManifests(root);
    expect(others).toEqual([]);
    const parts = await Promise.all(manifest!.parts.map(async (part) => gunzipSync(await readFile(join(root, part.key)))));
    return createHash('sha256').update(Buffer.concat(parts)).digest('hex');
  }

  // Bytes a stopped download leaves in the sockets' buffers also count as sent: on loopback a few MB, so the parts that bound what is sent twice are larger.
  it.each([
    ['lines ending in LF, each byte sent at most twice', { crlf: false, lastNewline: true }, 14_000, 6],
    ['lines ending in CRLF, the last without one', { crlf: true, lastNewline: false }, 1500, 0.5],
  ])('lands the bytes of an uninterrupted run, taking the file up by byte ranges (%s)', async (_, shape, count, partMb) => {
    const file = jsonLines(count, shape);
    const wholeLake = await mkdtemp(join(tmpdir(), 'apilake-job-file-whole-'));
    const whole = await fileJob([file], {}, partMb);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const client = await createSourceClient(whole.source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    const reference = await runWindowSlice({ source: whole.source, stream: whole.source.streams[0]!, window: DAY, client, storage: new FsLakeStorage(wholeLake), clock, runId: RUN_ID });
    expect(reference).toMatchObject({ kind: 'done', result: { status: 'committed', records: count } });

    const { api, files, source } = await fileJob([file], {}, partMb);
    const { result, checkpoints } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result.error?.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'committed', records: count, runId: RUN_ID });
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    const offsets = checkpoints.map((c) => (c.next as JobDownloadCursor).offset!);
    for (const checkpoint of checkpoints) {
      expect(checkpoint.next).toEqual({
        job: 'download',
        jobId: 'job1',
        file: 0,
        files: 1,
        listing: expect.any(String) as string,
        offset: expect.any(Number) as number,
        validator: '"v0"',
        length: file.length,
      });
    }
    // Each slice stops right after a line, further into the file than the one before.
    expect(offsets.every((offset) => file[offset - 1] === 0x0a)).toBe(true);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect(new Set(offsets).size).toBe(offsets.length);

    // The same bytes, in the same order, as the uninterrupted run's.
    expect(await landedBytes(lake)).toBe(await landedBytes(wholeLake));
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(Array.from({ length: count }, (_, i) => i));
    const [manifest] = await readManifests(lake);
    expect(manifest!.pages).toBe(1);

    // The first slice asks for the file; each later one polls once and asks for the rest of the same version from its offset.
    expect(api.requests.filter((r) => r.method === 'GET')).toHaveLength(1 + checkpoints.length);
    expect(files.requests.map((r) => [r.headers.range, r.headers['if-range'], r.status])).toEqual([[undefined, undefined, 200], ...offsets.map((offset) => [`bytes=${offset}-`, '"v0"', 206])]);
    // No byte of the file was sent more than twice (once more than landed, the rest of a part's last chunk and what the sockets held when the slice stopped), and every byte at least once.
    if (partMb < 6) return;
    const times = new Uint8Array(file.length);
    for (const request of files.requests) times.subarray(request.from, request.from + request.sent).forEach((n, i, run) => (run[i] = n + 1));
    expect(times.reduce((a, b) => Math.min(a, b), 2)).toBe(1);
    expect(times.reduce((a, b) => Math.max(a, b), 0)).toBeLessThanOrEqual(2);
  });

  it('counts the byte order mark a file taken up within begins with, as an uninterrupted run does', async () => {
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), jsonLines(1500)]);
    const wholeLake = await mkdtemp(join(tmpdir(), 'apilake-job-file-whole-'));
    const whole = await fileJob([file], {}, 0.5);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const client = await createSourceClient(whole.source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    await runWindowSlice({ source: whole.source, stream: whole.source.streams[0]!, window: DAY, client, storage: new FsLakeStorage(wholeLake), clock, runId: RUN_ID });
    const [expected] = await readManifests(wholeLake);
    expect(expected!.decoding).toMatchObject({ bom_pages: 1 });

    const { source } = await fileJob([file], {}, 0.5);
    const { result, checkpoints } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result).toMatchObject({ status: 'committed', records: 1500 });
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(await landedBytes(lake)).toBe(await landedBytes(wholeLake));
    const [manifest] = await readManifests(lake);
    expect(manifest!.decoding).toEqual(expected!.decoding);
  });

  it.each([
    ['asking for the rest from the byte of the file where it broke', {}],
    // The 206 itself proves the host serves ranges, though it does not say so again.
    ['from a host that sends Accept-Ranges only on a 200 (as nginx does)', { partialAcceptRanges: false }],
    // A 206 answers If-Range only while its validator names the file: the rest goes on with that validator.
    ['from a host that repeats no validator on a 206', { partialValidators: false }],
  ])('goes on with a taken-up file whose connection breaks, %s', async (_name, host) => {
    const file = jsonLines(1500);
    const cuts = [0];
    const { files, source } = await fileJob([file], { cuts, ...host }, 0.5);
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const { offset } = first.next as JobDownloadCursor;
    // The second request, the first slice's rest, breaks 50 000 bytes in.
    cuts.push(offset! + 50_000);
    const { result } = await landInSlices(source, storage, { clock, from: first });
    expect(result.error?.message).toBeUndefined();
    expect(result).toMatchObject({ status: 'committed', records: 1500 });
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    // The rest after the break is asked for from where it broke, on the same validator.
    expect(files.requests.slice(1, 3).map((r) => [r.headers.range, r.headers['if-range'], r.status, r.from])).toEqual([
      [`bytes=${offset}-`, '"v0"', 206, offset],
      [`bytes=${offset! + 50_000}-`, '"v0"', 206, offset! + 50_000],
    ]);
  });

  it('lands every record once when a slice taking the file up is stopped mid-file and its checkpoint is taken up again', async () => {
    const file = jsonLines(14_000);
    const { files, source } = await fileJob([file], {}, 6);
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    // The next invocation dies within the file, long before its end: its files are never listed.
    const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    closers.push(() => client.close());
    const kill = new AbortController();
    const dying = runWindowSlice({ source, stream: source.streams[0]!, window: DAY, client, storage, clock, runId: RUN_ID, checkpoint: first, signal: kill.signal, storageSignal: kill.signal });
    await waitUntil(() => (files.requests[1]?.sent ?? 0) >= 4 * 1024 * 1024, { what: 'the file host sent 4 MB of the rest of the file' });
    kill.abort(new Error('killed'));
    expect(await dying).toMatchObject({ kind: 'done', result: { status: 'failed' } });

    const { result } = await landInSlices(source, storage, { clock, from: first });
    expect(result).toMatchObject({ status: 'committed', records: 14_000 });
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(Array.from({ length: 14_000 }, (_, i) => i));
    expect(files.requests[2]!.headers.range).toBe(files.requests[1]!.headers.range);
  });

  /** A job's one result file (`file`) from a host that answers a request for its rest with `rest`. */
  async function lyingHost(file: Buffer, rest: (offset: number) => JsonAnswer) {
    let served = 0;
    const host = await startJsonServer((request) => {
      if (served++ === 0) return { headers: { 'content-type': 'application/jsonl', etag: '"v0"', 'accept-ranges': 'bytes', 'content-length': String(file.length) }, body: file };
      return rest(Number(/^bytes=(\d+)-$/.exec(String(request.headers.range))?.[1]));
    });
    const api = await startJsonServer((request) => (request.method === 'POST' ? { body: { id: 'job1' } } : { body: { id: 'job1', state: 'done', url: `${host.url}/file` } }));
    closers.push(api.close, host.close);
    const source = jobFileSource(api, host, 'jsonl', 1, (doc) => {
      doc.lake = { part_size_mb: 0.25 };
    });
    return { host, source };
  }

  const partial = (file: Buffer, from: number, headers: Record<string, string> = {}): JsonAnswer => ({
    status: 206,
    headers: { 'content-type': 'application/jsonl', etag: '"v0"', 'content-range': `bytes ${from}-${file.length - 1}/${file.length}`, 'content-length': String(file.length - from), ...headers },
    body: file.subarray(from),
  });

  it.each<[string, (file: Buffer, offset: number) => JsonAnswer, RegExp]>([
    [
      'ignores the range and answers 200 with the whole file',
      (file) => ({ headers: { 'content-type': 'application/jsonl', etag: '"v0"', 'content-length': String(file.length) }, body: file }),
      /file: asked for its bytes from \d+ on if it is still version "v0", its host answered HTTP 200 with the whole file \(it changed, or the host ignores ranges\)/,
    ],
    [
      'answers 200 with a file whose ETag changed',
      (file) => ({ headers: { 'content-type': 'application/jsonl', etag: '"v1"', 'content-length': String(file.length) }, body: file }),
      /its host answered HTTP 200 with the whole file/,
    ],
    ['answers a 206 whose Content-Range starts elsewhere', (file, offset) => partial(file, offset - 7), /its host answered a 206 whose Content-Range starts at byte \d+, not at byte \d+/],
    ['answers a 206 with another ETag', (file, offset) => partial(file, offset, { etag: '"v1"' }), /its host answered ETag "v1", where the first response had "v0"/],
    [
      'answers a 206 for a file of another length',
      (file, offset) => ({ ...partial(file, offset), headers: { ...partial(file, offset).headers, 'content-range': `bytes ${offset}-${file.length + 9}/${file.length + 10}` } }),
      /its host answered a 206 for a file of \d+ bytes, where the first response declared \d+/,
    ],
    [
      'answers 416: the file is shorter than the offset',
      () => ({ status: 416, body: 'requested range not satisfiable' }),
      /file: its host answers HTTP 416 \(Range Not Satisfiable\) to a request for its bytes from \d+ on/,
    ],
  ])('fails a slice taking the file up when its host %s, landing nothing more and keeping the job record', async (_, rest, message) => {
    const file = jsonLines(3000);
    const { host, source } = await lyingHost(file, (offset) => rest(file, offset));
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    expect(first.next).toMatchObject({ file: 0, validator: '"v0"', length: file.length });
    const text = failure(await slice(source, storage, clock, first));
    expect(text).toMatch(/^cannot continue downloading the results of job job1 from the stored position: file: /);
    expect(text).toMatch(message);
    expect(text).toMatch(/; the window's next attempt downloads them anew \(job job1\)$/);
    expect(host.requests).toHaveLength(2);
    expect(await readManifests(lake)).toEqual([]);
    const [record] = (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(JSON.parse(await readFile(join(lake, record!), 'utf8'))).not.toHaveProperty('abandoned_at');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an offset past the file', { offset: 5_000_000 }, /offset 5000000 is not a byte within the file's \d+/],
    ['a weak validator', { validator: 'W/"v0"' }, /validator "W\/\\"v0\\"" is neither a strong entity tag nor an HTTP date/],
    ['an offset without a length', { length: undefined }, /the file's length undefined is not a count of bytes/],
  ])('fails a slice whose checkpoint takes the file up at %s, before any request', async (_, edit, message) => {
    const { api, files, source } = await fileJob([jsonLines(3000)]);
    const storage = new FsLakeStorage(lake);
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const first = paused(await slice(source, storage, clock));
    const requests = api.requests.length + files.requests.length;
    const broken = { ...first, next: { ...first.next, ...edit } } as WindowCheckpoint;
    await expect(slice(source, storage, clock, broken)).rejects.toThrow(message);
    expect(api.requests.length + files.requests.length).toBe(requests);
  });

  it('takes a file whose host serves no byte ranges up whole, after it', async () => {
    const { files, source } = await fileJob([jsonLines(3000)], { ranges: false });
    const { result, checkpoints } = await landInSlices(source, new FsLakeStorage(lake));
    expect(result).toMatchObject({ status: 'committed', records: 3000 });
    expect(checkpoints).toEqual([]);
    expect(files.requests).toHaveLength(1);
  });
});
