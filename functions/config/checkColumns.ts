/**
 * Checks a stream's `primary_key` and `columns` for what the schema cannot express: type
 * grammar, unique names, no clash with the envelope, valid JMESPath, a `format` only where
 * timestamps are read, and a primary key the `_latest` view can express in SQL.
 */

import type { StreamDefinition } from './sourceSchema.js';
import { parseColumnType, RESERVED_COLUMN_NAMES, type ColumnType } from './columnType.js';
import { readFormatProblem } from './readFormatProblem.js';
import { dottedFields, isJmespath } from '../expressions/compilePath.js';

/** A problem located by a path relative to the stream. */
export interface ColumnProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Every problem of a stream's `primary_key` and `columns`; empty when they are valid. */
export function checkColumns(stream: Pick<StreamDefinition, 'columns' | 'primary_key'>): ColumnProblem[] {
  const problems: ColumnProblem[] = [];
  const add = (path: readonly (string | number)[], message: string) => problems.push({ path, message });
  const seen = new Map<string, number>();
  stream.columns.forEach((column, i) => {
    if (RESERVED_COLUMN_NAMES.has(column.name)) {
      add(['columns', i, 'name'], `"${column.name}" is an envelope column; choose another name (reserved: ${[...RESERVED_COLUMN_NAMES].join(', ')})`);
    }
    const earlier = seen.get(column.name);
    if (earlier !== undefined) add(['columns', i, 'name'], `duplicate column name "${column.name}" (also columns[${earlier}])`);
    seen.set(column.name, i);
    const jmespath = isJmespath(column.path);
    if (jmespath !== true) add(['columns', i, 'path'], `"${column.path}" is not valid JMESPath: ${jmespath}`);
    const type = parseColumnType(column.type);
    if (!type.ok) add(['columns', i, 'type'], type.message);
    if (column.format !== undefined) {
      const problem = readFormatProblem(column.format);
      if (problem) add(['columns', i, 'format'], problem);
      else if (type.ok && !readsTimestamps(type.type)) add(['columns', i, 'format'], `a format applies to timestamp and date columns (and arrays of them), not ${column.type}`);
    }
  });
  stream.primary_key?.forEach((expression, i) => {
    const jmespath = isJmespath(expression);
    if (jmespath !== true) add(['primary_key', i], `"${expression}" is not valid JMESPath: ${jmespath}`);
    else if (!stream.columns.some((column) => column.path === expression) && dottedFields(expression) === undefined) {
      add(['primary_key', i], `"${expression}" is neither the path of a declared column nor a dotted path (a.b.c): declare a column with this path so the _latest view can use it`);
    }
  });
  return problems;
}

/** Whether values of `type` are read as timestamps: `timestamp`, `date`, or arrays of them. */
function readsTimestamps(type: ColumnType): boolean {
  return type.kind === 'array' ? readsTimestamps(type.element) : type.kind === 'timestamp' || type.kind === 'date';
}
