/**
 * Every committed window also lands as typed Parquet, written in the same pass as the raw parts
 * and committed (or not) with them; the local tables read only committed files, with Athena's
 * names: `<source>_<stream>`, `_raw`, `_latest`.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { curateRange } from '../../functions/engine/curateWindow.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowSelection } from '../../functions/engine/windowSelection.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { listFiles, readCurrentCommits, sha256Of } from '../support/lakeReader.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const THREE_HOURS: WindowSelection = { kind: 'range', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-01T03:00:00Z') };
const COLUMNS = [
  { name: 'id', path: 'id', type: 'bigint' },
  { name: 'ts', path: 'ts', type: 'timestamp' },
  { name: 'name', path: 'name', type: 'string' },
  { name: 'score', path: 'nested.score', type: 'double' },
  { name: 'tags', path: 'nested.tags', type: 'array<string>' },
  // Every name is text: each record counts a type error here, and the column is NULL.
  { name: 'name_as_number', path: 'name', type: 'bigint' },
];
const CURSOR = { path: '/cursor', params: { since: '{window.start}', until: '{window.end}', limit: 8 }, records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } };

let api: TestApi;
let lake: string;
beforeEach(async () => {
  api = await startTestApi({ count: 250 });
  lake = await mkdtemp(join(tmpdir(), 'apilake-typed-'));
});
afterEach(() => api.close());

const typedSource = (extra: Record<string, unknown> = {}) => testSource(api.url, { ...CURSOR, primary_key: ['id'], columns: COLUMNS }, extra);

async function land(source: SourceDefinition, options: { selection?: WindowSelection; force?: boolean; storage?: LakeStorage } = {}) {
  const client = await createSourceClient(source, new EnvSecretProvider({}));
  return runSource({ source, selection: options.selection ?? THREE_HOURS, client, storage: options.storage ?? new FsLakeStorage(lake), force: options.force });
}

const query = (sql: string, source = typedSource()) => runLocalQuery(sql, lake, { specs: source.streams.map((s) => tableSpec(source, s)) });

describe('typed Parquet tables', () => {
  it('lands each window as a Parquet file listed in its commit, with typed columns and type errors counted', async () => {
    const results = await land(typedSource());
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);
    const manifests = await readCurrentCommits(lake);
    for (const manifest of manifests) {
      expect(manifest.curated).toHaveLength(1);
      const [file] = manifest.curated!;
      expect(file!.key).toMatch(/^curated\/source=testapi\/stream=items\/dt=2024-01-01\/\d{8}T\d{6}Z_\d{8}T\d{6}Z_.+_part-00000\.parquet$/);
      expect(file!.records).toBe(manifest.totals.records);
      expect(await sha256Of(lake, file!.key)).toBe(file!.sha256);
      expect(manifest.type_errors).toEqual({ name_as_number: 60 });
    }
    const { rows } = await query(
      `SELECT id, ts, name, score, tags, name_as_number, typeof(id), typeof(ts), typeof(tags), data->>'$.name' = name FROM testapi_items WHERE id IN (1, 2, 60) ORDER BY id`,
    );
    expect(rows).toEqual([
      ['1', '2024-01-01 00:00:00', 'item 1 "quoted" ✓', null, ['even', 'x'], null, 'BIGINT', 'TIMESTAMP', 'VARCHAR[]', true],
      ['2', '2024-01-01 00:01:00', 'item 2 "quoted" ✓', 1 / 3, ['odd'], null, 'BIGINT', 'TIMESTAMP', 'VARCHAR[]', true],
      ['60', '2024-01-01 00:59:00', 'item 60 "quoted" ✓', 59 / 3, ['odd'], null, 'BIGINT', 'TIMESTAMP', 'VARCHAR[]', true],
    ]);
  });

  it('answers the same SQL alike over the raw JSON and the Parquet table', async () => {
    await land(typedSource());
    const sql = (table: string) =>
      `SELECT _window_start, count(*) AS n, sum(CAST(json_extract_scalar(data, '$.id') AS BIGINT)) AS ids, count(DISTINCT _run_id) AS runs FROM ${table} GROUP BY 1 ORDER BY 1`;
    const raw = await query(sql('testapi_items_raw'));
    const typed = await query(sql('testapi_items'));
    expect(typed.rows).toEqual(raw.rows);
    expect(raw.rows.map((r) => r[1])).toEqual(['60', '60', '60']);
  });

  it('keeps one row per key in _latest, the newest version, across windows and forced re-runs', async () => {
    await land(typedSource());
    // A forced re-run replaces the first window: its records get a later extraction time and a new run.
    const [forced] = await land(typedSource(), { selection: { kind: 'windows', windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] }, force: true });
    const { rows } = await query(`SELECT count(*), count(DISTINCT id), max(_run_id = '${forced!.runId}'::VARCHAR) FROM testapi_items_latest WHERE id <= 60`);
    expect(rows).toEqual([['60', '60', true]]);
    const total = await query('SELECT count(*), count(DISTINCT id) FROM testapi_items_latest');
    expect(total.rows).toEqual([['180', '180']]);
  });

  it('shows nothing of a window whose run wrote its Parquet file but never committed', async () => {
    const storage = new FsLakeStorage(lake);
    // The commit itself fails: Parquet and raw parts are written, no commit lists them.
    const broken = Object.create(storage) as FsLakeStorage;
    broken.putIfAbsent = () => Promise.reject(new Error('disk gone'));
    const [result] = await land(typedSource(), { storage: broken, selection: { kind: 'windows', windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] } });
    expect(result!.status).toBe('failed');
    expect((await listFiles(lake)).some((k) => k.startsWith('curated/') && k.endsWith('.parquet'))).toBe(true);
    const { rows } = await query('SELECT count(*) FROM testapi_items');
    expect(rows).toEqual([['0']]); // the table exists from the definition, and holds no uncommitted row
  });

  it('curates windows landed without Parquet from their raw parts, without calling the API', async () => {
    await land(typedSource({ lake: { parquet: false } }));
    expect((await readCurrentCommits(lake)).every((m) => m.curated === undefined)).toBe(true);
    const warnings: string[] = [];
    await runLocalQuery('SELECT 1', lake, { specs: [tableSpec(typedSource(), typedSource().streams[0]!)], warn: (w) => warnings.push(w) });
    expect(warnings[0]).toMatch(/3 committed windows have no Parquet file yet .*--curate-only/);
    const requests = api.requests.length;
    const results = await curateRange({ source: typedSource(), selection: THREE_HOURS, storage: new FsLakeStorage(lake) });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);
    expect(api.requests.length).toBe(requests);
    const commits = await readCurrentCommits(lake);
    expect(commits.map((m) => m.commit)).toEqual([2, 2, 2]);
    const sql = (table: string) => `SELECT _extracted_at, _run_id, CAST(data AS VARCHAR) FROM ${table} ORDER BY CAST(json_extract_scalar(data, '$.id') AS BIGINT)`;
    const raw = await query(sql('testapi_items_raw'));
    const typed = await query(sql('testapi_items'));
    expect(typed.rows).toEqual(raw.rows);
    expect(typed.rows).toHaveLength(180);
    // A second curation finds every window curated.
    expect((await curateRange({ source: typedSource(), selection: THREE_HOURS, storage: new FsLakeStorage(lake) })).map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
  });
});
