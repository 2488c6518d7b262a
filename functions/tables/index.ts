/**
 * Typed tables (issue 13): column types, value conversion, Parquet files, Glue/Athena/DuckDB SQL.
 *
 * Write path, per window attempt (beside the raw parts, from the same parsed page):
 * `spec = tableSpec(source, stream)`; `extractor = new ColumnExtractor(spec.columns)`;
 * `file = new ThreadedParquetWriter(spec, { windowStart, windowEnd, runId })` (encoded on the
 * process's encoder thread; `ParquetFileWriter` is the same on the calling thread), its `output` piped to
 * storage at once; per page `file.writePage({ extractedAt, parent, data: recordBytes, values:
 * records.map((r) => extractor.extract(r)) })` with the very texts and envelope values the raw
 * lines carry; at commit `info = await file.close()` then the upload, and the manifest lists the
 * file (`info.rows/bytes/sha256`) with `type_errors: extractor.typeErrors`; on failure
 * `file.abort(error)`.
 *
 * Read path: Glue tables from `curatedGlueColumns(spec)` / `rawGlueColumns(spec)` and the view
 * from `athenaLatestView(spec, database)`; locally `duckdbCuratedViewSql`, `duckdbRawViewSql`
 * (committed files only) then `duckdbLatestViewSql`.
 */
export { checkColumns, type ColumnProblem } from './checkColumns.js';
export { ColumnExtractor, type TypeErrors } from './ColumnExtractor.js';
export { duckdbType, formatColumnType, glueType, parseColumnType, trinoType, type ColumnType, type ParsedColumnType } from './columnType.js';
export { compileConverter, INVALID, toJsonText, type Converter } from './compileConverter.js';
export { compilePath, dottedFields, isJmespath, type CompiledPath } from './compilePath.js';
export { duckdbCuratedViewSql, duckdbLatestViewSql, duckdbRawViewSql } from './duckdbViews.js';
export { curatedGlueColumns, rawGlueColumns, rawTableName, type GlueColumn, type GlueTableColumns } from './glueColumns.js';
export { athenaLatestView, keyExpression, latestViewName, latestViewSelect } from './latestView.js';
export { DEFAULT_CODEC, PARQUET_CODECS, ParquetFileWriter, type CuratedPage, type CuratedTableFile, type ParquetCodec, type ParquetFileInfo, type ParquetFileWriterOptions, type WindowEnvelope } from './ParquetFileWriter.js';
export { EncoderThread, IDLE_GROUP_ROWS } from './encoderThread.js';
export { ThreadedParquetWriter, type ThreadedParquetWriterOptions } from './ThreadedParquetWriter.js';
export { parquetSchema } from './parquetSchema.js';
export { ATHENA_CATALOG, decodePrestoView, encodePrestoView, prestoViewTableInput, type PrestoViewDefinition, type ViewColumn, type ViewTableInput } from './prestoView.js';
export { SQL_DIALECTS, type SqlDialect } from './sqlText.js';
export { formatColumnsYaml, recordSampleSql, recordTypeSql, suggestColumns, type ColumnSuggestion, type SuggestedColumn } from './suggestColumns.js';
export { curatedColumns, ENVELOPE_COLUMNS, PARTITION_COLUMN, RESERVED_COLUMN_NAMES, tableSpec, type TableColumn, type TableSpec, type TableSpecOptions, type TypedColumn } from './tableSpec.js';
