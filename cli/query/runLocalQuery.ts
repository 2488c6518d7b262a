import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../../functions/errors.js';
import { attachLocalLake, type LakeTable } from './LocalLake.js';

/** Rows of a query, with column names, values converted to JSON-safe types. */
export interface QueryResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  readonly tables: LakeTable[];
}

/**
 * Runs SQL over the local lake with an in-memory DuckDB.
 * @throws InputError when DuckDB rejects the SQL, listing the tables available.
 */
export async function runLocalQuery(sql: string, lakeDir: string): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const tables = await attachLocalLake(connection, lakeDir);
    try {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][], tables };
    } catch (error) {
      const available = tables.map((t) => t.name).join(', ') || `none (no data under ${lakeDir}/raw yet)`;
      throw new InputError(`query failed: ${(error as Error).message}\ntables: ${available}`, { cause: error });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
