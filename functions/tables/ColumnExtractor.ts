/**
 * The typed columns of one stream, compiled once: each record becomes one value per column,
 * and every value that does not convert is counted per column for the manifest (`type_errors`).
 */

import { compileConverter, INVALID, type Converter } from './compileConverter.js';
import { compilePath, type CompiledPath } from '../expressions/compilePath.js';
import type { TypedColumn } from './tableSpec.js';
import type { TimestampSpec } from '../window/parseTimestamp.js';
import { compileTimeFormat } from '../window/timeFormat.js';

/** Conversion failures per column name; columns without failures are absent. */
export type TypeErrors = Record<string, number>;

/** Options of a {@link ColumnExtractor}. */
export interface ColumnExtractorOptions {
  /**
   * The records hold only text (a CSV or XML body): an empty text is NULL in a column of any type
   * but string and json, as an empty cell is in a database's CSV import, rather than a type error.
   * @default false
   */
  readonly textRecords?: boolean;
}

/**
 * Extracts typed values from records.
 * @example
 * ```ts
 * const extractor = new ColumnExtractor(spec.columns);
 * const values = extractor.extract({ id: 7, updated_at: '2024-01-01T00:00:00Z' }); // [7n, 1704067200000]
 * manifest.type_errors = extractor.typeErrors;
 * ```
 */
export class ColumnExtractor {
  private readonly paths: CompiledPath[];
  private readonly converters: Converter[];
  private readonly errors: number[];

  constructor(
    readonly columns: readonly TypedColumn[],
    options: ColumnExtractorOptions = {},
  ) {
    this.paths = columns.map((c) => compilePath(c.path));
    this.converters = columns.map((c) => {
      const convert = compileConverter(c.type, timestampsOf(c));
      // CSV and XML cannot tell an empty value from a missing one: for a typed column it is NULL, not a value that failed.
      return options.textRecords && c.type.kind !== 'string' && c.type.kind !== 'json' ? (value: unknown) => (value === '' ? null : convert(value)) : convert;
    });
    this.errors = columns.map(() => 0);
  }

  /**
   * The stored values of one record, in column order (see compileConverter for each type's
   * representation); NULL where the path is missing or the value does not convert. Never throws
   * for a record's content: a JMESPath runtime error counts as a failed conversion.
   */
  extract(record: unknown): unknown[] {
    const n = this.paths.length;
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      let value: unknown;
      try {
        value = this.converters[i]!(this.paths[i]!(record));
      } catch {
        value = INVALID;
      }
      if (value === INVALID) {
        this.errors[i]!++;
        value = null;
      }
      values[i] = value;
    }
    return values;
  }

  /** Failures so far, per column name (only columns with at least one). */
  get typeErrors(): TypeErrors {
    const out: TypeErrors = {};
    this.columns.forEach((c, i) => {
      if (this.errors[i]! > 0) out[c.name] = this.errors[i]!;
    });
    return out;
  }
}

/** How a column's `timestamp`/`date` values are read. */
function timestampsOf(column: TypedColumn): TimestampSpec {
  if (column.format === undefined) return {};
  const compiled = compileTimeFormat(column.format);
  if (!compiled.ok) throw new Error(`column ${column.name}: ${compiled.message}; checkSource should have caught this`);
  return { format: compiled.format, timeZone: column.timeZone ?? 'UTC' };
}
