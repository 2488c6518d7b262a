/**
 * `apilake query`: SQL over the local lake (DuckDB) or on Athena, printed as a table, JSON lines
 * or CSV, or written to a file. Local results stream batch by batch, so memory stays bounded
 * whatever their size.
 */

import { ApilakeError, InputError } from '../../functions/index.js';
import { formatBytes, plural } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';
import type { AtomicOutputFile } from '../query/AtomicOutputFile.js';
import type { ResultBatch } from '../query/runLocalQuery.js';
import { rowFormatter, type RowFormatter, type RowFormatterOptions, type TextFormat } from '../query/rowFormatter.js';
import { OutputClosedError, streamSink, type TextSink } from '../query/textSink.js';
import { checkLakeFolder } from '../lakeFolder.js';

/** Flags of `apilake query`. */
export interface QueryOptions {
  readonly lake: string;
  readonly sources: string;
  readonly format: 'table' | 'json' | 'csv' | 'parquet';
  /** Write the result to this file instead of printing it. */
  readonly out?: string;
  /** With `out`: replace an existing file. */
  readonly force?: boolean;
  /** CSV: prefix cells a spreadsheet would read as formulas (`--no-formula-escape` clears it). @default true */
  readonly formulaEscape?: boolean;
  readonly remote: boolean;
  readonly workgroup?: string;
  readonly database?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function queryCommand(sql: string, options: QueryOptions): Promise<void> {
  checkFlags(options);
  const formatting: RowFormatterOptions = { escapeFormulas: options.formulaEscape ?? true };
  // Listening before any temporary file exists, so no signal can leave one behind.
  const interrupt = interruptSignal(options.remote ? 'stopping the query in Athena' : `stopping the query${options.out ? `; ${options.out} is not written` : ''}`);
  try {
    // Each engine is loaded only when used: DuckDB locally, the Athena SDK remotely.
    if (options.remote) await queryRemote(sql, options, formatting, interrupt.signal);
    else await queryLocal(sql, options, formatting, interrupt.signal);
  } catch (error) {
    if (!interrupt.stoppedBy) throw error;
    const stopped = `query stopped${options.out ? `; ${options.out} was not written (a file that was there is left as it was)` : ''}`;
    console.error(`apilake: ${options.remote && error instanceof ApilakeError ? error.message : stopped}`);
  } finally {
    if (interrupt.stoppedBy) process.exitCode = signalExitCode(interrupt.stoppedBy);
    interrupt.dispose();
  }
}

async function queryRemote(sql: string, options: QueryOptions, formatting: RowFormatterOptions, signal: AbortSignal): Promise<void> {
  const [{ AthenaClient }, { athenaColumns, runAthenaQuery }, { resolveAthena }] = await Promise.all([
    import('@aws-sdk/client-athena'),
    import('../remote/runAthenaQuery.js'),
    import('../remote/stackOutputs.js'),
  ]);
  const { workGroup, database } = await resolveAthena(options);
  const result = await runAthenaQuery(sql, { client: new AthenaClient({}), workGroup, database, signal });
  const columns = athenaColumns(result);
  const printer = textPrinter(options.format as TextFormat, streamSink(process.stdout), formatting);
  try {
    await printer.write({ columns, rows: result.rows });
    await printer.finish();
  } catch (error) {
    if (!(error instanceof OutputClosedError)) throw error;
  }
  // On stderr, so piped json/csv output stays clean.
  console.error(`scanned ${formatBytes(result.scannedBytes)} (query ${result.executionId}, workgroup ${workGroup})`);
}

function checkFlags(options: QueryOptions): void {
  if (options.format === 'parquet' && !options.out) throw new InputError('--format parquet writes a file: add --out FILE');
  if (options.out && options.format === 'table') throw new InputError('--out writes parquet, csv or json: add --format parquet|csv|json');
  if (options.out && options.remote) throw new InputError("--out works on the local lake; Athena already writes every result to the workgroup's S3 location");
  if (options.force && !options.out) throw new InputError('--force replaces an existing --out file: add --out FILE');
  if (options.formulaEscape === false && options.format !== 'csv') throw new InputError('--no-formula-escape applies to CSV: add --format csv');
}

async function queryLocal(sql: string, options: QueryOptions, formatting: RowFormatterOptions, signal: AbortSignal): Promise<void> {
  const [{ streamLocalQuery, copyLocalQuery }, { loadTableSpecs }, { resolveOutPath }, { AtomicOutputFile }] = await Promise.all([
    import('../query/runLocalQuery.js'),
    import('../query/tableSpecs.js'),
    import('../query/resolveOutPath.js'),
    import('../query/AtomicOutputFile.js'),
  ]);
  await checkLakeFolder(options.lake, { mayBeMissing: true });
  const warn = (text: string) => console.error(`apilake: warning: ${text}`);
  // Checked before the query runs, so a refused --out costs nothing.
  const target = options.out === undefined ? undefined : await resolveOutPath(options.out, { lakeDir: options.lake, force: options.force });
  const specs = await loadTableSpecs(options.sources, warn);

  if (target === undefined) {
    const printer = textPrinter(options.format as TextFormat, streamSink(process.stdout), formatting);
    try {
      await streamLocalQuery(sql, options.lake, (batch) => printer.write(batch), { specs, warn, signal });
      await printer.finish();
    } catch (error) {
      // The reader stopped reading (`| head`): it has what it wanted.
      if (!(error instanceof OutputClosedError)) throw error;
    }
    return;
  }

  let file: AtomicOutputFile | undefined;
  try {
    file = await AtomicOutputFile.create(target);
    let rows: number;
    if (options.format === 'parquet' || options.format === 'json') {
      await file.release();
      ({ rows } = await copyLocalQuery(sql, options.lake, file.tempPath, options.format, { specs, warn, signal }));
    } else {
      // CSV goes through the same writer as printed CSV, which escapes formula-like cells.
      const printer = textPrinter('csv', file.textSink(), formatting);
      ({ rows } = await streamLocalQuery(sql, options.lake, (batch) => printer.write(batch), { specs, warn, signal }));
      await printer.finish();
    }
    // A stop signal that came as the query ended still means "do not write it".
    signal.throwIfAborted();
    await file.commit({ force: options.force ?? false });
    console.error(`wrote ${plural(rows, 'row')} to ${options.out} (${options.format})`);
  } catch (error) {
    await file?.discard();
    throw error;
  }
}

/** Formats batches as they come and writes them to a sink; the formatter is made from the first batch's columns. */
function textPrinter(format: TextFormat, sink: TextSink, formatting: RowFormatterOptions): { write(batch: ResultBatch): Promise<void>; finish(): Promise<void> } {
  let formatter: RowFormatter | undefined;
  return {
    async write(batch) {
      formatter ??= rowFormatter(format, batch.columns, formatting);
      await sink.write(formatter.push(batch.rows));
    },
    async finish() {
      if (formatter) await sink.write(formatter.end());
    },
  };
}
