import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { shopSource } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

// The lake describes itself: each commit records the stream's table spec, so a query needs no
// source definition, and a definition kept in a folder other than ./sources changes nothing.

let api: TestApi;
let cwd: string;

/** The first definition, then the one that corrects it: ids as text, `ts` read from the wrong field. */
const definition = (url: string, version: 1 | 2) =>
  shopSource(url, {
    paging: { type: 'cursor', limit: 25 },
    streamFields: [
      'primary_key: [id]',
      'columns:',
      ...(version === 1
        ? ['  - { name: id, path: id, type: string }', '  - { name: ts, path: id, type: bigint }']
        : ['  - { name: id, path: id, type: bigint }', '  - { name: ts, path: ts, type: timestamp }', '  - { name: score, path: nested.score, type: double }']),
    ],
  });

const query = (sql: string, ...flags: string[]) => apilake(['query', sql, '--format', 'json', ...flags], { cwd });
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  api = await startTestApi({ count: 180 });
  cwd = await mkdtemp(join(tmpdir(), 'apilake-lakespec-e2e-'));
  await mkdir(join(cwd, 'defs'));
  await mkdir(join(cwd, 'old-defs'));
  // The first hour lands with the first definition…
  await writeFile(join(cwd, 'old-defs', 'shop.yaml'), definition(api.url, 1));
  await writeFile(join(cwd, 'defs', 'shop.yaml'), definition(api.url, 1));
  const first = await apilake(['run', 'shop', '--sources', 'defs', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], { cwd });
  expect(first.code, first.stderr).toBe(0);
  // …then the definition is corrected, and gains a column, before the next two hours land.
  await writeFile(join(cwd, 'defs', 'shop.yaml'), definition(api.url, 2));
  const next = await apilake(['run', 'shop', '--sources', 'defs', '--from', '2024-01-01T01:00', '--to', '2024-01-01T03:00'], { cwd });
  expect(next.code, next.stderr).toBe(0);
});
afterAll(() => api.close());

describe('a lake that describes itself', () => {
  it('records the table spec in each commit', async () => {
    const manifests = join(cwd, 'lake', 'manifests', 'source=shop', 'stream=items', 'dt=2024-01-01');
    const first = JSON.parse(await readFile(join(manifests, (await readdir(manifests)).sort()[0]!), 'utf8')) as { table: unknown };
    expect(first.table).toEqual({
      columns: [
        { name: 'id', path: 'id', type: 'string', comment: 'id as string' },
        { name: 'ts', path: 'id', type: 'bigint', comment: 'id as bigint' },
      ],
      primary_key: ['id'],
    });
  });

  it('gives the typed table and _latest their types without --sources, when the definitions are not in ./sources', async () => {
    const result = await query(
      `SELECT (SELECT count(*) FROM shop_items) AS typed, (SELECT count(*) FROM shop_items_latest) AS latest,
              (SELECT typeof(id) FROM shop_items LIMIT 1) AS id_type, (SELECT typeof(ts) FROM shop_items LIMIT 1) AS ts_type,
              (SELECT typeof(score) FROM shop_items_latest LIMIT 1) AS score_type`,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([{ typed: '180', latest: '180', id_type: 'BIGINT', ts_type: 'TIMESTAMP', score_type: 'DOUBLE' }]);
    expect(result.stderr).toBe('');
  });

  it('reads windows committed with an older spec under the newest: a changed type converts or is NULL, an added column is NULL', async () => {
    // The first hour's files hold id as VARCHAR (it converts) and ts as BIGINT, the later ones as
    // TIMESTAMP: DuckDB has no cast between the two, so one reader over all files fails the query.
    const result = await query(`SELECT _window_start, count(*) AS n, sum(id) AS ids, count(ts) AS ts, count(score) AS score FROM shop_items GROUP BY 1 ORDER BY 1`);
    expect(result.code, result.stderr).toBe(0);
    const byWindow = jsonLines(result.stdout);
    expect(byWindow.map((r) => [r._window_start, r.n, r.ids, r.ts])).toEqual([
      ['2024-01-01T00:00:00Z', '60', String((60 * 61) / 2), '0'],
      ['2024-01-01T01:00:00Z', '60', String((120 * 121) / 2 - (60 * 61) / 2), '60'],
      ['2024-01-01T02:00:00Z', '60', String((180 * 181) / 2 - (120 * 121) / 2), '60'],
    ]);
    expect(byWindow[0]!.score).toBe('0');
    expect(Number(byWindow[1]!.score)).toBeGreaterThan(0);
  });

  it('reports a definition that disagrees with the lake, naming the stream and each difference, and reads the committed spec', async () => {
    const result = await query('SELECT typeof(ts) AS ts_type FROM shop_items LIMIT 1', '--sources', 'old-defs');
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([{ ts_type: 'TIMESTAMP' }]);
    expect(result.stderr).toMatch(/warning: shop_items: the source definition disagrees with the table spec the lake committed/);
    expect(result.stderr).toContain('column id: bigint in the lake, string in the definition');
    expect(result.stderr).toContain('column ts: timestamp in the lake, bigint in the definition');
    expect(result.stderr).toContain('column ts: path ts in the lake, id in the definition');
    expect(result.stderr).toContain('column score only in the lake');
  });

  it('says nothing when the definition agrees with the lake', async () => {
    const result = await query('SELECT count(*) AS n FROM shop_items', '--sources', 'defs');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('shows in status the spec queries read, and how a definition disagrees with it', async () => {
    const agreeing = await apilake(['status', 'shop', '--sources', 'defs', '--json'], { cwd });
    const [items] = (JSON.parse(agreeing.stdout) as { streams: { table: { columns: { name: string; type: string }[] }; tableDrift: string[] }[] }).streams;
    expect(items!.table.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['id bigint', 'ts timestamp', 'score double']);
    expect(items!.tableDrift).toEqual([]);
    const older = await apilake(['status', 'shop', '--sources', 'old-defs'], { cwd });
    expect(older.stdout).toMatch(/items: the source definition disagrees with the table spec the lake committed: column id: bigint in the lake, string in the definition;/);
  });

  it('still reads a lake committed before commits recorded the spec, typed from the definitions as before', async () => {
    const legacy = join(cwd, 'legacy-lake');
    await cp(join(cwd, 'lake'), legacy, { recursive: true });
    const manifests = join(legacy, 'manifests', 'source=shop', 'stream=items', 'dt=2024-01-01');
    const [firstHour, ...later] = (await readdir(manifests)).sort();
    // The first hour's files have other types than the rest: a lake of that age could not hold both.
    await rm(join(manifests, firstHour!));
    for (const name of later) {
      const { table: _, ...older } = JSON.parse(await readFile(join(manifests, name), 'utf8')) as Record<string, unknown>;
      await writeFile(join(manifests, name), `${JSON.stringify(older, null, 2)}\n`);
    }
    const typed = await query(
      'SELECT count(*) AS n, count(ts) AS ts, typeof(min(ts)) AS ts_type, (SELECT count(*) FROM shop_items_latest) AS latest FROM shop_items',
      '--lake',
      legacy,
      '--sources',
      'defs',
    );
    expect(typed.code, typed.stderr).toBe(0);
    expect(jsonLines(typed.stdout)).toEqual([{ n: '120', ts: '120', ts_type: 'TIMESTAMP', latest: '120' }]);
    expect(typed.stderr).toBe('');
    // Without a definition it has the envelope and `data`, as a lake of that age always had.
    const bare = await query(`SELECT count(*) AS n, max(CAST(data->>'$.id' AS BIGINT)) AS last FROM shop_items`, '--lake', legacy);
    expect(bare.code, bare.stderr).toBe(0);
    expect(jsonLines(bare.stdout)).toEqual([{ n: '120', last: '180' }]);
  });
});
