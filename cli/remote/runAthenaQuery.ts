/** SQL on Athena in the stack's workgroup: start, poll with backoff, page through the results. */

import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type Row,
} from '@aws-sdk/client-athena';
import { systemClock, type Clock } from '../../functions/clock.js';
import { ApilakeError, InputError } from '../../functions/errors.js';

/** What a query returned. */
export interface AthenaResult {
  readonly executionId: string;
  readonly columns: string[];
  readonly rows: (string | null)[][];
  readonly scannedBytes: number;
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
export async function runAthenaQuery(
  sql: string,
  options: { client: AthenaClient; workGroup: string; database: string; clock?: Clock; signal?: AbortSignal },
): Promise<AthenaResult> {
  const clock = options.clock ?? systemClock;
  const started = await options.client.send(
    new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: options.workGroup, QueryExecutionContext: { Database: options.database } }),
  );
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
  const rows: (string | null)[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await options.client.send(new GetQueryResultsCommand({ QueryExecutionId: executionId, NextToken: token, MaxResults: 1000 }));
    if (first) columns.push(...(page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? c.Label ?? '?'));
    let pageRows = (page.ResultSet?.Rows ?? []).map(values);
    // SELECT results repeat the column names as their first row.
    if (first && pageRows.length > 0 && pageRows[0]!.every((v, i) => v === columns[i])) pageRows = pageRows.slice(1);
    rows.push(...pageRows);
    first = false;
    token = page.NextToken;
  } while (token);
  return { executionId, columns, rows, scannedBytes };
}

function values(row: Row): (string | null)[] {
  return (row.Data ?? []).map((d) => d.VarCharValue ?? null);
}
