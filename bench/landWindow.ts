/**
 * Child-process entry: lands one window from the bench API with the engine (as `apilake run`
 * and the function do, without the CLI's start-up) into a temp lake or an S3 bucket, and prints
 * time, records, pages, bytes and peak RSS as JSON. With `verify`, reads the committed parts
 * back afterwards (not timed) and checks every record landed once, in page order.
 */

import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { parseSource } from '../functions/config/loadSources.js';
import { createSourceClient } from '../functions/engine/createSourceClient.js';
import { runWindow } from '../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../functions/sink/FsLakeStorage.js';
import { S3LakeStorage } from '../functions/sink/S3LakeStorage.js';
import { peakRssMiB } from './peakRss.js';

/** What to land. */
export interface LandOptions {
  readonly url: string;
  /** The stream: path, records, pagination (as in a source file). */
  readonly stream: Record<string, unknown>;
  readonly concurrency: number;
  /** @default 64 */
  readonly partSizeMb?: number;
  /** Also write the window's typed Parquet file, as a source does by default. @default true */
  readonly parquet?: boolean;
  /** Land into bucket `bench` of this S3 endpoint instead of a temp folder. */
  readonly s3Endpoint?: string;
  /** Check the landed records: `expected` of them, ids counting from `firstId` in order. */
  readonly verify?: { readonly expected: number; readonly firstId: number };
}

/** What a landing reports. */
export interface Landing {
  readonly ms: number;
  /** CPU time of the process (every thread: main, zlib's thread pool) while landing. */
  readonly cpuMs: number;
  readonly records: number;
  readonly pages: number;
  readonly bytes: number;
  /** Bytes of the window's Parquet file (0 without one, or in S3). */
  readonly parquetBytes: number;
  readonly requests: number;
  readonly peakRssMiB: number;
  readonly startRssMiB: number;
}

const options = JSON.parse(process.argv[2]!) as LandOptions;
const source = parseSource(
  JSON.stringify({
    name: 'bench',
    schedule: 'rate(1 hour)',
    base_url: options.url,
    rate_limit: { concurrency: options.concurrency },
    retry: { max_attempts: 3, base_delay_ms: 100, max_delay_ms: 5_000 },
    timeout_ms: 600_000,
    lake: { part_size_mb: options.partSizeMb ?? 64, parquet: options.parquet ?? true },
    streams: [{ name: 'items', ...options.stream }],
  }),
  'bench.yaml',
);
const lake = await mkdtemp(join(tmpdir(), 'apilake-bench-'));
const storage = options.s3Endpoint
  ? new S3LakeStorage({
      bucket: 'bench',
      prefix: `run-${process.pid}`,
      client: new S3Client({ endpoint: options.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    })
  : new FsLakeStorage(lake);
const client = await createSourceClient(source, new EnvSecretProvider({}));
const startRss = process.memoryUsage().rss / 1024 / 1024;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const result = await runWindow({ source, stream: source.streams[0]!, window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }, client, storage });
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const peak = peakRssMiB();
let parquetBytes = 0;
try {
  if (result.status !== 'committed') throw new Error(`bench window ${result.status}: ${result.error?.message}`);
  if (options.verify) await verify(lake, options.verify);
  parquetBytes = options.s3Endpoint ? 0 : await sizeOf(join(lake, 'curated'), '.parquet');
} finally {
  await rm(lake, { recursive: true, force: true });
}
const landing: Landing = {
  ms,
  cpuMs: (cpu.user + cpu.system) / 1000,
  records: result.records,
  pages: result.pages,
  bytes: result.bytes,
  parquetBytes,
  requests: result.requests,
  peakRssMiB: peak,
  startRssMiB: startRss,
};
console.log(JSON.stringify(landing));

/** Bytes of the files under `dir` whose names end in `suffix` (0 when there is no such folder). */
async function sizeOf(dir: string, suffix: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const entry of entries) if (entry.isFile() && entry.name.endsWith(suffix)) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

/** Every record once, in page order: ids `firstId`, `firstId + 1`, … */
async function verify(root: string, expected: NonNullable<LandOptions['verify']>): Promise<void> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else if (entry.name.endsWith('.jsonl.gz')) files.push(join(dir, entry.name));
    }
  };
  await walk(join(root, 'raw'));
  files.sort(); // part numbers are zero-padded: name order is part order
  let next = expected.firstId;
  for (const file of files) {
    for (const line of gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')) {
      if (line === '') continue;
      const id = (JSON.parse(line) as { data: { id: number } }).data.id;
      if (id !== next) throw new Error(`record ${next - expected.firstId + 1}: expected id ${next}, found ${id} (out of order or twice)`);
      next++;
    }
  }
  if (next - expected.firstId !== expected.expected) throw new Error(`landed ${next - expected.firstId} records, expected ${expected.expected}`);
}
