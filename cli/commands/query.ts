import { formatBytes, formatCsv, formatTable } from '../format.js';
import { runAthenaQuery } from '../remote/runAthenaQuery.js';
import { resolveAthena } from '../remote/stackOutputs.js';
import { runLocalQuery } from '../query/runLocalQuery.js';

/** Flags of `apilake query`. */
export interface QueryOptions {
  readonly lake: string;
  readonly format: 'table' | 'json' | 'csv';
  readonly remote: boolean;
  readonly workgroup?: string;
  readonly database?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

/** `apilake query`: SQL over the local lake (DuckDB) or on Athena, printed as a table, JSON lines or CSV. */
export async function queryCommand(sql: string, options: QueryOptions): Promise<void> {
  if (!options.remote) {
    const { columns, rows } = await runLocalQuery(sql, options.lake, { warn: (text) => console.error(`apilake: warning: ${text}`) });
    console.log(renderRows(columns, rows, options.format));
    return;
  }
  const { AthenaClient } = await import('@aws-sdk/client-athena');
  const { workGroup, database } = await resolveAthena(options);
  const result = await runAthenaQuery(sql, { client: new AthenaClient({}), workGroup, database });
  console.log(renderRows(result.columns, result.rows, options.format));
  // On stderr, so piped json/csv output stays clean.
  console.error(`scanned ${formatBytes(result.scannedBytes)} (query ${result.executionId}, workgroup ${workGroup})`);
}

/** Renders query rows in one of the CLI's formats. */
export function renderRows(columns: string[], rows: unknown[][], format: 'table' | 'json' | 'csv'): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, row[i]])))).join('\n');
  return formatTable(columns, rows);
}
