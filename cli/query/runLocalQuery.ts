import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../functions/errors.js';
import { attachLocalLake, type LakeTable } from './LocalLake.js';

/** Rows of a query, with column names, values converted to JSON-safe types. */
export interface QueryResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  readonly tables: LakeTable[];
}

/** A file a commit listed vanished under the query: a forced re-run replaced the window meanwhile. */
const REPLACED_UNDER_US = /No files found that match the pattern|No such file or directory|Cannot open file/i;

/**
 * Runs SQL over the committed windows of the local lake with an in-memory DuckDB.
 * @throws InputError when DuckDB rejects the SQL, listing the tables available.
 */
export async function runLocalQuery(sql: string, lakeDir: string, options: { warn?: (text: string) => void } = {}): Promise<QueryResult> {
  for (let attempt = 1; ; attempt++) {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const tables = await attachLocalLake(connection, lakeDir);
      try {
        const reader = await connection.runAndReadAll(sql);
        if (attempt === 1) for (const table of tables) for (const problem of table.unreadable) options.warn?.(`${table.name}: left out ${problem}`);
        return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][], tables };
      } catch (error) {
        // Reading the commits again sees the replacement; a second miss is a real error.
        if (attempt === 1 && REPLACED_UNDER_US.test((error as Error).message)) continue;
        const available = tables.map((t) => t.name).join(', ') || `none (nothing committed under ${lakeDir} yet)`;
        throw new InputError(`query failed: ${(error as Error).message}\ntables: ${available}`, { cause: error });
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }
}
