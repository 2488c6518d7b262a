/**
 * A stream's table spec as a commit records it (the manifest's `table`): the typed columns with
 * their type text, the primary key and the cursor field. With it the lake describes itself, so a
 * reader needs no source definition to read the typed table and the `_latest` view of what was
 * committed.
 */

import { checkColumns } from '../config/checkColumns.js';
import { formatColumnType, parseColumnType } from '../config/columnType.js';
import { isJmespath } from '../expressions/compilePath.js';
import type { TableSpec, TypedColumn } from './tableSpec.js';

/** One typed column as stored: `type` is its canonical (Hive) text, e.g. `decimal(10,2)`. */
export interface StoredColumn {
  readonly name: string;
  readonly path: string;
  readonly type: string;
  readonly comment: string;
  /** The format its timestamps were read with, and the zone of text without an offset; absent for the default reading. */
  readonly format?: string;
  readonly time_zone?: string;
}

/** The manifest's `table`: JSON, snake_case like the rest of the manifest. */
export interface StoredTableSpec {
  readonly columns: readonly StoredColumn[];
  /** Empty when the stream declares none (no `_latest` view). */
  readonly primary_key: readonly string[];
  readonly cursor_field?: string;
}

/** What {@link parseStoredTableSpec} returns: the spec, or what is wrong with it. */
export type ParsedStoredTableSpec = { readonly ok: true; readonly stored: StoredTableSpec } | { readonly ok: false; readonly message: string };

const COLUMN_NAME = /^[a-z][a-z0-9_]*$/;

/** The stored form of a spec. */
export function storedTableSpec(spec: TableSpec): StoredTableSpec {
  return {
    columns: spec.columns.map((c) => ({
      name: c.name,
      path: c.path,
      type: formatColumnType(c.type),
      comment: c.comment,
      ...(c.format === undefined ? {} : { format: c.format, time_zone: c.timeZone ?? 'UTC' }),
    })),
    primary_key: [...spec.primaryKey],
    ...(spec.cursorField === undefined ? {} : { cursor_field: spec.cursorField }),
  };
}

/**
 * Checks a stored spec read from the lake as a source definition's columns are checked (names,
 * types, JMESPath, a primary key the `_latest` view can express), so a reader can build SQL from
 * it without further checks.
 */
export function parseStoredTableSpec(value: unknown): ParsedStoredTableSpec {
  const fail = (message: string): ParsedStoredTableSpec => ({ ok: false, message });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('not a JSON object');
  const { columns, primary_key: primaryKey, cursor_field: cursorField } = value as Record<string, unknown>;
  if (!Array.isArray(columns)) return fail('columns is not a list');
  const stored: StoredColumn[] = [];
  for (const [i, column] of columns.entries()) {
    const c = column as Partial<Record<keyof StoredColumn, unknown>> | null;
    if (!c || typeof c.name !== 'string' || typeof c.path !== 'string' || typeof c.type !== 'string' || typeof c.comment !== 'string') {
      return fail(`columns[${i}] is not {name, path, type, comment}`);
    }
    if (!COLUMN_NAME.test(c.name)) return fail(`columns[${i}].name "${c.name}" does not match [a-z][a-z0-9_]*`);
    if ((c.format !== undefined || c.time_zone !== undefined) && (typeof c.format !== 'string' || typeof c.time_zone !== 'string'))
      return fail(`columns[${i}]: format and time_zone go together, as text`);
    stored.push({ name: c.name, path: c.path, type: c.type, comment: c.comment, ...(typeof c.format === 'string' ? { format: c.format, time_zone: c.time_zone } : {}) });
  }
  if (!Array.isArray(primaryKey) || !primaryKey.every((k) => typeof k === 'string')) return fail('primary_key is not a list of JMESPath texts');
  if (cursorField !== undefined && (typeof cursorField !== 'string' || isJmespath(cursorField) !== true)) return fail('cursor_field is not a JMESPath text');
  const problem = checkColumns({ columns: stored, primary_key: primaryKey.length > 0 ? primaryKey : undefined })[0];
  if (problem) return fail(`${problem.path.join('.')}: ${problem.message}`);
  return { ok: true, stored: { columns: stored, primary_key: primaryKey, ...(cursorField === undefined ? {} : { cursor_field: cursorField }) } };
}

/** The table spec of a stream from its stored form (one that {@link parseStoredTableSpec} accepted). */
export function tableSpecFromStored(source: string, stream: string, stored: StoredTableSpec): TableSpec {
  const columns = stored.columns.map((c): TypedColumn => {
    const parsed = parseColumnType(c.type);
    if (!parsed.ok) throw new Error(`stored column ${source}.${stream}.${c.name}: ${parsed.message}; parseStoredTableSpec should have caught this`);
    return { name: c.name, path: c.path, type: parsed.type, comment: c.comment, ...(c.format === undefined ? {} : { format: c.format, timeZone: c.time_zone ?? 'UTC' }) };
  });
  return {
    source,
    stream,
    name: `${source}_${stream}`,
    columns,
    primaryKey: [...stored.primary_key],
    ...(stored.cursor_field === undefined ? {} : { cursorField: stored.cursor_field }),
  };
}
