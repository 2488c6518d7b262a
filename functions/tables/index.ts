/** Typed tables (issue 13): column types, value conversion, Parquet files, Glue/Athena/DuckDB SQL. */
export { checkColumns, type ColumnProblem } from './checkColumns.js';
export { ColumnExtractor, type TypeErrors } from './ColumnExtractor.js';
export { duckdbType, formatColumnType, glueType, parseColumnType, trinoType, type ColumnType, type ParsedColumnType } from './columnType.js';
export { compileConverter, INVALID, toJsonText, type Converter } from './compileConverter.js';
export { compilePath, dottedFields, isJmespath, type CompiledPath } from './compilePath.js';
export { duckdbCuratedViewSql, duckdbLatestViewSql, duckdbRawViewSql } from './duckdbViews.js';
export { curatedGlueColumns, rawGlueColumns, rawTableName, type GlueColumn, type GlueTableColumns } from './glueColumns.js';
export { athenaLatestView, keyExpression, latestViewName, latestViewSelect } from './latestView.js';
export { PARQUET_CODECS, ParquetFileWriter, type CuratedPage, type ParquetCodec, type ParquetFileInfo, type ParquetFileWriterOptions, type WindowEnvelope } from './ParquetFileWriter.js';
export { parquetSchema } from './parquetSchema.js';
export { parseEpoch, parseIsoTimestamp } from './parseTimestamp.js';
export { ATHENA_CATALOG, decodePrestoView, encodePrestoView, prestoViewTableInput, type PrestoViewDefinition, type ViewColumn, type ViewTableInput } from './prestoView.js';
export { SQL_DIALECTS, type SqlDialect } from './sqlText.js';
export { formatColumnsYaml, recordSampleSql, recordTypeSql, suggestColumns, type ColumnSuggestion, type SuggestedColumn } from './suggestColumns.js';
export { curatedColumns, ENVELOPE_COLUMNS, PARTITION_COLUMN, RESERVED_COLUMN_NAMES, tableSpec, type TableColumn, type TableSpec, type TableSpecOptions, type TypedColumn } from './tableSpec.js';
