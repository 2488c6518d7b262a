/**
 * The commit protocol under attack: concurrent runs, forced re-runs that fail, lost responses,
 * S3 errors and stalls, unreadable commits, garbage collection and readers — each checked
 * against the lake itself, on disk and in S3 (moto behind a fault proxy).
 */

import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowSelection } from '../../functions/engine/windowSelection.js';
import { runWindow, type WindowResult } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { readWindowState, symlinkText } from '../../functions/sink/windowState.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { manifestKey, partKey, symlinkKey, type WindowRef } from '../../functions/sink/lakeLayout.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { getObject, listKeys, LOCAL_AWS, openUploads, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { ageFiles } from '../support/ageFiles.js';
import { listFiles } from '../support/lakeReader.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3FaultProxy.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';

const HOUR = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
const ONE_HOUR: WindowSelection = { kind: 'windows', windows: [HOUR] };
const CURSOR = { path: '/cursor', params: { since: '{window.start}', until: '{window.end}', limit: 8 }, records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } };
const REF: WindowRef = { source: 'testapi', stream: 'items', window: HOUR };

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi({ count: 250, latencyMs: 5 });
});
afterEach(() => api.close());

async function land(
  storage: LakeStorage,
  options: { source?: SourceDefinition; force?: boolean; signal?: AbortSignal; storageSignal?: AbortSignal; fetch?: typeof fetch; selection?: WindowSelection } = {},
): Promise<WindowResult[]> {
  const source = options.source ?? testSource(api.url, CURSOR);
  const client = await createSourceClient(source, new EnvSecretProvider({}), { fetch: options.fetch });
  if (options.storageSignal) {
    return [await runWindow({ source, stream: source.streams[0]!, window: HOUR, client, storage, force: options.force, signal: options.signal, storageSignal: options.storageSignal })];
  }
  return runSource({ source, selection: options.selection ?? ONE_HOUR, client, storage, force: options.force, signal: options.signal });
}

/** What a reader sees of the window, and that nothing else lies in the lake (no orphans). */
async function expectWindowOnce(storage: LakeStorage, options: { orphansAllowed?: boolean } = {}) {
  const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
  const window = snapshot.committed.find((w) => w.ref.window.start.getTime() === HOUR.start.getTime());
  expect(window).toBeDefined();
  expect(window!.manifest.totals.records).toBe(60);
  if (!options.orphansAllowed) expect(snapshot.orphanParts).toEqual([]);
  expect(snapshot.incomplete).toEqual([]);
  expect(snapshot.missingSymlinks).toEqual([]);
  // Every listed part exists with the bytes the manifest recorded.
  const present = new Map((await storage.list('raw/')).map((o) => [o.key, o.size]));
  for (const part of window!.manifest.parts) expect(present.get(part.key)).toBe(part.bytes);
  // The symlink Athena reads lists exactly those parts.
  expect((await storage.read(symlinkKey(REF)))?.toString()).toBe(symlinkText(storage, window!.manifest));
  return window!;
}

/** A fetch that waits until `gate` opens before every request. */
function gatedFetch(gate: Promise<void>): typeof fetch {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    await gate;
    return fetch(input, init);
  };
}

describe('two runs of one window on disk', () => {
  let lake: string;
  let storage: FsLakeStorage;
  beforeEach(async () => {
    lake = await mkdtemp(join(tmpdir(), 'apilake-protocol-'));
    storage = new FsLakeStorage(lake);
  });

  it('commits once when two runs land the same window at the same moment; the other reports the concurrent commit', async () => {
    const results = (await Promise.all([land(storage), land(storage)])).flat();
    expect(results.map((r) => r.status).sort()).toEqual(['committed', 'skipped']);
    const loser = results.find((r) => r.status === 'skipped')!;
    const winner = results.find((r) => r.status === 'committed')!;
    expect(loser.skipReason).toBe('concurrent_commit');
    expect(loser.runId).toBe(winner.runId);
    expect(loser.records).toBe(60);
    const window = await expectWindowOnce(storage);
    expect(window.manifest.run_id).toBe(winner.runId);
  });

  it.each([
    ['fails (API error mid-window)', 'fail'],
    ['is interrupted (Ctrl-C)', 'interrupt'],
  ] as const)('keeps a committed window intact when a concurrent forced re-run %s', async (_what, how) => {
    const [first] = await land(storage);
    expect(first!.status).toBe('committed');
    const committed = await expectWindowOnce(storage);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const controller = new AbortController();
    const source = testSource(api.url, CURSOR, { retry: { max_attempts: 1 } });
    // The forced run lands 3 pages (its own parts exist), then fails or is stopped.
    let pages = 0;
    const fetchFn = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      pages++;
      if (pages === 4) {
        if (how === 'fail') return new Response('{"error":"boom"}', { status: 400 });
        controller.abort('interrupted');
      }
      await gate;
      return fetch(input, init);
    }) as typeof fetch;
    const forced = land(storage, { source, force: true, fetch: fetchFn, signal: controller.signal });
    // Meanwhile a tick of the same window finds it committed.
    const [tick] = await land(storage);
    expect(tick!.status).toBe('skipped');
    release();
    const [result] = await forced;
    expect(result!.status).toBe('failed');
    const after = await expectWindowOnce(storage);
    expect(after.manifest).toEqual(committed.manifest);
    const records = await runLocalQuery("SELECT count(*) AS n, count(DISTINCT data->>'id') AS ids FROM testapi_items", lake);
    expect(records.rows).toEqual([['60', '60']]);
  });

  it('lets the forced run win when it commits after the tick, and the tick run lose when both started on an empty window', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = land(storage, { force: true, fetch: gatedFetch(gate) });
    const [tick] = await land(storage);
    expect(tick!.status).toBe('committed');
    release();
    const [forced] = await slow;
    // Both started on an empty window, so both aimed at commit 1: the tick got it first.
    expect(forced!).toMatchObject({ status: 'skipped', skipReason: 'concurrent_commit', runId: tick!.runId });
    await expectWindowOnce(storage);
    // A force that starts now replaces commit 1 with commit 2.
    const [replaced] = await land(storage, { force: true });
    expect(replaced!.status).toBe('committed');
    expect((await expectWindowOnce(storage)).commit).toBe(2);
  });

  it('reports an unreadable commit, counts its window as not committed, re-lands it as the next commit, and never stops the other windows', async () => {
    const three: WindowSelection = { kind: 'range', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-01T03:00:00Z') };
    await land(storage, { selection: three });
    await writeFile(join(lake, manifestKey(REF, 1)), '{"format": 2, "source": "testa'); // truncated
    const query = await runLocalQuery('SELECT count(*) FROM testapi_items', lake, { warn: () => undefined });
    expect(query.rows).toEqual([['120']]); // the window with the broken commit is not visible
    const state = await readWindowState(storage, REF);
    expect(state).toMatchObject({ kind: 'unreadable', commit: 1 });
    const again = await land(storage, { selection: three });
    expect(again.map((r) => r.status)).toEqual(['committed', 'skipped', 'skipped']);
    expect(again[0]!.warnings?.[0]).toMatch(/is not valid JSON .*counts as not committed and is landed again as commit 2/);
    const window = await expectWindowOnce(storage, { orphansAllowed: true });
    expect(window.commit).toBe(2);
  });

  it('leaves nothing a reader sees when a run dies before its commit, and gc removes its files once it is past the horizon', async () => {
    // A run that was killed: its parts and a temp file are on disk, no commit lists them.
    const deadRun = '20231231T000000Z-0123456789ab';
    await storage.writeBytes(partKey(REF, deadRun, 0), Buffer.from('not even gzip'));
    const temp = join(lake, 'raw/source=testapi/stream=items/dt=2024-01-01', `.${partKey(REF, deadRun, 1).split('/').pop()}.aaaaaaaaaaaa.tmp`);
    await writeFile(temp, 'half a part');
    // Both last written more than the horizon ago, by the storage's clock.
    expect(await ageFiles(lake, ORPHAN_HORIZON_MS + 60_000, (path) => path.includes(deadRun))).toHaveLength(2);
    // Nothing is committed, so there is no table to read at all.
    await expect(runLocalQuery('SELECT count(*) FROM testapi_items', lake)).rejects.toThrow(/testapi_items does not exist/);
    const [result] = await land(storage);
    expect(result!.status).toBe('committed');
    // The run's own clean-up after its commit already collected the dead run's files (they are past the horizon).
    expect((await listFiles(lake)).filter((k) => k.includes(deadRun))).toEqual([]);
    await expectWindowOnce(storage);
    expect((await runLocalQuery('SELECT count(*) FROM testapi_items', lake)).rows).toEqual([['60']]);
  });

  it('keeps the parts of a run that may still be in flight, and never the parts a commit lists', async () => {
    await land(storage);
    const window = await expectWindowOnce(storage);
    const liveRun = `${new Date()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '')}-0123456789ab`;
    await storage.writeBytes(partKey(REF, liveRun, 0), Buffer.from('a live run'));
    const young = await collectGarbage(storage, 'testapi', { streams: ['items'] });
    expect(young).toEqual([{ stream: 'items', deletedParts: 0, abortedWrites: 0, youngOrphans: 1, repairedSymlinks: 0, unreadable: [], storageTime: expect.any(Date) as Date }]);
    await ageFiles(lake, ORPHAN_HORIZON_MS + 60_000);
    const later = await collectGarbage(storage, 'testapi', { streams: ['items'] });
    expect(later[0]).toMatchObject({ deletedParts: 1, youngOrphans: 0 });
    // However old, the committed parts stay.
    await ageFiles(lake, 100 * ORPHAN_HORIZON_MS);
    await collectGarbage(storage, 'testapi', { streams: ['items'] });
    expect((await expectWindowOnce(storage)).manifest).toEqual(window.manifest);
  });

  it('repairs a missing or stale symlink on the next run that sees the window, and in gc', async () => {
    await land(storage);
    await storage.delete([symlinkKey(REF)]);
    const [skip] = await land(storage);
    expect(skip!.status).toBe('skipped');
    await expectWindowOnce(storage);
    await storage.writeBytes(symlinkKey(REF), 's3://elsewhere/stale.jsonl.gz\n');
    expect((await collectGarbage(storage, 'testapi', { streams: ['items'] }))[0]).toMatchObject({ repairedSymlinks: 1 });
    await expectWindowOnce(storage);
  });
});

describe('a window in S3 behind faults', () => {
  let aws: AwsServers;
  let proxy: S3FaultProxy;
  let storage: S3LakeStorage;
  let bucket: string;
  let n = 0;
  beforeAll(async () => {
    aws = await startAwsServers();
    proxy = await startS3FaultProxy(aws.s3Endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await aws.stop();
  });
  beforeEach(async () => {
    bucket = `protocol-${++n}`;
    await aws.createBucket(bucket);
    proxy.clear();
    proxy.denyMissingKeys(true); // as real S3 answers a role without an unconditioned s3:ListBucket
    storage = new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: proxy.endpoint, forcePathStyle: true }) });
  });
  const isCommit = (c: { operation: string; key: string }) => c.operation === 'PutObject' && c.key.startsWith('manifests/') && c.key.endsWith('.json');

  it('never depends on a 404: lands, skips and replaces a window when every missing key reads as 403', async () => {
    expect((await land(storage))[0]!.status).toBe('committed');
    expect((await land(storage))[0]!.status).toBe('skipped');
    expect((await land(storage, { force: true }))[0]!.status).toBe('committed');
    expect((await expectWindowOnce(storage)).commit).toBe(2);
    expect(proxy.calls.filter((c) => c.operation === 'GetObject').every((c) => !c.key.startsWith('manifests/') || c.key.endsWith('.json'))).toBe(true);
  });

  it('reads the commit back when its response is lost after S3 applied it, and keeps the window', async () => {
    proxy.inject({ match: isCommit, fault: { kind: 'drop-after' } });
    const [result] = await land(storage);
    expect(result!.status).toBe('committed');
    expect(proxy.faultsInjected()).toBe(1);
    const window = await expectWindowOnce(storage);
    expect(window.manifest.run_id).toBe(result!.runId);
  });

  it('keeps its parts and fails when a commit keeps failing and cannot be confirmed; a re-run lands the window and gc collects them', async () => {
    proxy.inject({ match: isCommit, fault: { kind: 'status', status: 503 }, times: 1_000 });
    proxy.inject({ match: (c) => c.operation === 'ListObjectsV2' && c.prefix.startsWith('manifests/') && c.prefix.endsWith('.000001.json'), fault: { kind: 'status', status: 500 }, times: 1_000 });
    const [failed] = await land(storage);
    expect(failed!.status).toBe('failed');
    expect(failed!.error!.message).toMatch(/not confirmed .*its parts are kept for gc/);
    // Unknown outcome: nothing was deleted, and nothing is visible either.
    expect((await listKeys(aws.s3, bucket, 'raw/')).length).toBe(1);
    expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual([]);
    proxy.clear();
    expect((await land(storage))[0]!.status).toBe('committed');
    await expectWindowOnce(storage, { orphansAllowed: true });
    proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000);
    await collectGarbage(storage, 'testapi', { streams: ['items'] });
    await expectWindowOnce(storage);
  });

  it('survives 503 SlowDown and dropped connections on every kind of write', async () => {
    for (const operation of ['PutObject', 'ListObjectsV2', 'GetObject', 'DeleteObjects']) {
      proxy.inject({ match: (c) => c.operation === operation, fault: { kind: 'status', status: 503 } });
      proxy.inject({ match: (c) => c.operation === operation, fault: { kind: 'drop-before' } });
    }
    expect((await land(storage))[0]!.status).toBe('committed');
    expect((await land(storage, { force: true }))[0]!.status).toBe('committed');
    expect(proxy.faultsInjected()).toBeGreaterThanOrEqual(6);
    await expectWindowOnce(storage);
  });

  it('fails promptly and cleanly when an S3 call stalls past the storage deadline', async () => {
    proxy.inject({ match: (c) => c.operation === 'PutObject' && c.key.startsWith('raw/'), fault: { kind: 'stall' }, times: 10 });
    const started = Date.now();
    const [result] = await land(storage, { storageSignal: AbortSignal.timeout(1_500) });
    expect(result!.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(15_000); // bounded by the deadline, not by S3
    expect(result!.error!.message).toMatch(/stopped before it finished|aborted/i);
    expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual([]);
    expect(await openUploads(aws.s3, bucket)).toEqual([]);
  });

  it('writes a symlink file that lists exactly the committed parts as s3:// URIs', async () => {
    await land(storage);
    const window = await expectWindowOnce(storage);
    const text = (await getObject(aws.s3, bucket, symlinkKey(REF))).toString();
    expect(text.trim().split('\n')).toEqual(window.manifest.parts.map((p) => `s3://${bucket}/${p.key}`));
    const ids = api.items.filter((i: Item) => i.id <= 60).length;
    expect(window.manifest.totals.records).toBe(ids);
  });
});
