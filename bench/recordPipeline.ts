/**
 * Benchmark of the record pipeline, not part of `npm test`:
 *
 *   npx tsx bench/recordPipeline.ts [--runs 7] [--pages 200] [--micro] [--memory] [--with-today] [--json out.json]
 *
 * 1. µs of CPU per ~1 KB record for each way of turning a page body into envelope lines,
 *    interleaved (every variant once per run, in rotating order) so machine noise hits all of
 *    them alike; medians and spread over the runs, and each variant's rate as a fraction of the
 *    same-run ceiling: one core doing JSON.parse of the pages + JSON.stringify of the envelopes.
 * 2. Peak RSS landing one 100 MB page (gzip JSON lines to a file), each way in its own child
 *    process fetching from a local server that generates the body as it sends it.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { isUtf8 } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { envelopeChunk, envelopePrefix } from '../functions/sink/envelopeChunk.js';
import { parseJson, stringifyJson } from '../functions/body/preciseJson.js';
import { parsePage, RecordParser } from '../functions/body/RecordParser.js';
import { RecordBatch } from '../functions/body/RecordBatch.js';
import { selectRecords } from '../functions/body/selectRecords.js';
import { envelopeLines, type EnvelopeFields, type WindowRef } from '../functions/sink/lakeLayout.js';
import { oneKbRecord, pageBody } from './recordFixtures.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

const ref: WindowRef = { source: 'bench', stream: 'events', window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') } };
const fields: EnvelopeFields = { runId: '6f1c2b1e-1d7a-4c35-9d4e-0f6b8f1f2a11', extractedAt: new Date('2024-01-01T01:00:05Z') };
const RECORDS_PER_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// 1. Variants: page body (Buffer, as read from the socket) → envelope lines (bytes for gzip)
// ---------------------------------------------------------------------------------------------

type Variant = (page: Buffer, pageText: string) => number;

/** The ceiling of T4 (docs/performance.md): JSON.parse of the page text + JSON.stringify of each envelope. */
const ceiling: Variant = (_page, text) => {
  const body = JSON.parse(text) as { data: unknown[] };
  let bytes = 0;
  for (const data of body.data) {
    bytes += JSON.stringify({ _source: ref.source, _stream: ref.stream, _window_start: 'x', _window_end: 'x', _extracted_at: 'x', _run_id: fields.runId, data }).length;
  }
  return bytes;
};

/** Today's path: text → probe + JSON.parse (lossless past 16 digits) → JMESPath → JSON.stringify lines → bytes. */
const today: Variant = (page) => {
  const parsed = parseJson(page.toString('utf8'));
  const records = selectRecords(parsed.value, 'data', 1, 'bench');
  const lines = envelopeLines(ref, fields, records, (r) => stringifyJson(r, parsed.precise));
  return Buffer.from(lines.join('')).length;
};

/** Candidate: whole-body JSON.parse for validation, then a non-validating byte slicer for the records. */
const parseThenSlice: Variant = (page) => {
  if (!isUtf8(page)) throw new Error('not UTF-8');
  JSON.parse(page.toString('utf8'));
  const spans = sliceTopLevelArray(page, 'data');
  return envelopeChunk(prefix, new RecordBatch(page, spans)).length;
};

const prefix = envelopePrefix(ref, fields);

/** The chosen path: validating byte scanner (parsePage) + one envelope Buffer per page. */
const scanner: Variant = (page) => envelopeChunk(prefix, parsePage(page, { records: 'data' }).records).length;

/** The scanner, with lines built as strings and encoded once (what a string-based writer would do). */
const scannerStrings: Variant = (page) => {
  const { records } = parsePage(page, { records: 'data' });
  const head = prefix.toString();
  let out = '';
  for (let i = 0; i < records.count; i++) out += `${head}${records.text(i)}}\n`;
  return Buffer.from(out).length;
};

/** The streaming parser fed 64 KiB chunks, one envelope Buffer per chunk's records. */
const streamed: Variant = (page) => {
  const parser = new RecordParser({ records: 'data' });
  let bytes = 0;
  for (let at = 0; at < page.length; at += 65_536) bytes += envelopeChunk(prefix, parser.push(page.subarray(at, at + 65_536))).length;
  return bytes + envelopeChunk(prefix, parser.end().records).length;
};

/** Stage costs of the chosen path, for the profile. */
const scanOnly: Variant = (page) => parsePage(page, { records: 'data' }).recordCount;
const utf8Only: Variant = (page) => (isUtf8(page) ? 1 : 0);
let scannedForEnvelope: RecordBatch | undefined;
const envelopeOnly: Variant = (page) => envelopeChunk(prefix, (scannedForEnvelope ??= parsePage(page, { records: 'data' }).records)).length;
/** What a consumer needing every record's value (typed columns) adds: the lazy value of each record. */
const scannerWithValues: Variant = (page) => {
  const { records } = parsePage(page, { records: 'data' });
  for (let i = 0; i < records.count; i++) records.value(i);
  return envelopeChunk(prefix, records).length;
};

/** Non-validating slicer for the candidate above: records of the array under a top-level key. */
function sliceTopLevelArray(b: Buffer, key: string): Uint32Array {
  const want = Buffer.from(`"${key}"`);
  const spans: number[] = [];
  let depth = 0;
  let inRecords = false;
  let recordStart = -1;
  let lastKeyMatches = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      const start = i;
      for (i++; b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
      if (depth === 1) lastKeyMatches = i + 1 - start === want.length && b.subarray(start, i + 1).equals(want);
      if (inRecords && depth === 2) spans.push(start, i + 1);
    } else if (c === 0x7b || c === 0x5b) {
      if (inRecords && depth === 2) recordStart = i;
      if (depth === 1 && c === 0x5b && lastKeyMatches) inRecords = true;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (inRecords && depth === 2) spans.push(recordStart, i + 1);
      if (inRecords && depth === 1) inRecords = false;
    } else if (inRecords && depth === 2 && c !== 0x2c && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      const start = i;
      while (i + 1 < b.length && b[i + 1] !== 0x2c && b[i + 1] !== 0x5d) i++;
      spans.push(start, i + 1);
    }
  }
  return Uint32Array.from(spans);
}

/** Page sets: realistic (some non-ASCII text), ASCII only, and with a 16-digit order number in one record per page. */
type PageSet = 'mixed' | 'ascii' | 'orderNumber';

/** Each variant on the page sets where it tells something; each is compared with the ceiling of its set. */
const variants: readonly (readonly [name: string, set: PageSet, run: Variant])[] = [
  ['ceiling', 'mixed', ceiling],
  ['today', 'mixed', today],
  ['parseThenSlice', 'mixed', parseThenSlice],
  ['scanner', 'mixed', scanner],
  ['scannerStrings', 'mixed', scannerStrings],
  ['streamed', 'mixed', streamed],
  ['scanOnly', 'mixed', scanOnly],
  ['utf8Only', 'mixed', utf8Only],
  ['envelopeOnly', 'mixed', envelopeOnly],
  ['scannerWithValues', 'mixed', scannerWithValues],
  ['ceiling', 'ascii', ceiling],
  ['today', 'ascii', today],
  ['parseThenSlice', 'ascii', parseThenSlice],
  ['scanner', 'ascii', scanner],
  ['ceiling', 'orderNumber', ceiling],
  ['today', 'orderNumber', today],
  ['scanner', 'orderNumber', scanner],
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function makePages(set: PageSet, pageCount: number): { pages: Buffer[]; texts: string[] } {
  const pages = Array.from({ length: pageCount }, (_, p) => {
    const page = pageBody(p * RECORDS_PER_PAGE, RECORDS_PER_PAGE, set === 'orderNumber');
    return set === 'ascii' ? Buffer.from(page.toString('utf8').replace(/[\u0080-\uffff]/g, '?')) : page;
  });
  return { pages, texts: pages.map((page) => page.toString('utf8')) };
}

function micro(runs: number, pageCount: number) {
  const sets = { mixed: makePages('mixed', pageCount), ascii: makePages('ascii', pageCount), orderNumber: makePages('orderNumber', pageCount) };
  const records = pageCount * RECORDS_PER_PAGE;
  const bytesPerRecord = sets.mixed.pages.reduce((n, p) => n + p.length, 0) / records;

  // Same output, checked once: the chosen path lands each record as its bytes.
  const check = sets.mixed.pages[0]!;
  const lines = envelopeChunk(prefix, parsePage(check, { records: 'data' }).records)
    .toString()
    .split('\n')
    .slice(0, -1);
  lines.forEach((line, i) => {
    if (!line.includes(`"data":${oneKbRecord(i)}}`)) throw new Error(`line ${i} does not hold record ${i} as sent`);
  });
  if (!envelopeChunk(prefix, new RecordBatch(check, sliceTopLevelArray(check, 'data'))).equals(envelopeChunk(prefix, parsePage(check, { records: 'data' }).records))) {
    throw new Error('the slicer candidate and the scanner disagree');
  }

  const key = (name: string, set: PageSet) => `${name}/${set}`;
  const samples = new Map<string, number[]>(variants.map(([name, set]) => [key(name, set), []]));
  const measure = ([, set, variant]: (typeof variants)[number]) => {
    const { pages, texts } = sets[set];
    const started = process.cpuUsage();
    for (let p = 0; p < pageCount; p++) variant(pages[p]!, texts[p]!);
    const used = process.cpuUsage(started);
    return (used.user + used.system) / records;
  };
  // Warm-up: every variant optimised before measuring.
  for (const entry of variants) measure(entry);
  for (let run = 0; run < runs; run++) {
    for (let k = 0; k < variants.length; k++) {
      const entry = variants[(k + run) % variants.length]!;
      samples.get(key(entry[0], entry[1]))!.push(measure(entry));
    }
  }
  const result = variants.map(([name, set]) => {
    const perRecord = samples.get(key(name, set))!;
    const limit = samples.get(key('ceiling', set))!;
    const ratios = perRecord.map((us, k) => limit[k]! / us);
    return {
      variant: name,
      pages: set,
      usPerRecord: median(perRecord),
      min: Math.min(...perRecord),
      max: Math.max(...perRecord),
      ofCeiling: median(ratios),
      ofCeilingMin: Math.min(...ratios),
      ofCeilingMax: Math.max(...ratios),
    };
  });
  console.log(`\n1. µs of CPU per record (${bytesPerRecord.toFixed(0)} bytes/record, pages of ${RECORDS_PER_PAGE}, ${pageCount} pages × ${runs} interleaved runs; medians, [min–max])`);
  console.log(`   ${'variant'.padEnd(18)} ${'pages'.padEnd(12)} ${'µs/record'.padStart(9)}  ${'spread'.padEnd(14)} ${'rate ÷ ceiling'.padStart(14)}  spread`);
  for (const r of result) {
    console.log(
      `   ${r.variant.padEnd(18)} ${r.pages.padEnd(12)} ${r.usPerRecord.toFixed(2).padStart(9)}  ${`[${r.min.toFixed(2)}–${r.max.toFixed(2)}]`.padEnd(14)} ${r.ofCeiling.toFixed(2).padStart(14)}  [${r.ofCeilingMin.toFixed(2)}–${r.ofCeilingMax.toFixed(2)}]`,
    );
  }
  const landing = result.find((r) => r.variant === 'scanner' && r.pages === 'mixed')!;
  console.log(`   scanner + envelope (the new landing CPU before gzip): ${landing.ofCeiling.toFixed(2)} × the ceiling's rate (needs ≥ 0.75 for the whole landing path, gzip and HTTP included)`);
  return { bytesPerRecord, recordsPerPage: RECORDS_PER_PAGE, pages: pageCount, runs, variants: result };
}

// ---------------------------------------------------------------------------------------------
// 2. One 100 MB page: peak RSS of each landing, in its own process
// ---------------------------------------------------------------------------------------------

const PAGE_MB = 100;

/** Serves one page of about `megabytes` MB, generated while sending (the server holds one chunk). */
async function startBigPageServer(megabytes: number): Promise<{ server: Server; url: string; records: number }> {
  const recordBytes = Buffer.byteLength(oneKbRecord(0)) + 1;
  const records = Math.floor((megabytes * 1e6) / recordBytes);
  const serve = async (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"meta":{"next_cursor":"12345678901234567890","total":' + records + '},"data":[');
    const batch: string[] = [];
    for (let i = 0; i < records; i++) {
      batch.push(oneKbRecord(i));
      if (batch.length === 64 || i === records - 1) {
        const chunk = (i + 1 - batch.length === 0 ? '' : ',') + batch.join(',');
        batch.length = 0;
        if (!res.write(chunk)) await once(res, 'drain');
      }
    }
    res.end('],"has_more":false}');
  };
  // A client that goes away mid-page fails the write: end the response, never the process.
  const server = createServer((_req, res) => void serve(res).catch((error: Error) => res.destroy(error)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, records };
}

interface Landing {
  mode: string;
  records: number;
  gzipBytes: number;
  ms: number;
  peakRssMiB: number;
  startRssMiB: number;
}

/** Child: fetches the page and lands it as gzip JSON lines, one of three ways. */
async function landChild(mode: string, url: string, file: string): Promise<void> {
  const startRss = process.memoryUsage().rss;
  const started = performance.now();
  const gzip = createGzip({ level: 1 });
  const out = createWriteStream(file);
  gzip.pipe(out);
  let gzipBytes = 0;
  gzip.on('data', (chunk: Buffer) => (gzipBytes += chunk.length));
  const write = async (chunk: Buffer | string) => {
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };
  const response = await fetch(url);
  let records = 0;
  if (mode === 'today') {
    const parsed = parseJson(await response.text());
    const selected = selectRecords(parsed.value, 'data', 1, 'bench');
    records = selected.length;
    // As runWindow does today: one page's lines, joined, handed to the writer.
    await write(envelopeLines(ref, fields, selected, (r) => stringifyJson(r, parsed.precise)).join(''));
  } else if (mode === 'whole') {
    const page = parsePage(Buffer.from(await response.arrayBuffer()), { records: 'data' });
    records = page.recordCount;
    await write(envelopeChunk(prefix, page.records));
  } else {
    const parser = new RecordParser({ records: 'data' });
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const batch = parser.push(chunk);
      records += batch.count;
      if (batch.count > 0) await write(envelopeChunk(prefix, batch));
    }
    const page = parser.end();
    records += page.records.count;
    await write(envelopeChunk(prefix, page.records));
    // The cursor is read from the small part of the body the parser kept.
    if ((page.body as { meta: { next_cursor: string } }).meta.next_cursor !== '12345678901234567890') throw new Error('cursor lost');
  }
  gzip.end();
  await once(out, 'close');
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.send!({ mode, records, gzipBytes, ms: performance.now() - started, peakRssMiB: peakRss / 2 ** 20, startRssMiB: startRss / 2 ** 20 } satisfies Landing);
}

async function runChild(mode: string, url: string, heapMiB: number): Promise<Landing | { mode: string; failed: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-page-'));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', mode, url, join(dir, 'out.jsonl.gz')], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${heapMiB}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const message = new Promise<Landing>((resolve) => child.once('message', (m) => resolve(m as Landing)));
  const [code] = (await once(child, 'exit')) as [number | null];
  await rm(dir, { recursive: true, force: true });
  if (code !== 0) return { mode, failed: `exit ${code}: ${stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? ''}` };
  return message;
}

async function memory() {
  const { server, url, records } = await startBigPageServer(PAGE_MB);
  const results: (Landing | { mode: string; failed: string })[] = [];
  try {
    // The streamed path runs under a 64 MiB V8 heap: it must not need more.
    // Today's path needs ~2 GiB and ~2 minutes here: only with --with-today.
    const modes = flag('with-today') ? (['streamed', 'whole', 'today'] as const) : (['streamed', 'whole'] as const);
    for (const mode of modes) results.push(await runChild(mode, url, mode === 'streamed' ? 64 : 2048));
  } finally {
    server.close();
  }
  console.log(`\n2. one ${PAGE_MB} MB page (${records.toLocaleString('en')} records of ~1 KB) fetched from a local server and landed as gzip JSON lines`);
  for (const r of results) {
    if ('failed' in r) console.log(`   ${r.mode.padEnd(10)} FAILED ${r.failed}`);
    else console.log(`   ${r.mode.padEnd(10)} peak RSS ${r.peakRssMiB.toFixed(0).padStart(5)} MiB (at start ${r.startRssMiB.toFixed(0)} MiB), ${r.records} records, ${(r.ms / 1000).toFixed(1)} s`);
  }
  const streamedRun = results.find((r) => r.mode === 'streamed');
  const within = streamedRun && !('failed' in streamedRun) && streamedRun.peakRssMiB < 256;
  console.log(`   target: streamed peak RSS under 256 MiB: ${within ? 'met' : 'MISSED'}`);
  return { pageMB: PAGE_MB, records, results, targetMet: within };
}

if (args[0] === '--child') {
  await landChild(args[1]!, args[2]!, args[3]!);
  process.exit(0);
} else {
  const all = !flag('micro') && !flag('memory');
  console.log(
    `record pipeline benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const out: Record<string, unknown> = { node: process.version, cores: cpus().length, model: cpus()[0]?.model, loadAverage: loadavg() };
  if (all || flag('micro')) out.micro = micro(option('runs', 7), option('pages', 200));
  if (all || flag('memory')) out.memory = await memory();
  const at = args.indexOf('--json');
  if (at >= 0) await writeFile(args[at + 1]!, `${JSON.stringify(out, null, 2)}\n`);
}
