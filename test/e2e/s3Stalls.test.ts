import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { listKeys, openUploads, readS3Records } from '../support/awsServers.js';
import { apilake } from '../support/cli.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3FaultProxy.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';

// The CLI as a user runs it against a bucket whose S3 stops answering: moto behind the fault
// proxy, with a 1.5 s idle timeout so that three stalled attempts take seconds, not minutes.
const KEY = 'sk-e2e-stall-51f0c2';
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'];
/** Three attempts of 1.5 s, the SDK's backoff, the CLI's start and a loaded machine. */
const BOUND_MS = 30_000;

let moto: MotoServer;
let proxy: S3FaultProxy;
let s3: S3Client;
let api: TestApi;
let cwd: string;
let env: Record<string, string>;
let bucket: string;
let n = 0;

beforeAll(async () => {
  [moto, api] = await Promise.all([startMoto(), startTestApi({ count: 120, apiKey: KEY })]);
  proxy = await startS3FaultProxy(moto.endpoint);
  s3 = new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true });
  cwd = await shopProject('apilake-s3-stalls-', api.url, {
    paging: { type: 'cursor', limit: 10 },
    fields: ['auth: { type: api_key, secret: apilake/shop, in: header, name: X-API-Key }', 'lake: { part_size_mb: 0.001 }'],
  });
  env = { ...moto.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, APILAKE_S3_IDLE_TIMEOUT_MS: '1500', APILAKE_SECRET_APILAKE_SHOP: JSON.stringify({ api_key: KEY }) };
});
afterAll(async () => {
  s3.destroy();
  await Promise.all([proxy.close(), moto.stop(), api.close()]);
});
beforeEach(async () => {
  bucket = `stall-${++n}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  proxy.clear();
});

/** Runs the CLI and measures how long it took. */
async function timedApilake(args: string[]) {
  const started = Date.now();
  const result = await apilake(args, { cwd, env });
  return { ...result, ms: Date.now() - started };
}

describe('apilake against an S3 that stalls', () => {
  it('run --bucket ends within a bound, exits 1 and names the stalled PutObject, leaving nothing visible; the re-run lands the window once', async () => {
    proxy.inject({ match: (c) => c.operation === 'PutObject' && c.key.startsWith('raw/'), fault: { kind: 'stall' }, times: 1_000 });
    const stalled = await timedApilake(['run', 'shop', ...RANGE, '--bucket', bucket]);
    expect(stalled.ms).toBeLessThan(BOUND_MS);
    expect(stalled.code).toBe(1);
    expect(stalled.stdout).toMatch(
      new RegExp(
        `✗ items \\[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\\) \\(1h\\) FAILED after .*: S3 PutObject s3://${bucket}/raw/source=shop/stream=items/dt=2024-01-01/\\S+_part-00000\\.jsonl\\.gz stalled: no byte sent or received for 1\\.5 s, on each of 3 attempts`,
      ),
    );
    expect(stalled.stdout).toContain('shop: 0 committed, 0 skipped, 1 failed');
    expect(stalled.stderr).toContain('nothing of it is visible');
    expect(stalled.stdout + stalled.stderr).not.toContain(KEY);
    expect(stalled.stdout + stalled.stderr).not.toContain(MOTO_AWS.credentials.secretAccessKey);
    // Nothing visible, nothing left: no commit, no symlink, no part, no open upload.
    expect(await listKeys(s3, bucket)).toEqual([]);
    expect(await openUploads(s3, bucket)).toEqual([]);

    proxy.clear();
    const rerun = await timedApilake(['run', 'shop', ...RANGE, '--bucket', bucket]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('shop: 1 committed, 0 skipped, 0 failed');
    const storage = new S3LakeStorage({ bucket, client: s3 });
    const snapshot = await snapshotStream(storage, 'shop', 'items', { audit: true });
    expect(snapshot.committed.map((w) => w.commit)).toEqual([1]);
    expect(snapshot.orphanParts).toEqual([]);
    const ids = (await readS3Records(s3, bucket)).map((r) => (r.data as Item).id);
    expect(ids).toEqual(api.items.filter((i) => i.ts < '2024-01-01T01:00:00').map((i) => i.id));
  }, 90_000);

  it.each([
    ['status', []],
    ['gc', ['--dry-run']],
  ])(
    '%s --bucket ends within a bound, exits 1 and names the stalled listing',
    async (command, extra) => {
      proxy.inject({ match: (c) => c.operation === 'ListObjectsV2', fault: { kind: 'stall' }, times: 1_000 });
      const stalled = await timedApilake([command, 'shop', '--bucket', bucket, ...extra]);
      expect(stalled.ms).toBeLessThan(BOUND_MS);
      expect(stalled.code).toBe(1);
      expect(stalled.stderr).toMatch(new RegExp(`^apilake: S3 ListObjectsV2 s3://${bucket}/\\S+ stalled: no byte sent or received for 1\\.5 s, on each of 3 attempts`));
      expect(stalled.stderr).not.toMatch(/unexpected error|\n\s+at /);
    },
    60_000,
  );
});
