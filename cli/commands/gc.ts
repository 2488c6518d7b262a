/** `apilake gc`: removes what no reader will ever see (orphaned parts, unfinished writes) and repairs Athena symlinks. */

import { collectGarbage, findSource, formatDuration, openLake, ORPHAN_HORIZON_MS, selectStreams } from '../../functions/index.js';
import { formatTable } from '../format.js';
import { resolveBucket } from '../remote/stackOutputs.js';
import { EXIT } from '../reportError.js';
import { checkLakeFolder } from '../lakeFolder.js';

/** A difference between this machine's clock and the storage's that the output mentions. */
const SKEW_WORTH_NOTING_MS = 5 * 60_000;

/** Flags of `apilake gc`. */
export interface GcOptions {
  readonly stream?: string;
  readonly lake: string;
  readonly bucket?: string;
  readonly remote?: boolean;
  readonly dryRun: boolean;
  readonly sources: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function gcCommand(sourceName: string, options: GcOptions): Promise<void> {
  const { definition: source } = await findSource(options.sources, sourceName);
  const streams = selectStreams(source, options.stream).map((s) => s.name);
  const bucket = options.bucket || options.remote ? await resolveBucket(options) : undefined;
  // A schedule may run gc before a first run made the lake: nothing to collect yet, said as such.
  if (!bucket && !(await checkLakeFolder(options.lake, { mayBeMissing: true }))) {
    console.log(`apilake gc ${source.name}: no lake at ${options.lake} yet (nothing has landed there), so nothing to collect`);
    return;
  }
  const storage = await openLake({ lake: options.lake, bucket });
  console.log(
    `apilake gc ${source.name} in ${storage.location}${options.dryRun ? ' (dry run: nothing is deleted)' : ''}: files no commit lists, of runs that wrote nothing for ${formatDuration(ORPHAN_HORIZON_MS)} by the storage's clock`,
  );
  const reports = await collectGarbage(storage, source.name, { streams, dryRun: options.dryRun });
  console.log(
    formatTable(
      ['stream', options.dryRun ? 'parts to delete' : 'parts deleted', options.dryRun ? 'writes to abort' : 'writes aborted', 'kept (too young)', 'symlinks repaired', 'unreadable commits'],
      reports.map((r) => [r.stream, r.deletedParts, r.abortedWrites, r.youngOrphans, r.repairedSymlinks, r.unreadable.length]),
    ),
  );
  for (const report of reports) {
    for (const key of report.unreadable) console.log(`  ${report.stream}: ${key} cannot be read; its window counts as not committed and its files were left alone (re-run the window)`);
  }
  const clockError = reports.find((r) => r.clockError)?.clockError;
  // Ages are the storage's; this machine's clock is only compared with it, for whoever reads the output.
  const storageTime = reports.find((r) => r.storageTime)?.storageTime;
  const skew = storageTime ? Date.now() - storageTime.getTime() : 0;
  if (Math.abs(skew) >= SKEW_WORTH_NOTING_MS)
    console.log(`  note: this machine's clock is ${formatDuration(Math.round(Math.abs(skew) / 60_000) * 60_000)} ${skew > 0 ? 'ahead of' : 'behind'} the storage's; gc goes by the storage's`);
  if (clockError) console.log(`  nothing was deleted: ${clockError}`);
  if (clockError || reports.some((r) => r.unreadable.length > 0)) process.exitCode = EXIT.windowsFailed;
}
