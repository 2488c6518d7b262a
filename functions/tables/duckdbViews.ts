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
 * columns by name), and every column has its declared type even when no file is listed. Files
 * come in groups written with one set of column types (the spec their commit records), each read
 * by its own reader, so files whose types differ never meet in one schema. A column whose type
 * changed between groups is converted through its text with TRY_CAST: a value of an older file
 * that does not convert reads NULL, as a value that did not convert when landing is NULL (its
 * text stays in `data`).
 */

import { formatColumnType, type ColumnType } from '../config/columnType.js';
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

/** Parquet files written with the same column types. */
export interface ParquetFileGroup {
  readonly files: readonly string[];
  /**
   * The types the files' typed columns were written with, by column name; undefined when unknown
   * (commits that record no table spec), and then the files are read as the spec declares.
   */
  readonly written?: ReadonlyMap<string, ColumnType>;
}

/**
 * `CREATE OR REPLACE VIEW "<source>_<stream>"` over the given Parquet files: a list of files is
 * one group of unknown types.
 */
export function duckdbCuratedViewSql(spec: TableSpec, parquetFiles: readonly string[] | readonly ParquetFileGroup[]): string {
  const groups = parquetFiles.length > 0 && typeof parquetFiles[0] === 'string' ? [{ files: parquetFiles as readonly string[] }] : (parquetFiles as readonly ParquetFileGroup[]);
  const columns = [...curatedColumns(spec), PARTITION_COLUMN];
  const typed = new Set(spec.columns.map((c) => c.name));
  const selects = groups.filter((g) => g.files.length > 0).map((group) => groupSelect(columns, typed, group));
  const body = selects.length === 0 ? typedEmptyRow(columns, (c) => c.type) : selects.join(' UNION ALL ');
  return `CREATE OR REPLACE VIEW ${quoteIdent(spec.name)} AS ${body}`;
}

/** One group's rows in the view's columns and types. */
function groupSelect(columns: readonly TableColumn[], typed: ReadonlySet<string>, group: ParquetFileGroup): string {
  const { written } = group;
  // Under the files, a typed empty row of the types they were written with (else the view's):
  // a column a file lacks reads NULL, and every column has a type even when all files lack it.
  const writtenType = (c: TableColumn) => (typed.has(c.name) && written ? written.get(c.name) : c.type);
  const empty = typedEmptyRow(columns, (c) => writtenType(c) ?? c.type);
  const value = (c: TableColumn) => {
    const name = quoteIdent(c.name);
    if (!typed.has(c.name)) return `CAST(${name} AS ${sqlTypeOf(c, c.type)})`;
    if (!written) return `TRY_CAST(${name} AS ${sqlTypeOf(c, c.type)})`;
    const was = written.get(c.name);
    if (was === undefined) return `CAST(NULL AS ${sqlTypeOf(c, c.type)})`;
    if (formatColumnType(was) === formatColumnType(c.type)) return `CAST(${name} AS ${sqlTypeOf(c, c.type)})`;
    // Through text: DuckDB has no cast between some types (TIMESTAMP and BIGINT), even for TRY_CAST.
    return `TRY_CAST(CAST(${name} AS VARCHAR) AS ${sqlTypeOf(c, c.type)})`;
  };
  return `SELECT ${columns.map((c) => `${value(c)} AS ${quoteIdent(c.name)}`).join(', ')} FROM (${empty} UNION ALL BY NAME SELECT *, ${DT_FROM_FILE} FROM read_parquet(${fileList(group.files)}, ${READ_OPTIONS}, union_by_name = true))`;
}

/** `SELECT CAST(NULL AS …) AS …, … WHERE false`: no row, every column typed. */
function typedEmptyRow(columns: readonly TableColumn[], typeOf: (c: TableColumn) => ColumnType): string {
  return `SELECT ${columns.map((c) => `CAST(NULL AS ${sqlTypeOf(c, typeOf(c))}) AS ${quoteIdent(c.name)}`).join(', ')} WHERE false`;
}

/** `data` is JSON, as in the raw view, so `data->>'$.x'` and the json functions behave alike. */
function sqlTypeOf(column: TableColumn, type: ColumnType): string {
  return column.name === 'data' ? 'JSON' : duckdbType(type);
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
