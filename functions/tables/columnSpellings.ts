/** How each engine spells a column type: Glue (Hive DDL), Athena views (Trino), DuckDB. */

import { formatColumnType, type ColumnType } from '../config/columnType.js';

/** The Glue (Hive DDL) type of a column: `json` is stored as `string` text. */
export function glueType(type: ColumnType): string {
  switch (type.kind) {
    case 'json':
      return 'string';
    case 'array':
      return `array<${glueType(type.element)}>`;
    default:
      return formatColumnType(type);
  }
}

/**
 * The Presto/Trino type signature Athena records for a view column (the `columns[].type` of a
 * Presto view). Athena's timestamps carry millisecond precision.
 */
export function trinoType(type: ColumnType): string {
  switch (type.kind) {
    case 'string':
    case 'json':
      return 'varchar';
    case 'timestamp':
      return 'timestamp(3)';
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'array':
      return `array(${trinoType(type.element)})`;
    default:
      return type.kind;
  }
}

/** The DuckDB type of a column. `json` stays VARCHAR, as in Athena, so the same functions apply. */
export function duckdbType(type: ColumnType): string {
  switch (type.kind) {
    case 'string':
    case 'json':
      return 'VARCHAR';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'date':
      return 'DATE';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'array':
      return `${duckdbType(type.element)}[]`;
  }
}
