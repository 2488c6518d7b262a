/**
 * The tables of one stream, as every engine sees them: the envelope columns every record
 * carries, then the stream's typed columns, partitioned by `dt`. One spec drives the Parquet
 * schema, the Glue columns, the Athena and DuckDB views, so they cannot disagree.
 */

import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { parseColumnType, type ColumnType } from '../config/columnType.js';
import { compileTimeFormat } from '../window/timeFormat.js';

/** One column of a table: its name, the JMESPath into the record that fills it, and its type. */
export interface TableColumn {
  readonly name: string;
  /** JMESPath into the record (`data`); absent for envelope columns. */
  readonly path?: string;
  readonly type: ColumnType;
  readonly comment: string;
}

const STRING: ColumnType = { kind: 'string' };

/**
 * The envelope columns (the lake layout, docs/lake.md) in table order, then `data`. Window bounds and times stay
 * ISO 8601 text, as in the raw JSON table, so one query text runs on both tables; the fixed-width
 * format sorts chronologically.
 */
export const ENVELOPE_COLUMNS: readonly TableColumn[] = [
  { name: '_source', type: STRING, comment: 'source name' },
  { name: '_stream', type: STRING, comment: 'stream name' },
  { name: '_window_start', type: STRING, comment: 'window start, ISO 8601 UTC (inclusive)' },
  { name: '_window_end', type: STRING, comment: 'window end, ISO 8601 UTC (exclusive)' },
  { name: '_extracted_at', type: STRING, comment: 'when the page was received, ISO 8601 UTC' },
  { name: '_run_id', type: STRING, comment: 'the run that landed the window' },
  { name: '_parent', type: STRING, comment: 'JSON text of the parent record key, for child streams; NULL otherwise' },
  { name: 'data', type: STRING, comment: 'the record exactly as the API sent it, as JSON text' },
];

/** The partition column of every table. */
export const PARTITION_COLUMN: TableColumn = { name: 'dt', type: STRING, comment: 'UTC date of the window start (YYYY-MM-DD)' };

/** A typed column: always has a path. */
export interface TypedColumn extends TableColumn {
  readonly path: string;
  /**
   * The format its `timestamp`/`date` values are read with (the time format language). Plain text,
   * as the whole spec is plain data: it crosses to the Parquet worker and is recorded in each commit.
   * @default ISO 8601, RFC 2822 or epoch numbers
   */
  readonly format?: string;
  /** The IANA zone text read with `format` is in when it carries no offset: the source's `timezone`. */
  readonly timeZone?: string;
}

/** Everything the table modules need to know about one stream. */
export interface TableSpec {
  readonly source: string;
  readonly stream: string;
  /** `<source>_<stream>`: the Parquet table (Athena and local). */
  readonly name: string;
  readonly columns: readonly TypedColumn[];
  /** JMESPath expressions identifying a record; empty when the stream has none (no `_latest` view). */
  readonly primaryKey: readonly string[];
  /** JMESPath of the field that orders versions of a record (the stream's `incremental.cursor_field`). */
  readonly cursorField?: string;
}

/** Options of {@link tableSpec}. */
export interface TableSpecOptions {
  /**
   * The field ordering versions of a record in the `_latest` view.
   * @default the stream's `incremental.cursor_field`, when the definition has one
   */
  readonly cursorField?: string;
}

/**
 * The table spec of a validated stream. Only call on a source that passed `checkSource`.
 * @throws Error when a column type or format does not parse (checkSource reports it first)
 */
export function tableSpec(source: SourceDefinition, stream: StreamDefinition, options: TableSpecOptions = {}): TableSpec {
  const columns = stream.columns.map((column): TypedColumn => {
    const parsed = parseColumnType(column.type);
    if (!parsed.ok) throw new Error(`stream ${source.name}.${stream.name}: ${parsed.message}; checkSource should have caught this`);
    const typed: TypedColumn = { name: column.name, path: column.path, type: parsed.type, comment: column.comment ?? `${column.path} as ${column.type}` };
    if (column.format === undefined) return typed;
    const format = compileTimeFormat(column.format);
    if (!format.ok) throw new Error(`stream ${source.name}.${stream.name}: column ${column.name}: ${format.message}; checkSource should have caught this`);
    return { ...typed, format: column.format, timeZone: source.timezone };
  });
  // Versions in the `_latest` view are ordered by the stream's incremental cursor, unless the caller names another field.
  const incremental = (stream as { incremental?: { cursor_field?: string } }).incremental;
  const cursorField = options.cursorField ?? incremental?.cursor_field;
  return {
    source: source.name,
    stream: stream.name,
    name: `${source.name}_${stream.name}`,
    columns,
    primaryKey: stream.primary_key ?? [],
    ...(cursorField === undefined ? {} : { cursorField }),
  };
}

/** Every column of the Parquet table in file order: envelope, `data`, typed columns (not `dt`). */
export function curatedColumns(spec: TableSpec): readonly TableColumn[] {
  return [...ENVELOPE_COLUMNS, ...spec.columns];
}

/** Whether a stream's records hold only text: its body (a job's files, for a job stream) is CSV or XML. */
export function hasTextRecords(stream: Pick<StreamDefinition, 'format' | 'job'>): boolean {
  const format = (stream.job?.format ?? stream.format).type;
  return format === 'csv' || format === 'xml';
}
