/** Reads a local lake back for assertions: every record of every part, and the manifests. */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import type { Manifest } from '../../functions/sink/manifest.js';

/** One envelope line as stored. */
export interface StoredLine {
  readonly key: string;
  readonly _source: string;
  readonly _stream: string;
  readonly _window_start: string;
  readonly _window_end: string;
  readonly _extracted_at: string;
  readonly _run_id: string;
  readonly data: unknown;
}

/** Every file under the lake, as lake-relative keys, hidden temp files included. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else out.push(relative(root, path));
    }
  };
  await walk(root);
  return out.sort();
}

/** Every record line of every part under `raw/`. */
export async function readRecords(root: string): Promise<StoredLine[]> {
  const lines: StoredLine[] = [];
  for (const key of (await listFiles(root)).filter((k) => k.startsWith('raw/') && k.endsWith('.jsonl.gz'))) {
    const text = gunzipSync(await readFile(join(root, key))).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) lines.push({ key, ...(JSON.parse(line) as Omit<StoredLine, 'key'>) });
  }
  return lines;
}

/** Every manifest, parsed. */
export async function readManifests(root: string): Promise<Manifest[]> {
  const keys = (await listFiles(root)).filter((k) => k.startsWith('manifests/'));
  return Promise.all(keys.map(async (key) => JSON.parse(await readFile(join(root, key), 'utf8')) as Manifest));
}

/** SHA-256 of a stored object, to check manifests against the bytes. */
export async function sha256Of(root: string, key: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(root, key)))
    .digest('hex');
}

/** The current commit of every window of every stream: what a reader sees. */
export async function readCurrentCommits(root: string): Promise<Manifest[]> {
  const storage = new FsLakeStorage(root);
  const streams = new Set((await listFiles(root)).filter((k) => k.startsWith('manifests/')).map((k) => k.split('/').slice(1, 3).join('/')));
  const out: Manifest[] = [];
  for (const pair of streams) {
    const [source, stream] = pair.split('/').map((part) => part.split('=')[1]!);
    out.push(...(await snapshotStream(storage, source!, stream!)).committed.map((w) => w.manifest));
  }
  return out;
}

/** Records of the parts the current commits list: exactly what `apilake query` reads. */
export async function readCommittedRecords(root: string): Promise<StoredLine[]> {
  const lines: StoredLine[] = [];
  for (const manifest of await readCurrentCommits(root)) {
    for (const part of manifest.parts) {
      const text = gunzipSync(await readFile(join(root, part.key))).toString('utf8');
      for (const line of text.split('\n').filter(Boolean)) lines.push({ key: part.key, ...(JSON.parse(line) as Omit<StoredLine, 'key'>) });
    }
  }
  return lines;
}
