/**
 * Checks a stream's `primary_key` and `columns` for what the schema cannot express: type
 * grammar, unique names, no clash with the envelope, valid JMESPath, a `format` only where
 * timestamps are read, and a primary key the `_latest` view can express in SQL.
 */

import type { PartialColumn } from './partialSource.js';
import { parseColumnType, RESERVED_COLUMN_NAMES, type ColumnType } from './columnType.js';
import { readFormatProblem } from './readFormatProblem.js';
import { dottedFields, isJmespath } from '../expressions/compilePath.js';

/** A problem located by a path relative to the stream. */
export interface ColumnProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Every problem of a stream's `primary_key` and `columns`; empty when they are valid. A field
 * missing from a column (it did not pass the schema) skips the checks that need it, so the other
 * fields' problems are reported in the same pass.
 */
export function checkColumns(stream: { readonly columns: readonly PartialColumn[]; readonly primary_key?: readonly string[] | undefined }): ColumnProblem[] {
  const problems: ColumnProblem[] = [];
  const add = (path: readonly (string | number)[], message: string) => problems.push({ path, message });
  const seen = new Map<string, number>();
  stream.columns.forEach((column, i) => {
    if (column.name !== undefined) {
      if (RESERVED_COLUMN_NAMES.has(column.name)) {
        add(['columns', i, 'name'], `"${column.name}" is an envelope column; choose another name (reserved: ${[...RESERVED_COLUMN_NAMES].join(', ')})`);
      }
      const earlier = seen.get(column.name);
      if (earlier !== undefined) add(['columns', i, 'name'], `duplicate column name "${column.name}" (also columns[${earlier}])`);
      seen.set(column.name, i);
    }
    if (column.path !== undefined) {
      const jmespath = isJmespath(column.path);
      if (jmespath !== true) add(['columns', i, 'path'], `"${column.path}" is not valid JMESPath: ${jmespath}`);
    }
    const type = column.type === undefined ? undefined : parseColumnType(column.type);
    if (type && !type.ok) add(['columns', i, 'type'], type.message);
    if (column.format !== undefined) {
      const problem = readFormatProblem(column.format);
      if (problem) add(['columns', i, 'format'], problem);
      else if (type?.ok && !readsTimestamps(type.type)) add(['columns', i, 'format'], `a format applies to timestamp and date columns (and arrays of them), not ${column.type}`);
    }
  });
  // A column whose path did not parse may be the one a key names: that key cannot be judged.
  const pathsKnown = stream.columns.every((column) => column.path !== undefined);
  stream.primary_key?.forEach((expression, i) => {
    const jmespath = isJmespath(expression);
    if (jmespath !== true) add(['primary_key', i], `"${expression}" is not valid JMESPath: ${jmespath}`);
    else if (pathsKnown && !stream.columns.some((column) => column.path === expression) && dottedFields(expression) === undefined) {
      add(['primary_key', i], `"${expression}" is neither the path of a declared column nor a dotted path (a.b.c): declare a column with this path so the _latest view can use it`);
    }
  });
  return problems;
}

/** Whether values of `type` are read as timestamps: `timestamp`, `date`, or arrays of them. */
function readsTimestamps(type: ColumnType): boolean {
  return type.kind === 'array' ? readsTimestamps(type.element) : type.kind === 'timestamp' || type.kind === 'date';
}
