/** `apilake status`: did yesterday land? Committed windows, records and gaps per stream, and why it fails when it does. */

import { findSource, formatDuration, type LakeStorage, openLake, ORPHAN_HORIZON_MS, selectStreams, type SourceDefinition, streamSettleMs } from '../../functions/index.js';
import { formatTable, plural } from '../format.js';
import { EXIT } from '../reportError.js';
import { lakeStatus, type StreamStatus } from '../status/lakeStatus.js';
import { checkLakeFolder } from '../lakeFolder.js';
import { DEFAULT_LAKE_DIR, DEFAULT_SOURCES_DIR, pathFlag, shellWord } from '../pathFlags.js';

/** Flags of `apilake status`. */
export interface StatusOptions {
  readonly stream?: string;
  readonly lake: string;
  readonly bucket?: string;
  readonly remote?: boolean;
  readonly json: boolean;
  readonly sources: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function statusCommand(sourceName: string, options: StatusOptions): Promise<void> {
  const { definition: source } = await findSource(options.sources, sourceName);
  selectStreams(source, options.stream);
  const bucket = options.bucket || options.remote ? await (await import('../remote/stackOutputs.js')).resolveBucket(options) : undefined;
  if (!bucket) await checkLakeFolder(options.lake);
  const storage = await openLake({ lake: options.lake, bucket });
  const statuses = await settledStatus(storage, source, options.stream, new Date());
  const problems = statusProblems(source.name, statuses, fixFlags(options, bucket));
  if (options.json) console.log(JSON.stringify({ source: source.name, lake: storage.location, streams: statuses, problems }, null, 2));
  else console.log(renderStatus(source.name, storage.location, statuses, problems));
  // Problems are worth a non-zero exit, so `apilake status` can gate a pipeline.
  if (problems.length > 0) process.exitCode = EXIT.windowsFailed;
}

/**
 * {@link lakeStatus} per stream, each measured against the latest window that has ended and
 * settled: a window still inside its stream's `settle` is not landed yet on purpose, so it does
 * not count as behind.
 */
export async function settledStatus(storage: LakeStorage, source: SourceDefinition, stream: string | undefined, now: Date): Promise<StreamStatus[]> {
  const statuses: StreamStatus[] = [];
  for (const s of selectStreams(source, stream)) {
    statuses.push(...(await lakeStatus(storage, source, { stream: s.name, now: new Date(now.getTime() - streamSettleMs(s)) })));
  }
  return statuses;
}

/**
 * Why status fails, one sentence per problem with the command that fixes it: nothing committed,
 * windows missing between committed ones, or more than one window behind (the latest window may
 * still be landing, so being one behind is not yet a problem).
 */
export function statusProblems(source: string, statuses: readonly StreamStatus[], flags: FixFlags = NO_FLAGS): string[] {
  const problems: string[] = [];
  const backfill = (stream: string, from: string, to: string) => `apilake backfill ${source} --stream ${stream} --from ${from} --to ${to}${flags.backfill}`;
  const run = (stream: string) => `apilake run ${source} --stream ${stream}${flags.run}`;
  for (const s of statuses) {
    if (s.committed === 0) problems.push(`${s.stream}: no window committed yet (${run(s.stream)} lands the latest one)`);
    const missing = s.gaps.reduce((n, g) => n + g.windows, 0);
    if (missing > 0) {
      problems.push(
        `${s.stream}: ${plural(missing, 'window')} missing between the first and the last committed window, in ${plural(s.gaps.length, 'gap')} (${backfill(s.stream, s.gaps[0]!.start, s.gaps.at(-1)!.end)} fills them)`,
      );
    }
    if (s.unreadable.length > 0)
      problems.push(
        `${s.stream}: ${plural(s.unreadable.length, 'commit')} cannot be read, so ${s.unreadable.length === 1 ? 'its window counts' : 'their windows count'} as not committed (${run(s.stream)} with that window's --from/--to lands it again, as the next commit)`,
      );
    if (s.behind && s.behind.windows > 1) {
      problems.push(
        `${s.stream}: ${plural(s.behind.windows, 'window')} behind: nothing landed after the last committed window, in [${s.behind.start}, ${s.behind.end}) (${backfill(s.stream, s.behind.start, s.behind.end)} catches up)`,
      );
    }
  }
  return problems;
}

/** The flags a command that status suggests needs to reach the same sources and lake, each with a leading space. */
export interface FixFlags {
  readonly run: string;
  readonly backfill: string;
}

const NO_FLAGS: FixFlags = { run: '', backfill: '' };

/**
 * The flags that point `run` and `backfill` at the sources and the lake status read, so a
 * suggested command works as printed: `--sources` and `--lake` where not the defaults; for a lake
 * in S3, `--bucket` for run and `--remote` (with the outputs file and stage) for backfill.
 */
export function fixFlags(options: Pick<StatusOptions, 'sources' | 'lake' | 'remote' | 'outputs' | 'stage'>, bucket: string | undefined): FixFlags {
  const sources = pathFlag('sources', options.sources, DEFAULT_SOURCES_DIR);
  if (bucket === undefined) {
    const lake = pathFlag('lake', options.lake, DEFAULT_LAKE_DIR);
    return { run: `${sources}${lake}`, backfill: `${sources}${lake}` };
  }
  const stack = `${options.outputs ? ` --outputs ${shellWord(options.outputs)}` : ''}${options.stage ? ` --stage ${shellWord(options.stage)}` : ''}`;
  return { run: `${sources} --bucket ${shellWord(bucket)}`, backfill: `${sources} --remote${stack}` };
}

/** The human view of {@link lakeStatus}: a table, the details of each gap, and the verdict. */
export function renderStatus(source: string, location: string, statuses: readonly StreamStatus[], problems = statusProblems(source, statuses)): string {
  const lines = [`${source} in ${location}`];
  lines.push(
    formatTable(
      ['stream', 'window', 'committed', 'records', 'first window start', 'last window start', 'missing', 'behind'],
      statuses.map((s) => [
        s.stream,
        s.window,
        s.committed.toLocaleString('en'),
        s.records.toLocaleString('en'),
        s.first?.start ?? '-',
        s.last?.start ?? '-',
        s.gaps.reduce((n, g) => n + g.windows, 0).toLocaleString('en'),
        (s.behind?.windows ?? 0).toLocaleString('en'),
      ]),
    ),
  );
  for (const s of statuses) {
    for (const gap of s.gaps) lines.push(`  ${s.stream}: gap [${gap.start}, ${gap.end}) ${plural(gap.windows, 'window')}`);
    if (s.behind) lines.push(`  ${s.stream}: behind [${s.behind.start}, ${s.behind.end}) ${plural(s.behind.windows, 'window')} not landed yet`);
    if (s.otherSizes > 0) lines.push(`  ${s.stream}: ${s.otherSizes} manifests of another window size ignored (window changed?)`);
    for (const u of s.unreadable) lines.push(`  ${s.stream}: ${u.key} cannot be read, so its window counts as not committed (re-run it): ${u.reason}`);
    if (s.orphanParts > 0 || s.incompleteWrites > 0) {
      lines.push(
        `  ${s.stream}: ${s.orphanParts} parts no commit lists, ${s.incompleteWrites} unfinished writes (invisible to queries: a run in flight, a crash or a replaced commit; \`apilake gc\` removes them once their run has written nothing for ${formatDuration(ORPHAN_HORIZON_MS)} by the storage's clock)`,
      );
    }
    if (s.tableDrift.length > 0) {
      lines.push(
        `  ${s.stream}: the source definition disagrees with the table spec the lake committed: ${s.tableDrift.join('; ')} (queries read the committed spec; the next run that commits a window records the definition's)`,
      );
    }
    if (s.missingSymlinks > 0) lines.push(`  ${s.stream}: ${s.missingSymlinks} committed windows have no Athena symlink yet (\`apilake gc\` writes them)`);
  }
  if (problems.length === 0) {
    lines.push('ok: every stream is complete from its first committed window to the latest window that has ended (one window behind is allowed: it may still be landing)');
  } else {
    lines.push(`status exits 1 because:`, ...problems.map((p) => `  - ${p}`));
  }
  return lines.join('\n');
}
