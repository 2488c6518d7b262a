/**
 * The local lake's tables as DuckDB views, with the names and columns Athena has, so a query
 * written on a laptop runs unchanged in Athena for the common cases:
 * - `<source>_<stream>`: the window Parquet files;
 * - `<source>_<stream>_raw`: the gzip JSON lines;
 * - `<source>_<stream>_latest`: one row per primary key (latestView.ts).
 * The caller passes the files to read (only those the committed manifests list), so a file of
 * an uncommitted or superseded attempt is never seen. `dt` comes from each file's
 * `dt=YYYY-MM-DD` folder, as Athena's partition projection reads it; DuckDB's own hive
 * partitioning stays off, as it would also replace a record column named `source` or `stream`
 * with the folder's value.
 *
 * The Parquet view unions the files by column name under a typed empty row: a column added to
 * the stream after some files were written reads NULL there (as in Athena, which reads Parquet
 * columns by name), and every column has its declared type even when no file is listed.
 */

import { duckdbType } from './columnSpellings.js';
import { latestViewName, latestViewSelect } from './latestView.js';
import { rawTableName } from './glueColumns.js';
import { quoteIdent, sqlString } from './sqlText.js';
import { curatedColumns, ENVELOPE_COLUMNS, PARTITION_COLUMN, type TableColumn, type TableSpec } from './tableSpec.js';

/** DuckDB's virtual file-name column; no column can be named so (names starting with _ are the envelope's). */
const FILE_COLUMN = '_apilake_file';
/** Read options shared by both readers: no hive partitioning, the file name in {@link FILE_COLUMN}. */
const READ_OPTIONS = `hive_partitioning = false, filename = ${sqlString(FILE_COLUMN)}`;
/** `dt` from the file's `dt=YYYY-MM-DD/` folder. */
const DT_FROM_FILE = `regexp_extract(${quoteIdent(FILE_COLUMN)}, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) AS ${quoteIdent('dt')}`;

/** `CREATE OR REPLACE VIEW "<source>_<stream>"` over the given Parquet files. */
export function duckdbCuratedViewSql(spec: TableSpec, parquetFiles: readonly string[]): string {
  const columns = [...curatedColumns(spec), PARTITION_COLUMN];
  // `data` is JSON, as in the raw view, so `data->>'$.x'` and the json functions behave alike.
  const typeOf = (c: TableColumn) => (c.name === 'data' ? 'JSON' : duckdbType(c.type));
  const typedEmpty = `SELECT ${columns.map((c) => `CAST(NULL AS ${typeOf(c)}) AS ${quoteIdent(c.name)}`).join(', ')} WHERE false`;
  const body =
    parquetFiles.length === 0
      ? typedEmpty
      : `SELECT ${columns.map((c) => `CAST(${quoteIdent(c.name)} AS ${typeOf(c)}) AS ${quoteIdent(c.name)}`).join(', ')} FROM (${typedEmpty} UNION ALL BY NAME SELECT *, ${DT_FROM_FILE} FROM read_parquet(${fileList(parquetFiles)}, ${READ_OPTIONS}, union_by_name = true))`;
  return `CREATE OR REPLACE VIEW ${quoteIdent(spec.name)} AS ${body}`;
}

/** `CREATE OR REPLACE VIEW "<source>_<stream>_raw"` over the given gzip JSON-lines parts. */
export function duckdbRawViewSql(spec: Pick<TableSpec, 'name'>, jsonlFiles: readonly string[]): string {
  const columns: TableColumn[] = [...ENVELOPE_COLUMNS, PARTITION_COLUMN];
  const name = quoteIdent(rawTableName(spec));
  if (jsonlFiles.length === 0) {
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${columns.map((c) => `CAST(NULL AS ${c.name === 'data' ? 'JSON' : 'VARCHAR'}) AS ${quoteIdent(c.name)}`).join(', ')} WHERE false`;
  }
  // `data` and `_parent` are read as JSON so nested values keep their JSON text.
  const readColumns = ENVELOPE_COLUMNS.map((c) => `${c.name}: '${c.name === 'data' || c.name === '_parent' ? 'JSON' : 'VARCHAR'}'`).join(', ');
  const select = ENVELOPE_COLUMNS.map((c) => (c.name === '_parent' ? `CAST(${quoteIdent(c.name)} AS VARCHAR) AS ${quoteIdent(c.name)}` : quoteIdent(c.name)));
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${[...select, DT_FROM_FILE].join(', ')} FROM read_json(${fileList(jsonlFiles)}, format = 'newline_delimited', compression = 'gzip', ${READ_OPTIONS}, columns = {${readColumns}})`;
}

/** `CREATE OR REPLACE VIEW "<source>_<stream>_latest"`, or undefined when the stream has no primary key. */
export function duckdbLatestViewSql(spec: TableSpec): string | undefined {
  const select = latestViewSelect(spec, 'duckdb');
  return select === undefined ? undefined : `CREATE OR REPLACE VIEW ${quoteIdent(latestViewName(spec))} AS ${select}`;
}

function fileList(files: readonly string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}
