import { DuckDBInstance } from '@duckdb/node-api';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { listenOnLoopback } from '../support/listenOnLoopback.js';
import { projectFolder, shopProject } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

let api: TestApi;
let cwd: string;

beforeAll(async () => {
  api = await startTestApi({ count: 180 });
  cwd = await shopProject('apilake-typed-e2e-', api.url, {
    paging: { type: 'cursor', limit: 25 },
    streamFields: ['primary_key: [id]', 'columns:', '  - { name: id, path: id, type: bigint }', '  - { name: ts, path: ts, type: timestamp }'],
  });
  const run = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T03:00'], { cwd });
  expect(run.code).toBe(0);
});
afterAll(() => api.close());

describe('typed tables from the CLI', () => {
  it('queries the typed table, its _raw twin and the _latest view by the names Athena has', async () => {
    const result = await apilake(
      [
        'query',
        'SELECT (SELECT count(*) FROM shop_items) AS typed, (SELECT count(*) FROM shop_items_raw) AS raw, (SELECT count(DISTINCT id) FROM shop_items_latest) AS latest, (SELECT typeof(ts) FROM shop_items LIMIT 1) AS ts_type',
        '--format',
        'json',
      ],
      { cwd },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ typed: '180', raw: '180', latest: '180', ts_type: 'TIMESTAMP' });
  });

  it.each(['parquet', 'csv', 'json'])('exports a result as %s with --out', async (format) => {
    const out = join(cwd, `export.${format}`);
    const result = await apilake(['query', 'SELECT id, ts FROM shop_items_latest WHERE id <= 50', '--format', format, '--out', out], { cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`wrote 50 rows to ${out} (${format})`);
    const reader = format === 'parquet' ? 'read_parquet' : format === 'csv' ? 'read_csv' : 'read_json';
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    expect((await db.runAndReadAll(`SELECT count(*), max(id) FROM ${reader}('${out}')`)).getRowsJson()).toEqual([['50', '50']]);
  });

  it('fails --format parquet without --out, and --out with a table, exit 2', async () => {
    expect((await apilake(['query', 'SELECT 1', '--format', 'parquet'], { cwd })).code).toBe(2);
    const withTable = await apilake(['query', 'SELECT 1', '--out', join(cwd, 'x')], { cwd });
    expect(withTable.code).toBe(2);
    expect(withTable.stderr).toContain('--out writes parquet, csv or json');
  });

  it('suggests a columns: block from the committed records', async () => {
    const result = await apilake(['schema', 'suggest', 'shop'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('{ name: id, path: id, type: bigint }');
    expect(result.stdout).toContain('{ name: ts, path: ts, type: timestamp }');
    expect(result.stdout).toContain('{ name: nested_tags, path: nested.tags, type: "array<string>" }');
  });

  it('suggests typed columns for a CSV stream from the text of its cells', async () => {
    const csv = 'id,code,amount,paid,day\r\n1,007,1.50,true,2024-01-02\r\n2,008,,false,2024-01-03\r\n';
    const server = await listenOnLoopback(createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end(csv)));
    try {
      const source = ['name: ledger', 'schedule: rate(1 hour)', `base_url: http://127.0.0.1:${server.port}`, 'streams:', '  - name: rows', '    path: /rows.csv', '    format: csv'];
      const project = await projectFolder('apilake-suggest-csv-', { 'ledger.yaml': `${source.join('\n')}\n` });
      expect((await apilake(['run', 'ledger', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], { cwd: project })).code).toBe(0);
      const result = await apilake(['schema', 'suggest', 'ledger'], { cwd: project });
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n').slice(1)).toEqual([
        '    primary_key: [id]',
        '    columns:',
        '      - { name: id, path: id, type: bigint }',
        '      - { name: code, path: code, type: string }',
        '      - { name: amount, path: amount, type: double }',
        '      - { name: paid, path: paid, type: boolean }',
        '      - { name: day, path: day, type: date }',
        '',
      ]);
    } finally {
      await server.close();
    }
  });
});
