import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { DEFAULT_CODEC, ParquetFileWriter } from '../../functions/tables/ParquetFileWriter.js';
import { tableSpec, type TableSpec } from '../../functions/tables/tableSpec.js';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';
import { expectedParquetCodec } from '../support/expectedParquetCodec.js';
import { landWindow, openViews, rows } from '../support/tableLake.js';

const SOURCE = parseSource(
  `
name: github_issues
schedule: rate(1 hour)
base_url: https://api.github.com
streams:
  - name: issues
    path: /issues
    primary_key: [id]
    columns:
      - { name: id, path: id, type: bigint }
      - { name: state, path: state, type: string }
      - { name: updated_at, path: updated_at, type: timestamp }
      - { name: created_on, path: created_on, type: date }
      - { name: amount, path: price.amount, type: "decimal(12,2)" }
      - { name: total, path: price.total, type: "decimal(38,4)" }
      - { name: score, path: score, type: double }
      - { name: locked, path: locked, type: boolean }
      - { name: labels, path: "labels[].name", type: "array<string>" }
      - { name: grid, path: grid, type: "array<array<bigint>>" }
      - { name: meta, path: meta, type: json }
`,
  'github_issues.yaml',
);
const STREAM = SOURCE.streams[0]!;
const SPEC = tableSpec(SOURCE, STREAM);
const WITH_CURSOR = tableSpec(SOURCE, STREAM, { cursorField: 'updated_at' });

const hour = (h: number): TimeWindow => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
const at = (h: number, m = 5) => new Date(Date.UTC(2024, 0, 1, h, m));

const GOOD =
  '{"id": 1, "state": "open", "updated_at": "2024-01-01T10:00:00.123+01:00", "created_on": "2023-12-31", "price": {"amount": "12.345", "total": 123456789012345678901234.5}, ' +
  '"score": 1.5, "locked": false, "labels": [{"name": "bug"}, {"name": "p1"}], "grid": [[1, 2], [], [3]], "meta": {"k": [1, "x"]}}';
const BAD =
  '{"id": "two", "state": 5, "updated_at": "tomorrow", "created_on": 1704067200, "price": {"amount": "n/a", "total": 1e40}, ' +
  '"score": "high", "locked": "yes", "labels": "bug", "grid": [[1, "x"]], "meta": null}';
const PRECISE = '{"id": 9007199254740993, "state": "closed", "updated_at": 1704070800000, "price": {"amount": 0.005}, "labels": []}';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'apilake-tables-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('typed Parquet read by DuckDB through the generated views', () => {
  it('stores every type, NULL where a value does not convert, and counts the failures', async () => {
    const landed = await landWindow(join(root, 'types'), SPEC, hour(0), 'run1', [{ extractedAt: at(0), records: [GOOD, BAD, PRECISE] }]);
    // `labels[].name` of a string is NULL in JMESPath (a projection of a non-array), not a failure.
    expect(landed.typeErrors).toEqual({ id: 1, updated_at: 1, amount: 1, total: 1, score: 1, locked: 1, grid: 1 });
    expect(landed.info).toMatchObject({ rows: 3, rowGroups: 1 });

    const db = await openViews(SPEC, { parquet: [landed.parquetFile], raw: [landed.rawFile] });
    const types = await rows(db, `SELECT column_name, column_type FROM (DESCRIBE github_issues_issues)`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      _source: 'VARCHAR',
      _stream: 'VARCHAR',
      _window_start: 'VARCHAR',
      _window_end: 'VARCHAR',
      _extracted_at: 'VARCHAR',
      _run_id: 'VARCHAR',
      _parent: 'VARCHAR',
      data: 'JSON',
      id: 'BIGINT',
      state: 'VARCHAR',
      updated_at: 'TIMESTAMP',
      created_on: 'DATE',
      amount: 'DECIMAL(12,2)',
      total: 'DECIMAL(38,4)',
      score: 'DOUBLE',
      locked: 'BOOLEAN',
      labels: 'VARCHAR[]',
      grid: 'BIGINT[][]',
      meta: 'VARCHAR',
      dt: 'VARCHAR',
    });

    const [good, bad, precise] = await rows(
      db,
      `SELECT id, state, strftime(updated_at, '%Y-%m-%d %H:%M:%S.%g') AS updated_at, created_on, amount, total, score, locked, labels, grid, meta, _window_start, _extracted_at, _run_id, _parent, dt
       FROM github_issues_issues`,
    );
    expect(good).toEqual({
      id: '1',
      state: 'open',
      updated_at: '2024-01-01 09:00:00.123',
      created_on: '2023-12-31',
      amount: '12.35',
      total: '123456789012345678901234.5000',
      score: 1.5,
      locked: false,
      labels: ['bug', 'p1'],
      grid: [['1', '2'], [], ['3']],
      meta: '{"k":[1,"x"]}',
      _window_start: '2024-01-01T00:00:00Z',
      _extracted_at: '2024-01-01T00:05:00.000Z',
      _run_id: 'run1',
      _parent: null,
      dt: '2024-01-01',
    });
    expect(bad).toMatchObject({ id: null, state: '5', updated_at: null, created_on: '2024-01-01', amount: null, total: null, score: null, locked: null, labels: null, grid: null, meta: null });
    expect(precise).toMatchObject({ id: '9007199254740993', updated_at: '2024-01-01 01:00:00.000', amount: '0.01', labels: [] });
  });

  it('keeps the exact JSON text of each record in data, identical to the raw part', async () => {
    const landed = await landWindow(join(root, 'exact'), SPEC, hour(0), 'run1', [{ extractedAt: at(0), records: [GOOD, PRECISE] }]);
    const db = await openViews(SPEC, { parquet: [landed.parquetFile], raw: [landed.rawFile] });
    const texts = await rows(db, `SELECT CAST(data AS VARCHAR) AS text FROM read_parquet('${landed.parquetFile}')`);
    expect(texts.map((t) => t.text)).toEqual([GOOD, PRECISE]);
    const viaView = await rows(db, `SELECT json_extract_string(data, '$.id') AS id FROM github_issues_issues ORDER BY 1 DESC`);
    expect(viaView.map((r) => r.id)).toEqual(['9007199254740993', '1']);
  });

  it('answers the same SQL text the same on the raw JSON table and on the Parquet table', async () => {
    const dir = join(root, 'same');
    const records = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ id: i, state: ['open', 'closed', 'draft'][i % 3], price: { amount: (i * 7.31).toFixed(2) }, updated_at: 1_704_067_200 + i, labels: [{ name: `l${i % 4}` }] }),
    );
    const a = await landWindow(dir, SPEC, hour(0), 'r', [{ extractedAt: at(0), records: records.slice(0, 120) }], { rowGroupRows: 50 });
    const b = await landWindow(dir, SPEC, hour(1), 'r', [{ extractedAt: at(1), records: records.slice(120) }]);
    expect(a.info.rowGroups).toBe(3);
    const db = await openViews(SPEC, { parquet: [a.parquetFile, b.parquetFile], raw: [a.rawFile, b.rawFile] });
    const query = (table: string) =>
      `SELECT json_extract_scalar(data, '$.state') AS state, count(*) AS n, sum(CAST(json_extract_scalar(data, '$.price.amount') AS DECIMAL(12,2))) AS amount, max(_window_end) AS last_window
       FROM ${table} GROUP BY 1 ORDER BY 1`;
    const raw = await rows(db, query('github_issues_issues_raw'));
    expect(raw).toHaveLength(3);
    expect(await rows(db, query('github_issues_issues'))).toEqual(raw);
    // The typed columns answer what the JSON answers.
    const typed = await rows(db, `SELECT state, count(*) AS n, sum(amount) AS amount, max(_window_end) AS last_window FROM github_issues_issues GROUP BY 1 ORDER BY 1`);
    expect(typed).toEqual(raw);
    const byLabel = (table: string, label: string) => `SELECT ${label} AS label, count(*) AS n FROM ${table} GROUP BY 1 ORDER BY 1`;
    expect(await rows(db, byLabel('github_issues_issues', 'labels[1]'))).toEqual(await rows(db, byLabel('github_issues_issues_raw', `json_extract_string(data, '$.labels[0].name')`)));
  });
});

describe('child streams', () => {
  it('carries the parent key as JSON text in both tables', async () => {
    const landed = await landWindow(join(root, 'parent'), SPEC, hour(0), 'r', [
      { extractedAt: at(0), parent: '{"repo": "aws-cdk"}', records: ['{"id": 1}'] },
      { extractedAt: at(0, 6), parent: '{"repo": "jsii"}', records: ['{"id": 2}'] },
    ]);
    const db = await openViews(SPEC, { parquet: [landed.parquetFile], raw: [landed.rawFile] });
    const query = (table: string) => `SELECT json_extract_string(_parent, '$.repo') AS repo, count(*) AS n FROM ${table} GROUP BY 1 ORDER BY 1`;
    expect(await rows(db, query('github_issues_issues'))).toEqual([
      { repo: 'aws-cdk', n: '1' },
      { repo: 'jsii', n: '1' },
    ]);
    expect(await rows(db, query('github_issues_issues_raw'))).toEqual(await rows(db, query('github_issues_issues')));
  });
});

describe('the _latest view', () => {
  const v = (id: number, state: string, updatedAt: string) => JSON.stringify({ id, state, updated_at: updatedAt });

  it('picks the newest version of each key across windows and ignores superseded attempts', async () => {
    const dir = join(root, 'latest');
    // Window 0 ran twice: the re-run (r2) is the committed attempt; r1's file is not listed.
    const w0first = await landWindow(dir, SPEC, hour(0), 'r1', [{ extractedAt: at(0), records: [v(1, 'stale-attempt', '2024-01-01T00:10:00Z')] }]);
    const w0 = await landWindow(dir, SPEC, hour(0), 'r2', [{ extractedAt: at(0, 30), records: [v(1, 'open', '2024-01-01T00:10:00Z'), v(2, 'open', '2024-01-01T00:20:00Z')] }]);
    const w1 = await landWindow(dir, SPEC, hour(1), 'r3', [
      { extractedAt: at(1), records: [v(1, 'closed', '2024-01-01T01:10:00Z')] },
      { extractedAt: at(1, 6), records: [v(3, 'open', '2024-01-01T01:20:00Z'), '{"state": "keyless"}'] },
    ]);
    const db = await openViews(SPEC, { parquet: [w0.parquetFile, w1.parquetFile], raw: [w0.rawFile, w1.rawFile] });
    expect(await rows(db, `SELECT id, state, _run_id FROM github_issues_issues_latest ORDER BY id`)).toEqual([
      { id: '1', state: 'closed', _run_id: 'r3' },
      { id: '2', state: 'open', _run_id: 'r2' },
      { id: '3', state: 'open', _run_id: 'r3' },
    ]);
    expect(await rows(db, `SELECT state, count(*) AS n FROM github_issues_issues_latest GROUP BY 1 ORDER BY 1`)).toEqual([
      { state: 'closed', n: '1' },
      { state: 'open', n: '2' },
    ]);
    // The keyless record stays in the table; the superseded attempt is nowhere.
    expect(await rows(db, `SELECT count(*) AS n, count(*) FILTER (WHERE state = 'stale-attempt') AS stale FROM github_issues_issues`)).toEqual([{ n: '5', stale: '0' }]);
    expect(w0first.info.rows).toBe(1);
  });

  it('orders by the cursor field when the stream has one, else by window end then extraction time', async () => {
    const dir = join(root, 'cursor');
    // The later window carries an older version of id 1 (an API replaying a stale record).
    const w0 = await landWindow(dir, SPEC, hour(0), 'r', [{ extractedAt: at(0), records: [v(1, 'new', '2024-01-01T00:50:00Z')] }]);
    const w1 = await landWindow(dir, SPEC, hour(1), 'r', [
      { extractedAt: at(1, 1), records: [v(1, 'old', '2024-01-01T00:10:00Z'), v(2, 'first', '2024-01-01T01:00:00Z')] },
      { extractedAt: at(1, 2), records: [v(2, 'second', '2024-01-01T01:00:00Z')] },
    ]);
    const files = { parquet: [w0.parquetFile, w1.parquetFile], raw: [w0.rawFile, w1.rawFile] };
    const byCursor = await openViews(WITH_CURSOR, files);
    expect(await rows(byCursor, `SELECT id, state FROM github_issues_issues_latest ORDER BY id`)).toEqual([
      { id: '1', state: 'new' },
      { id: '2', state: 'second' },
    ]);
    const byWindow = await openViews(SPEC, files);
    expect(await rows(byWindow, `SELECT id, state FROM github_issues_issues_latest ORDER BY id`)).toEqual([
      { id: '1', state: 'old' },
      { id: '2', state: 'second' },
    ]);
  });
});

describe('files and schemas over time', () => {
  it('reads an empty file, an empty file list, and a column added after older files were written', async () => {
    const dir = join(root, 'evolve');
    const narrow: TableSpec = { ...SPEC, columns: SPEC.columns.filter((c) => c.name === 'id' || c.name === 'state') };
    const old = await landWindow(dir, narrow, hour(0), 'r', [{ extractedAt: at(0), records: [GOOD] }]);
    const empty = await landWindow(dir, SPEC, hour(1), 'r', []);
    expect(empty.info).toMatchObject({ rows: 0, rowGroups: 0 });
    const fresh = await landWindow(dir, SPEC, hour(2), 'r', [{ extractedAt: at(2), records: [PRECISE] }]);
    const db = await openViews(SPEC, { parquet: [old.parquetFile, empty.parquetFile, fresh.parquetFile], raw: [] });
    expect(await rows(db, `SELECT id, state, amount, labels FROM github_issues_issues ORDER BY id`)).toEqual([
      { id: '1', state: 'open', amount: null, labels: null },
      { id: '9007199254740993', state: 'closed', amount: '0.01', labels: [] },
    ]);
    const none = await openViews(SPEC, { parquet: [], raw: [] });
    expect(await rows(none, `SELECT count(*) AS n, sum(amount) AS s FROM github_issues_issues_latest`)).toEqual([{ n: '0', s: null }]);
    expect(await rows(none, `SELECT count(*) AS n FROM github_issues_issues_raw`)).toEqual([{ n: '0' }]);
  });

  it('keeps record columns named like the lake folders (source, stream, dt is reserved)', async () => {
    const dir = join(root, 'folders');
    const spec: TableSpec = {
      ...SPEC,
      columns: [
        { name: 'id', path: 'id', type: { kind: 'bigint' }, comment: '' },
        { name: 'source', path: 'source', type: { kind: 'string' }, comment: '' },
        { name: 'stream', path: 'stream', type: { kind: 'string' }, comment: '' },
      ],
    };
    const landed = await landWindow(dir, spec, hour(0), 'r', [{ extractedAt: at(0), records: ['{"id": 1, "source": "web", "stream": "main"}'] }]);
    const db = await openViews(spec, { parquet: [landed.parquetFile], raw: [landed.rawFile] });
    expect(await rows(db, `SELECT source, stream, _source, _stream, dt FROM github_issues_issues`)).toEqual([
      { source: 'web', stream: 'main', _source: 'github_issues', _stream: 'issues', dt: '2024-01-01' },
    ]);
    expect(await rows(db, `SELECT _source, dt FROM github_issues_issues_raw`)).toEqual([{ _source: 'github_issues', dt: '2024-01-01' }]);
  });

  it('writes the row groups, codec and file size it reports', async () => {
    const dir = join(root, 'meta');
    const records = Array.from({ length: 25 }, (_, i) => JSON.stringify({ id: i, state: 'open', note: 'x'.repeat(100) }));
    const landed = await landWindow(dir, SPEC, hour(0), 'r', [{ extractedAt: at(0), records }], { rowGroupBytes: 1000, codec: 'GZIP' });
    const db = await openViews(SPEC, { parquet: [landed.parquetFile], raw: [] });
    const meta = await rows(db, `SELECT count(DISTINCT row_group_id) AS groups, min(compression) AS codec FROM parquet_metadata('${landed.parquetFile}')`);
    expect(meta).toEqual([{ groups: String(landed.info.rowGroups), codec: 'GZIP' }]);
    // A group closes once its data text reaches 1000 characters: every 8 records here.
    expect(records[0]!.length).toBe(133);
    expect(landed.info.rowGroups).toBe(4);
    const bytes = await readFile(landed.parquetFile);
    expect(bytes.length).toBe(landed.info.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(landed.info.sha256);
  });
});

describe('ParquetFileWriter output', () => {
  const envelope = { windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-01T01:00:00Z', runId: 'r' };
  const page = (n: number) => ({ extractedAt: '2024-01-01T00:05:00.000Z', data: Array.from({ length: n }, (_, i) => `{"id":${i}}`), values: Array.from({ length: n }, (_, i) => [BigInt(i)]) });
  const idOnly: TableSpec = { ...SPEC, columns: SPEC.columns.slice(0, 1) };

  it('waits for a slow consumer instead of buffering the file', async () => {
    const file = new ParquetFileWriter(idOnly, envelope, { rowGroupRows: 1000, chunkBytes: 64 * 1024, codec: 'UNCOMPRESSED' });
    // 8 MB of incompressible text: the file cannot fit in the output's buffers.
    const noise = () => randomBytes(150).toString('base64');
    const big = { ...page(40_000), data: Array.from({ length: 40_000 }, (_, i) => `{"id":${i},"n":"${noise()}"}`) };
    let settled = false;
    const writing = file.writePage(big).then(() => (settled = true));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(file.output.readableLength + (file.output as PassThrough).writableLength).toBeLessThan(4 * 1024 * 1024);
    let received = 0;
    file.output.pipe(new Writable({ write: (chunk: Buffer, _e, done) => ((received += chunk.length), done()) }));
    await writing;
    const info = await file.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(info.bytes).toBeGreaterThan(7 * 1024 * 1024);
    expect(received).toBe(info.bytes);
    expect(info).toMatchObject({ rows: 40_000, rowGroups: 40 });
  });

  it('fails the writer when the consumer destroys the output, and aborts on request', async () => {
    const file = new ParquetFileWriter(idOnly, envelope, { rowGroupRows: 10 });
    const sink = new PassThrough();
    file.output.pipe(sink);
    file.output.destroy(new Error('upload failed'));
    await expect(file.writePage(page(50))).rejects.toThrow('upload failed');
    await expect(file.close()).rejects.toThrow('upload failed');

    const aborted = new ParquetFileWriter(idOnly, envelope);
    const closed = new Promise((resolve) => aborted.output.on('error', resolve));
    aborted.abort(new Error('window failed'));
    expect(((await closed) as Error).message).toBe('window failed');
    await expect(aborted.writePage(page(1))).rejects.toThrow('window failed');
  });

  it('fails on a page whose values do not match its records or the columns, keeping none of it', async () => {
    const file = new ParquetFileWriter(idOnly, envelope);
    file.output.resume();
    await expect(file.writePage({ ...page(2), values: [[1n]] })).rejects.toThrow('has 2 data texts but 1 value rows');
    await expect(file.writePage({ ...page(3), values: [[1n], [2n], [3n, 4n]] })).rejects.toThrow('record 2 of a page of github_issues_issues has 2 typed values; expected 1');
    await file.writePage(page(4));
    expect(await file.close()).toMatchObject({ rows: 4 });
  });

  it('refuses every later call once a row group could not be encoded', async () => {
    const file = new ParquetFileWriter(idOnly, envelope, { rowGroupRows: 2 });
    file.output.resume();
    await expect(file.writePage({ ...page(2), values: [[1n], [2n ** 64n]] })).rejects.toThrow('cannot encode a row group of github_issues_issues');
    await expect(file.writePage(page(1))).rejects.toThrow('cannot encode a row group');
    await expect(file.close()).rejects.toThrow('cannot encode a row group');
  });

  it.each(['v20.19.0', 'v22.14.0', 'v22.15.0', 'v22.23.5', 'v23.7.0', 'v23.8.0', 'v24.0.0'])('knows the codec Node %s writes by default from its version', (version) => {
    const zstd = ['v22.15.0', 'v22.23.5', 'v23.8.0', 'v24.0.0'];
    expect(expectedParquetCodec(version)).toBe(zstd.includes(version) ? 'ZSTD' : 'GZIP');
  });

  it(`compresses with ${expectedParquetCodec()} by default on this Node (${process.version}), which DuckDB reads back`, async () => {
    // The writer detects zstd in zlib; the expectation comes from the version, so a Node 22 run that fell back to GZIP fails here.
    const codec = expectedParquetCodec();
    expect(DEFAULT_CODEC).toBe(codec);
    const records = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, state: i % 3 === 0 ? 'open' : 'closed', note: `record ${i} `.repeat(20) }));
    const landed = await landWindow(join(root, 'default-codec'), SPEC, hour(0), 'r', [{ extractedAt: at(0), records }], { rowGroupRows: 100 });
    const db = await openViews(SPEC, { parquet: [landed.parquetFile], raw: [] });
    const meta = await rows(db, `SELECT DISTINCT compression FROM parquet_metadata('${landed.parquetFile}')`);
    expect(meta).toEqual([{ compression: codec }]);
    expect(landed.info.rowGroups).toBe(3);
    const back = await rows(db, `SELECT id, state, data FROM github_issues_issues ORDER BY id`);
    expect(back).toEqual(records.map((data, i) => ({ id: String(i), state: i % 3 === 0 ? 'open' : 'closed', data })));
  });

  it.runIf(expectedParquetCodec() === 'GZIP')(`fails if asked for ZSTD on a Node without zstd (${process.version})`, () => {
    expect(() => new ParquetFileWriter(idOnly, envelope, { codec: 'ZSTD' })).toThrow(`Parquet codec ZSTD needs Node ≥ 22.15 (this is ${process.version}); use SNAPPY or GZIP`);
  });

  it('refuses concurrent calls', async () => {
    const file = new ParquetFileWriter(idOnly, envelope, { rowGroupRows: 10 });
    const first = file.writePage(page(100));
    await expect(file.writePage(page(1))).rejects.toThrow('concurrent call');
    file.output.resume();
    await first;
  });
});
