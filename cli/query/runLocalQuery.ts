import { DuckDBInstance } from '@duckdb/node-api';
import { resolve } from 'node:path';
import { InputError } from '../../functions/errors.js';
import type { TableSpec } from '../../functions/tables/tableSpec.js';
import { attachLocalLake, type LakeTable } from './LocalLake.js';

/** Rows of a query, with column names, values converted to JSON-safe types. */
export interface QueryResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  readonly tables: LakeTable[];
}

/** Where `apilake query --out` writes, and how. */
export interface QueryExport {
  readonly file: string;
  readonly format: 'parquet' | 'csv' | 'json';
}

/** Options of {@link runLocalQuery}. */
export interface LocalQueryOptions {
  /** Typed columns and primary keys of the streams (from the source definitions). */
  readonly specs?: readonly TableSpec[];
  /** Writes the result to a file with DuckDB's COPY instead of returning rows. */
  readonly out?: QueryExport;
  readonly warn?: (text: string) => void;
  /** Interrupts the query in DuckDB; the query then rejects with DuckDB's error. */
  readonly signal?: AbortSignal;
}

/** A file a commit listed vanished under the query: a forced re-run replaced the window meanwhile. */
const REPLACED_UNDER_US = /No files found that match the pattern|No such file or directory|Cannot open file/i;

/**
 * Runs SQL over the committed windows of the local lake with an in-memory DuckDB.
 * @throws InputError when DuckDB rejects the SQL, listing the tables available.
 */
export async function runLocalQuery(sql: string, lakeDir: string, options: LocalQueryOptions = {}): Promise<QueryResult> {
  for (let attempt = 1; ; attempt++) {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const interrupt = () => connection.interrupt();
    options.signal?.addEventListener('abort', interrupt, { once: true });
    try {
      const tables = await attachLocalLake(connection, lakeDir, options.specs);
      try {
        let result: QueryResult;
        if (options.out) {
          // The target is a literal path (COPY does not glob); the SQL is the user's, as typed.
          const format = options.out.format === 'csv' ? 'FORMAT csv, HEADER' : options.out.format === 'json' ? 'FORMAT json' : 'FORMAT parquet';
          const reader = await connection.runAndReadAll(`COPY (${sql.trim().replace(/;\s*$/, '')}) TO '${resolve(options.out.file).replaceAll("'", "''")}' (${format})`);
          result = { columns: ['rows'], rows: reader.getRowsJson() as unknown[][], tables };
        } else {
          const reader = await connection.runAndReadAll(sql);
          result = { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][], tables };
        }
        if (attempt === 1) warnAbout(tables, options.warn);
        return result;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        // Reading the commits again sees the replacement; a second miss is a real error.
        if (attempt === 1 && REPLACED_UNDER_US.test((error as Error).message)) continue;
        const available = tables.flatMap((t) => [t.name, `${t.name}_raw`]).join(', ') || `none (nothing committed under ${lakeDir} yet)`;
        throw new InputError(`query failed: ${(error as Error).message}\ntables: ${available}`, { cause: error });
      }
    } finally {
      options.signal?.removeEventListener('abort', interrupt);
      connection.closeSync();
      instance.closeSync();
    }
  }
}

function warnAbout(tables: readonly LakeTable[], warn: ((text: string) => void) | undefined): void {
  if (!warn) return;
  for (const table of tables) {
    for (const problem of table.unreadable) warn(`${table.name}: left out ${problem}`);
    if (table.uncurated > 0) {
      warn(`${table.name}: ${table.uncurated} committed windows have no Parquet file yet and are only in ${table.name}_raw (apilake backfill ${table.source} --curate-only --from … --to … builds it)`);
    }
  }
}
