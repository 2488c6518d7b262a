/**
 * The local lake as DuckDB sees it: one view per stream, `<source>_<stream>`, with the same
 * columns as the Athena table (envelope fields, `data`, and the `dt` partition), plus macros
 * so common Athena functions work unchanged.
 */

import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { PART_SUFFIX, RAW_PREFIX } from '../../functions/sink/lakeLayout.js';

/** A stream found in the lake folder. */
export interface LakeTable {
  readonly name: string;
  readonly source: string;
  readonly stream: string;
  readonly parts: number;
}

/** Presto/Trino functions Athena users reach for, mapped to DuckDB equivalents. */
const ATHENA_COMPAT_MACROS = [
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`,
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
];

const ENVELOPE_COLUMNS = `{_source: 'VARCHAR', _stream: 'VARCHAR', _window_start: 'VARCHAR', _window_end: 'VARCHAR', _extracted_at: 'VARCHAR', _run_id: 'VARCHAR', data: 'JSON'}`;

/** Lists `raw/source=*\/stream=*` folders and counts their parts. */
export async function discoverTables(lakeDir: string): Promise<LakeTable[]> {
  const raw = join(resolve(lakeDir), RAW_PREFIX);
  const tables: LakeTable[] = [];
  for (const sourceDir of await subfolders(raw)) {
    const source = /^source=([a-z][a-z0-9_]*)$/.exec(sourceDir)?.[1];
    if (!source) continue;
    for (const streamDir of await subfolders(join(raw, sourceDir))) {
      const stream = /^stream=([a-z][a-z0-9_]*)$/.exec(streamDir)?.[1];
      if (!stream) continue;
      let parts = 0;
      for (const dtDir of await subfolders(join(raw, sourceDir, streamDir))) {
        parts += (await readdir(join(raw, sourceDir, streamDir, dtDir))).filter((f) => f.endsWith(PART_SUFFIX) && !f.startsWith('.')).length;
      }
      tables.push({ name: `${source}_${stream}`, source, stream, parts });
    }
  }
  return tables;
}

/** Creates the views and macros on a connection; returns the tables it found. */
export async function attachLocalLake(connection: DuckDBConnection, lakeDir: string): Promise<LakeTable[]> {
  for (const macro of ATHENA_COMPAT_MACROS) await connection.run(macro);
  const tables = await discoverTables(lakeDir);
  const raw = join(resolve(lakeDir), RAW_PREFIX);
  for (const table of tables) {
    const glob = join(raw, `source=${table.source}`, `stream=${table.stream}`, 'dt=*', `*${PART_SUFFIX}`);
    const body =
      table.parts === 0
        ? `SELECT NULL::VARCHAR AS _source, NULL::VARCHAR AS _stream, NULL::VARCHAR AS _window_start, NULL::VARCHAR AS _window_end, NULL::VARCHAR AS _extracted_at, NULL::VARCHAR AS _run_id, NULL::JSON AS data, NULL::VARCHAR AS dt WHERE false`
        : `SELECT _source, _stream, _window_start, _window_end, _extracted_at, _run_id, data, CAST(dt AS VARCHAR) AS dt FROM read_json(${sqlString(glob)}, format = 'newline_delimited', compression = 'gzip', hive_partitioning = true, hive_types = {'dt': VARCHAR}, columns = ${ENVELOPE_COLUMNS})`;
    await connection.run(`CREATE OR REPLACE VIEW "${table.name}" AS ${body}`);
  }
  return tables;
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
