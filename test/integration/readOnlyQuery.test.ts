import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyLocalQuery, runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { InputError } from '../../functions/index.js';

let lake: string;
let manifest: string;
const MANIFEST_TEXT = '{"committed": true}\n';

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-read-only-'));
  lake = join(dir, 'lake');
  const folder = join(lake, 'manifests', 'source=shop', 'stream=items', 'dt=2024-01-01');
  await mkdir(folder, { recursive: true });
  manifest = join(folder, '20240101T000000Z_20240101T010000Z.000001.json');
  await writeFile(manifest, MANIFEST_TEXT);
});

describe('query only reads', () => {
  it.each([
    ['COPY into the lake', (m: string) => `COPY (SELECT 1 AS x) TO '${m}' (FORMAT csv)`, /COPY statement, not a query/],
    ['a second statement that writes', (m: string) => `SELECT 1; COPY (SELECT 1 AS x) TO '${m}' (FORMAT csv)`, /one statement; this SQL has 2/],
    ['EXPLAIN ANALYZE, which runs what it explains', (m: string) => `EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '${m}' (FORMAT csv)`, /COPY statement/],
    ['EXPLAIN ANALYZE after comments', (m: string) => `-- a report\n/* of */ EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '${m}' (FORMAT csv)`, /COPY statement/],
    ['EXPORT DATABASE', (m: string) => `EXPORT DATABASE '${join(m, '..')}'`, /EXPORT statement/],
    ['ATTACH', (m: string) => `ATTACH '${m}.db' AS other`, /ATTACH statement/],
    ['SET', () => `SET enable_external_access = true`, /SET statement/],
  ])('refuses %s before it runs, and the lake stays as it was', async (_name, sql, message) => {
    const error = await runLocalQuery(sql(manifest), lake).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect(await readFile(manifest, 'utf8')).toBe(MANIFEST_TEXT);
    expect((await readdir(join(manifest, '..'))).length).toBe(1);
  });

  it('says how to write a PIVOT that DuckDB would run as two statements', async () => {
    await expect(runLocalQuery('PIVOT (SELECT 42 AS x, 1 AS y) ON y USING first(x)', lake)).rejects.toThrow(/has 2; a PIVOT that lists its values \(ON column IN \(…\)\) is one/);
  });

  it('never installs an extension a table function names: no download, nothing written', async () => {
    await expect(runLocalQuery("SELECT * FROM sqlite_scan('x.db', 't')", lake)).rejects.toThrow(/exists in the sqlite_scanner extension/);
  });

  it('names the kind of statement it refuses, with its article', async () => {
    await expect(runLocalQuery("EXPORT DATABASE '/nowhere'", lake)).rejects.toThrow(/this SQL is an EXPORT statement, not a query/);
    await expect(runLocalQuery("ATTACH ':memory:' AS m", lake)).rejects.toThrow(/this SQL is an ATTACH statement, not a query/);
    await expect(runLocalQuery('SET threads = 1', lake)).rejects.toThrow(/this SQL is a SET statement, not a query/);
  });

  it('refuses a writing statement given for --out too', async () => {
    const out = join(lake, '..', 'out.parquet');
    await expect(copyLocalQuery(`COPY (SELECT 1) TO '${manifest}' (FORMAT csv)`, lake, out, 'parquet')).rejects.toThrow(/COPY statement, not a query/);
    expect(await readFile(manifest, 'utf8')).toBe(MANIFEST_TEXT);
  });

  it.each([
    'SELECT 42 AS x',
    'WITH a AS (SELECT 42 AS x) SELECT * FROM a',
    'FROM (VALUES (42)) t(x)',
    'EXPLAIN SELECT 42',
    'EXPLAIN ANALYZE SELECT 42',
    '-- a report\nEXPLAIN ANALYZE SELECT 42',
    '/* why */ EXPLAIN SELECT 42',
    'SHOW TABLES',
    'DESCRIBE SELECT 42 AS x',
    'SUMMARIZE SELECT 42 AS x',
    'PIVOT (SELECT 42 AS x, 1 AS y) ON y IN (1) USING first(x)',
    'SELECT 42 AS x;',
  ])('runs a query: %s', async (sql) => {
    await expect(runLocalQuery(sql, lake)).resolves.toBeDefined();
  });
});
