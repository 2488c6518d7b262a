/**
 * What landed: per stream, the committed windows read from manifests, and every gap between
 * the first committed window and the last window that has ended by now.
 */

import { streamWindowMs } from '../../functions/config/checkSource.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { selectStreams } from '../../functions/engine/runSource.js';
import { ConcurrencyLimiter } from '../../functions/http/ConcurrencyLimiter.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { MANIFEST_PREFIX, parseManifestKey, streamPrefix } from '../../functions/sink/lakeLayout.js';
import { parseManifest } from '../../functions/sink/manifest.js';
import { formatDuration } from '../../functions/window/duration.js';
import { isAligned, isoSeconds, windowBefore } from '../../functions/window/TimeWindow.js';

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
}

/** Reads the manifests of a source and reports each stream. */
export async function lakeStatus(storage: LakeStorage, source: SourceDefinition, options: { stream?: string; now?: Date } = {}): Promise<StreamStatus[]> {
  const now = options.now ?? new Date();
  const statuses: StreamStatus[] = [];
  for (const stream of selectStreams(source, options.stream)) {
    const size = streamWindowMs(source, stream);
    const keys = await storage.list(streamPrefix(MANIFEST_PREFIX, source.name, stream.name));
    const refs = keys.map((key) => ({ key, ref: parseManifestKey(key) })).filter((e) => e.ref !== undefined);
    const ofSize = refs.filter((e) => isAligned(e.ref!.window, size));
    const starts = [...new Set(ofSize.map((e) => e.ref!.window.start.getTime()))].sort((a, b) => a - b);
    const records = await sumRecords(storage, ofSize.map((e) => e.key));
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
      behindFrom !== undefined && behindFrom < latestEnd
        ? { start: isoSeconds(new Date(behindFrom)), end: isoSeconds(new Date(latestEnd)), windows: (latestEnd - behindFrom) / size }
        : undefined;
    statuses.push({
      stream: stream.name,
      window: formatDuration(size),
      committed: starts.length,
      records,
      ...(starts.length > 0 ? { first: window(starts[0]!), last: window(lastStart!) } : {}),
      gaps,
      ...(behind ? { behind } : {}),
      otherSizes: refs.length - ofSize.length,
    });
  }
  return statuses;
}

async function sumRecords(storage: LakeStorage, keys: readonly string[]): Promise<number> {
  const limiter = new ConcurrencyLimiter(16);
  const counts = await Promise.all(
    keys.map((key) =>
      limiter.run(async () => {
        const bytes = await storage.read(key);
        return bytes ? parseManifest(bytes, key).totals.records : 0;
      }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}
