import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { shopProject } from '../support/shopProject.js';
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
});
