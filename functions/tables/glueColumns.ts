/**
 * The Glue column lists of a stream's two Athena tables:
 * - `<source>_<stream>`: Parquet under `curated/`, envelope + `data` + typed columns;
 * - `<source>_<stream>_raw`: the gzip JSON lines under `raw/` (forensics), envelope + `data`.
 * Both are partitioned by `dt`. Types are Hive DDL text, which CDK takes as
 * `{ inputString, isPrimitive }` (glue.Type) and CloudFormation as `Column.Type`.
 */

import { glueType } from './columnSpellings.js';
import { curatedColumns, ENVELOPE_COLUMNS, PARTITION_COLUMN, type TableColumn, type TableSpec } from './tableSpec.js';

/** One Glue column. */
export interface GlueColumn {
  readonly name: string;
  /** Hive DDL type: `string`, `bigint`, `decimal(12,2)`, `array<string>`… */
  readonly type: string;
  readonly comment: string;
  /** False for `array<…>`, as CDK's glue.Type wants to know. */
  readonly isPrimitive: boolean;
}

/** Columns and partition keys of one Glue table. */
export interface GlueTableColumns {
  readonly name: string;
  readonly columns: readonly GlueColumn[];
  readonly partitionKeys: readonly GlueColumn[];
}

/** The name of the raw JSON table of a stream. */
export function rawTableName(spec: Pick<TableSpec, 'name'>): string {
  return `${spec.name}_raw`;
}

/** The Parquet table `<source>_<stream>`. */
export function curatedGlueColumns(spec: TableSpec): GlueTableColumns {
  return { name: spec.name, columns: curatedColumns(spec).map(toGlue), partitionKeys: [toGlue(PARTITION_COLUMN)] };
}

/** The raw JSON table `<source>_<stream>_raw` (read with the OpenX JSON SerDe: nested values come back as JSON text). */
export function rawGlueColumns(spec: Pick<TableSpec, 'name'>): GlueTableColumns {
  return { name: rawTableName(spec), columns: ENVELOPE_COLUMNS.map(toGlue), partitionKeys: [toGlue(PARTITION_COLUMN)] };
}

function toGlue(column: TableColumn): GlueColumn {
  return { name: column.name, type: glueType(column.type), comment: column.comment.slice(0, 255), isPrimitive: column.type.kind !== 'array' };
}
