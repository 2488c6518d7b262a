/**
 * The apilake engine's one front door: everything the CLI (`cli/`) and the CDK app (`infra/`)
 * use of it, and nothing else. The Lambda shell (`ingest/`) is the engine's other user. Nothing
 * exported here makes a runtime object when imported (the CDK app imports it at synth time).
 */

// Errors and time
export * from './errors.js';
export { systemClock, type Clock } from './clock.js';
export { formatDuration, parseDuration } from './window/duration.js';
export { parseInstant } from './window/parseInstant.js';
export { streamSettleMs, streamWindowMs } from './window/streamTiming.js';
export { describeWindow, isAligned, isoSeconds, splitIntoWindows, windowBefore, type TimeWindow } from './window/TimeWindow.js';

// Source definitions
export { checkSource } from './config/checkSource.js';
export { compileSource } from './config/compiledSource.js';
export { landedStreams } from './config/landedStreams.js';
export { normaliseOrigin } from './config/origin.js';
export { findSource, formatPath, loadSourceFile, loadSources, parseSource, type LoadedSource } from './config/loadSources.js';
export { sourceSchema, type AuthConfig, type PaginationConfig, type RetryConfig, type SourceDefinition, type StreamDefinition } from './config/sourceSchema.js';
export { sourceSchemaDigest } from './config/sourceSchemaDigest.js';

// Running sources
export { countWindows, forEachWindow, selectStreams, windowsFor, type ForEachWindowInput, type WindowSelection } from './engine/windowSelection.js';
export type { CurateRangeInput, SourceClientOptions, SourceRunInput, WindowResult, WindowRunInput } from './engine/index.js';
export { NOTHING_LANDED } from './engine/windowRun.js';
export type { HttpStats } from './http/HttpClient.js';
export type { BudgetPlace } from './budget/createRateBudget.js';
export type { BudgetChange } from './budget/SharedRateBudget.js';
export { lakeBudgetFolder } from './budget/LakeBudgetStore.js';
export { BUDGET_TABLE } from './budget/BudgetStore.js';
export { backfillConcurrency, MAX_BACKFILL_CONCURRENCY } from './budget/backfillConcurrency.js';
/** The engine that runs sources, loaded on first use: commands that only read config or the lake never pay for it. */
export const loadEngine = () => import('./engine/index.js');
export { Redactor } from './http/redact.js';
export type { Cassette, RecordOutcome, ReplayOutcome, WindowExpectation } from './cassettes/index.js';
/** Recording and replaying cassettes, loaded on first use (`apilake record`, `apilake test`). */
export const loadCassettes = () => import('./cassettes/index.js');
export { EnvSecretProvider, secretEnvName, type SecretProvider } from './secrets/SecretProvider.js';
export { parseJson } from './body/preciseJson.js';
export { ConcurrencyLimiter } from './commons/ConcurrencyLimiter.js';

// The lake
export { collectGarbage } from './sink/collectGarbage.js';
export { ORPHAN_HORIZON_MS } from './sink/commitProtocol.js';
export { FsLakeStorage } from './sink/FsLakeStorage.js';
export * from './sink/lakeLayout.js';
export { committedTableSpec, type CommittedTableSpec } from './sink/committedTableSpec.js';
export { currentCommits, snapshotStream, type CommittedWindow, type CurrentCommit } from './sink/lakeSnapshot.js';
export type { LakeStorage } from './sink/LakeStorage.js';
export { parseManifest, type Manifest, type PartInfo } from './sink/manifest.js';
export { openLake, type LakeLocation } from './sink/openLake.js';

// Tables
export type { ColumnType } from './config/columnType.js';
export { diffTableSpecs } from './tables/diffTableSpecs.js';
export { quoteIdent, sqlString } from './tables/sqlText.js';
export { storedTableSpec, tableSpecFromStored, type StoredTableSpec } from './tables/storedTableSpec.js';
export { duckdbCuratedViewSql, duckdbLatestViewSql, duckdbRawViewSql, type ParquetFileGroup } from './tables/duckdbViews.js';
export { curatedGlueColumns, rawGlueColumns, type GlueColumn, type GlueTableColumns } from './tables/glueColumns.js';
export { athenaLatestView } from './tables/latestView.js';
export { formatColumnsYaml, recordSampleSql, recordTypeSql, suggestColumns } from './tables/suggestColumns.js';
export { hasTextRecords, tableSpec, type TableSpec } from './tables/tableSpec.js';

// The deployed function: what infra configures and what the CLI reads back from it
export { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './commons/telemetry.js';
export type { IngestSummary, StreamSummary } from './ingest/ingest.js';
export { DEFAULT_DEADLINE_MARGIN_MS, ENV } from './ingest/runtimeConfig.js';
export { PART_TIME_SPARE, partTimeLimits, type PartTimeLimits } from './ingest/sliceReserve.js';
export { canSlice } from './engine/runWindowSlice.js';
export { FUNCTION_PROCESS_ENVIRONMENT } from './ingest/processEnvironment.js';
export { CLAIM_TTL_SECONDS, DURABLE_EXECUTION_TIMEOUT_SECONDS } from './ingest/durableLimits.js';
