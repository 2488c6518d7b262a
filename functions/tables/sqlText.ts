/** Quoting shared by the Athena (Trino) and DuckDB SQL this folder generates: both follow ANSI. */

/** The SQL engines a generated statement targets. */
export const SQL_DIALECTS = ['athena', 'duckdb'] as const;
/** One of {@link SQL_DIALECTS}. */
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** A quoted identifier (`"order"`): column names may be reserved words in either engine. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
