/**
 * `apilake query` reads the lake; it never changes it. DuckDB runs whatever SQL it is given, and
 * `COPY … TO`, `EXPORT DATABASE`, `ATTACH` or `SET` would write files anywhere the user can,
 * commits in the lake included (a query that overwrote a manifest would hide a committed window).
 * So the SQL must be one statement that only reads: a query (`SELECT`, `WITH`, `FROM`, `VALUES`,
 * `DESCRIBE`, `SHOW`, `SUMMARIZE`, `PRAGMA table_info` all prepare as one) or `EXPLAIN` of one.
 */

import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../../functions/index.js';

/**
 * Refuses SQL that is not one read-only statement, before it runs.
 * @throws InputError saying what the SQL is and what query takes; DuckDB's own error for SQL it cannot parse or bind
 */
export async function checkReadOnly(connection: DuckDBConnection, sql: string): Promise<void> {
  const statements = await connection.extractStatements(sql);
  if (statements.count !== 1) {
    // DuckDB runs a PIVOT whose values it must find first as a CREATE TYPE and then the query.
    const pivot = /^pivot\b/i.test(sql.trim()) ? '; a PIVOT that lists its values (ON column IN (…)) is one' : '';
    throw new InputError(`query runs one statement; this SQL has ${statements.count}${pivot}`);
  }
  const type = (await statements.prepare(0)).statementType;
  if (type === StatementType.SELECT) return;
  if (type === StatementType.EXPLAIN) {
    // EXPLAIN ANALYZE runs the statement it explains: what it explains must itself only read.
    const explained = /^explain\s+(?:analyze\s+)?([\s\S]+)$/i.exec(withoutLeadingComments(sql))?.[1];
    if (explained !== undefined && !/^explain\b/i.test(explained.trim())) return checkReadOnly(connection, explained);
  }
  throw new InputError(
    `query only reads the lake: this SQL is ${kindOf(StatementType[type])}, not a query (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE or EXPLAIN of one); use --out to write a result to a file`,
  );
}

/** A line comment, or a block comment with no `/*` inside (whether those nest is the parser's business). */
const LEADING_COMMENT = /^(?:--[^\n]*(?:\n|$)|\/\*(?:(?!\/\*)[\s\S])*?\*\/)/;

/**
 * The SQL from its first token: the whitespace and comments before it go (a report's heading).
 * A block comment with another inside stays, so that SQL is refused rather than misread.
 */
function withoutLeadingComments(sql: string): string {
  let rest = sql.trim();
  for (let comment = LEADING_COMMENT.exec(rest); comment; comment = LEADING_COMMENT.exec(rest)) rest = rest.slice(comment[0].length).trim();
  return rest;
}

/** `a COPY statement`, `an EXPLAIN statement`, `a statement of another kind`. */
function kindOf(kind: string | undefined): string {
  if (kind === undefined) return 'a statement of another kind';
  return `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} statement`;
}
