/**
 * `npm run bench`: apilake against the naive baseline and against computed limits, in one run.
 *
 * 1. Latency-bound paging: the seed tutorial's loop (fetch page after page, one file per
 *    response) vs apilake with concurrent paging; the limit is pages × latency / concurrency.
 * 2. CPU-bound landing: records landed per second vs the rate at which one core can merely
 *    JSON.parse and JSON.stringify the same bytes (the limit), measured here, now.
 * 3. Bounded memory: peak RSS growth landing a window 4× larger, under a 64 MiB V8 heap cap.
 *
 * The API runs in its own process and each landing in another, so neither measures the other.
 * Ratios, not seconds, are the result: they hold across machines.
 */

import { execFile, fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchRecord, type BenchApiOptions } from './benchApi.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Landing {
  ms: number;
  records: number;
  pages: number;
  bytes: number;
  peakGrowthMiB: number;
}

async function withApi<T>(options: BenchApiOptions, body: (api: { url: string; pages: number }) => Promise<T>): Promise<T> {
  const child = fork(here('./benchServer.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const api = await new Promise<{ url: string; pages: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; pages: number }));
    child.once('exit', (code) => reject(new Error(`bench API exited with ${code}`)));
  });
  try {
    return await body(api);
  } finally {
    child.disconnect();
  }
}

async function land(url: string, pageSize: number, concurrency: number, partSizeMb: number, heapMiB?: number, s3Endpoint?: string): Promise<Landing> {
  const args = [...(heapMiB ? [`--max-old-space-size=${heapMiB}`] : []), '--import', 'tsx', here('./landWindow.ts'), JSON.stringify({ url, pageSize, concurrency, partSizeMb, s3Endpoint })];
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Landing;
}

/** The seed tutorial: requests page by page, one JSON file per response. */
async function naiveLoop(baseUrl: string, pageSize: number) {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-naive-'));
  const started = performance.now();
  let records = 0;
  for (let page = 1; ; page++) {
    const response = await fetch(`${baseUrl}/items?page=${page}&per_page=${pageSize}`);
    const body = (await response.json()) as { items: unknown[] };
    if (body.items.length === 0) break;
    records += body.items.length;
    await writeFile(join(dir, `page-${page}.json`), JSON.stringify(body.items));
  }
  const ms = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  return { ms, records };
}

const row = (label: string, value: string) => console.log(`   ${label.padEnd(50)} ${value}`);

async function latencyBound() {
  const latencyMs = 25;
  const pageSize = 100;
  const concurrency = 8;
  await withApi({ records: 20_000, pageSize, latencyMs }, async (api) => {
    const naive = await naiveLoop(api.url, pageSize);
    const ours = await land(api.url, pageSize, concurrency, 64);
    if (naive.records !== ours.records) throw new Error(`record counts differ: ${naive.records} vs ${ours.records}`);
    // The first page reveals the total; the rest go out in waves of `concurrency`.
    const limitMs = latencyMs * (1 + Math.ceil((api.pages - 1) / concurrency));
    console.log(`\n1. latency-bound paging: ${api.pages} pages × ${latencyMs} ms latency, concurrency ${concurrency}`);
    row('naive loop time ÷ apilake time', `${(naive.ms / ours.ms).toFixed(1)}× faster`);
    row('apilake time ÷ limit (latency × page waves)', `${(ours.ms / limitMs).toFixed(2)}`);
  });
}

async function cpuBound() {
  const records = 100_000;
  const pageSize = 1_000;
  // The limit: parse and re-serialise the same pages on one core, nothing else.
  const pages: string[] = [];
  for (let p = 0; p < records / pageSize; p++) {
    const items = Array.from({ length: pageSize }, (_, i) => benchRecord(p * pageSize + i + 1));
    pages.push(JSON.stringify({ items, total: records, page: p + 1 }));
  }
  const started = performance.now();
  for (const page of pages) for (const item of (JSON.parse(page) as { items: unknown[] }).items) JSON.stringify(item);
  const limitMs = performance.now() - started;
  const megabytes = pages.reduce((n, p) => n + p.length, 0) / 1e6;
  pages.length = 0;

  await withApi({ records, pageSize, latencyMs: 0 }, async (api) => {
    const ours = await land(api.url, pageSize, 2, 64);
    console.log(`\n2. CPU-bound landing: ${ours.records.toLocaleString('en')} records, ${megabytes.toFixed(0)} MB of JSON, no latency`);
    row('apilake records/s ÷ one-core parse+serialise rate', `${(limitMs / ours.ms).toFixed(2)} of the limit`);
    row('compression (JSON bytes ÷ landed gzip bytes)', `${((megabytes * 1e6) / ours.bytes).toFixed(1)}×`);
    console.log('   (apilake also reads HTTP, selects records, wraps, gzips, hashes and writes)');
  });
}

async function boundedMemory() {
  const pageSize = 1_000;
  const run = (records: number) => withApi({ records, pageSize, latencyMs: 0, prerender: false }, (api) => land(api.url, pageSize, 1, 8, 64));
  const small = await run(100_000);
  const large = await run(400_000);
  const windowMiB = (records: number) => (records * 330) / 1024 / 1024;
  console.log(`\n3. bounded memory: windows of 100k and 400k records (~${windowMiB(100_000).toFixed(0)} and ~${windowMiB(400_000).toFixed(0)} MiB of JSON), 8 MiB parts, V8 heap capped at 64 MiB`);
  row('peak RSS growth, 4× larger window ÷ smaller', `${(large.peakGrowthMiB / small.peakGrowthMiB).toFixed(2)} (1.0 = flat)`);
  row('peak RSS growth ÷ JSON size of the larger window', `${(large.peakGrowthMiB / windowMiB(400_000)).toFixed(2)}`);
}

/** The issue-3 bound: a 2 GiB window through S3 multipart inside what a 512 MB function has. */
async function s3LargeWindow() {
  const gib = Number(process.env.BENCH_S3_GIB ?? 2);
  const pageSize = 5_000;
  const records = Math.round((gib * 1024 ** 3) / 330);
  const s3 = fork(here('./fauxqsServer.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: 'inherit' });
  const { url: s3Endpoint } = await new Promise<{ url: string }>((resolve) => s3.once('message', (m) => resolve(m as { url: string })));
  try {
    const landing = await withApi({ records, pageSize, latencyMs: 0, prerender: false }, (api) => land(api.url, pageSize, 2, 64, 256, s3Endpoint));
    const boundMiB = 300;
    console.log(`\n4. S3 sink: one ~${gib} GiB window (${landing.records.toLocaleString('en')} records) through multipart uploads (fauxqs), V8 heap capped at 256 MiB`);
    row('peak RSS growth of the landing process', `${landing.peakGrowthMiB.toFixed(0)} MiB (bound: ${boundMiB} MiB for a 512 MB function) ${landing.peakGrowthMiB < boundMiB ? 'within' : 'OVER'}`);
    row('landed gzip bytes', `${(landing.bytes / 1024 ** 2).toFixed(0)} MiB in ${Math.round(landing.ms / 1000)} s`);
  } finally {
    s3.disconnect();
  }
}

console.log('apilake benchmark (ratios measured in this run)');
await latencyBound();
await cpuBound();
await boundedMemory();
await s3LargeWindow();
