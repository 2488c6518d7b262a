import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { CuratedFile } from '../../functions/sink/WindowWriter.js';
import { ParquetFileWriter, type CuratedPage, type CuratedTableFile } from '../../functions/tables/ParquetFileWriter.js';
import { tableSpec, type TableSpec } from '../../functions/tables/tableSpec.js';
import { IDLE_GROUP_ROWS, ThreadedParquetWriter } from '../../functions/tables/ThreadedParquetWriter.js';

const execFileAsync = promisify(execFile);
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;

// The encoder thread runs the same ParquetFileWriter: these tests are about what crossing a thread
// could break (bytes, order, memory bounds, failures that must not hang), not about encoding.

const SOURCE = parseSource(
  `
name: shop
schedule: rate(1 hour)
base_url: https://api.example.com
streams:
  - name: orders
    path: /orders
    columns:
      - { name: id, path: id, type: bigint }
      - { name: note, path: note, type: string }
      - { name: paid_at, path: paid_at, type: timestamp }
`,
  'shop.yaml',
);
const SPEC = tableSpec(SOURCE, SOURCE.streams[0]!);
const ENVELOPE = { windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-01T01:00:00Z', runId: 'run-1' };

/** Records `from`…`to - 1`, as bytes (what the engine hands over) or text; notes hold non-ASCII text. */
function page(from: number, to: number, as: 'bytes' | 'text' = 'bytes', extractedAt = '2024-01-01T00:05:00.000Z'): CuratedPage {
  const texts = Array.from({ length: to - from }, (_, i) => `{"id":${from + i},"note":"Zoë № ${from + i} ✓","paid_at":"2024-01-01T00:00:0${(from + i) % 10}Z"}`);
  return {
    extractedAt,
    data: as === 'bytes' ? texts.map((t) => Buffer.from(t)) : texts,
    values: texts.map((_, i) => [BigInt(from + i), `Zoë № ${from + i} ✓`, Date.UTC(2024, 0, 1, 0, 0, (from + i) % 10)]),
  };
}

function collect(output: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    output.on('end', () => resolve(Buffer.concat(chunks)));
    output.on('error', reject);
  });
}

async function land(file: CuratedTableFile, pages: readonly CuratedPage[]) {
  const bytes = collect(file.output);
  for (const p of pages) await file.writePage(p);
  const info = await file.close();
  return { info, bytes: await bytes };
}

async function readRows(bytes: Buffer): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  // hyparquet reads snappy itself; the default codec needs zlib: ZSTD where the runtime has it (Node ≥ 22.15), else GZIP.
  return parquetReadObjects({ file, compressors: { GZIP: (input) => zlib.gunzipSync(input), ...(zstdDecompressSync && { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) }) } });
}

describe('ThreadedParquetWriter', () => {
  it('writes the same rows as the writer on the calling thread, and describes its own bytes', async () => {
    const pages = [page(0, 300), page(300, 301, 'text'), page(301, 1_000, 'bytes', '2024-01-01T00:06:00.000Z')];
    const here = await land(new ParquetFileWriter(SPEC, ENVELOPE, { rowGroupRows: 250 }), pages);
    const threaded = await land(new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 250 }), pages);

    expect(threaded.info).toMatchObject({ rows: 1_000, rowGroups: 4, bytes: threaded.bytes.length });
    expect(threaded.info.sha256).toBe(createHash('sha256').update(threaded.bytes).digest('hex'));
    const rows = await readRows(threaded.bytes);
    expect(rows).toEqual(await readRows(here.bytes));
    expect(rows[300]).toMatchObject({ _source: 'shop', _stream: 'orders', _run_id: 'run-1', id: 300n, note: 'Zoë № 300 ✓', data: '{"id":300,"note":"Zoë № 300 ✓","paid_at":"2024-01-01T00:00:00Z"}' });
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => BigInt(i)));
  });

  it('writes several files at once on the one thread, each intact, and one failing file fails only itself', async () => {
    const files = [0, 1, 2].map(() => new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 300 }));
    // hyparquet-writer has no BROTLI compressor: this file fails at its first row group, in the thread.
    const failing = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 300, codec: 'BROTLI' as never });
    failing.output.on('error', () => undefined).resume();
    const outputs = files.map((f) => collect(f.output));
    for (let k = 0; k < 10; k++) {
      for (const [n, file] of files.entries()) await file.writePage(page(n * 10_000 + k * 100, n * 10_000 + k * 100 + 100));
      await failing.writePage(page(k * 100, k * 100 + 100)).catch(() => undefined);
    }
    await expect(failing.close()).rejects.toThrow('BROTLI');
    const infos = await Promise.all(files.map((f) => f.close()));
    for (const [n, output] of outputs.entries()) {
      const bytes = await output;
      expect(infos[n]).toMatchObject({ rows: 1_000, rowGroups: 4, bytes: bytes.length });
      expect((await readRows(bytes)).map((r) => r.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => BigInt(n * 10_000 + i)));
    }
  });

  it('lets the process exit once no file is open, though the thread stays for the next one', async () => {
    const script = `
      import { ThreadedParquetWriter } from ${JSON.stringify(new URL('../../functions/tables/ThreadedParquetWriter.ts', import.meta.url).href)};
      const spec = { source: 's', stream: 't', name: 's_t', columns: [], primaryKey: [] };
      const file = new ThreadedParquetWriter(spec, { windowStart: 'a', windowEnd: 'b', runId: 'r' });
      file.output.resume();
      await file.writePage({ extractedAt: 'x', data: ['{"id":1}'], values: [[]] });
      console.log(JSON.stringify(await file.close()));
    `;
    const started = Date.now();
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toMatchObject({ rows: 1, rowGroups: 1 });
    expect(Date.now() - started).toBeLessThan(20_000); // ended by itself, not by the timeout
  });

  it('gathers small pages into one hand-over, each record keeping the extraction time and parent of its own page', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    const thread = (file as unknown as { thread: { post(message: { kind: string }, transfer?: unknown): void } }).thread;
    const kinds: string[] = [];
    const post = thread.post.bind(thread);
    thread.post = (message, transfer) => {
      kinds.push(message.kind);
      post(message, transfer);
    };
    const bytes = collect(file.output);
    try {
      for (let k = 0; k < 100; k++) {
        const p = page(k * 20, k * 20 + 20, k % 2 === 0 ? 'bytes' : 'text', `2024-01-01T00:${String(k % 60).padStart(2, '0')}:00.000Z`);
        await file.writePage({ ...p, parent: k % 3 === 0 ? `{"org":${k}}` : null });
      }
      await file.close();
    } finally {
      thread.post = post;
    }
    // 100 pages of about 1.6 KB: one message at close instead of one per page.
    expect(kinds.filter((k) => k === 'pages')).toHaveLength(1);
    const rows = await readRows(await bytes);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 2_000 }, (_, i) => BigInt(i)));
    for (const [i, row] of rows.entries()) {
      const k = Math.floor(i / 20);
      expect(row._extracted_at).toBe(`2024-01-01T00:${String(k % 60).padStart(2, '0')}:00.000Z`);
      expect(row._parent).toBe(k % 3 === 0 ? `{"org":${k}}` : null);
    }
  });

  it('hands a page larger than its pending limit over in slices, every record once and in order', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { maxPendingBytes: 4 * 1024 });
    const { info, bytes } = await land(file, [page(0, 2_000)]);
    expect(info.rows).toBe(2_000);
    expect((await readRows(bytes)).map((r) => r.id)).toEqual(Array.from({ length: 2_000 }, (_, i) => BigInt(i)));
  });

  it('fills the hand-over buffers the thread sends back again, and every record of a row group spanning them stays intact', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 100_000, rowGroupBytes: 64 * 1024 * 1024, maxPendingBytes: 512 * 1024 });
    const spare = (file as unknown as { spare: ArrayBuffer[] }).spare;
    let reused = 0;
    const pop = spare.pop.bind(spare);
    spare.pop = () => {
      const buffer = pop();
      if (buffer) reused++;
      return buffer;
    };
    // About 2 MB of records, at most 512 KB of them pending: hand-overs wait for the thread's acks, which bring buffers back.
    const pages = Array.from({ length: 60 }, (_, k) => page(k * 500, k * 500 + 500));
    const bytes = collect(file.output);
    for (const p of pages) await file.writePage(p);
    const info = await file.close();
    expect(reused).toBeGreaterThan(4);
    expect(info.rows).toBe(30_000);
    const rows = await readRows(await bytes);
    expect(rows.map((r) => r.data)).toEqual(pages.flatMap((p) => p.data.map((d) => Buffer.from(d).toString())));
  });

  it('closes a row group early when pages pause, once it holds enough rows for readers', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    const bytes = collect(file.output);
    const pause = async () => {
      await file.taken();
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    await file.writePage(page(0, IDLE_GROUP_ROWS - 1));
    await pause(); // too few rows: nothing closes
    await file.writePage(page(IDLE_GROUP_ROWS - 1, IDLE_GROUP_ROWS + 100));
    await pause(); // enough: the group closes while the thread waits
    await file.writePage(page(IDLE_GROUP_ROWS + 100, IDLE_GROUP_ROWS + 110));
    const info = await file.close();
    const metadata = parquetMetadata((await bytes).buffer.slice(0) as ArrayBuffer);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([IDLE_GROUP_ROWS + 100, 10]);
    expect(info).toMatchObject({ rows: IDLE_GROUP_ROWS + 110, rowGroups: 2 });
  });

  it('waits for a slow consumer: nothing more is handed over while the output is full', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 500, chunkBytes: 64 * 1024, codec: 'UNCOMPRESSED', maxPendingBytes: 256 * 1024 });
    const noisy = (from: number, n: number): CuratedPage => {
      const texts = Array.from({ length: n }, (_, i) => `{"id":${from + i},"n":"${randomBytes(300).toString('base64')}"}`);
      return { extractedAt: '2024-01-01T00:05:00.000Z', data: texts, values: texts.map((_, i) => [BigInt(from + i), null, null]) };
    };
    // Nobody reads the output: after the first row groups fill it, writePage must stop resolving.
    let handed = 0;
    const writing = (async () => {
      for (let k = 0; k < 40; k++) {
        await file.writePage(noisy(k * 500, 500));
        handed++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(handed).toBeLessThan(10);
    expect(file.output.readableLength).toBeLessThan(2 * 1024 * 1024);
    const bytes = collect(file.output);
    await writing;
    const info = await file.close();
    expect(info.rows).toBe(20_000);
    expect((await bytes).length).toBe(info.bytes);
  });

  it('fails with the encoder error at the latest on close, names the table, and ends the output', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 2 });
    const ended = new Promise<Error>((resolve) => file.output.on('error', resolve));
    file.output.resume();
    // 2^64 does not fit INT64: hyparquet-writer throws while encoding, in the thread. The page was
    // handed over already, so the error reaches a later call: close() is the one that must see it.
    await file.writePage({
      ...page(0, 2),
      values: [
        [0n, null, null],
        [2n ** 64n, null, null],
      ],
    });
    await expect(file.close()).rejects.toThrow('cannot encode a row group of shop_orders');
    expect((await ended).message).toContain('cannot encode a row group of shop_orders');
    await expect(file.writePage(page(2, 3))).rejects.toThrow('cannot encode a row group of shop_orders');
  });

  it('aborts on request: the output errors with the reason and later calls are refused', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    const ended = new Promise<Error>((resolve) => file.output.on('error', resolve));
    await file.writePage(page(0, 10));
    file.abort(new Error('window failed'));
    expect((await ended).message).toBe('window failed');
    await expect(file.writePage(page(10, 11))).rejects.toThrow('window failed');
    await expect(file.close()).rejects.toThrow('window failed');
  });

  it('aborts quietly when nothing listens to its output any more (an upload that already failed)', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    await file.writePage(page(0, 10));
    // Without a listener of the writer's own, destroying the output would throw the reason as an
    // uncaught exception, which vitest reports as an error of this file.
    file.abort(new Error('window failed'));
    // A destroyed stream emits its error on the next tick: past a turn of the event loop, it has.
    await new Promise((resolve) => setImmediate(resolve));
    await expect(file.close()).rejects.toThrow('window failed');
  });

  it('fails when the upload destroys its output, instead of waiting for it', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { chunkBytes: 1024, rowGroupRows: 10 });
    file.output.on('error', () => undefined);
    file.output.destroy(new Error('upload failed'));
    await expect(
      (async () => {
        for (let k = 0; k < 100; k++) await file.writePage(page(k * 10, k * 10 + 10));
      })(),
    ).rejects.toThrow('upload failed');
    await expect(file.close()).rejects.toThrow('upload failed');
  });

  it('wakes every waiter: two taken() calls beside a writePage waiting for the thread', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 100, chunkBytes: 1024, maxPendingBytes: 1024 });
    // Slices of one record each: writePage waits for the thread again and again, while two more
    // callers wait beside it; a single wake-up slot would lose one of them for good.
    const first = file.writePage(page(0, 2_000));
    // A few microtasks in, writePage has handed its first slice over and waits for the thread.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    const taken = [file.taken(), file.taken()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bytes = collect(file.output);
    await Promise.all([first, ...taken]);
    expect((await file.close()).rows).toBe(2_000);
    expect((await bytes).length).toBeGreaterThan(0);
  });

  it('ends the output when the thread is lost, so the upload reading it fails instead of waiting; the next file gets a new thread', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    const upload = collect(file.output); // as storage.writeStream reads it: until end or error
    await file.writePage(page(0, 100));
    await file.taken();
    // A crash or an out-of-memory end of the thread, as the process sees it.
    await (file as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    await expect(file.close()).rejects.toThrow('encoder thread');
    await expect(upload).rejects.toThrow('encoder thread');
    const next = new ThreadedParquetWriter(SPEC, ENVELOPE);
    const bytes = collect(next.output);
    await next.writePage(page(0, 10));
    expect(await next.close()).toMatchObject({ rows: 10 });
    expect(await readRows(await bytes)).toHaveLength(10);
  });

  it('hands over no typed values for a table without typed columns, and writes the rows the calling thread writes', async () => {
    const plain: TableSpec = { ...SPEC, columns: [] };
    const pages = [0, 1, 2].map((k) => ({ ...page(k * 100, k * 100 + 100, k === 1 ? 'text' : 'bytes'), values: Array.from({ length: 100 }, () => []) }));
    const file = new ThreadedParquetWriter(plain, ENVELOPE, { rowGroupRows: 120 });
    const thread = (file as unknown as { thread: { post(message: { kind: string; values?: unknown[] }, transfer?: unknown): void } }).thread;
    const sent: number[] = [];
    const post = thread.post.bind(thread);
    thread.post = (message, transfer) => {
      if (message.kind === 'pages') sent.push(message.values!.length);
      post(message, transfer);
    };
    let threaded;
    try {
      threaded = await land(file, pages);
    } finally {
      thread.post = post;
    }
    const here = await land(new ParquetFileWriter(plain, ENVELOPE, { rowGroupRows: 120 }), pages);

    expect(sent).toEqual([0]);
    expect(threaded.info).toMatchObject({ rows: 300, rowGroups: 3 });
    const rows = await readRows(threaded.bytes);
    expect(rows).toEqual(await readRows(here.bytes));
    expect(rows.map((r) => r.data)).toEqual(pages.flatMap((p) => p.data.map((d) => d.toString())));
  });

  it('copies the records it is given, so their buffer may be filled again before the row group is written', async () => {
    const body = Buffer.from('{"id":1}{"id":2}');
    const file = new ParquetFileWriter(SPEC, ENVELOPE);
    const bytes = collect(file.output);
    await file.writePage({
      extractedAt: '2024-01-01T00:05:00.000Z',
      data: [body.subarray(0, 8), body.subarray(8)],
      values: [
        [1n, null, null],
        [2n, null, null],
      ],
    });
    body.write('{"id":9}', 8); // the page's buffer reused before the row group is written
    await file.close();
    expect((await readRows(await bytes)).map((r) => r.data)).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('keeps every record of every row group intact while later groups fill the memory of earlier ones, a record larger than that memory included', async () => {
    // 1.5 MB row groups of records that fill 1 MiB slabs unevenly, as text and as bytes, with one record of 1.2 MB.
    const texts = Array.from({ length: 3_000 }, (_, i) => `{"id":${i},"note":"${'Zoë ✓ '.repeat(i % 397)}${i === 1_234 ? 'x'.repeat(1_200_000) : ''}"}`);
    const pages = Array.from({ length: 30 }, (_, k): CuratedPage => {
      const slice = texts.slice(k * 100, k * 100 + 100);
      return { extractedAt: '2024-01-01T00:05:00.000Z', data: k % 2 === 0 ? slice : slice.map((t) => Buffer.from(t)), values: slice.map((_, i) => [BigInt(k * 100 + i), null, null]) };
    });
    const { info, bytes } = await land(new ParquetFileWriter(SPEC, ENVELOPE, { rowGroupBytes: 1_500_000 }), pages);
    expect(info.rowGroups).toBeGreaterThan(4);
    expect((await readRows(bytes)).map((r) => r.data)).toEqual(texts);
  });

  it('refuses a record with the wrong number of typed values in that call, and the file goes on', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    file.output.resume();
    await expect(
      file.writePage({
        ...page(0, 2),
        values: [
          [0n, null, null],
          [1n, null],
        ],
      }),
    ).rejects.toThrow('record 1 of a page of shop_orders has 2 typed values; expected 3');
    await file.writePage(page(2, 4));
    expect(await file.close()).toMatchObject({ rows: 2 });
  });

  it('aborting a file mid-encode leaves the files still open on the thread intact', async () => {
    const other = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 100 });
    const otherBytes = collect(other.output);
    await other.writePage(page(0, 500));
    const doomed = new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 50, chunkBytes: 256 });
    doomed.output.on('error', () => undefined).resume();
    await doomed.writePage(page(0, 5_000)); // many row groups queued on the thread
    doomed.abort(new Error('window failed'));
    await other.writePage(page(500, 1_000));
    const info = await other.close();
    const bytes = await otherBytes;
    expect(info).toMatchObject({ rows: 1_000, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect((await readRows(bytes)).map((r) => r.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => BigInt(i)));
  });

  it('describes exactly the bytes its output delivered: tiny chunks, several files at once, a consumer that pauses on every chunk', async () => {
    const files = [0, 1, 2].map(() => new ThreadedParquetWriter(SPEC, ENVELOPE, { rowGroupRows: 97, chunkBytes: 64, maxPendingBytes: 2048 }));
    const slow = (output: Readable) => {
      const chunks: Buffer[] = [];
      output.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        output.pause();
        setTimeout(() => output.resume(), 1);
      });
      return new Promise<Buffer>((resolve, reject) => {
        output.on('end', () => resolve(Buffer.concat(chunks)));
        output.on('error', reject);
      });
    };
    const outputs = files.map((f) => slow(f.output));
    await Promise.all(
      files.map(async (file, n) => {
        for (let k = 0; k < 5; k++) await file.writePage(page(n * 1_000 + k * 100, n * 1_000 + k * 100 + 100));
      }),
    );
    const infos = await Promise.all(files.map((f) => f.close()));
    for (const [n, output] of outputs.entries()) {
      const bytes = await output;
      expect(infos[n]).toMatchObject({ rows: 500, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect((await readRows(bytes)).map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(n * 1_000 + i)));
    }
  });

  it('a curated file whose encoding fails at close stops its upload: the lake keeps no trace of it', async () => {
    const lake = await mkdtemp(join(tmpdir(), 'apilake-thread-'));
    try {
      const ref = { source: 'shop', stream: 'orders', window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') } };
      const curated = new CuratedFile('curated/x.parquet', SPEC, ref, 'run-1', new FsLakeStorage(lake), {});
      await curated.file.writePage({
        ...page(0, 2),
        values: [
          [0n, null, null],
          [2n ** 64n, null, null],
        ],
      });
      await expect(curated.close()).rejects.toThrow('cannot encode a row group of shop_orders');
      const files = (await readdir(lake, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      expect(files.map((entry) => entry.name)).toEqual([]);
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  });

  it('refuses concurrent calls and mismatched pages, as the writer on the calling thread does', async () => {
    const file = new ThreadedParquetWriter(SPEC, ENVELOPE);
    file.output.resume();
    await expect(file.writePage({ ...page(0, 2), values: [[1n, null, null]] })).rejects.toThrow('has 2 data texts but 1 value rows');
    const first = file.writePage(page(0, 5_000)); // over 256 KB: handed over, so it awaits the thread
    await expect(file.writePage(page(5_000, 5_001))).rejects.toThrow('concurrent call');
    await first;
    expect(await file.close()).toMatchObject({ rows: 5_000 });
  });
});
