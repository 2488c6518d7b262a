/** `apilake status`: did yesterday land? Committed windows, records and gaps per stream. */

import { findSource } from '../../functions/config/loadSources.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { formatDuration } from '../../functions/window/duration.js';
import { formatTable } from '../format.js';
import { EXIT } from '../reportError.js';
import { resolveBucket } from '../remote/stackOutputs.js';
import { lakeStatus, type StreamStatus } from '../status/lakeStatus.js';

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
  const storage: LakeStorage = options.bucket || options.remote ? new S3LakeStorage({ bucket: await resolveBucket(options) }) : new FsLakeStorage(options.lake);
  const statuses = await lakeStatus(storage, source, { stream: options.stream });
  if (options.json) console.log(JSON.stringify({ source: source.name, lake: storage.location, streams: statuses }, null, 2));
  else console.log(renderStatus(source.name, storage.location, statuses));
  // Gaps are worth a non-zero exit, so `apilake status` can gate a pipeline.
  // The latest window may still be landing, so being one behind is not yet a failure.
  if (statuses.some((s) => s.gaps.length > 0 || (s.behind?.windows ?? 0) > 1 || s.committed === 0)) process.exitCode = EXIT.windowsFailed;
}

/** The human view of {@link lakeStatus}. */
export function renderStatus(source: string, location: string, statuses: readonly StreamStatus[]): string {
  const lines = [`${source} in ${location}`];
  lines.push(
    formatTable(
      ['stream', 'window', 'committed', 'records', 'first', 'last', 'gaps', 'behind'],
      statuses.map((s) => [
        s.stream,
        s.window,
        s.committed,
        s.records.toLocaleString('en'),
        s.first?.start ?? '-',
        s.last?.end ?? '-',
        s.gaps.reduce((n, g) => n + g.windows, 0),
        s.behind?.windows ?? 0,
      ]),
    ),
  );
  for (const s of statuses) {
    if (s.committed === 0) lines.push(`  ${s.stream}: nothing committed yet`);
    for (const gap of s.gaps) lines.push(`  ${s.stream}: gap [${gap.start}, ${gap.end}) ${gap.windows} window${gap.windows === 1 ? '' : 's'}`);
    if (s.behind) lines.push(`  ${s.stream}: behind [${s.behind.start}, ${s.behind.end}) ${s.behind.windows} window${s.behind.windows === 1 ? '' : 's'} not landed yet`);
    if (s.otherSizes > 0) lines.push(`  ${s.stream}: ${s.otherSizes} manifests of another window size ignored (window changed?)`);
    for (const u of s.unreadable) lines.push(`  ${s.stream}: ${u.key} cannot be read, so its window counts as not committed (re-run it): ${u.reason}`);
    if (s.orphanParts > 0 || s.incompleteWrites > 0) {
      lines.push(`  ${s.stream}: ${s.orphanParts} parts no commit lists, ${s.incompleteWrites} unfinished writes (invisible to queries: a run in flight, a crash or a replaced commit; \`apilake gc\` removes them once their run is past the ${formatDuration(ORPHAN_HORIZON_MS)} horizon)`);
    }
    if (s.missingSymlinks > 0) lines.push(`  ${s.stream}: ${s.missingSymlinks} committed windows have no Athena symlink yet (\`apilake gc\` writes them)`);
  }
  return lines.join('\n');
}
