/**
 * S3 calls that stall, against moto behind the fault proxy, through the HTTP handler apilake
 * builds its S3 client with (a 1 s idle timeout here): every call ends within a bound and names
 * the operation and key that stalled, a multipart upload that stalls is aborted, a body that
 * stops mid-way is read again, a slow body that keeps moving is not cut off, and a commit whose
 * response is lost to a stall is resolved by reading it back.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { StorageStallError } from '../../functions/errors.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { symlinkText } from '../../functions/sink/windowState.js';
import { symlinkKey } from '../../functions/sink/lakeLayout.js';
import { IdleTimeoutHttpHandler } from '../../functions/sink/IdleTimeoutHttpHandler.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { listKeys, LOCAL_AWS, openUploads, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { startS3FaultProxy, type S3Call, type S3FaultProxy } from '../support/s3FaultProxy.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const IDLE_MS = 1_000;
/** Three attempts of a second each, the SDK's backoff between them, and room for a loaded machine. */
const STALL_BOUND_MS = 10_000;
const HOUR = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
const CURSOR = { path: '/cursor', params: { since: '{window.start}', until: '{window.end}', limit: 8 }, records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } };

let aws: AwsServers;
let proxy: S3FaultProxy;
let api: TestApi;
let bucket: string;
let storage: S3LakeStorage;
let n = 0;

/** A client as apilake builds it, with a short idle timeout, through the proxy. */
function clientWith(idleMs: number): S3Client {
  return new S3Client({ ...LOCAL_AWS, endpoint: proxy.endpoint, forcePathStyle: true, requestHandler: new IdleTimeoutHttpHandler({ idleMs, connectMs: idleMs }) });
}

beforeAll(async () => {
  aws = await startAwsServers();
  proxy = await startS3FaultProxy(aws.s3Endpoint);
  api = await startTestApi({ count: 250, latencyMs: 2 });
});
afterAll(async () => {
  await api.close();
  await proxy.close();
  await aws.stop();
});
beforeEach(async () => {
  bucket = `stalls-${++n}`;
  await aws.createBucket(bucket);
  proxy.clear();
  proxy.calls.splice(0);
  storage = new S3LakeStorage({ bucket, client: clientWith(IDLE_MS), partSizeBytes: 5 * 1024 * 1024 });
});

const KEY = 'raw/source=s/stream=t/dt=2024-01-01/20240101T000000Z_20240101T010000Z_20240101T010000Z-0123456789ab_part-00000.jsonl.gz';

/** Runs `call`, returning what it threw (or undefined) and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await call();
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describe('an S3 call that stalls on every attempt', () => {
  it.each([
    ['ListObjectsV2', 'raw/', () => storage.list('raw/')],
    ['GetObject', KEY, () => storage.read(KEY)],
    ['PutObject', KEY, () => storage.writeBytes(KEY, 'bytes')],
    ['PutObject', 'manifests/m.json', () => storage.putIfAbsent('manifests/m.json', '{}')],
    ['DeleteObjects', KEY, () => storage.delete([KEY])],
    ['ListMultipartUploads', 'raw/', () => storage.listIncomplete('raw/')],
  ] as const)('fails within the bound after 3 attempts of %s, naming it and %s', async (operation, key, call) => {
    await storage.writeBytes(KEY, 'bytes');
    proxy.inject({ match: (c) => c.operation === operation, fault: { kind: 'stall' }, times: 1_000 });
    const { error, ms } = await timed(call);
    expect(error).toBeInstanceOf(StorageStallError);
    expect((error as Error).message).toBe(
      `S3 ${operation} s3://${bucket}/${key} stalled: no byte sent or received for 1 s, on each of 3 attempts (APILAKE_S3_IDLE_TIMEOUT_MS sets the timeout, AWS_MAX_ATTEMPTS the attempts)`,
    );
    expect(ms).toBeGreaterThanOrEqual(3 * IDLE_MS);
    expect(ms).toBeLessThan(STALL_BOUND_MS);
    expect(proxy.calls.filter((c) => c.fault === 'stall')).toHaveLength(3);
  });

  it('succeeds when a stalled attempt is retried and the next one answers', async () => {
    proxy.inject({ match: (c) => c.operation === 'PutObject', fault: { kind: 'stall' } });
    await storage.writeBytes(KEY, 'bytes');
    expect(proxy.calls.map((c) => `${c.operation} ${c.fault ?? 'ok'}`)).toEqual(['PutObject stall', 'PutObject ok']);
    expect((await storage.read(KEY))?.toString()).toBe('bytes');
  });
});

describe('a multipart upload', () => {
  const eleven = () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < 11; i++) yield Buffer.alloc(1024 * 1024, i);
      })(),
    );

  it('is aborted when a part upload stalls on every attempt, and the error names UploadPart', async () => {
    proxy.inject({ match: (c) => c.operation === 'UploadPart', fault: { kind: 'stall' }, times: 1_000 });
    const { error, ms } = await timed(() => storage.writeStream(KEY, eleven()));
    expect(error).toBeInstanceOf(StorageStallError);
    expect((error as Error).message).toMatch(new RegExp(`^S3 UploadPart s3://${bucket}/${KEY.replaceAll('.', '\\.')} stalled: .* on each of 3 attempts`));
    expect(ms).toBeLessThan(STALL_BOUND_MS);
    expect(proxy.calls.some((c) => c.operation === 'AbortMultipartUpload')).toBe(true);
    expect(await openUploads(aws.s3, bucket)).toEqual([]);
    expect(await listKeys(aws.s3, bucket)).toEqual([]);
  });

  it('stops at once when its caller gives up during a stall, and still aborts the upload', async () => {
    // A long idle timeout: only the caller's signal can end this stall soon.
    const patient = new S3LakeStorage({ bucket, client: clientWith(60_000), partSizeBytes: 5 * 1024 * 1024 });
    proxy.inject({ match: (c) => c.operation === 'UploadPart', fault: { kind: 'stall' }, times: 1_000 });
    const { error, ms } = await timed(() => patient.writeStream(KEY, eleven(), { signal: AbortSignal.timeout(1_000) }));
    expect((error as Error).message).toMatch(/stopped before it finished/);
    expect(ms).toBeLessThan(5_000);
    expect(await openUploads(aws.s3, bucket)).toEqual([]);
  });
});

describe('reading an object', () => {
  const body = Buffer.alloc(256 * 1024, 7);
  beforeEach(async () => {
    await storage.writeBytes(KEY, body);
  });

  it('reads again when the body stops half-way', async () => {
    proxy.inject({ match: (c) => c.operation === 'GetObject', fault: { kind: 'stall-body' } });
    expect((await storage.read(KEY))?.equals(body)).toBe(true);
    expect(proxy.calls.filter((c) => c.operation === 'GetObject').map((c) => c.fault ?? 'ok')).toEqual(['stall-body', 'ok']);
  });

  it('fails within the bound, naming GetObject, when the body stops half-way every time', async () => {
    proxy.inject({ match: (c) => c.operation === 'GetObject', fault: { kind: 'stall-body' }, times: 1_000 });
    const { error, ms } = await timed(() => storage.read(KEY));
    expect(error).toBeInstanceOf(StorageStallError);
    expect((error as Error).message).toMatch(new RegExp(`^S3 GetObject s3://${bucket}/.* stalled: no byte sent or received for 1 s, on each of 3 attempts`));
    expect(ms).toBeLessThan(STALL_BOUND_MS);
  });

  it('waits for a slow body as long as it keeps moving, well past the idle timeout', async () => {
    proxy.inject({ match: (c) => c.operation === 'GetObject', fault: { kind: 'slow-body', ms: 4 * IDLE_MS } });
    const { error, ms } = await timed(async () => expect((await storage.read(KEY))?.equals(body)).toBe(true));
    expect(error).toBeUndefined();
    expect(ms).toBeGreaterThan(3 * IDLE_MS);
    expect(proxy.calls.filter((c) => c.operation === 'GetObject')).toHaveLength(1);
  });
});

describe('a window whose commit stalls', () => {
  const isCommit = (c: S3Call) => c.operation === 'PutObject' && c.key.startsWith('manifests/');
  const land = async (force = false) => {
    const source = testSource(api.url, CURSOR);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    return runWindow({ source, stream: source.streams[0]!, window: HOUR, client, storage, force });
  };

  it('is committed, exactly once, when S3 applied the commit and every response is lost to a stall', async () => {
    proxy.inject({ match: isCommit, fault: { kind: 'stall-after' }, times: 1_000 });
    const { ms } = await timed(async () => expect(await land()).toMatchObject({ status: 'committed' }));
    expect(ms).toBeLessThan(STALL_BOUND_MS);
    // The stall used the storage's attempts once; the commit protocol read it back instead of repeating them.
    expect(proxy.calls.filter(isCommit)).toHaveLength(3);
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed.map((w) => [w.commit, w.manifest.totals.records])).toEqual([[1, 60]]);
    expect(snapshot.orphanParts).toEqual([]);
  });

  it('fails, keeps its parts and shows nothing when the commit never reaches S3; a re-run lands it once and gc collects the parts', async () => {
    proxy.inject({ match: isCommit, fault: { kind: 'stall' }, times: 1_000 });
    const { error, ms } = await timed(async () => {
      const result = await land();
      expect(result.status).toBe('failed');
      expect(result.error!.message).toMatch(/^commit manifests\/.*\.000001\.json not confirmed \(S3 PutObject s3:\/\/.* stalled: .*\); reading it back failed too .*; its parts are kept for gc$/);
    });
    expect(error).toBeUndefined();
    expect(ms).toBeLessThan(STALL_BOUND_MS);
    expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual([]);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toHaveLength(1);
    proxy.clear();
    expect(await land()).toMatchObject({ status: 'committed' });
    proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000); // hours later at S3: every file so far is past the horizon
    await collectGarbage(storage, 'testapi', { streams: ['items'] });
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed.map((w) => [w.commit, w.manifest.totals.records])).toEqual([[1, 60]]);
    expect(snapshot.orphanParts).toEqual([]);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toHaveLength(1);
  });

  it("keeps the replaced commit's files while the symlink Athena reads still lists them, when a forced run cannot write it; gc repairs it, then collects them", async () => {
    expect(await land()).toMatchObject({ status: 'committed' });
    const first = (await snapshotStream(storage, 'testapi', 'items')).committed[0]!.manifest;
    const symlink = async () => (await storage.read(symlinkKey({ source: 'testapi', stream: 'items', window: HOUR })))?.toString();
    const before = await symlink();
    proxy.inject({ match: (c) => c.operation === 'PutObject' && c.key.startsWith('symlinks/'), fault: { kind: 'stall' }, times: 1_000 });
    const forced = await land(true);
    expect(forced).toMatchObject({ status: 'committed', manifestKey: expect.stringMatching(/\.000002\.json$/) as string });
    expect(forced.warnings?.join('\n')).toMatch(/the Athena symlink was not written, so the files it may still list are kept .*: S3 PutObject .* stalled/);
    // Athena still reads commit 1 through the stale symlink: every file of it is there.
    expect(await symlink()).toBe(before);
    const present = await listKeys(aws.s3, bucket);
    for (const part of [...first.parts, ...(first.curated ?? [])]) expect(present).toContain(part.key);
    proxy.clear();
    proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000); // hours later at S3: every file so far is past the horizon
    await collectGarbage(storage, 'testapi', { streams: ['items'] });
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed.map((w) => w.commit)).toEqual([2]);
    expect(await symlink()).toBe(symlinkText(storage, snapshot.committed[0]!.manifest));
    expect(snapshot.orphanParts).toEqual([]);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toEqual(snapshot.committed[0]!.manifest.parts.map((p) => p.key));
  });
});
