/**
 * Child-process entry: lands one window from a bench API into a temp lake and reports time,
 * records and peak RSS growth as JSON. Run in its own process so memory is measured alone.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSource } from '../functions/config/loadSources.js';
import { createSourceClient } from '../functions/engine/createSourceClient.js';
import { runSource } from '../functions/engine/runSource.js';
import { EnvSecretProvider } from '../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../functions/sink/FsLakeStorage.js';
import { S3LakeStorage } from '../functions/sink/S3LakeStorage.js';
import { S3Client } from '@aws-sdk/client-s3';

const { url, pageSize, concurrency, partSizeMb, s3Endpoint } = JSON.parse(process.argv[2]!) as {
  url: string;
  pageSize: number;
  concurrency: number;
  partSizeMb: number;
  /** Land into bucket `bench` of this S3 endpoint instead of a temp folder. */
  s3Endpoint?: string;
};
const source = parseSource(
  JSON.stringify({
    name: 'bench',
    schedule: 'rate(1 hour)',
    base_url: url,
    rate_limit: { concurrency },
    lake: { part_size_mb: partSizeMb },
    streams: [{ name: 'items', path: '/items', records: 'items', pagination: { type: 'page_number', page_size_param: 'per_page', page_size: pageSize, total_records: 'total' } }],
  }),
  'bench.yaml',
);
const lake = await mkdtemp(join(tmpdir(), 'apilake-bench-'));
const storage = s3Endpoint
  ? new S3LakeStorage({ bucket: 'bench', client: new S3Client({ endpoint: s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }) })
  : new FsLakeStorage(lake);
const client = await createSourceClient(source, new EnvSecretProvider({}));
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
const started = performance.now();
const [result] = await runSource({
  source,
  selection: { kind: 'windows', windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] },
  client,
  storage,
});
const ms = performance.now() - started;
clearInterval(sampler);
await rm(lake, { recursive: true, force: true });
if (result!.status !== 'committed') throw new Error(`bench window failed: ${result!.error?.message}`);
console.log(JSON.stringify({ ms, records: result!.records, pages: result!.pages, bytes: result!.bytes, peakGrowthMiB: (peak - baseline) / 1024 / 1024 }));
