/**
 * A job's file whose connection breaks mid-body, at seeded offsets (inside a CSV quoted field,
 * inside a gzip member), against a file host on loopback: with byte ranges it continues with
 * `Range` + `If-Range` and re-sends nothing from before the break; without, it reads the file again
 * and skips what it already read. Either way every record lands exactly once (count and SHA-256
 * equal an unbroken run's), and no credential reaches the file's origin. A file that changes
 * between attempts, or a host that lies about the range it sends, fails the window with nothing
 * landed, and the window's next attempt lands the file whole.
 */

import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { BreakingFileOptions, BreakingFileServer } from '../support/breakingFileServer.js';
import { jobFileSource, startJobFileHost } from '../support/jobFileSource.js';
import type { JsonServer } from '../support/jsonServer.js';
import { readCommittedRecords } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';
import { between, seededRandom } from '../support/seededRandom.js';
import { zipArchive } from '../support/zipArchive.js';

const TOKEN = 'tok_files_secret_0123456789';
const ENV = { APILAKE_SECRET_APILAKE_FILES: JSON.stringify({ token: TOKEN }) };
const DAY = { from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A CSV export whose notes hold commas, quotes and line breaks: a cut can fall inside a quoted field. */
function csvFile(rows: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const lines = ['id,amount,note'];
  for (let i = 0; i < rows; i++) lines.push(`${i},${between(random, 1, 99_999)}.${between(random, 10, 99)},"line one of ${i}, with ""quotes""\nline two ${'x'.repeat(between(random, 0, 40))}"`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** A gzip file of JSON Lines (one member). */
function jsonlGzFile(rows: number, seed = 2): Buffer {
  const random = seededRandom(seed);
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, value: between(random, 0, 1e9), text: 'y'.repeat(between(random, 0, 60)) }));
  return gzipSync(`${lines.join('\n')}\n`);
}

/** Starts the job API and the file host, closed after the test. */
async function start(file: BreakingFileOptions): Promise<{ api: JsonServer; files: BreakingFileServer }> {
  const host = await startJobFileHost(file);
  closers.push(host.api.close, host.files.close);
  return host;
}

async function land(src: SourceDefinition, lake: string): Promise<WindowResult[]> {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const client = await createSourceClient(src, new EnvSecretProvider(ENV), { clock, random: () => 0 });
  return runSource({ source: src, selection: { kind: 'range', from: new Date(DAY.from), to: new Date(DAY.to) }, client, storage: new FsLakeStorage(lake), clock });
}

/** The committed records, counted and hashed in the order they landed. */
async function landed(lake: string): Promise<{ count: number; sha256: string }> {
  const lines = await readCommittedRecords(lake);
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${JSON.stringify(line.data)}\n`);
  return { count: lines.length, sha256: hash.digest('hex') };
}

/** What an unbroken run of the same file lands. */
async function unbroken(file: Buffer, format: 'csv' | 'jsonl', contentType: string): Promise<{ count: number; sha256: string }> {
  const { api, files } = await start({ versions: [file], contentType, cuts: [] });
  const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-ref-'));
  expect((await land(jobFileSource(api, files, format), lake)).map((r) => r.status)).toEqual(['committed']);
  return landed(lake);
}

/** Every request the file host got carried no credential of the source. */
function expectNoCredential(files: BreakingFileServer): void {
  for (const request of files.requests) {
    expect(request.headers.authorization).toBeUndefined();
    expect(JSON.stringify(request.headers)).not.toContain(TOKEN);
  }
}

const CSV = csvFile(3_000);
const quoted = CSV.indexOf('line one of 1234') + 5; // inside the quoted note of row 1234
const JSONL_GZ = jsonlGzFile(5_000);
/** A zip archive of two CSV files, the second stored as is. */
const ZIP = zipArchive([
  { name: 'part-1.csv', data: csvFile(1_500, 3) },
  { name: 'part-2.csv', data: csvFile(1_500, 4), stored: true },
]);
const random = seededRandom(22);
/** Three seeded cuts in ascending order, then one inside the CSV's quoted field. */
const csvCuts = [between(random, 100, 40_000), between(random, 40_001, 120_000), quoted, between(random, quoted + 1, CSV.length - 100)];
const gzCuts = [between(random, 20, 30_000), between(random, 30_001, JSONL_GZ.length - 100)];
const zipCuts = [between(random, 50, Math.floor(ZIP.length / 2)), between(random, Math.floor(ZIP.length / 2) + 1, ZIP.length - 30)];
const encodedLength = gzipSync(CSV).length;
/** Offsets into the CSV as sent gzip-encoded. */
const encodedCuts = [between(random, 100, Math.floor(encodedLength / 2)), between(random, Math.floor(encodedLength / 2) + 1, encodedLength - 30)];

describe('a job file whose connection breaks mid-body', () => {
  it.each([
    { name: 'a CSV file', file: CSV, format: 'csv' as const, contentType: 'text/csv', cuts: csvCuts },
    { name: 'a gzip JSON Lines file', file: JSONL_GZ, format: 'jsonl' as const, contentType: 'application/gzip', cuts: gzCuts },
    { name: 'a zip archive of CSV files', file: ZIP, format: 'csv' as const, contentType: 'application/zip', cuts: zipCuts },
  ])('continues $name with Range requests from each break, re-sending no byte, every record once', async ({ file, format, contentType, cuts }) => {
    expect(quoted).toBeGreaterThan(csvCuts[1]!);
    const reference = await unbroken(file, format, contentType);
    const { api, files } = await start({ versions: [file], contentType, cuts, ranges: true });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    const results = await land(jobFileSource(api, files, format), lake);
    expect(results.map((r) => r.status)).toEqual(['committed']);
    expect(await landed(lake)).toEqual(reference);
    expect(files.requests.map((r) => [r.status, r.headers.range, r.headers['if-range']])).toEqual([[200, undefined, undefined], ...cuts.map((cut) => [206, `bytes=${cut}-`, '"v0"'])]);
    expect(files.resent()).toBe(0);
    expectNoCredential(files);
  });

  it.each([
    { name: 'without byte ranges', options: {}, cuts: csvCuts },
    { name: 'whose ETag is weak', options: { ranges: true, validator: 'weak-etag' as const }, cuts: csvCuts },
    { name: 'sent with a content coding (its offsets count other bytes)', options: { ranges: true, gzipEncoded: true }, cuts: encodedCuts },
  ])('reads a file $name again from its start, skipping what it read, every record once', async ({ options, cuts }) => {
    const reference = await unbroken(CSV, 'csv', 'text/csv');
    const { api, files } = await start({ versions: [CSV], contentType: 'text/csv', cuts, ...options });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    const results = await land(jobFileSource(api, files, 'csv'), lake);
    expect(results.map((r) => r.status)).toEqual(['committed']);
    expect(await landed(lake)).toEqual(reference);
    expect(files.requests.map((r) => [r.status, r.headers.range])).toEqual(Array(cuts.length + 1).fill([200, undefined]));
    // Each break costs the bytes sent before it once more.
    expect(files.resent()).toBe(cuts.reduce((n, cut) => n + cut, 0));
    expectNoCredential(files);
  });

  it('sends the source credentials with every request of a download.path file, the resumed ones too', async () => {
    const reference = await unbroken(CSV, 'csv', 'text/csv');
    const { api, files } = await start({ versions: [CSV], contentType: 'text/csv', cuts: csvCuts.slice(0, 2), ranges: true });
    const src = jobFileSource(api, files, 'csv');
    const job = src.streams[0]!.job!;
    const onFileHost = { ...src, streams: [{ ...src.streams[0]!, job: { ...job, download: { ...job.download, urls: undefined, base_url: files.url, path: '/file' } } }] };
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    expect((await land(onFileHost, lake)).map((r) => r.status)).toEqual(['committed']);
    expect(await landed(lake)).toEqual(reference);
    expect(files.requests.map((r) => [r.status, r.headers.authorization])).toEqual([[200, `Bearer ${TOKEN}`], ...csvCuts.slice(0, 2).map(() => [206, `Bearer ${TOKEN}`])]);
  });

  it('continues with If-Range on a Last-Modified that is a strong validator', async () => {
    const reference = await unbroken(JSONL_GZ, 'jsonl', 'application/gzip');
    const { api, files } = await start({ versions: [JSONL_GZ], contentType: 'application/gzip', cuts: gzCuts.slice(0, 1), ranges: true, validator: 'last-modified' });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    expect((await land(jobFileSource(api, files, 'jsonl'), lake)).map((r) => r.status)).toEqual(['committed']);
    expect(await landed(lake)).toEqual(reference);
    expect(files.requests[1]!.headers['if-range']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(files.resent()).toBe(0);
  });

  it.each([
    {
      name: 'without byte ranges or validators, its first bytes differing',
      options: { validator: 'none' as const },
      message: /^the body changed while it was read again after a broken connection at byte \d+: its first \d+ bytes differ from the ones already read/,
    },
    {
      name: 'whose If-Range no longer matches (a 200 with another ETag)',
      options: { ranges: true },
      message: /^resuming the body at byte \d+, the server answered ETag "v1", where the first response had "v0"/,
    },
  ])('fails the window when the file changed between attempts ($name), landing nothing; the next attempt lands the new file once', async ({ options, message }) => {
    // Same length, one byte different before the break: only its first bytes tell it apart.
    const changed = Buffer.from(CSV.toString('latin1').replace('line one of 3,', 'line one of 3;'), 'latin1');
    const { api, files } = await start({ versions: [CSV, changed], contentType: 'text/csv', cuts: [csvCuts[1]!], ...options });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    const src = jobFileSource(api, files, 'csv');
    const [failed] = await land(src, lake);
    expect(failed!.status).toBe('failed');
    expect(failed!.error?.name).toBe('BodyResumeError');
    expect(failed!.error?.message).toMatch(new RegExp(`\\(file, page 1, GET ${files.url}/file\\)$`));
    expect(failed!.error?.message).toMatch(message);
    expect(await readCommittedRecords(lake)).toEqual([]);
    expect(files.requests).toHaveLength(2);

    const again = await land(src, lake);
    expect(again.map((r) => r.status)).toEqual(['committed']);
    expect(await landed(lake)).toEqual(await unbroken(changed, 'csv', 'text/csv'));
  });

  it.each([
    { lie: 'start' as const, message: /the server answered a 206 whose Content-Range starts at byte \d+, not at byte \d+ asked for/ },
    { lie: 'length' as const, message: /the server answered a 206 for a file of \d+ bytes, where the first response declared \d+/ },
    { lie: 'overflow' as const, message: /^the body runs past the \d+ bytes its first response declared/ },
  ])('fails the window when the host lies in its 206 ($lie), landing nothing', async ({ lie, message }) => {
    const { api, files } = await start({ versions: [CSV], contentType: 'text/csv', cuts: [csvCuts[0]!], ranges: true, lie });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    const [failed] = await land(jobFileSource(api, files, 'csv'), lake);
    expect(failed!.status).toBe('failed');
    expect(failed!.error?.name).toBe('BodyResumeError');
    expect(failed!.error?.message).toMatch(message);
    expect(await readCommittedRecords(lake)).toEqual([]);
    expect(files.requests).toHaveLength(2);
  });

  it('gives up after retry.max_attempts requests for one file', async () => {
    const { api, files } = await start({ versions: [CSV], contentType: 'text/csv', cuts: [1_000, 2_000, 3_000, 4_000, 5_000], ranges: true });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-resume-'));
    const [failed] = await land(jobFileSource(api, files, 'csv', 3), lake);
    expect(failed!.status).toBe('failed');
    expect(failed!.error?.message).toMatch(/^network error after 3 attempts: .*, at byte 3000 of the body \(file, page 1, GET /);
    expect(files.requests).toHaveLength(3);
    expect(await readCommittedRecords(lake)).toEqual([]);
  });
});
