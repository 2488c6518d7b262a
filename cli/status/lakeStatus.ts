/**
 * What landed: per stream, the committed windows read from manifests, and every gap between
 * the first committed window and the last window that has ended by now.
 */

import {
  committedTableSpec,
  diffTableSpecs,
  formatDuration,
  isAligned,
  isoSeconds,
  type LakeStorage,
  selectStreams,
  snapshotStream,
  type SourceDefinition,
  type StoredTableSpec,
  storedTableSpec,
  streamWindowMs,
  tableSpec,
  windowBefore,
} from '../../functions/index.js';

/** A run of consecutive missing windows. */
export interface Gap {
  readonly start: string;
  readonly end: string;
  readonly windows: number;
}

/** The state of one stream in the lake. */
export interface StreamStatus {
  readonly stream: string;
  readonly window: string;
  readonly committed: number;
  readonly records: number;
  readonly first?: { readonly start: string; readonly end: string };
  readonly last?: { readonly start: string; readonly end: string };
  /** Missing windows between the first and the last committed one. */
  readonly gaps: readonly Gap[];
  /** Missing windows after the last committed one, up to the latest window that has ended. */
  readonly behind?: Gap;
  /** Manifests of another window size (the stream's `window` changed since). */
  readonly otherSizes: number;
  /** Windows whose current commit cannot be read (counted as not committed), with the reason. */
  readonly unreadable: readonly { readonly key: string; readonly reason: string }[];
  /** Parts no current commit lists: a run in flight, or left by a crash or a replaced commit (`apilake gc`). */
  readonly orphanParts: number;
  /** Writes that never finished (temp files, multipart uploads). */
  readonly incompleteWrites: number;
  /** Committed windows whose Athena symlink file is missing (`apilake gc` writes them). */
  readonly missingSymlinks: number;
  /** The table spec the newest commit records (what queries read), absent when no commit records one. */
  readonly table?: StoredTableSpec;
  /** How the source definition differs from {@link table}; empty when it agrees. */
  readonly tableDrift: readonly string[];
}

/** Reads the commits of a source and reports each stream. */
export async function lakeStatus(storage: LakeStorage, source: SourceDefinition, options: { stream?: string; now?: Date } = {}): Promise<StreamStatus[]> {
  const now = options.now ?? new Date();
  const statuses: StreamStatus[] = [];
  for (const stream of selectStreams(source, options.stream)) {
    const size = streamWindowMs(source, stream);
    const snapshot = await snapshotStream(storage, source.name, stream.name, { audit: true });
    const committedSpec = committedTableSpec(snapshot.committed);
    const ofSize = snapshot.committed.filter((w) => isAligned(w.ref.window, size));
    const starts = [...new Set(ofSize.map((w) => w.ref.window.start.getTime()))].sort((a, b) => a - b);
    const records = ofSize.reduce((n, w) => n + w.manifest.totals.records, 0);
    const latestEnd = windowBefore(now, size).end.getTime();
    const window = (start: number) => ({ start: isoSeconds(new Date(start)), end: isoSeconds(new Date(start + size)) });

    const present = new Set(starts);
    const gaps: Gap[] = [];
    if (starts.length > 0) {
      const first = starts[0]!;
      const last = starts.at(-1)!;
      for (let t = first; t <= last; t += size) {
        if (present.has(t)) continue;
        const open = gaps.at(-1);
        if (open && Date.parse(open.end) === t) gaps[gaps.length - 1] = { start: open.start, end: isoSeconds(new Date(t + size)), windows: open.windows + 1 };
        else gaps.push({ start: isoSeconds(new Date(t)), end: isoSeconds(new Date(t + size)), windows: 1 });
      }
    }
    const lastStart = starts.at(-1);
    const behindFrom = lastStart === undefined ? undefined : lastStart + size;
    const behind =
      behindFrom !== undefined && behindFrom < latestEnd ? { start: isoSeconds(new Date(behindFrom)), end: isoSeconds(new Date(latestEnd)), windows: (latestEnd - behindFrom) / size } : undefined;
    statuses.push({
      stream: stream.name,
      window: formatDuration(size),
      committed: starts.length,
      records,
      ...(starts.length > 0 ? { first: window(starts[0]!), last: window(lastStart!) } : {}),
      gaps,
      ...(behind ? { behind } : {}),
      otherSizes: snapshot.committed.length - ofSize.length,
      unreadable: snapshot.unreadable.map((w) => ({ key: w.key, reason: w.error.message })),
      orphanParts: snapshot.orphanParts?.length ?? 0,
      incompleteWrites: snapshot.incomplete?.length ?? 0,
      missingSymlinks: snapshot.missingSymlinks?.length ?? 0,
      ...(committedSpec ? { table: storedTableSpec(committedSpec.spec) } : {}),
      tableDrift: committedSpec ? diffTableSpecs(committedSpec.spec, tableSpec(source, stream)) : [],
    });
  }
  return statuses;
}
