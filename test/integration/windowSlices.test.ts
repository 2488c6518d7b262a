/**
 * A window landed in slices, as a durable function's invocations land it: a 1,000-page window run
 * as several slices, each in a fresh client, each starting from the previous slice's checkpoint
 * read back from JSON, lands the same raw bytes as an uninterrupted run, fetches every page at
 * most twice, and is visible only once committed. On a local lake and on moto's S3.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow, type WindowResult } from '../../functions/engine/runWindow.js';
import { runWindowSlice, type WindowSliceOutcome } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { MAX_ATTEMPT_MS, ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import type { Manifest } from '../../functions/sink/manifest.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { ageFiles } from '../support/ageFiles.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { ManualClock } from '../support/manualClock.js';
import { between, seededRandom } from '../support/seededRandom.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const PAGES = 1_000;
const DAY = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-02T00:00:00Z') };
const RUN_ID = '20250101T000000Z-0123456789ab';

let api: TestApi;
let aws: AwsServers;
beforeAll(async () => {
  // One record a minute: 1,000 records in the day, one a page.
  api = await startTestApi({ count: PAGES });
  aws = await startAwsServers();
}, 60_000);
afterAll(async () => {
  await api.close();
  await aws.stop();
});

function source(): SourceDefinition {
  return testSource(
    api.url,
    {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit: 1 },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor', max_pages: 5_000 },
      window: '1d',
    },
    // About ten pages a part: a hundred parts.
    { lake: { part_size_mb: 0.004, parquet: true } },
  );
}

/** How often each page (by its cursor) was requested since `from`. */
function fetchesPerPage(from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of api.requests.slice(from)) {
    const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? 'first';
    counts.set(cursor, (counts.get(cursor) ?? 0) + 1);
  }
  return counts;
}

/** Lands the window in slices of a seeded random number of pages, each slice in a fresh client and from JSON. */
async function landInSlices(storage: LakeStorage, seed: number): Promise<{ result: WindowResult; checkpoints: WindowCheckpoint[] }> {
  const random = seededRandom(seed);
  const clock = new ManualClock();
  const checkpoints: WindowCheckpoint[] = [];
  let checkpoint: WindowCheckpoint | undefined;
  for (let slice = 0; slice < 100; slice++) {
    const s = source();
    const client = await createSourceClient(s, new EnvSecretProvider({}));
    const budget = between(random, 40, 250);
    let pages = 0;
    const outcome: WindowSliceOutcome = await runWindowSlice({
      source: s,
      stream: s.streams[0]!,
      window: DAY,
      client,
      storage,
      clock,
      runId: RUN_ID,
      ...(checkpoint ? { checkpoint } : {}),
      onPage: () => pages++,
      stopWhen: () => pages >= budget,
    });
    if (outcome.kind === 'done') return { result: outcome.result, checkpoints };
    // Nothing is visible between slices.
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
    checkpoint = JSON.parse(JSON.stringify(outcome.checkpoint)) as WindowCheckpoint;
    checkpoints.push(checkpoint);
  }
  throw new Error('the window did not finish in 100 slices');
}

/** Lands `slices` slices of `size` pages and returns the last checkpoint. */
async function sliceOnly(storage: LakeStorage, slices: number, size: number, clock = new ManualClock()): Promise<WindowCheckpoint> {
  let checkpoint: WindowCheckpoint | undefined;
  for (let i = 0; i < slices; i++) {
    const outcome = await slice(storage, { clock, ...(checkpoint ? { checkpoint } : {}), stopWhen: size });
    if (outcome.kind !== 'paused') throw new Error('the window ended before its last slice');
    checkpoint = outcome.checkpoint;
  }
  return checkpoint!;
}

async function slice(storage: LakeStorage, options: { clock?: ManualClock; checkpoint?: WindowCheckpoint; stopWhen?: number; runId?: string }): Promise<WindowSliceOutcome> {
  const s = source();
  const client = await createSourceClient(s, new EnvSecretProvider({}));
  let pages = 0;
  return runWindowSlice({
    source: s,
    stream: s.streams[0]!,
    window: DAY,
    client,
    storage,
    clock: options.clock ?? new ManualClock(),
    runId: options.runId ?? RUN_ID,
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    onPage: () => pages++,
    ...(options.stopWhen !== undefined ? { stopWhen: () => pages >= options.stopWhen! } : {}),
  });
}

async function landWhole(storage: LakeStorage, run: typeof runWindow | typeof runWindowSlice = runWindowSlice): Promise<WindowResult> {
  const s = source();
  const client = await createSourceClient(s, new EnvSecretProvider({}));
  const input = { source: s, stream: s.streams[0]!, window: DAY, client, storage, clock: new ManualClock(), runId: RUN_ID };
  if (run === runWindow) return runWindow(input);
  const outcome = await runWindowSlice(input);
  if (outcome.kind !== 'done') throw new Error('a slice without stopWhen paused');
  return outcome.result;
}

async function committed(storage: LakeStorage): Promise<Manifest> {
  const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
  expect(snapshot.committed).toHaveLength(1);
  expect(snapshot.orphanParts).toEqual([]);
  return snapshot.committed[0]!.manifest;
}

async function rawBytes(storage: LakeStorage, manifest: Manifest): Promise<Buffer[]> {
  return Promise.all(manifest.parts.map(async (part) => (await storage.read(part.key))!));
}

describe.each([
  ['a local lake', async (): Promise<LakeStorage> => new FsLakeStorage(await mkdtemp(join(tmpdir(), 'apilake-slices-')))],
  [
    "moto's S3",
    async (): Promise<LakeStorage> => {
      const bucket = `slices-${Math.random().toString(36).slice(2, 10)}`;
      await aws.createBucket(bucket);
      return new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) });
    },
  ],
])('a window landed in slices on %s', (_, openStorage) => {
  it('lands the raw bytes of an uninterrupted run, fetching each page at most twice and the window once', async () => {
    const whole = await openStorage();
    const before = api.requests.length;
    expect((await landWhole(whole)).status).toBe('committed');
    const uninterrupted = fetchesPerPage(before);
    expect(uninterrupted.size).toBe(PAGES);
    expect(Math.max(...uninterrupted.values())).toBe(1);
    const expected = await committed(whole);
    expect(expected.parts.length).toBeGreaterThan(50);

    const sliced = await openStorage();
    const from = api.requests.length;
    const { result, checkpoints } = await landInSlices(sliced, 23);
    expect(result).toMatchObject({ status: 'committed', records: PAGES, pages: PAGES, runId: RUN_ID });
    expect(checkpoints.length).toBeGreaterThanOrEqual(4);
    for (const c of checkpoints) expect(JSON.stringify(c).length).toBeLessThan(64 * 1024);
    const fetches = fetchesPerPage(from);
    expect(fetches.size).toBe(PAGES);
    expect(Math.max(...fetches.values())).toBeLessThanOrEqual(2);
    // A resumed slice fetches again the page that would have begun the next part, and the one requested while it landed.
    const again = [...fetches.values()].filter((n) => n === 2).length;
    expect(again).toBeGreaterThanOrEqual(checkpoints.length);
    expect(again).toBeLessThanOrEqual(2 * checkpoints.length);

    const got = await committed(sliced);
    expect(got.parts.map((p) => [p.records, p.bytes, p.sha256])).toEqual(expected.parts.map((p) => [p.records, p.bytes, p.sha256]));
    expect(await rawBytes(sliced, got)).toEqual(await rawBytes(whole, expected));
    expect(got.totals).toEqual(expected.totals);
    expect(got.run_id).toBe(RUN_ID);
    expect(got.pages).toBe(PAGES);
    // One Parquet file per slice, the same rows in all.
    expect(got.curated).toHaveLength(checkpoints.length + 1);
    expect(got.curated!.reduce((n, p) => n + p.records, 0)).toBe(PAGES);
  }, 120_000);

  it('lands the same records as the default engine', async () => {
    const storage = await openStorage();
    expect((await landWhole(storage, runWindow)).status).toBe('committed');
    const fromDefault = await committed(storage);
    const lines = async (s: LakeStorage, m: Manifest) => (await rawBytes(s, m)).map((b) => gunzipSync(b).toString()).join('');
    const aligned = await openStorage();
    await landInSlices(aligned, 7);
    expect(await lines(aligned, await committed(aligned))).toBe(await lines(storage, fromDefault));
  }, 120_000);
});

describe('a checkpoint on a local lake', () => {
  async function lake() {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-slices-'));
    return { dir, storage: new FsLakeStorage(dir) };
  }

  it('left behind is invisible, and gc removes its files past the horizon', async () => {
    const { dir, storage } = await lake();
    await sliceOnly(storage, 2, 120);
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed).toEqual([]);
    expect(snapshot.orphanParts!.length).toBeGreaterThan(10);
    expect(await collectGarbage(storage, 'testapi', { streams: ['items'] })).toBeDefined();
    // Within the horizon a checkpoint may still be taken up: nothing goes.
    expect((await snapshotStream(storage, 'testapi', 'items', { audit: true })).orphanParts).toHaveLength(snapshot.orphanParts!.length);
    await ageFiles(dir, ORPHAN_HORIZON_MS + 60_000);
    await collectGarbage(storage, 'testapi', { streams: ['items'] });
    expect((await storage.list('raw/')).length + (await storage.list('curated/')).length).toBe(0);
  }, 60_000);

  it('taken up after another run committed the window stops, committing and removing nothing', async () => {
    const { storage } = await lake();
    const checkpoint = await sliceOnly(storage, 1, 150);
    const other = await slice(storage, { runId: '20250101T000000Z-ffffffffffff' });
    expect(other.kind === 'done' && other.result.status).toBe('committed');
    const before = (await storage.list('raw/')).length;
    const late = await slice(storage, { checkpoint });
    expect(late).toMatchObject({ kind: 'done', result: { status: 'skipped', skipReason: 'concurrent_commit', runId: '20250101T000000Z-ffffffffffff' } });
    expect((await storage.list('raw/')).length).toBe(before);
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed.map((w) => w.manifest.run_id)).toEqual(['20250101T000000Z-ffffffffffff']);
    // The first slice's parts are orphans, for gc.
    expect(snapshot.orphanParts!.length).toBeGreaterThan(0);
  }, 60_000);

  it('fails when taken up later than a run may take to commit, leaving its files to gc', async () => {
    const { storage } = await lake();
    const clock = new ManualClock();
    const checkpoint = await sliceOnly(storage, 1, 150, clock);
    clock.advance(MAX_ATTEMPT_MS + 60_000);
    const before = (await storage.list('raw/')).length;
    const late = await slice(storage, { checkpoint, clock });
    expect(late.kind === 'done' && late.result.status).toBe('failed');
    expect(late.kind === 'done' && late.result.error?.message).toMatch(/more than the 6h a run may take before committing.*its files are left for gc/);
    expect((await storage.list('raw/')).length).toBe(before);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
  }, 60_000);
});

describe('a checkpoint of a source with its key in the query string', () => {
  const KEY = 'sk-live-4f9a2c7e1b55';
  const RECORDS = 150;
  let keyed: TestApi;
  beforeAll(async () => {
    keyed = await startTestApi({ count: RECORDS, spacingMs: 86_400_000 / RECORDS, apiKey: KEY });
  });
  afterAll(async () => {
    await keyed.close();
  });

  function keyedSource(): SourceDefinition {
    return testSource(
      keyed.url,
      // The API's next links carry every query parameter back, the key included.
      { path: '/next', params: { since: '{window.start}', until: '{window.end}', limit: 3 }, records: 'results', pagination: { type: 'next_url', next: 'next' }, window: '1d' },
      { auth: { type: 'api_key', secret: 'apilake/k', in: 'query', name: 'api_key' }, lake: { part_size_mb: 0.002 } },
    );
  }

  it('holds no credential, and the window continues from it with the key sent again, landing every record once', async () => {
    const storage = new FsLakeStorage(await mkdtemp(join(tmpdir(), 'apilake-slices-')));
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_APILAKE_K: JSON.stringify({ api_key: KEY }) });
    const clock = new ManualClock();
    const stored: string[] = [];
    let checkpoint: WindowCheckpoint | undefined;
    let outcome: WindowSliceOutcome | undefined;
    for (let slice = 0; slice < 50 && outcome?.kind !== 'done'; slice++) {
      const s = keyedSource();
      let pages = 0;
      outcome = await runWindowSlice({
        source: s,
        stream: s.streams[0]!,
        window: DAY,
        client: await createSourceClient(s, secrets),
        storage,
        clock,
        ...(checkpoint ? { checkpoint } : {}),
        onPage: () => pages++,
        stopWhen: () => pages >= 7,
      });
      if (outcome.kind === 'paused') {
        // What the durable execution service stores, and shows.
        const json = JSON.stringify(outcome.checkpoint);
        stored.push(json);
        checkpoint = JSON.parse(json) as WindowCheckpoint;
      }
    }
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'committed', records: RECORDS } });
    expect(stored.length).toBeGreaterThan(3);
    // The API did echo the key in its next links, and every request carried it, those of resumed slices too.
    expect(
      stored.every((json) => {
        const { next } = JSON.parse(json) as WindowCheckpoint;
        return 'paging' in next && next.paging?.kind === 'sequential';
      }),
    ).toBe(true);
    expect(keyed.requests.every((r) => new URL(r.url, 'http://x').searchParams.get('api_key') === KEY)).toBe(true);
    for (const json of stored) {
      for (const form of [KEY, encodeURIComponent(KEY), Buffer.from(KEY).toString('base64')]) expect(json).not.toContain(form);
    }
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(await committedIds(storage, snapshot.committed[0]!.manifest)).toEqual(keyed.items.map((item) => item.id));
  });
});

/** The ids of the records a commit lists, in order. */
async function committedIds(storage: LakeStorage, manifest: Manifest): Promise<number[]> {
  const ids: number[] = [];
  for (const part of manifest.parts) {
    const text = gunzipSync((await storage.read(part.key))!).toString();
    for (const line of text.split('\n').filter(Boolean)) ids.push((JSON.parse(line) as { data: { id: number } }).data.id);
  }
  return ids;
}
