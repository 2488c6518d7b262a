/**
 * The invariants of the fault suite, checked against the lake itself (never against logs):
 * 1. every window asked for is committed with exactly the records the API served, or not
 *    committed (and then invisible);
 * 2. a reader that follows the commits and a reader that follows the Athena symlink files see
 *    the same complete windows, never a partial or mixed one (until gc, a symlink a failed write
 *    left stale may show a whole earlier commit of the window, every file of it still there);
 * 3. no duplicates; manifests match their parts (records, bytes, sha256); after gc no orphans,
 *    unfinished writes or stale symlinks;
 * 4. retries within the budget; no secret in any byte of the lake or of any output.
 */

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import { symlinkText } from '../../functions/sink/windowState.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { parseManifestKey, symlinkKey, windowManifestPrefix, windowPartPrefix, type DataKind, type WindowRef } from '../../functions/sink/lakeLayout.js';
import { parseManifest } from '../../functions/sink/manifest.js';
import { snapshotStream, type CommittedWindow } from '../../functions/sink/lakeSnapshot.js';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';
import type { Item } from '../support/testApi.js';

/** What the suite expects of one stream. */
export interface Expectation {
  readonly source: string;
  readonly stream: string;
  /** Every window the scenario asked for. */
  readonly windows: readonly TimeWindow[];
  /** The records the API serves for a window, in order. */
  readonly expected: (window: TimeWindow) => readonly Item[];
  /** Windows that must be committed by now (e.g. after the final re-run). @default none */
  readonly mustCommit?: boolean;
  /** Values that must appear nowhere. */
  readonly secrets?: readonly string[];
  /** Texts the scenario printed or logged, scanned for secrets. */
  readonly outputs?: readonly string[];
  /** Retry budget of the source. */
  readonly maxAttempts?: number;
  /** Check that gc left nothing behind (call after gc). @default false */
  readonly afterGc?: boolean;
  /** The field of a record that identifies it (a CSV export's `Id`). @default 'id' */
  readonly idField?: string;
}

/** What an audit found. */
export interface AuditResult {
  committed: number;
  notCommitted: number;
  records: number;
  violations: string[];
}

const sameWindow = (a: TimeWindow, b: TimeWindow) => a.start.getTime() === b.start.getTime() && a.end.getTime() === b.end.getTime();
const canonical = (value: unknown) => JSON.stringify(value);

/** Reads a committed window's records, checking each part against its manifest entry. */
async function readWindow(storage: LakeStorage, window: CommittedWindow, violations: string[]): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  for (const part of window.manifest.parts) {
    const bytes = await storage.read(part.key);
    if (!bytes) {
      violations.push(`${window.key} lists ${part.key}, which does not exist`);
      continue;
    }
    if (bytes.length !== part.bytes) violations.push(`${part.key}: ${bytes.length} bytes, manifest says ${part.bytes}`);
    if (createHash('sha256').update(bytes).digest('hex') !== part.sha256) violations.push(`${part.key}: sha256 differs from its manifest`);
    const text = gunzipSync(bytes).toString('utf8');
    const own = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    if (own.length !== part.records) violations.push(`${part.key}: ${own.length} records, manifest says ${part.records}`);
    lines.push(...own);
  }
  return lines;
}

/**
 * Whether a symlink's text lists exactly the files of an earlier commit of the window, each of
 * them still there: a stale symlink, whole, which the next run of the window or gc repairs.
 */
async function listsWholeEarlierCommit(storage: LakeStorage, ref: WindowRef, kind: DataKind, text: string, current: number): Promise<boolean> {
  for (const object of await storage.list(windowManifestPrefix(ref))) {
    const parsed = parseManifestKey(object.key);
    if (!parsed || parsed.commit >= current) continue;
    const bytes = await storage.read(object.key);
    if (!bytes) continue;
    const manifest = parseManifest(bytes, object.key, { ref, commit: parsed.commit });
    if (symlinkText(storage, manifest, kind) !== text) continue;
    const files = kind === 'raw' ? manifest.parts : (manifest.curated ?? []);
    const present = new Set((await storage.list(windowPartPrefix(ref, kind))).map((o) => o.key));
    return files.every((f) => present.has(f.key));
  }
  return false;
}

/** Checks the stream against every invariant. */
export async function auditLake(storage: LakeStorage, expectation: Expectation): Promise<AuditResult> {
  const result: AuditResult = { committed: 0, notCommitted: 0, records: 0, violations: [] };
  const v = result.violations;
  const snapshot = await snapshotStream(storage, expectation.source, expectation.stream, { audit: true });
  for (const u of snapshot.unreadable) v.push(`unreadable commit ${u.key}: ${u.error.message}`);
  const seen = new Set<string>();
  for (const window of expectation.windows) {
    const ref: WindowRef = { source: expectation.source, stream: expectation.stream, window };
    const committed = snapshot.committed.find((w) => sameWindow(w.ref.window, window));
    const symlink = (await storage.list(symlinkKey(ref))).some((o) => o.key === symlinkKey(ref));
    if (!committed) {
      result.notCommitted++;
      if (expectation.mustCommit) v.push(`window ${window.start.toISOString()} is not committed`);
      if (symlink) v.push(`window ${window.start.toISOString()} is not committed, yet Athena would read its symlink`);
      continue;
    }
    result.committed++;
    const lines = await readWindow(storage, committed, v);
    const expected = expectation.expected(window);
    const idOf = (record: unknown) => (record as Record<string, unknown> | undefined)?.[expectation.idField ?? 'id'] as Item['id'];
    const ids = lines.map((l) => idOf(l.data));
    if (canonical(ids) !== canonical(expected.map(idOf)))
      v.push(`window ${window.start.toISOString()}: landed ids [${ids.slice(0, 8).join(',')}…] (${ids.length}) differ from the API's (${expected.length})`);
    // The first record the API served with each id, found by a lookup: a window of thousands of records is checked in linear time.
    const served = new Map<unknown, unknown>();
    for (const e of expected) if (!served.has(idOf(e))) served.set(idOf(e), e);
    for (const line of lines) {
      const item = line.data as Item;
      const own = idOf(item);
      if (canonical(item) !== canonical(served.get(own))) v.push(`record ${own} differs from what the API served`);
      if (line._window_start !== window.start.toISOString().replace('.000Z', 'Z')) v.push(`record ${own} carries window ${String(line._window_start)}`);
      if (line._run_id !== committed.manifest.run_id) v.push(`record ${own} of ${committed.key} comes from run ${String(line._run_id)}, not the committing run (mixed window)`);
      const id = `${own}`;
      if (seen.has(id)) v.push(`record ${id} landed twice`);
      seen.add(id);
    }
    result.records += lines.length;
    // The typed copy: each curated file intact, together holding exactly the window's records (one file, or one a slice).
    const curatedFiles = committed.manifest.curated ?? [];
    let rows = 0;
    for (const file of curatedFiles) {
      const bytes = await storage.read(file.key);
      if (!bytes) {
        v.push(`${committed.key} lists ${file.key}, which does not exist`);
        continue;
      }
      if (bytes.length !== file.bytes || createHash('sha256').update(bytes).digest('hex') !== file.sha256) v.push(`${file.key}: bytes differ from its manifest`);
      const own = Number(parquetMetadata(new Uint8Array(bytes).buffer).num_rows);
      if (own !== file.records) v.push(`${file.key}: ${own} rows, the manifest says ${file.records}`);
      rows += own;
    }
    if (curatedFiles.length > 0) {
      if (rows !== lines.length) v.push(`${committed.key}: its Parquet files hold ${rows} rows, the window has ${lines.length} records`);
      const curatedLink = symlinkKey(ref, 'curated');
      const linked = (await storage.list(curatedLink)).some((o) => o.key === curatedLink);
      const text = linked ? (await storage.read(curatedLink))?.toString('utf8') : undefined;
      const stale = !expectation.afterGc && text !== undefined && (await listsWholeEarlierCommit(storage, ref, 'curated', text, committed.commit));
      if ((expectation.afterGc || linked) && text !== symlinkText(storage, committed.manifest, 'curated') && !stale)
        v.push(`curated symlink of ${window.start.toISOString()} does not list exactly the committed Parquet files`);
    }
    // The Athena reader: exactly the files the symlink lists, and the same records.
    if (committed.manifest.parts.length > 0) {
      // List before reading: on S3 a missing key reads as 403 for a role like the function's.
      const text = symlink ? (await storage.read(symlinkKey(ref)))?.toString('utf8') : undefined;
      const wanted = committed.manifest.parts.map((p) => `${storage.uri(p.key)}\n`).join('');
      const stale = !expectation.afterGc && text !== undefined && (await listsWholeEarlierCommit(storage, ref, 'raw', text, committed.commit));
      if (text !== wanted && (expectation.afterGc || text !== undefined) && !stale) v.push(`symlink of ${window.start.toISOString()} does not list exactly the committed parts`);
    }
    const max = expectation.maxAttempts;
    const m = committed.manifest;
    if (max !== undefined && (m.requests > m.pages * max || m.retries > m.pages * (max - 1)))
      v.push(`${committed.key}: ${m.requests} requests, ${m.retries} retries for ${m.pages} pages exceed ${max} attempts a page`);
  }
  if (expectation.afterGc) {
    if ((snapshot.orphanParts ?? []).length > 0) v.push(`after gc: ${snapshot.orphanParts!.length} orphan parts remain (${snapshot.orphanParts![0]!.key}…)`);
    if ((snapshot.incomplete ?? []).length > 0) v.push(`after gc: ${snapshot.incomplete!.length} unfinished writes remain (${snapshot.incomplete![0]!.key}…)`);
    if ((snapshot.missingSymlinks ?? []).length > 0) v.push(`after gc: ${snapshot.missingSymlinks!.length} symlinks missing`);
    if ((snapshot.strandedSymlinks ?? []).length > 0) v.push(`after gc: stranded symlinks ${snapshot.strandedSymlinks!.join(', ')}`);
  }
  for (const secret of expectation.secrets ?? []) {
    for (const object of [...(await storage.list('raw/')), ...(await storage.list('manifests/')), ...(await storage.list('symlinks/'))]) {
      const bytes = await storage.read(object.key);
      if (!bytes) continue;
      const text = object.key.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
      if (text.includes(secret)) v.push(`secret found in ${object.key}`);
    }
    for (const output of expectation.outputs ?? []) if (output.includes(secret)) v.push('secret found in an output or log');
  }
  return result;
}

/**
 * Reads the stream as a reader would, again and again while runs are in flight: each committed
 * window must be complete (never partial, never mixed). Errors from a file replaced under the
 * reader are not violations (a real reader retries); partial data is.
 */
export function sampleReaders(storage: LakeStorage, expectation: Expectation, extra?: () => Promise<string | undefined>): { stop: () => Promise<{ samples: number; violations: string[] }> } {
  let running = true;
  let samples = 0;
  const violations: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const snapshot = await snapshotStream(storage, expectation.source, expectation.stream);
        for (const window of snapshot.committed) {
          const scratch: string[] = [];
          const lines = await readWindow(storage, window, scratch);
          if (scratch.some((s) => s.includes('does not exist'))) continue; // replaced while reading
          const want = expectation.expected(window.ref.window).length;
          if (lines.length !== want) violations.push(`a reader saw ${lines.length} of ${want} records of ${window.key}`);
          if (new Set(lines.map((l) => l._run_id)).size > 1) violations.push(`a reader saw a mixed window ${window.key}`);
        }
        const problem = await extra?.();
        if (problem) violations.push(problem);
        samples++;
      } catch {
        // A listing or read racing a rename or delete: retry, as a reader would.
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { samples, violations };
    },
  };
}
