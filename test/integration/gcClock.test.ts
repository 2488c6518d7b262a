/**
 * Garbage collection against skewed clocks: gc dates an attempt by the storage's own timestamps
 * against a probe of the storage's clock, so neither a gc machine hours ahead nor a run hours
 * behind can make a live attempt's files garbage — on disk and in S3 (moto behind a proxy that
 * keeps S3's clock). Also the run's own age limit, measured against wall-clock jumps.
 */

import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock, type Clock } from '../../functions/clock.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow, type WindowResult } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { clockProbePrefix, partKey, type WindowRef } from '../../functions/sink/lakeLayout.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { ageFiles } from '../support/ageFiles.js';
import { listKeys, LOCAL_AWS, openUploads, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { listFiles } from '../support/lakeReader.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3FaultProxy.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const HOUR_MS = 3_600_000;
/** Past the orphan horizon: a clock this far off would make a live attempt look dead to a naive gc. */
const SKEW_MS = 13 * HOUR_MS;
if (SKEW_MS <= ORPHAN_HORIZON_MS) throw new Error(`the skew (${SKEW_MS} ms) must exceed ORPHAN_HORIZON_MS (${ORPHAN_HORIZON_MS} ms) for these tests to mean anything`);
const HOUR = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
const REF: WindowRef = { source: 'testapi', stream: 'items', window: HOUR };
const CURSOR = { path: '/cursor', params: { since: '{window.start}', until: '{window.end}', limit: 8 }, records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } };
const DEAD = '20240101T020000Z-00000000dead';
const OTHER = '20240101T030000Z-00000000beef';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi({ count: 250, latencyMs: 2 });
});
afterEach(async () => {
  vi.useRealTimers();
  await api.close();
});

/** A storage that tells when `count` raw parts of the window have been written. */
function watchingParts(storage: LakeStorage, count: number): { storage: LakeStorage; written: Promise<void> } {
  let seen = 0;
  let resolve!: () => void;
  const written = new Promise<void>((r) => (resolve = r));
  const watched: LakeStorage = Object.create(storage) as LakeStorage;
  watched.writeStream = async (key: string, body: Readable, options) => {
    await storage.writeStream(key, body, options);
    if (key.startsWith('raw/') && ++seen === count) resolve();
  };
  return { storage: watched, written };
}

/**
 * A run of the window whose clock is 13 h behind, held after its first pages with two raw parts
 * (and, on disk, its Parquet temp file) written: a live attempt whose run id says it started 13 h ago.
 */
async function heldRun(storage: LakeStorage): Promise<{ release: () => void; result: Promise<WindowResult> }> {
  const source = testSource(api.url, CURSOR, { lake: { part_size_mb: 0.001 } });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let requests = 0;
  const gated = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (++requests > 3) await gate;
    return fetch(input, init);
  }) as typeof fetch;
  const client = await createSourceClient(source, new EnvSecretProvider({}), { fetch: gated });
  const behind: Clock = { now: () => Date.now() - SKEW_MS, monotonic: () => performance.now(), sleep: (ms, signal) => systemClock.sleep(ms, signal) };
  const watch = watchingParts(storage, 2);
  const result = runWindow({ source, stream: source.streams[0]!, window: HOUR, client, storage: watch.storage, clock: behind });
  await Promise.race([watch.written, result.then((r) => Promise.reject(new Error(`the run ended before it was held: ${r.status} ${r.error?.message}`)))]);
  return { release: open, result };
}

/** gc on a machine whose clock is 13 h ahead. */
async function gcAhead(storage: LakeStorage) {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + SKEW_MS });
  try {
    expect(Date.now() - performance.timeOrigin - performance.now()).toBeGreaterThan(SKEW_MS - 60_000);
    return (await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]!;
  } finally {
    vi.useRealTimers();
  }
}

/** The window is committed with all 60 records, every part its commit lists exists, nothing else is left. */
async function expectCommittedWhole(storage: LakeStorage, result: WindowResult): Promise<void> {
  expect(result).toMatchObject({ status: 'committed', records: 60 });
  const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
  const [window] = snapshot.committed;
  expect(window!.manifest.run_id).toBe(result.runId);
  const present = new Map((await storage.list('raw/')).map((o) => [o.key, o.size]));
  for (const part of window!.manifest.parts) expect(present.get(part.key)).toBe(part.bytes);
  expect(snapshot.orphanParts).toEqual([]);
}

describe('gc and skewed clocks, in a local lake', () => {
  let lake: string;
  let storage: FsLakeStorage;
  beforeEach(async () => {
    lake = await mkdtemp(join(tmpdir(), 'apilake-gc-clock-'));
    storage = new FsLakeStorage(lake);
  });
  afterEach(() => rm(lake, { recursive: true, force: true }));

  it('deletes nothing of a live attempt when gc runs 13 h ahead and the run 13 h behind; the run then commits whole', async () => {
    const run = await heldRun(storage);
    const live = (await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('curated/'));
    expect(live.length).toBeGreaterThanOrEqual(2);
    const report = await gcAhead(storage);
    expect(report).toMatchObject({ deletedParts: 0, abortedWrites: 0 });
    expect(report.youngOrphans).toBeGreaterThanOrEqual(2);
    expect((await listFiles(lake)).filter((k) => live.includes(k))).toEqual(live);
    run.release();
    await expectCommittedWhole(storage, await run.result);
  });

  it('collects an attempt that wrote nothing within the horizon, and keeps every file of one whose newest file is recent', async () => {
    const folder = join(lake, 'raw/source=testapi/stream=items/dt=2024-01-01');
    await storage.writeBytes(partKey(REF, DEAD, 0), 'dead 0');
    await storage.writeBytes(partKey(REF, DEAD, 1), 'dead 1');
    await writeFile(join(folder, `.${partKey(REF, DEAD, 2).split('/').pop()}.aaaaaaaaaaaa.tmp`), 'half of dead 2');
    await storage.writeBytes(partKey(REF, OTHER, 0), 'other 0');
    await storage.writeBytes(partKey(REF, OTHER, 1), 'other 1');
    // Storage last wrote the dead attempt, and the other's first part, 13 h ago.
    await ageFiles(lake, SKEW_MS, (path) => path.includes(DEAD) || path.endsWith(partKey(REF, OTHER, 0).split('/').pop()!));
    const report = (await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]!;
    expect(report).toMatchObject({ deletedParts: 2, abortedWrites: 1, youngOrphans: 2 });
    expect((await listFiles(lake)).filter((k) => !k.startsWith('manifests/'))).toEqual([partKey(REF, OTHER, 0), partKey(REF, OTHER, 1)]);
    // The probe is gone too.
    expect(await storage.list(clockProbePrefix('testapi'))).toEqual([]);
  });

  it('deletes nothing when the storage clock cannot be read', async () => {
    await storage.writeBytes(partKey(REF, DEAD, 0), 'dead 0');
    await ageFiles(lake, SKEW_MS);
    // A file where the probe's folder should be: the probe cannot be written.
    await mkdir(join(lake, 'manifests/source=testapi'), { recursive: true });
    await writeFile(join(lake, 'manifests/source=testapi/_clock'), 'in the way');
    const report = (await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]!;
    expect(report).toMatchObject({ deletedParts: 0, abortedWrites: 0, youngOrphans: 1 });
    expect(report.clockError).toMatch(/cannot read the storage's clock at .*manifests\/source=testapi\/_clock\/?: cannot create the lake folder/);
    expect(await listFiles(lake)).toContain(partKey(REF, DEAD, 0));
    // With the clock readable again, the same file goes.
    await rm(join(lake, 'manifests/source=testapi/_clock'));
    expect((await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]).toMatchObject({ deletedParts: 1 });
  });
});

describe('gc and skewed clocks, in S3', () => {
  let aws: AwsServers;
  let proxy: S3FaultProxy;
  let s3: S3Client;
  let storage: S3LakeStorage;
  let bucket: string;
  let n = 0;
  beforeAll(async () => {
    aws = await startAwsServers();
    proxy = await startS3FaultProxy(aws.s3Endpoint);
    s3 = new S3Client({ ...LOCAL_AWS, endpoint: proxy.endpoint, forcePathStyle: true });
  });
  afterAll(async () => {
    await proxy.close();
    await aws.stop();
  });
  beforeEach(async () => {
    bucket = `gc-clock-${++n}`;
    await aws.createBucket(bucket);
    proxy.clear();
    storage = new S3LakeStorage({ bucket, client: s3 });
  });
  const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const startUpload = async (key: string) => (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!;

  it('deletes nothing of a live attempt when gc runs 13 h ahead and the run 13 h behind; the run then commits whole', async () => {
    const run = await heldRun(storage);
    const live = await listKeys(aws.s3, bucket, 'raw/');
    expect(live.length).toBeGreaterThanOrEqual(2);
    const report = await gcAhead(storage);
    expect(report).toMatchObject({ deletedParts: 0, abortedWrites: 0 });
    expect(report.youngOrphans).toBeGreaterThanOrEqual(2);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toEqual(live);
    run.release();
    await expectCommittedWhole(storage, await run.result);
  });

  it('collects a dead attempt, its open upload too, once S3 has written nothing of it for the horizon, and keeps an attempt that wrote since', async () => {
    await put(partKey(REF, DEAD, 0));
    await put(partKey(REF, DEAD, 1));
    await startUpload(partKey(REF, DEAD, 2));
    await put(partKey(REF, OTHER, 0));
    proxy.advanceClock(SKEW_MS);
    // The other attempt is still writing: a new upload, started after 13 h (no part of it uploaded yet).
    const otherUpload = await startUpload(partKey(REF, OTHER, 1));
    const report = (await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]!;
    expect(report).toMatchObject({ deletedParts: 2, abortedWrites: 1, youngOrphans: 2 });
    expect(report.storageTime!.getTime()).toBeGreaterThan(Date.now() + SKEW_MS - 60_000);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toEqual([partKey(REF, OTHER, 0)]);
    expect(await openUploads(aws.s3, bucket)).toEqual([partKey(REF, OTHER, 1)]);
    expect(await listKeys(aws.s3, bucket, clockProbePrefix('testapi'))).toEqual([]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: partKey(REF, OTHER, 1), UploadId: otherUpload }));
  });

  it('deletes nothing when the storage clock cannot be read', async () => {
    await put(partKey(REF, DEAD, 0));
    proxy.advanceClock(SKEW_MS);
    proxy.inject({ match: (c) => c.operation === 'PutObject' && c.key.startsWith(clockProbePrefix('testapi')), fault: { kind: 'status', status: 503 }, times: 1_000 });
    const report = (await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]!;
    expect(report).toMatchObject({ deletedParts: 0, abortedWrites: 0, youngOrphans: 1 });
    expect(report.clockError).toMatch(/cannot read the storage's clock at s3:\/\/.*_clock\/: cannot write .*503/);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toEqual([partKey(REF, DEAD, 0)]);
    proxy.clear();
    expect((await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]).toMatchObject({ deletedParts: 1 });
  });
});

describe("a run's own age", () => {
  /** A run of the window whose clocks move as `jump` says once its first page has landed. */
  async function runWithJump(jump: { wallMs: number; monotonicMs: number }): Promise<WindowResult> {
    const lake = await mkdtemp(join(tmpdir(), 'apilake-run-age-'));
    const source = testSource(api.url, CURSOR);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    let wallShift = 0;
    let monotonicShift = 0;
    const clock: Clock = { now: () => Date.now() + wallShift, monotonic: () => performance.now() + monotonicShift, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
    const onPage = ({ index }: { index: number }) => {
      if (index !== 0) return;
      wallShift = jump.wallMs;
      monotonicShift = jump.monotonicMs;
    };
    try {
      return await runWindow({ source, stream: source.streams[0]!, window: HOUR, client, storage: new FsLakeStorage(lake), clock, onPage });
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  }

  it.each([
    ['its wall clock is set 13 h back while 7 h pass', { wallMs: -SKEW_MS, monotonicMs: 7 * HOUR_MS }],
    ['the machine sleeps 7 h (the monotonic clock stands still)', { wallMs: 7 * HOUR_MS, monotonicMs: 0 }],
  ])('refuses to commit past 6 h when %s', async (_what, jump) => {
    const result = await runWithJump(jump);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/the run took 7h, more than the 6h a run may take before committing/);
  });

  it('commits when its wall clock is set 13 h back and little time passes', async () => {
    expect((await runWithJump({ wallMs: -SKEW_MS, monotonicMs: 0 })).status).toBe('committed');
  });
});
