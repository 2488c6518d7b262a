/** `apilake query`: SQL over the local lake (DuckDB) or on Athena, printed as a table, JSON lines or CSV. */

import { ApilakeError, InputError } from '../../functions/errors.js';
import { formatBytes, renderRows } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';

/** Flags of `apilake query`. */
export interface QueryOptions {
  readonly lake: string;
  readonly sources: string;
  readonly format: 'table' | 'json' | 'csv' | 'parquet';
  /** Write the result to this file (DuckDB COPY) instead of printing it. */
  readonly out?: string;
  readonly remote: boolean;
  readonly workgroup?: string;
  readonly database?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function queryCommand(sql: string, options: QueryOptions): Promise<void> {
  if (options.format === 'parquet' && !options.out) throw new InputError('--format parquet writes a file: add --out FILE');
  if (options.out && options.format === 'table') throw new InputError('--out writes parquet, csv or json: add --format parquet|csv|json');
  if (options.out && options.remote) throw new InputError('--out works on the local lake; Athena already writes every result to the workgroup\'s S3 location');
  const interrupt = interruptSignal(options.remote ? 'stopping the query in Athena' : `stopping the query${options.out ? `; ${options.out} is not written` : ''}`);
  try {
    await runQuery(sql, options, interrupt.signal);
  } catch (error) {
    if (!interrupt.stoppedBy) throw error;
    // An interrupted COPY removes what it wrote, and leaves a file it was replacing as it was.
    const stopped = `query stopped${options.out ? `; ${options.out} was not written (a file that was there is left as it was)` : ''}`;
    console.error(`apilake: ${error instanceof ApilakeError ? error.message : stopped}`);
  } finally {
    if (interrupt.stoppedBy) process.exitCode = signalExitCode(interrupt.stoppedBy);
    interrupt.dispose();
  }
}

async function runQuery(sql: string, options: QueryOptions, signal: AbortSignal): Promise<void> {
  // Each engine is loaded only when used: DuckDB locally, the Athena SDK remotely.
  if (!options.remote) {
    const [{ runLocalQuery }, { loadTableSpecs }] = await Promise.all([import('../query/runLocalQuery.js'), import('../query/tableSpecs.js')]);
    const warn = (text: string) => console.error(`apilake: warning: ${text}`);
    const specs = await loadTableSpecs(options.sources, warn);
    const out = options.out ? { file: options.out, format: options.format as 'parquet' | 'csv' | 'json' } : undefined;
    const { columns, rows } = await runLocalQuery(sql, options.lake, { specs, warn, signal, ...(out ? { out } : {}) });
    if (out) console.error(`wrote ${rows[0]?.[0] ?? 0} rows to ${out.file} (${out.format})`);
    else console.log(renderRows(columns, rows, options.format as 'table' | 'json' | 'csv'));
    return;
  }
  const [{ AthenaClient }, { runAthenaQuery }, { resolveAthena }] = await Promise.all([
    import('@aws-sdk/client-athena'),
    import('../remote/runAthenaQuery.js'),
    import('../remote/stackOutputs.js'),
  ]);
  const { workGroup, database } = await resolveAthena(options);
  const result = await runAthenaQuery(sql, { client: new AthenaClient({}), workGroup, database, signal });
  console.log(renderRows(result.columns, result.rows, options.format as 'table' | 'json' | 'csv'));
  // On stderr, so piped json/csv output stays clean.
  console.error(`scanned ${formatBytes(result.scannedBytes)} (query ${result.executionId}, workgroup ${workGroup})`);
}
