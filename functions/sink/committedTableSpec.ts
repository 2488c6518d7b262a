/**
 * The table spec a stream's commits record, as readers use it. When the source definition
 * changed between runs, windows carry different specs; the table takes the newest commit's (by
 * `committed_at`, then window end), so it shows what the stream looks like now: a column added
 * since reads NULL in older files, one removed is left out (its values stay in `data`).
 */

import { tableSpecFromStored } from '../tables/storedTableSpec.js';
import type { TableSpec } from '../tables/tableSpec.js';
import type { CommittedWindow } from './lakeSnapshot.js';

/** The spec readers use, and where it comes from. */
export interface CommittedTableSpec {
  readonly spec: TableSpec;
  /** The manifest it was read from. */
  readonly key: string;
  readonly committedAt: string;
  /** Committed windows whose commit records another spec (or none, made before commits recorded it). */
  readonly otherSpecs: number;
}

/** The newest spec among the committed windows of one stream; undefined when no commit records one. */
export function committedTableSpec(committed: readonly CommittedWindow[]): CommittedTableSpec | undefined {
  let newest: CommittedWindow | undefined;
  for (const w of committed) {
    if (!w.manifest.table) continue;
    if (!newest || isNewer(w, newest)) newest = w;
  }
  if (!newest?.manifest.table) return undefined;
  const text = JSON.stringify(newest.manifest.table);
  return {
    spec: tableSpecFromStored(newest.manifest.source, newest.manifest.stream, newest.manifest.table),
    key: newest.key,
    committedAt: newest.manifest.committed_at,
    otherSpecs: committed.filter((w) => (w.manifest.table ? JSON.stringify(w.manifest.table) : undefined) !== text).length,
  };
}

function isNewer(a: CommittedWindow, b: CommittedWindow): boolean {
  if (a.manifest.committed_at !== b.manifest.committed_at) return a.manifest.committed_at > b.manifest.committed_at;
  return a.ref.window.end.getTime() > b.ref.window.end.getTime();
}
