/**
 * The `<source>_<stream>_latest` view: one row per primary key, the newest version of the
 * record. Versions are ordered by the stream's cursor field (its
 * `incremental.cursor_field`) when it has one, then by window end, then by extraction time,
 * newest first; the same SQL text runs in Athena and in DuckDB but for the JSON function.
 *
 * Each key part is the typed column declared with that path, or, for a dotted path with no
 * column, the scalar at that path in `data` (as text). Records whose key has a NULL part are left
 * out of the view (they stay in the table): they cannot be told apart. Versions that tie on every
 * ordering term (the API sent the same key twice in one page) are resolved arbitrarily.
 */

import { dottedFields } from '../expressions/compilePath.js';
import { quoteIdent, sqlString, type SqlDialect } from './sqlText.js';
import { prestoViewTableInput, type ViewTableInput } from './prestoView.js';
import { curatedColumns, PARTITION_COLUMN, type TableSpec } from './tableSpec.js';

/** The name of the `_latest` view of a stream. */
export function latestViewName(spec: Pick<TableSpec, 'name'>): string {
  return `${spec.name}_latest`;
}

/** Column of the window function; never part of the view's columns. */
const RANK = '_version_rank';

/**
 * The SQL expression of a JMESPath over a record: its typed column, else the JSON scalar at a
 * dotted path, else undefined (the path cannot be expressed in SQL).
 */
export function keyExpression(expression: string, columns: readonly { readonly name: string; readonly path: string }[], dialect: SqlDialect): string | undefined {
  const column = columns.find((c) => c.path === expression);
  if (column) return quoteIdent(column.name);
  const fields = dottedFields(expression);
  if (fields === undefined) return undefined;
  const fn = dialect === 'athena' ? 'json_extract_scalar' : 'json_extract_string';
  return `${fn}(${quoteIdent('data')}, ${sqlString(`$.${fields.join('.')}`)})`;
}

/**
 * The SELECT of the `_latest` view over the `<source>_<stream>` table, or undefined when the
 * stream has no primary key. Athena gets it inside a Presto view (prestoView.ts); DuckDB inside
 * CREATE VIEW (duckdbViews.ts).
 * @throws Error when a key part cannot be expressed (checkSource reports it first)
 */
export function latestViewSelect(spec: TableSpec, dialect: SqlDialect): string | undefined {
  if (spec.primaryKey.length === 0) return undefined;
  const keys = spec.primaryKey.map((expression) => {
    const sql = keyExpression(expression, spec.columns, dialect);
    if (sql === undefined) throw new Error(`${spec.name}: primary key "${expression}" has no SQL form; checkSource should have caught this`);
    return sql;
  });
  const order: string[] = [];
  if (spec.cursorField !== undefined) {
    const cursor = keyExpression(spec.cursorField, spec.columns, dialect);
    if (cursor !== undefined) order.push(`${cursor} DESC NULLS LAST`);
  }
  order.push(`${quoteIdent('_window_end')} DESC`, `${quoteIdent('_extracted_at')} DESC`);
  const columns = [...curatedColumns(spec), PARTITION_COLUMN].map((c) => quoteIdent(c.name)).join(', ');
  return [
    `SELECT ${columns}`,
    `FROM (`,
    `  SELECT *, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${order.join(', ')}) AS ${quoteIdent(RANK)}`,
    `  FROM ${quoteIdent(spec.name)}`,
    `  WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')}`,
    `) AS ${quoteIdent('versions')}`,
    `WHERE ${quoteIdent(RANK)} = 1`,
  ].join('\n');
}

/**
 * The Glue table of a stream's `_latest` Athena view, or undefined when it has no primary key.
 * @param database the literal Glue database name (it is written into the view's encoding)
 */
export function athenaLatestView(spec: TableSpec, database: string): ViewTableInput | undefined {
  const sql = latestViewSelect(spec, 'athena');
  if (sql === undefined) return undefined;
  return prestoViewTableInput({
    name: latestViewName(spec),
    database,
    sql,
    columns: [...curatedColumns(spec), PARTITION_COLUMN],
    description: `${spec.source}.${spec.stream}: the newest version of each record by primary key (${spec.primaryKey.join(', ')})`,
  });
}
