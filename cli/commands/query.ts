/** `apilake query`: SQL over the local lake (DuckDB) or on Athena, printed as a table, JSON lines or CSV. */

import { formatBytes, renderRows } from '../format.js';

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

export async function queryCommand(sql: string, options: QueryOptions): Promise<void> {
  // Each engine is loaded only when used: DuckDB locally, the Athena SDK remotely.
  if (!options.remote) {
    const { runLocalQuery } = await import('../query/runLocalQuery.js');
    const { columns, rows } = await runLocalQuery(sql, options.lake, { warn: (text) => console.error(`apilake: warning: ${text}`) });
    console.log(renderRows(columns, rows, options.format));
    return;
  }
  const [{ AthenaClient }, { runAthenaQuery }, { resolveAthena }] = await Promise.all([
    import('@aws-sdk/client-athena'),
    import('../remote/runAthenaQuery.js'),
    import('../remote/stackOutputs.js'),
  ]);
  const { workGroup, database } = await resolveAthena(options);
  const result = await runAthenaQuery(sql, { client: new AthenaClient({}), workGroup, database });
  console.log(renderRows(result.columns, result.rows, options.format));
  // On stderr, so piped json/csv output stays clean.
  console.error(`scanned ${formatBytes(result.scannedBytes)} (query ${result.executionId}, workgroup ${workGroup})`);
}
