/**
 * `apilake test --live`: records one recent window per stream against the live API into a
 * scratch folder and reports what changed against the cassettes: fields added or removed and
 * their types (the inference of `apilake schema suggest`), typed columns that stop converting,
 * paging (page size, cursor shape) and status codes. Drift that changes the typed table (a
 * field a column, the primary key or the incremental cursor reads is gone or changed type, or
 * values stop converting) fails; the rest is reported.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  describeWindow,
  EnvSecretProvider,
  FsLakeStorage,
  hasTextRecords,
  loadCassettes,
  parseJson,
  recordSampleSql,
  recordTypeSql,
  snapshotStream,
  suggestColumns,
  windowsFor,
  type Cassette,
  type SourceDefinition,
  type StreamDefinition,
} from '../../functions/index.js';
import { plural, shownPath } from '../format.js';
import { literalGlob } from '../query/LocalLake.js';
import type { TerminalOutput } from '../terminal/TerminalOutput.js';
import type { JunitCase } from './junitReport.js';
import type { StandIns } from './standIns.js';

/** Options of {@link liveDrift}. */
export interface LiveDriftOptions {
  readonly out: TerminalOutput;
  /** Servers standing in for the ones the source names. */
  readonly standIns: StandIns;
  readonly scratch?: string;
}

/** Records and compares each stream that has cassettes; returns a test case per stream and whether any drift changes a typed table. */
export async function liveDrift(source: SourceDefinition, cassettes: readonly { file: string; cassette: Cassette }[], options: LiveDriftOptions): Promise<{ cases: JunitCase[]; typedDrift: boolean }> {
  const { out } = options;
  const { cassettePath, recordWindow, replayCassette, trafficFacts, writeCassetteFile } = await loadCassettes();
  const scratch = options.scratch ?? (await mkdtemp(join(tmpdir(), 'apilake-live-')));
  const streams = source.streams.filter((s) => cassettes.some((c) => c.cassette.stream === s.name));
  const secrets = new EnvSecretProvider();
  const recordedLake = new FsLakeStorage(join(scratch, 'recorded-lake'));
  const liveLake = new FsLakeStorage(join(scratch, 'live-lake'));
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const cases: JunitCase[] = [];
  let typedDrift = false;
  out.line(`apilake test --live ${source.name}: one recent window per stream${options.standIns.baseUrl ? ` from ${options.standIns.baseUrl}` : ''}, recorded into ${scratch}`);
  try {
    for (const stream of streams) {
      const started = performance.now();
      const recorded = cassettes.filter((c) => c.cassette.stream === stream.name).map((c) => c.cassette);
      const window = windowsFor(source, stream, { kind: 'latest', at: new Date() })[0]!;
      const live = await recordWindow({
        source,
        stream,
        window,
        secrets,
        storage: liveLake,
        replayStorage: new FsLakeStorage(join(scratch, `check-${stream.name}`)),
        ...options.standIns,
      });
      const where = `${stream.name} ${describeWindow(window)}`;
      if (!live.cassette || !live.bytes) {
        const why = live.result.status === 'committed' ? live.problems : [`the live window failed: ${live.result.error?.message ?? 'unknown error'}`];
        out.line(`  ✗ ${where}: not recorded`);
        for (const line of why) out.line(`      ${line}`, '        ');
        cases.push({ classname: `${source.name}.${stream.name}`, name: `live ${describeWindow(window)}`, seconds: (performance.now() - started) / 1000, failures: why });
        typedDrift = true;
        continue;
      }
      const file = cassettePath(join(scratch, 'cassettes'), source.name, stream.name, window);
      await writeCassetteFile(file, live.bytes);
      for (const cassette of recorded) await replayCassette({ source, cassette, storage: recordedLake });

      const [before, after] = [await inferFields(connection, recordedLake, source, stream), await inferFields(connection, liveLake, source, stream)];
      const facts = { before: trafficFacts(recorded, stream), after: trafficFacts([live.cassette], stream) };
      const typed = typedPaths(stream);
      const findings: { line: string; typed: boolean }[] = [];
      if (before.size > 0 && after.size > 0) {
        for (const [path, type] of before) {
          const now = after.get(path);
          if (now === undefined) findings.push({ line: `- field ${path} (${type}): no longer in the records${use(typed, path)}`, typed: typed.has(path) });
          else if (now !== type) findings.push({ line: `~ field ${path}: ${type} → ${now}${use(typed, path)}`, typed: typed.has(path) });
        }
        for (const [path, type] of after) if (!before.has(path)) findings.push({ line: `+ field ${path} (${type}): new`, typed: false });
      } else if (after.size === 0) findings.push({ line: `  the live window has no records: fields not compared`, typed: false });
      const recordedErrors = (column: string) => Math.max(0, ...recorded.map((c) => c.expected.type_errors[column] ?? 0));
      for (const [column, count] of Object.entries(live.cassette.expected.type_errors)) {
        if (count > recordedErrors(column))
          findings.push({ line: `✗ column ${column}: ${plural(count, 'value')} did not convert (type_errors), against ${recordedErrors(column)} in the cassettes`, typed: true });
      }
      if (facts.before.statuses.join() !== facts.after.statuses.join())
        findings.push({ line: `~ status codes: ${facts.before.statuses.join(', ')} → ${facts.after.statuses.join(', ')}`, typed: false });
      if (facts.before.cursorShapes.length > 0 && facts.after.cursorShapes.length > 0 && facts.before.cursorShapes.join() !== facts.after.cursorShapes.join()) {
        findings.push({ line: `~ cursor: ${facts.before.cursorShapes.join(', ')} → ${facts.after.cursorShapes.join(', ')}`, typed: false });
      }
      // A page size shows only on a window of several pages: its first page was full.
      const recordedFull = recorded.some((c) => c.expected.pages > 1);
      const liveFull = live.cassette.expected.pages > 1;
      const { largestPage: was } = facts.before;
      const { largestPage: is } = facts.after;
      if ((is < was && liveFull) || (is > was && recordedFull)) {
        findings.push({ line: `~ page size: at most ${facts.before.largestPage} records a page → ${facts.after.largestPage}`, typed: false });
      }
      const failures = findings.filter((f) => f.typed).map((f) => f.line.replace(/^[-~✗+ ] /, ''));
      typedDrift ||= failures.length > 0;
      const summary = `${plural(live.cassette.expected.records, 'record')}, ${plural(live.cassette.expected.pages, 'page')} (cassettes: ${plural(facts.before.records, 'record')}, ${plural(facts.before.pages, 'page')})`;
      out.line(`  ${failures.length > 0 ? '✗' : findings.length > 0 ? '~' : '✓'} ${where} ${summary} → ${shownPath(file)}`);
      for (const finding of findings) out.line(`      ${finding.line}${finding.typed ? '  [changes the typed table]' : ''}`, '        ');
      cases.push({ classname: `${source.name}.${stream.name}`, name: `live ${describeWindow(window)}`, seconds: (performance.now() - started) / 1000, failures, file });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  out.line(typedDrift ? `${source.name}: drift that changes the typed table (✗ above)` : `${source.name}: no drift that changes the typed table`);
  return { cases, typedDrift };
}

/** The record paths the typed table reads: column paths, the primary key, the incremental cursor field. */
function typedPaths(stream: StreamDefinition): Map<string, string> {
  const paths = new Map<string, string>();
  for (const column of stream.columns) paths.set(column.path, `column ${column.name}`);
  for (const key of stream.primary_key ?? []) paths.set(key, 'primary_key');
  if (stream.incremental) paths.set(stream.incremental.cursor_field, 'incremental.cursor_field');
  return paths;
}

function use(typed: Map<string, string>, path: string): string {
  const what = typed.get(path);
  return what ? ` (${what})` : '';
}

/** Each field of the stream's records in a lake and its inferred column type, as `schema suggest` infers them. */
async function inferFields(connection: DuckDBConnection, storage: FsLakeStorage, source: SourceDefinition, stream: StreamDefinition): Promise<Map<string, string>> {
  const snapshot = await snapshotStream(storage, source.name, stream.name);
  const files = snapshot.committed.filter((w) => w.manifest.totals.records > 0).flatMap((w) => w.manifest.parts.map((p) => literalGlob(storage.uri(p.key))));
  if (files.length === 0) return new Map();
  const type = (await connection.runAndReadAll(recordTypeSql(files))).getRowObjectsJson().find((row) => row.column_name === 'data')?.column_type;
  const samples = (await connection.runAndReadAll(recordSampleSql(files))).getRowsJson().map(([text]) => parseJson(text as string).value);
  return new Map(suggestColumns(String(type as string | undefined), samples, { textRecords: hasTextRecords(stream) }).columns.map((c) => [c.path, c.type]));
}
