/**
 * The Parquet schema of a stream's curated table, in the flat pre-order form the Parquet footer
 * (and hyparquet-writer) uses. Physical layouts are the ones Trino (Athena engine 3) and DuckDB
 * both read:
 *
 * | column type  | Parquet                                                                 |
 * |--------------|-------------------------------------------------------------------------|
 * | string, json | BYTE_ARRAY, STRING (UTF8)                                               |
 * | bigint       | INT64                                                                   |
 * | double       | DOUBLE                                                                  |
 * | boolean      | BOOLEAN                                                                 |
 * | timestamp    | INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=false): UTC wall-clock time     |
 * | date         | INT32 DATE                                                              |
 * | decimal(p,s) | INT32 (p ≤ 9), INT64 (p ≤ 18), else FIXED_LEN_BYTE_ARRAY; DECIMAL(p,s)  |
 * | array<T>     | 3-level LIST: optional group (LIST) / repeated group list / element     |
 *
 * Timestamps: millisecond precision is what Athena keeps; isAdjustedToUTC=false is how Trino's
 * own writer stores a SQL `timestamp` (trinodb/trino#9438), and DuckDB then reads a plain
 * TIMESTAMP whatever the session time zone, so both engines show the same UTC wall clock.
 */

import type { SchemaElement } from 'hyparquet-writer';
import type { ColumnType } from '../config/columnType.js';
import type { TableColumn } from './tableSpec.js';

/** The Parquet schema of columns (root first); every column and list element is OPTIONAL. */
export function parquetSchema(columns: readonly TableColumn[]): SchemaElement[] {
  const elements: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const column of columns) elements.push(...columnElements(column.name, column.type));
  return elements;
}

function columnElements(name: string, type: ColumnType): SchemaElement[] {
  const optional = { name, repetition_type: 'OPTIONAL' } as const;
  switch (type.kind) {
    case 'string':
    case 'json':
      return [{ ...optional, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }];
    case 'bigint':
      return [{ ...optional, type: 'INT64' }];
    case 'double':
      return [{ ...optional, type: 'DOUBLE' }];
    case 'boolean':
      return [{ ...optional, type: 'BOOLEAN' }];
    case 'timestamp':
      return [{ ...optional, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MILLIS' } }];
    case 'date':
      return [{ ...optional, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }];
    case 'decimal': {
      const { precision, scale } = type;
      const decimal = { converted_type: 'DECIMAL', precision, scale, logical_type: { type: 'DECIMAL', precision, scale } } as const;
      if (precision <= 9) return [{ ...optional, type: 'INT32', ...decimal }];
      if (precision <= 18) return [{ ...optional, type: 'INT64', ...decimal }];
      return [{ ...optional, type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(precision), ...decimal }];
    }
    case 'array':
      return [
        { ...optional, num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...columnElements('element', type.element),
      ];
  }
}

/** Fewest bytes of a two's-complement integer holding every unscaled value of `precision` digits. */
export function decimalBytes(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) - 1n < max) bytes++;
  return bytes;
}
