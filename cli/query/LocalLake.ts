/**
 * The local lake as DuckDB sees it, with Athena's table names and columns:
 * - `<source>_<stream>`: the typed Parquet files of committed windows (envelope, `data`, the
 *   stream's typed columns, `dt`);
 * - `<source>_<stream>_raw`: the gzip JSON-lines parts of committed windows;
 * - `<source>_<stream>_latest`: one row per primary key, for streams that declare one;
 * plus macros so common Athena functions work unchanged. Only files that current commits list
 * are read (commitProtocol I6).
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbCuratedViewSql, duckdbLatestViewSql, duckdbRawViewSql, FsLakeStorage, MANIFEST_PREFIX, snapshotStream, type TableSpec } from '../../functions/index.js';

/** A stream of the lake, with the files of its committed windows. */
export interface LakeTable {
  readonly name: string;
  readonly source: string;
  readonly stream: string;
  /** Raw parts listed by the current commits. */
  readonly parts: readonly string[];
  /** Parquet files listed by the current commits. */
  readonly curated: readonly string[];
  /** Committed windows with no Parquet (landed before typed tables, or with `lake.parquet: false`). */
  readonly uncurated: number;
  /** Windows whose current commit cannot be read, left out of every table. */
  readonly unreadable: readonly string[];
}

/** Presto/Trino functions Athena users reach for, mapped to DuckDB equivalents. */
const ATHENA_COMPAT_MACROS = [
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`,
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
];

/** Every stream with commits in the lake folder, and the files its current commits list. */
export async function discoverTables(lakeDir: string): Promise<LakeTable[]> {
  const storage = new FsLakeStorage(lakeDir);
  const manifests = join(storage.location, MANIFEST_PREFIX);
  const tables: LakeTable[] = [];
  for (const sourceDir of await subfolders(manifests)) {
    const source = /^source=([a-z][a-z0-9_]*)$/.exec(sourceDir)?.[1];
    if (!source) continue;
    for (const streamDir of await subfolders(join(manifests, sourceDir))) {
      const stream = /^stream=([a-z][a-z0-9_]*)$/.exec(streamDir)?.[1];
      if (!stream) continue;
      const snapshot = await snapshotStream(storage, source, stream);
      tables.push({
        name: `${source}_${stream}`,
        source,
        stream,
        parts: snapshot.committed.flatMap((w) => w.manifest.parts.map((p) => storage.uri(p.key))),
        curated: snapshot.committed.flatMap((w) => (w.manifest.curated ?? []).map((p) => storage.uri(p.key))),
        uncurated: snapshot.committed.filter((w) => w.manifest.curated === undefined && w.manifest.parts.length > 0).length,
        unreadable: snapshot.unreadable.map((w) => `${w.key}: ${w.error.message}`),
      });
    }
  }
  return tables;
}

/**
 * Creates the views and macros on a connection. `specs` (from the source definitions) give
 * streams their typed columns and primary keys, and tables to streams that have no commit yet;
 * a stream of the lake without a definition gets the envelope and `data` only.
 * @returns the streams found in the lake
 */
export async function attachLocalLake(connection: DuckDBConnection, lakeDir: string, specs: readonly TableSpec[] = []): Promise<LakeTable[]> {
  for (const macro of ATHENA_COMPAT_MACROS) await connection.run(macro);
  const tables = await discoverTables(lakeDir);
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const empty: Omit<LakeTable, 'name' | 'source' | 'stream'> = { parts: [], curated: [], uncurated: 0, unreadable: [] };
  const all = [...tables, ...specs.filter((spec) => !tables.some((t) => t.name === spec.name)).map((spec) => ({ ...empty, name: spec.name, source: spec.source, stream: spec.stream }))];
  for (const table of all) {
    const spec = byName.get(table.name) ?? { source: table.source, stream: table.stream, name: table.name, columns: [], primaryKey: [] };
    await connection.run(duckdbRawViewSql(spec, table.parts.map(literalGlob)));
    await connection.run(duckdbCuratedViewSql(spec, table.curated.map(literalGlob)));
    const latest = duckdbLatestViewSql(spec);
    if (latest) await connection.run(latest);
  }
  return tables;
}

/**
 * A path DuckDB reads literally: it treats `*`, `?`, `[` and `{` in file paths as a glob even in an
 * explicit list (`--lake 'data/lake[1]'` read `data/lake1`), so each becomes a one-character class.
 */
export function literalGlob(path: string): string {
  return path.replace(/[[*?{}]/g, (ch) => `[${ch}]`);
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
