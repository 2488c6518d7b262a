import { DuckDBInstance, DuckDBTypeId, JsonDuckDBValueConverter, ResultReturnType, type DuckDBConnection, type DuckDBResult } from '@duckdb/node-api';
import { InputError, quoteIdent, sqlString, type TableSpec } from '../../functions/index.js';
import { attachLocalLake, type LakeTable } from './LocalLake.js';
import { checkReadOnly } from './readOnlySql.js';
import type { ResultColumn } from './rowFormatter.js';

/** Rows of a query, with column names, values converted to JSON-safe types. */
export interface QueryResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  readonly tables: LakeTable[];
}

/** One batch of a streamed result: at most one DuckDB chunk (2,048 rows). */
export interface ResultBatch {
  readonly columns: readonly ResultColumn[];
  /** JSON-safe values: BIGINT, DECIMAL and timestamps as text, lists and structs as JSON. */
  readonly rows: readonly (readonly unknown[])[];
}

/** What a streamed or exported query returns. */
export interface QueryOutcome {
  readonly rows: number;
  readonly tables: LakeTable[];
}

/** Options of the local queries. */
export interface LocalQueryOptions {
  /** Typed columns and primary keys of the streams whose commits record none (from the source definitions). */
  readonly specs?: readonly TableSpec[];
  readonly warn?: (text: string) => void;
  /** Interrupts the query in DuckDB; the query then rejects with DuckDB's error. */
  readonly signal?: AbortSignal;
}

/** A file a commit listed vanished under the query: a forced re-run replaced the window meanwhile. */
const REPLACED_UNDER_US = /No files found that match the pattern|No such file or directory|Cannot open file/i;

/** DuckDB's numeric types: their values are numbers in every output (CSV never prefixes them). */
const NUMERIC_TYPES: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.BIGNUM,
]);

/**
 * Runs SQL over the committed windows of the local lake and hands the result to `onBatch` one
 * chunk at a time, waiting for each before fetching the next: memory stays bounded whatever the
 * result's size. `onBatch` is called at least once (with no rows for an empty result).
 * @throws InputError when DuckDB rejects the SQL, listing the tables available.
 */
export async function streamLocalQuery(sql: string, lakeDir: string, onBatch: (batch: ResultBatch) => Promise<void> | void, options: LocalQueryOptions = {}): Promise<QueryOutcome> {
  return withLocalLake(lakeDir, options, async (connection, delivered) => {
    await checkReadOnly(connection, sql);
    const result = await connection.stream(sql);
    const columns = resultColumns(result);
    let rows = 0;
    for (;;) {
      // An interrupt that came while the consumer was writing stops the query here.
      options.signal?.throwIfAborted();
      const chunk = await result.fetchChunk();
      const count = chunk?.rowCount ?? 0;
      if (count === 0) {
        // DuckDB's Node client ends a stream that failed as if it were complete; only the
        // result's type, INVALID once it failed, tells the two apart.
        if (result.returnType === ResultReturnType.INVALID) {
          options.signal?.throwIfAborted(); // interrupted: nothing to ask
          throw await streamFailure(connection, sql, rows);
        }
        if (!delivered.value) await deliver({ columns, rows: [] });
        return rows;
      }
      const batch = chunk!.convertRows(JsonDuckDBValueConverter);
      // A chunk's strings live in native memory that garbage collection does not see or hurry
      // to free: release them now, or a fast result piles up hundreds of MiB of dead chunks.
      chunk!.reset();
      rows += count;
      await deliver({ columns, rows: batch });
    }

    async function deliver(batch: ResultBatch): Promise<void> {
      delivered.value = true;
      try {
        await onBatch(batch);
      } catch (error) {
        throw new ConsumerFailure(error);
      }
    }
  });
}

/**
 * Why a streamed query failed midway, which DuckDB's Node client does not pass on: the query runs
 * again into an aggregate over every value of every row (so nothing is held but one hash) to
 * hear DuckDB's reason. A statement that cannot be wrapped so, or a failure that does not come
 * back, gets a plain account.
 */
async function streamFailure(connection: DuckDBConnection, sql: string, rows: number): Promise<Error> {
  try {
    await connection.run(`SELECT max(hash(${quoteIdent(ROW_ALIAS)})) FROM (${withoutSemicolon(sql)}) AS ${quoteIdent(ROW_ALIAS)}`);
  } catch (error) {
    if (error instanceof Error && !/^Parser Error/i.test(error.message)) return error;
  }
  return new Error(`the query failed after ${rows} rows, and DuckDB did not say why`);
}

/** The alias of the row in {@link streamFailure}: hashing it reads every column. */
const ROW_ALIAS = '_apilake_row';

function withoutSemicolon(sql: string): string {
  return sql.trim().replace(/;\s*$/, '');
}

/**
 * Writes the result of SQL over the local lake to a file with DuckDB's COPY, which streams it:
 * Parquet in row groups, or JSON lines whose numbers stay JSON numbers.
 * @param file a path DuckDB may create or overwrite (a temporary file: the caller renames it)
 */
export async function copyLocalQuery(sql: string, lakeDir: string, file: string, format: 'parquet' | 'json', options: LocalQueryOptions = {}): Promise<QueryOutcome> {
  return withLocalLake(lakeDir, options, async (connection) => {
    await checkReadOnly(connection, sql);
    // The target is a literal path (COPY does not glob); the SQL is the user's, as typed.
    const reader = await connection.runAndReadAll(`COPY (${withoutSemicolon(sql)}) TO ${sqlString(file)} (FORMAT ${format})`);
    return Number(reader.getRowsJson()[0]?.[0] ?? 0);
  });
}

/**
 * Runs SQL over the local lake and returns every row: for small results (tests, the demo).
 * @throws InputError when DuckDB rejects the SQL, listing the tables available.
 */
export async function runLocalQuery(sql: string, lakeDir: string, options: LocalQueryOptions = {}): Promise<QueryResult> {
  let columns: string[] = [];
  const rows: unknown[][] = [];
  const { tables } = await streamLocalQuery(
    sql,
    lakeDir,
    (batch) => {
      columns = batch.columns.map((c) => c.name);
      rows.push(...(batch.rows as unknown[][]));
    },
    options,
  );
  return { columns, rows, tables };
}

/** The columns of a result, each marked numeric or not. */
function resultColumns(result: DuckDBResult): ResultColumn[] {
  return result.columnNames().map((name, i) => ({ name, numeric: NUMERIC_TYPES.has(result.columnTypeId(i)) }));
}

/**
 * Opens an in-memory DuckDB over the lake and runs `body`. When a file vanished under the query
 * before anything was delivered, it reads the commits again once (a second miss is a real error);
 * once a batch has left, starting over would deliver it twice.
 */
async function withLocalLake(lakeDir: string, options: LocalQueryOptions, body: (connection: DuckDBConnection, delivered: { value: boolean }) => Promise<number>): Promise<QueryOutcome> {
  for (let attempt = 1; ; attempt++) {
    // A query only reads: DuckDB would otherwise download and install an extension a table function names (~/.duckdb, the network).
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await instance.connect();
    const interrupt = () => connection.interrupt();
    options.signal?.addEventListener('abort', interrupt, { once: true });
    const delivered = { value: false };
    try {
      const tables = await attachLocalLake(connection, lakeDir, options.specs);
      if (attempt === 1) warnAbout(tables, options.warn);
      try {
        options.signal?.throwIfAborted();
        return { rows: await body(connection, delivered), tables };
      } catch (error) {
        if (error instanceof ConsumerFailure) throw error.cause;
        // Refused before it ran (readOnlySql.ts): it says why itself.
        if (error instanceof InputError) throw error;
        if (options.signal?.aborted) throw error;
        if (attempt === 1 && !delivered.value && REPLACED_UNDER_US.test((error as Error).message)) continue;
        const names = await queryableNames(connection, tables);
        const available = `${names.join(', ') || 'none'}${tables.length === 0 ? ` (nothing committed under ${lakeDir} yet)` : ''}`;
        throw new InputError(`query failed: ${(error as Error).message}\ntables: ${available}`, { cause: error });
      }
    } finally {
      options.signal?.removeEventListener('abort', interrupt);
      connection.closeSync();
      instance.closeSync();
    }
  }
}

/**
 * Every name a query can read, as DuckDB has them: each stream's table, `_raw` table and, with a
 * primary key, `_latest` view, streams with no commit yet included. Should DuckDB not answer, the
 * names of the streams found in the lake.
 */
async function queryableNames(connection: DuckDBConnection, tables: readonly LakeTable[]): Promise<string[]> {
  try {
    const reader = await connection.runAndReadAll('SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name');
    return reader.getRowsJson().flatMap(([name]) => (typeof name === 'string' ? [name] : []));
  } catch {
    return tables.flatMap((t) => [t.name, `${t.name}_raw`]);
  }
}

/** An error of the batch consumer (an output that failed), passed through as it is. */
class ConsumerFailure extends Error {
  constructor(cause: unknown) {
    super('the consumer of the result failed', { cause });
  }
}

function warnAbout(tables: readonly LakeTable[], warn: ((text: string) => void) | undefined): void {
  if (!warn) return;
  for (const table of tables) {
    if (table.drift) {
      warn(
        `${table.name}: the source definition disagrees with the table spec the lake committed (${table.committedSpec?.key}): ${table.drift.join('; ')}; queries read the committed spec, and the next run that commits a window of the stream records the definition's`,
      );
    }
    for (const problem of table.unreadable) warn(`${table.name}: left out ${problem}`);
    if (table.uncurated > 0) {
      warn(`${table.name}: ${table.uncurated} committed windows have no Parquet file yet and are only in ${table.name}_raw (apilake backfill ${table.source} --curate-only --from … --to … builds it)`);
    }
  }
}
