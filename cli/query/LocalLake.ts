/**
 * The local lake as DuckDB sees it: one view per stream, `<source>_<stream>`, with the same
 * columns as the Athena table (envelope fields, `data`, and the `dt` partition), plus macros
 * so common Athena functions work unchanged.
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { MANIFEST_PREFIX } from '../../functions/sink/lakeLayout.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';

/** A stream found in the lake folder, with the files of its committed windows. */
export interface LakeTable {
  readonly name: string;
  readonly source: string;
  readonly stream: string;
  /** Parts listed by the current commits: the only files a query reads. */
  readonly parts: readonly string[];
  /** Windows whose current commit cannot be read, left out of the table. */
  readonly unreadable: readonly string[];
}

/** Presto/Trino functions Athena users reach for, mapped to DuckDB equivalents. */
const ATHENA_COMPAT_MACROS = [
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`,
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
];

const ENVELOPE_COLUMNS = `{_source: 'VARCHAR', _stream: 'VARCHAR', _window_start: 'VARCHAR', _window_end: 'VARCHAR', _extracted_at: 'VARCHAR', _run_id: 'VARCHAR', data: 'JSON'}`;

/**
 * Finds every stream that has commits and the parts its current commits list (commitProtocol
 * I6): parts of runs in flight, crashed or replaced are never read.
 */
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
        unreadable: snapshot.unreadable.map((w) => `${w.key}: ${w.error.message}`),
      });
    }
  }
  return tables;
}

/** Creates the views and macros on a connection; returns the tables it found. */
export async function attachLocalLake(connection: DuckDBConnection, lakeDir: string): Promise<LakeTable[]> {
  for (const macro of ATHENA_COMPAT_MACROS) await connection.run(macro);
  const tables = await discoverTables(lakeDir);
  for (const table of tables) {
    const files = `[${table.parts.map((path) => sqlString(literalGlob(path))).join(', ')}]`;
    const body =
      table.parts.length === 0
        ? `SELECT NULL::VARCHAR AS _source, NULL::VARCHAR AS _stream, NULL::VARCHAR AS _window_start, NULL::VARCHAR AS _window_end, NULL::VARCHAR AS _extracted_at, NULL::VARCHAR AS _run_id, NULL::JSON AS data, NULL::VARCHAR AS dt WHERE false`
        : `SELECT _source, _stream, _window_start, _window_end, _extracted_at, _run_id, data, CAST(dt AS VARCHAR) AS dt FROM read_json(${files}, format = 'newline_delimited', compression = 'gzip', hive_partitioning = true, hive_types = {'dt': VARCHAR}, columns = ${ENVELOPE_COLUMNS})`;
    await connection.run(`CREATE OR REPLACE VIEW "${table.name}" AS ${body}`);
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

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
