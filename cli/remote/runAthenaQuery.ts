/** SQL on Athena in the stack's workgroup: start, poll with backoff, page through the results. */

import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand, type AthenaClient, type Row } from '@aws-sdk/client-athena';
import { ApilakeError, type Clock, InputError, systemClock } from '../../functions/index.js';
import type { ResultColumn } from '../query/rowFormatter.js';

/** What a query returned. */
export interface AthenaResult {
  readonly executionId: string;
  readonly columns: string[];
  /** Athena's type of each column (`varchar`, `bigint`, `decimal`, …). */
  readonly columnTypes: string[];
  readonly rows: (string | null)[][];
  readonly scannedBytes: number;
}

/** Athena's numeric types, as ColumnInfo.Type names them (`decimal` without its precision). */
const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'real', 'float', 'double', 'decimal']);

/** The columns of a result, each marked numeric or not (what CSV output never escapes). */
export function athenaColumns(result: Pick<AthenaResult, 'columns' | 'columnTypes'>): ResultColumn[] {
  return result.columns.map((name, i) => ({ name, numeric: NUMERIC_TYPES.has((result.columnTypes[i] ?? '').toLowerCase().replace(/\(.*$/, '')) }));
}

/** Polling: first wait, growth factor and cap, in ms. */
export const ATHENA_POLL = { firstMs: 200, factor: 2, maxMs: 5_000 } as const;

/** The wait before poll `n` (0-based). */
export function pollDelayMs(n: number): number {
  return Math.min(ATHENA_POLL.maxMs, ATHENA_POLL.firstMs * ATHENA_POLL.factor ** n);
}

/** Longest wait for Athena to accept the stop of a query the caller gave up on. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Runs a query and reads every result page. When `signal` aborts while the query runs, the query
 * is stopped in Athena, so it scans (and bills) nothing more.
 * @throws InputError with Athena's reason when the query fails or is cancelled.
 * @throws ApilakeError when `signal` stopped it.
 */
export async function runAthenaQuery(sql: string, options: { client: AthenaClient; workGroup: string; database: string; clock?: Clock; signal?: AbortSignal }): Promise<AthenaResult> {
  const clock = options.clock ?? systemClock;
  const started = await options.client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: options.workGroup, QueryExecutionContext: { Database: options.database } }));
  const executionId = started.QueryExecutionId!;
  let scannedBytes = 0;
  try {
    for (let poll = 0; ; poll++) {
      await clock.sleep(pollDelayMs(poll), options.signal);
      const { QueryExecution: execution } = await options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: executionId }), { abortSignal: options.signal });
      const state = execution?.Status?.State;
      scannedBytes = execution?.Statistics?.DataScannedInBytes ?? scannedBytes;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new InputError(`Athena query ${executionId} ${state.toLowerCase()}: ${execution?.Status?.StateChangeReason ?? 'no reason given'}`);
      }
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    const stop = await options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: executionId }), { abortSignal: AbortSignal.timeout(STOP_TIMEOUT_MS) }).then(
      () => 'stopped in Athena',
      (stopError: Error) => `it may still run in Athena: stopping it failed: ${stopError.message}`,
    );
    throw new ApilakeError(`Athena query ${executionId} ${stop} (${String(options.signal.reason)})`, { cause: error, context: { executionId } });
  }

  const columns: string[] = [];
  const columnTypes: string[] = [];
  const rows: (string | null)[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await options.client.send(new GetQueryResultsCommand({ QueryExecutionId: executionId, NextToken: token, MaxResults: 1000 }));
    if (first) {
      const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns.push(...info.map((c) => c.Name ?? c.Label ?? '?'));
      columnTypes.push(...info.map((c) => c.Type ?? 'varchar'));
    }
    let pageRows = (page.ResultSet?.Rows ?? []).map(values);
    // SELECT results repeat the column names as their first row.
    if (first && pageRows.length > 0 && pageRows[0]!.every((v, i) => v === columns[i])) pageRows = pageRows.slice(1);
    rows.push(...pageRows);
    first = false;
    token = page.NextToken;
  } while (token);
  return { executionId, columns, columnTypes, rows, scannedBytes };
}

function values(row: Row): (string | null)[] {
  return (row.Data ?? []).map((d) => d.VarCharValue ?? null);
}
