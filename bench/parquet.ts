/**
 * `npx tsx bench/parquet.ts [--quick | --big]`: what Parquet costs, and why hyparquet-writer writes it.
 * Not part of `npm test` (timings) nor of `npm run bench` (the targets' gate); run it by hand.
 *
 * 1. Writers, same rows (~1 KB records: envelope, `data` text, 6 typed columns), snappy, 10k-row
 *    groups, streamed to a discarding sink: records/s, bytes, in a fresh process each, 3 rounds
 *    interleaved, medians. Candidates: hyparquet-writer (through apilake's ParquetFileWriter),
 *    parquet-wasm + apache-arrow (transformParquetStream). @dsnp/parquetjs (openStream) was measured
 *    too (17.3k records/s, 269 B/record against hyparquet-writer's 32.0k and 249: parquet-results.json
 *    of 2026-11-24) and then left out of the dev dependencies: it pulls @zenfs/core → kerium →
 *    utilium 3, which requires Node ≥ 22, so `npm ci` on Node 20 warned of it (EBADENGINE).
 *    Baseline: gzip JSON lines of the same envelope records (what a raw part costs).
 * 2. Column extraction (ColumnExtractor), dotted-path fast path vs JMESPath interpreter; and
 *    ParquetFileWriter with each codec the running Node has (ZSTD from Node 22.15).
 * 3. Peak RSS writing a large window (256 MiB and 1 GiB of records, 2 GiB with --big; generated,
 *    extracted and written on the fly, output hashed and discarded as an S3 upload would stream
 *    it), one child process each, and the largest again under a 256 MiB V8 old-space cap (as a
 *    Lambda's memory caps it).
 * 4. Bundle bytes (esbuild, minified, node22) and module load time (median of 10 fresh processes).
 * 5. An independent read-back: the hyparquet-writer file read by parquet-wasm (arrow-rs).
 * Results: the table on stdout and bench/parquet-results.json.
 */

import { execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { ColumnExtractor } from '../functions/tables/ColumnExtractor.js';
import { parseColumnType } from '../functions/config/columnType.js';
import { DEFAULT_CODEC, PARQUET_CODECS, ParquetFileWriter } from '../functions/tables/ParquetFileWriter.js';
import type { TableSpec, TypedColumn } from '../functions/tables/tableSpec.js';

const here = fileURLToPath(import.meta.url);
const run = promisify(execFile);
const quick = process.argv.includes('--quick');
const big = process.argv.includes('--big');

// ---------------------------------------------------------------- data

/** Deterministic pseudo-random words, so every writer sees the same bytes. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}
const WORDS = 'lambda parquet athena bucket window stream record cursor page retry token schema column partition manifest commit query engine table view'.split(' ');

/** A GitHub-issue-like record of about 1 KB of JSON. */
function recordText(i: number, random: () => number): string {
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  return JSON.stringify({
    id: 1_000_000_000 + i,
    number: i,
    title: `${words(6)} #${i}`,
    state: random() < 0.7 ? 'open' : 'closed',
    user: { login: `user${Math.floor(random() * 5000)}`, id: Math.floor(random() * 1e7), site_admin: false },
    labels: Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ name: WORDS[Math.floor(random() * WORDS.length)], color: 'ededed' })),
    comments: Math.floor(random() * 40),
    created_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    updated_at: new Date(1_700_000_000_000 + i * 1000 + Math.floor(random() * 1e8)).toISOString(),
    score: Math.round(random() * 10_000) / 100,
    body: words(60),
    url: `https://api.github.com/repos/aws/aws-cdk/issues/${i}`,
  });
}

const column = (name: string, path: string, type: string): TypedColumn => {
  const parsed = parseColumnType(type);
  if (!parsed.ok) throw new Error(parsed.message);
  return { name, path, type: parsed.type, comment: '' };
};
const SPEC: TableSpec = {
  source: 'github',
  stream: 'issues',
  name: 'github_issues',
  primaryKey: ['id'],
  columns: [
    column('id', 'id', 'bigint'),
    column('title', 'title', 'string'),
    column('state', 'state', 'string'),
    column('updated_at', 'updated_at', 'timestamp'),
    column('score', 'score', 'double'),
    column('labels', 'labels[].name', 'array<string>'),
  ],
};
const ENVELOPE = { windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-01T01:00:00Z', runId: 'bench-run' };
const EXTRACTED_AT = '2024-01-01T01:00:05.123Z';
const GROUP = 10_000;

interface Rows {
  texts: string[];
  values: unknown[][];
}

function makeRows(n: number): Rows {
  const random = rng(42);
  const texts = Array.from({ length: n }, (_, i) => recordText(i, random));
  const extractor = new ColumnExtractor(SPEC.columns);
  return { texts, values: texts.map((t) => extractor.extract(JSON.parse(t))) };
}

/** A sink that hashes and counts what reaches it, as an S3 upload would stream it. */
function discard() {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  return { sink, bytes: () => bytes };
}

// ---------------------------------------------------------------- writers (child side)

type Writer = (rows: Rows) => Promise<number>;

const WRITERS: Record<string, Writer> = {
  async 'hyparquet-writer'(rows) {
    // Snappy like the others here; the codecs table below shows ZSTD where Node has it.
    const file = new ParquetFileWriter(SPEC, ENVELOPE, { rowGroupRows: GROUP, codec: 'SNAPPY' });
    const out = discard();
    file.output.pipe(out.sink);
    for (let i = 0; i < rows.texts.length; i += 100) {
      await file.writePage({ extractedAt: EXTRACTED_AT, data: rows.texts.slice(i, i + 100), values: rows.values.slice(i, i + 100) });
    }
    const info = await file.close();
    return info.bytes;
  },

  async 'parquet-wasm + apache-arrow'(rows) {
    const arrow = await import('apache-arrow');
    const pw = await import('parquet-wasm/node');
    const n = rows.texts.length;
    let next = 0;
    const batches = new ReadableStream({
      pull(controller) {
        if (next >= n) return controller.close();
        const end = Math.min(n, next + GROUP);
        const slice = (j: number) => rows.values.slice(next, end).map((v) => v[j]);
        const constant = (value: string) => arrow.vectorFromArray(new Array(end - next).fill(value), new arrow.Utf8());
        const table = new arrow.Table({
          _source: constant(SPEC.source),
          _stream: constant(SPEC.stream),
          _window_start: constant(ENVELOPE.windowStart),
          _window_end: constant(ENVELOPE.windowEnd),
          _extracted_at: constant(EXTRACTED_AT),
          _run_id: constant(ENVELOPE.runId),
          _parent: arrow.vectorFromArray(new Array(end - next).fill(null), new arrow.Utf8()),
          data: arrow.vectorFromArray(rows.texts.slice(next, end), new arrow.Utf8()),
          id: arrow.vectorFromArray(slice(0), new arrow.Int64()),
          title: arrow.vectorFromArray(slice(1), new arrow.Utf8()),
          state: arrow.vectorFromArray(slice(2), new arrow.Utf8()),
          updated_at: arrow.vectorFromArray(slice(3), new arrow.TimestampMillisecond()),
          score: arrow.vectorFromArray(slice(4), new arrow.Float64()),
          labels: arrow.vectorFromArray(slice(5), new arrow.List(new arrow.Field('element', new arrow.Utf8(), true))),
        });
        for (const batch of pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')).recordBatches()) controller.enqueue(batch);
        next = end;
      },
    });
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
    const bytes = await pw.transformParquetStream(batches, props);
    let total = 0;
    for await (const chunk of bytes as unknown as AsyncIterable<Uint8Array>) total += chunk.length;
    return total;
  },

  async 'gzip JSON lines (raw part, level 6)'(rows) {
    const gzip = createGzip({ level: 6 });
    const out = discard();
    gzip.pipe(out.sink);
    const prefix = `{"_source":"github","_stream":"issues","_window_start":"${ENVELOPE.windowStart}","_window_end":"${ENVELOPE.windowEnd}","_extracted_at":"${EXTRACTED_AT}","_run_id":"${ENVELOPE.runId}","data":`;
    for (let i = 0; i < rows.texts.length; i += 100) {
      if (
        !gzip.write(
          rows.texts
            .slice(i, i + 100)
            .map((t) => `${prefix}${t}}\n`)
            .join(''),
        )
      )
        await new Promise((r) => gzip.once('drain', r));
    }
    gzip.end();
    await once(out.sink, 'finish');
    return out.bytes();
  },
};

async function childWrite(name: string, n: number) {
  const rows = makeRows(n);
  const rawBytes = rows.texts.reduce((s, t) => s + t.length, 0);
  const start = performance.now();
  const bytes = await WRITERS[name]!(rows);
  const ms = performance.now() - start;
  return { name, records: n, ms, recordsPerSecond: n / (ms / 1000), bytes, bytesPerRecord: bytes / n, rawBytesPerRecord: rawBytes / n };
}

/** Every codec the running Node offers, through ParquetFileWriter (ZSTD needs Node ≥ 22.15). */
async function childCodecs(n: number) {
  const rows = makeRows(n);
  const out: Record<string, { recordsPerSecond: number; bytesPerRecord: number }> = {};
  for (const round of [0, 1]) {
    for (const codec of PARQUET_CODECS) {
      if (codec === 'ZSTD' && DEFAULT_CODEC !== 'ZSTD') continue;
      const file = new ParquetFileWriter(SPEC, ENVELOPE, { rowGroupRows: GROUP, codec });
      const sink = discard();
      file.output.pipe(sink.sink);
      const start = performance.now();
      for (let i = 0; i < rows.texts.length; i += 100) await file.writePage({ extractedAt: EXTRACTED_AT, data: rows.texts.slice(i, i + 100), values: rows.values.slice(i, i + 100) });
      const info = await file.close();
      // The first round warms the JIT; the second is reported.
      if (round === 1) out[codec] = { recordsPerSecond: Math.round(n / ((performance.now() - start) / 1000)), bytesPerRecord: Math.round(info.bytes / n) };
    }
  }
  return { node: process.version, ...out };
}

function childExtract(n: number) {
  const rows = makeRows(Math.min(n, 20_000));
  const parsed = rows.texts.map((t): unknown => JSON.parse(t));
  const time = (spec: TypedColumn[]) => {
    const extractor = new ColumnExtractor(spec);
    for (const r of parsed) extractor.extract(r); // warm-up
    const start = performance.now();
    for (let k = 0; k < 5; k++) for (const r of parsed) extractor.extract(r);
    return ((performance.now() - start) * 1000) / (5 * parsed.length);
  };
  // Wrapping a dotted path in `(…)` keeps its meaning but defeats the fast path.
  const slow = SPEC.columns.map((c) => ({ ...c, path: c.path.includes('[') ? c.path : `(${c.path})` }));
  return { fastPathMicros: time([...SPEC.columns]), jmespathMicros: time(slow), dottedOnlyFast: time(SPEC.columns.slice(0, 5)), dottedOnlyJmespath: time(slow.slice(0, 5)) };
}

async function childMemory(windowBytes: number) {
  const baseRssMiB = process.resourceUsage().maxRSS / 1024;
  const random = rng(7);
  const extractor = new ColumnExtractor(SPEC.columns);
  const file = new ParquetFileWriter(SPEC, ENVELOPE);
  const out = discard();
  file.output.pipe(out.sink);
  let raw = 0;
  let records = 0;
  const start = performance.now();
  while (raw < windowBytes) {
    const data: string[] = [];
    for (let i = 0; i < 100; i++) data.push(recordText(records++, random));
    raw += data.reduce((s, t) => s + t.length, 0);
    await file.writePage({ extractedAt: EXTRACTED_AT, data, values: data.map((t) => extractor.extract(JSON.parse(t))) });
  }
  const info = await file.close();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  return {
    windowMiB: windowBytes / 2 ** 20,
    records,
    fileMiB: Math.round(info.bytes / 2 ** 20),
    rowGroups: info.rowGroups,
    recordsPerSecond: Math.round(records / ((performance.now() - start) / 1000)),
    baseRssMiB: Math.round(baseRssMiB),
    peakRssMiB: Math.round(peakRssMiB),
    growthMiB: Math.round(peakRssMiB - baseRssMiB),
  };
}

async function childReadBack() {
  const rows = makeRows(20_000);
  const chunks: Buffer[] = [];
  const file = new ParquetFileWriter(SPEC, ENVELOPE, { rowGroupRows: GROUP });
  file.output.on('data', (c: Buffer) => chunks.push(c));
  await file.writePage({ extractedAt: EXTRACTED_AT, data: rows.texts, values: rows.values });
  await file.close();
  const pw = await import('parquet-wasm/node');
  const arrow = await import('apache-arrow');
  const table = arrow.tableFromIPC(pw.readParquet(Buffer.concat(chunks)).intoIPCStream());
  const ids = table.getChild('id')!;
  const labels = table.getChild('labels')!;
  return {
    reader: 'parquet-wasm (arrow-rs)',
    rows: table.numRows,
    idsMatch: rows.values.every((v, i) => ids.get(i) === v[0]),
    dataMatches: rows.texts.every((t, i) => table.getChild('data')!.get(i) === t),
    // A list cell is an Arrow vector (iterable), or null.
    labelsMatch: rows.values.every((v, i) => JSON.stringify([...((labels.get(i) as Iterable<unknown> | null) ?? [])]) === JSON.stringify(v[5])),
  };
}

// ---------------------------------------------------------------- orchestrator

function child<T>(args: string[], execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = fork(here, ['--child', ...args], { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    p.once('message', (m) => resolve(m as T));
    p.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child ${args.join(' ')} exited with ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bundles(dir: string) {
  const entries: Record<string, string> = {
    'baseline (an empty module)': `export const nothing = 0;`,
    'hyparquet-writer (ParquetFileWriter)': `export { ParquetFileWriter } from ${JSON.stringify(join(here, '../../functions/tables/ParquetFileWriter.ts'))};`,
    'all of functions/tables': `export * from ${JSON.stringify(join(here, '../../functions/tables/index.ts'))};`,
    'parquet-wasm + apache-arrow': `export * as pw from 'parquet-wasm/node'; export { tableToIPC, Table, vectorFromArray } from 'apache-arrow';`,
  };
  const out: Record<string, { bundleKiB: number; extraFilesKiB: number; loadMsMedian: number }> = {};
  const esbuild = await import('esbuild');
  let k = 0;
  for (const [name, source] of Object.entries(entries)) {
    const entry = join(dir, `entry${k}.ts`);
    const outfile = join(dir, `bundle${k++}.mjs`);
    await writeFile(entry, source);
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile,
      logLevel: 'silent',
      nodePaths: [join(here, '../../node_modules')],
      banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
    });
    // parquet-wasm loads its .wasm from disk next to its glue code; it ships beside the bundle.
    const extra = name.startsWith('parquet-wasm') ? (await stat(join(here, '../../node_modules/parquet-wasm/node/parquet_wasm_bg.wasm'))).size : 0;
    const loads: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      const script = name.startsWith('parquet-wasm')
        ? `const t=performance.now(); await import('parquet-wasm/node'); await import('apache-arrow'); console.log(performance.now()-t)`
        : `const t=performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now()-t)`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(here, '../..') });
      loads.push(Number(stdout.trim()));
    }
    out[name] = { bundleKiB: (await stat(outfile)).size / 1024, extraFilesKiB: extra / 1024, loadMsMedian: median(loads) };
  }
  return out;
}

async function main() {
  const n = quick ? 20_000 : 50_000;
  const rounds = quick ? 1 : 3;
  const names = Object.keys(WRITERS);
  const samples: Record<string, Awaited<ReturnType<typeof childWrite>>[]> = {};
  const load = os.loadavg()[0];
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const result = await child<Awaited<ReturnType<typeof childWrite>>>(['write', name, String(n)]);
      (samples[name] ??= []).push(result);
      console.log(`round ${r + 1}: ${name}: ${Math.round(result.recordsPerSecond)} records/s, ${(result.bytes / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  const writers = names.map((name) => {
    const s = samples[name]!;
    return {
      name,
      recordsPerSecond: Math.round(median(s.map((x) => x.recordsPerSecond))),
      spread: `${Math.round(Math.min(...s.map((x) => x.recordsPerSecond)))}–${Math.round(Math.max(...s.map((x) => x.recordsPerSecond)))}`,
      bytesPerRecord: Math.round(median(s.map((x) => x.bytesPerRecord))),
      rawBytesPerRecord: Math.round(s[0]!.rawBytesPerRecord),
    };
  });
  const extraction = await child<ReturnType<typeof childExtract>>(['extract', String(n)]);
  const codecs = await child<Awaited<ReturnType<typeof childCodecs>>>(['codecs', String(n)]);
  const memory = [];
  const sizes = quick ? [64, 256] : big ? [256, 2048] : [256, 1024];
  for (const mib of sizes) memory.push({ heap: 'default', ...(await child<Awaited<ReturnType<typeof childMemory>>>(['memory', String(mib * 2 ** 20)])) });
  // Lambda-like: a capped old space makes V8 collect sooner (the function's memory bounds the heap).
  memory.push({ heap: '--max-old-space-size=256', ...(await child<Awaited<ReturnType<typeof childMemory>>>(['memory', String(sizes.at(-1)! * 2 ** 20)], ['--max-old-space-size=256'])) });
  const readBack = await child<Awaited<ReturnType<typeof childReadBack>>>(['readback']);
  const dir = await mkdtemp(join(os.tmpdir(), 'apilake-bench-parquet-'));
  let bundle;
  try {
    bundle = await bundles(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const results = {
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadAverageAtStart: load },
    recordsPerRun: n,
    rounds,
    writers,
    extractionMicrosPerRecord: extraction,
    codecs,
    memory,
    readBack,
    bundle,
  };
  console.log('\nParquet writers (median of', rounds, 'rounds,', n, 'records of ~1 KB, snappy, 10k-row groups, streamed):');
  console.table(writers);
  console.log(`Codecs through ParquetFileWriter (Node ${codecs.node}; run under Node ≥ 22.15 for ZSTD):`);
  console.table(Object.fromEntries(Object.entries(codecs).filter(([k]) => k !== 'node')));
  console.log('Column extraction, µs per record (6 columns / the 5 dotted ones):');
  console.table(extraction);
  console.log('Peak RSS writing one window (ParquetFileWriter defaults: 16 MiB / 100k-row groups; base = after module load):');
  console.table(memory);
  console.log('Read back by an independent reader:', readBack);
  console.log('Bundle and load:');
  console.table(bundle);
  await writeFile(join(here, '../parquet-results.json'), `${JSON.stringify(results, null, 2)}\n`);
}

async function childMain(args: string[]) {
  const [kind, a, b] = args;
  let result: unknown;
  if (kind === 'write') result = await childWrite(a!, Number(b));
  else if (kind === 'extract') result = childExtract(Number(a));
  else if (kind === 'codecs') result = await childCodecs(Number(a));
  else if (kind === 'memory') result = await childMemory(Number(a));
  else if (kind === 'readback') result = await childReadBack();
  process.send!(result, () => process.exit(0));
}

if (process.argv[2] === '--child') await childMain(process.argv.slice(3));
else await main();
