/**
 * Every committed window also lands as typed Parquet, written in the same pass as the raw parts
 * and committed (or not) with them; the local tables read only committed files, with Athena's
 * names: `<source>_<stream>`, `_raw`, `_latest`. `backfill --curate-only` builds the file of a
 * window from its committed raw parts without calling the API; with --force it rebuilds one under
 * the columns of today: the raw parts stay, readers see the old table until the new commit, a run
 * that dies leaves only what gc removes, and of two at once one commits.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { curateRange, curateWindow } from '../../functions/engine/curateWindow.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowSelection } from '../../functions/engine/windowSelection.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { ageFiles } from '../support/ageFiles.js';
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

const HOUR = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
const TWO_HOURS: WindowSelection = { kind: 'range', from: HOUR.start, to: new Date('2024-01-01T02:00:00Z') };
// Every name is text: as bigint each value is a type error (NULL); as string it is the name.
const BEFORE = [
  { name: 'id', path: 'id', type: 'bigint' },
  { name: 'label', path: 'name', type: 'bigint' },
];
const AFTER = [
  { name: 'id', path: 'id', type: 'bigint' },
  { name: 'label', path: 'name', type: 'string' },
  { name: 'score', path: 'nested.score', type: 'double' },
];

const sourceWith = (columns: readonly object[], extra: Record<string, unknown> = {}) => testSource(api.url, { ...CURSOR, primary_key: ['id'], columns }, extra);

async function landTwoHours(source: SourceDefinition): Promise<void> {
  expect((await land(source, { selection: TWO_HOURS })).map((r) => r.status)).toEqual(['committed', 'committed']);
}

/** The raw parts of the current commits, with their bytes' hashes as they are on disk. */
async function rawParts(): Promise<string[]> {
  const keys = (await readCurrentCommits(lake)).flatMap((m) => m.parts.map((p) => p.key));
  return Promise.all(keys.map(async (key) => `${key} ${await sha256Of(lake, key)}`));
}

/** A storage whose commits (manifest creations) wait for `gate` before they go ahead. */
function gatedCommits(storage: FsLakeStorage, gate: (key: string) => Promise<void>): LakeStorage {
  const gated = Object.create(storage) as FsLakeStorage;
  gated.putIfAbsent = async (key, ...rest) => {
    if (key.startsWith('manifests/')) await gate(key);
    return storage.putIfAbsent(key, ...rest);
  };
  return gated;
}

const compare = `SELECT _extracted_at, _run_id, CAST(data AS VARCHAR) FROM %t ORDER BY CAST(json_extract_scalar(data, '$.id') AS BIGINT)`;

describe('backfill --curate-only --force', () => {
  it('rebuilds the Parquet files of windows that have one under the columns of today, from their raw parts, without calling the API', async () => {
    await landTwoHours(sourceWith(BEFORE));
    const parts = await rawParts();
    const oldFiles = (await listFiles(lake)).filter((k) => k.startsWith('curated/'));
    expect(oldFiles).toHaveLength(2);
    const after = sourceWith(AFTER);
    // Without --force, a window with a table keeps it.
    expect((await curateRange({ source: after, selection: TWO_HOURS, storage: new FsLakeStorage(lake) })).map((r) => r.skipReason)).toEqual(['already_curated', 'already_curated']);
    const requests = api.requests.length;

    const results = await curateRange({ source: after, selection: TWO_HOURS, storage: new FsLakeStorage(lake), force: true });
    expect(results.map((r) => [r.status, r.records])).toEqual([
      ['committed', 60],
      ['committed', 60],
    ]);
    expect(api.requests.length).toBe(requests);
    const commits = await readCurrentCommits(lake);
    expect(commits.map((m) => m.commit)).toEqual([2, 2]);
    expect(commits.map((m) => m.table?.columns.map((c) => `${c.name} ${c.type}`))).toEqual([
      ['id bigint', 'label string', 'score double'],
      ['id bigint', 'label string', 'score double'],
    ]);
    expect(commits.map((m) => m.type_errors ?? {})).toEqual([{}, {}]);
    // The raw parts are the same files with the same bytes; the old Parquet files are gone, the new ones listed.
    expect(await rawParts()).toEqual(parts);
    const curated = (await listFiles(lake)).filter((k) => k.startsWith('curated/'));
    expect(curated.sort()).toEqual(commits.flatMap((m) => m.curated!.map((f) => f.key)).sort());
    expect(curated.some((k) => oldFiles.includes(k))).toBe(false);
    for (const m of commits) for (const f of m.curated!) expect(await sha256Of(lake, f.key)).toBe(f.sha256);

    const { rows } = await query(`SELECT id, label, typeof(label), score FROM testapi_items WHERE id IN (1, 2) ORDER BY id`, after);
    expect(rows).toEqual([
      ['1', 'item 1 "quoted" ✓', 'VARCHAR', null],
      ['2', 'item 2 "quoted" ✓', 'VARCHAR', 1 / 3],
    ]);
    expect((await query(compare.replace('%t', 'testapi_items'), after)).rows).toEqual((await query(compare.replace('%t', 'testapi_items_raw'), after)).rows);
    expect((await snapshotStream(new FsLakeStorage(lake), 'testapi', 'items', { audit: true })).orphanParts).toEqual([]);
  });

  it('keeps the run id of the records in the rebuilt rows when the commit it replaces was itself a curation', async () => {
    await landTwoHours(sourceWith(BEFORE, { lake: { parquet: false } }));
    const storage = new FsLakeStorage(lake);
    expect((await curateRange({ source: sourceWith(BEFORE), selection: TWO_HOURS, storage })).map((r) => r.status)).toEqual(['committed', 'committed']);
    const after = sourceWith(AFTER);
    expect((await curateRange({ source: after, selection: TWO_HOURS, storage, force: true })).map((r) => r.status)).toEqual(['committed', 'committed']);
    expect((await readCurrentCommits(lake)).map((m) => m.commit)).toEqual([3, 3]);
    const typed = await query(compare.replace('%t', 'testapi_items'), after);
    expect(typed.rows).toHaveLength(120);
    expect(typed.rows).toEqual((await query(compare.replace('%t', 'testapi_items_raw'), after)).rows);
  });

  it('leaves the old table readable while a rebuild runs and after it dies before its commit; gc removes what it left', async () => {
    await landTwoHours(sourceWith(BEFORE));
    const before = await readCurrentCommits(lake);
    const oldTable = await query('SELECT count(*), count(label) FROM testapi_items', sourceWith(BEFORE));
    expect(oldTable.rows).toEqual([['120', '0']]);
    let arrived!: () => void;
    const atCommit = new Promise<void>((resolve) => (arrived = resolve));
    let die!: (error: Error) => void;
    const death = new Promise<void>((_, reject) => (die = reject));
    const storage = gatedCommits(new FsLakeStorage(lake), () => {
      arrived();
      return death;
    });
    const rebuild = curateWindow({ source: sourceWith(AFTER), stream: sourceWith(AFTER).streams[0]!, window: HOUR, storage, force: true });
    await atCommit;
    // Its Parquet file is written, no commit lists it: readers see the old table, under either definition.
    expect((await listFiles(lake)).filter((k) => k.startsWith('curated/'))).toHaveLength(3);
    expect((await query('SELECT count(*), count(label) FROM testapi_items', sourceWith(AFTER))).rows).toEqual([['120', '0']]);
    // It dies at its commit point: no commit, and nothing of the window deleted on its account.
    die(new Error('killed'));
    expect((await rebuild).status).toBe('failed');
    expect(await readCurrentCommits(lake)).toEqual(before);
    expect((await query('SELECT count(*), count(label) FROM testapi_items', sourceWith(AFTER))).rows).toEqual([['120', '0']]);
    const left = (await snapshotStream(new FsLakeStorage(lake), 'testapi', 'items', { audit: true })).orphanParts!.map((o) => o.key);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^curated\//);
    await ageFiles(lake, ORPHAN_HORIZON_MS + 60_000);
    expect((await collectGarbage(new FsLakeStorage(lake), 'testapi', { streams: ['items'] }))[0]).toMatchObject({ deletedParts: 1 });
    expect((await listFiles(lake)).filter((k) => k.startsWith('curated/')).sort()).toEqual(before.flatMap((m) => m.curated!.map((f) => f.key)).sort());
    expect(await readCurrentCommits(lake)).toEqual(before);
  });

  it('commits one of two rebuilds of a window that run at once; the other reports the concurrent commit and leaves nothing', async () => {
    await landTwoHours(sourceWith(BEFORE));
    const parts = await rawParts();
    // Both have written their Parquet file before either tries its commit.
    let waiting = 0;
    let bothThere!: () => void;
    const both = new Promise<void>((resolve) => (bothThere = resolve));
    const storage = gatedCommits(new FsLakeStorage(lake), async () => {
      if (++waiting === 2) bothThere();
      await both;
    });
    const after = sourceWith(AFTER);
    const rebuild = () => curateWindow({ source: after, stream: after.streams[0]!, window: HOUR, storage, force: true });
    const results = await Promise.all([rebuild(), rebuild()]);
    expect(results.map((r) => r.status).sort()).toEqual(['committed', 'skipped']);
    const winner = results.find((r) => r.status === 'committed')!;
    expect(results.find((r) => r.status === 'skipped')!.skipReason).toBe('concurrent_commit');
    const [first] = await readCurrentCommits(lake);
    expect(first!.commit).toBe(2);
    expect(first!.run_id).toBe(winner.runId);
    expect(await rawParts()).toEqual(parts);
    // One Parquet file per window: the winner's here, the other window's untouched.
    const curated = (await listFiles(lake)).filter((k) => k.startsWith('curated/'));
    expect(curated).toHaveLength(2);
    expect(curated).toContain(first!.curated![0]!.key);
    expect((await snapshotStream(new FsLakeStorage(lake), 'testapi', 'items', { audit: true })).orphanParts).toEqual([]);
    expect((await query('SELECT count(*), count(label) FROM testapi_items', after)).rows).toEqual([['120', '60']]);
  });
});

describe('backfill --curate-only of a window of no records', () => {
  it('commits it with no Parquet file, as a run that lands it writes none', async () => {
    // The API's 250 records end at 04:09.
    const empty: WindowSelection = { kind: 'windows', windows: [{ start: new Date('2024-01-01T05:00:00Z'), end: new Date('2024-01-01T06:00:00Z') }] };
    const source = sourceWith(BEFORE, { lake: { parquet: false } });
    expect((await land(source, { selection: empty }))[0]).toMatchObject({ status: 'committed', records: 0 });
    const [result] = await curateRange({ source: sourceWith(BEFORE), selection: empty, storage: new FsLakeStorage(lake) });
    expect(result).toMatchObject({ status: 'committed', records: 0, parts: 0 });
    expect((await readCurrentCommits(lake)).map((m) => [m.commit, m.curated])).toEqual([[2, []]]);
    expect((await listFiles(lake)).filter((k) => k.startsWith('curated/'))).toEqual([]);
  });
});
