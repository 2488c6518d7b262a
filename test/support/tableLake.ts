/**
 * Lands windows of a stream into a local folder the way the engine will once the typed tables
 * are wired in: gzip JSON lines under raw/ and one Parquet file under curated/ per attempt,
 * named by run id so re-runs of a window sit side by side (readers list only the committed one).
 */

import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseJson } from '../../functions/body/preciseJson.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { compactStamp, partitionDate } from '../../functions/sink/lakeLayout.js';
import { ColumnExtractor, type TypeErrors } from '../../functions/tables/ColumnExtractor.js';
import { duckdbCuratedViewSql, duckdbLatestViewSql, duckdbRawViewSql } from '../../functions/tables/duckdbViews.js';
import { ParquetFileWriter, type ParquetFileInfo, type ParquetFileWriterOptions } from '../../functions/tables/ParquetFileWriter.js';
import type { TableSpec } from '../../functions/tables/tableSpec.js';
import { isoSeconds, type TimeWindow } from '../../functions/window/TimeWindow.js';

/** One page as the API sent it: each record's exact JSON text. */
export interface TestPage {
  readonly extractedAt: Date;
  readonly records: readonly string[];
  /** JSON text of the parent key, for a child stream's page. */
  readonly parent?: string;
}

/** The files one attempt of a window produced. */
export interface LandedWindow {
  readonly rawFile: string;
  readonly parquetFile: string;
  readonly info: ParquetFileInfo;
  readonly typeErrors: TypeErrors;
}

/** Lands one attempt of a window. */
export async function landWindow(root: string, spec: TableSpec, window: TimeWindow, runId: string, pages: readonly TestPage[], options: ParquetFileWriterOptions = {}): Promise<LandedWindow> {
  const storage = new FsLakeStorage(root);
  const base = `source=${spec.source}/stream=${spec.stream}/dt=${partitionDate(window)}/${compactStamp(window.start)}_${compactStamp(window.end)}_${runId}`;
  const rawKey = `raw/${base}_part-00000.jsonl.gz`;
  const parquetKey = `curated/${base}.parquet`;

  const envelope = { windowStart: isoSeconds(window.start), windowEnd: isoSeconds(window.end), runId };
  const file = new ParquetFileWriter(spec, envelope, options);
  const upload = storage.writeStream(parquetKey, file.output);
  const extractor = new ColumnExtractor(spec.columns);
  const lines: string[] = [];
  for (const page of pages) {
    const extractedAt = page.extractedAt.toISOString();
    const values = page.records.map((text) => extractor.extract(parseJson(text).value));
    await file.writePage({ extractedAt, parent: page.parent ?? null, data: page.records, values });
    const parent = page.parent === undefined ? '' : `"_parent":${page.parent},`;
    for (const text of page.records) {
      lines.push(
        `{"_source":"${spec.source}","_stream":"${spec.stream}","_window_start":"${envelope.windowStart}","_window_end":"${envelope.windowEnd}","_extracted_at":"${extractedAt}","_run_id":"${runId}",${parent}"data":${text}}\n`,
      );
    }
  }
  const info = await file.close();
  await upload;
  await storage.writeStream(rawKey, Readable.from([lines.join('')]).pipe(createGzip()));
  return { rawFile: join(root, rawKey), parquetFile: join(root, parquetKey), info, typeErrors: extractor.typeErrors };
}

/** A DuckDB connection with the stream's three views over the given files. */
export async function openViews(spec: TableSpec, files: { parquet: readonly string[]; raw: readonly string[] }): Promise<DuckDBConnection> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  // The same macro the local lake defines, so Athena's function name works here too.
  await connection.run(`CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`);
  await connection.run(duckdbCuratedViewSql(spec, files.parquet));
  await connection.run(duckdbRawViewSql(spec, files.raw));
  const latest = duckdbLatestViewSql(spec);
  if (latest) await connection.run(latest);
  return connection;
}

/** Rows of a query as JSON-friendly objects (bigints and decimals as text). */
export async function rows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson();
}
