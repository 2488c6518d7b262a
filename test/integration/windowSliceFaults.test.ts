/**
 * A window landed in slices under attack: invocations killed at seeded random pages (their storage
 * frozen mid-way, their files left as a killed process leaves them) and continued from the last
 * checkpoint; two invocations continuing the same checkpoint at once. Each time: the window is
 * committed once with every record, nothing is visible before the commit, gc leaves no orphan.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindowSlice, type WindowSliceOutcome } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { ageFiles } from '../support/ageFiles.js';
import { ManualClock } from '../support/manualClock.js';
import { between, seededRandom } from '../support/seededRandom.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const PAGES = 200;
const DAY = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-02T00:00:00Z') };

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ count: PAGES, spacingMs: 86_400_000 / PAGES });
});
afterAll(() => api.close());

function source(): SourceDefinition {
  return testSource(
    api.url,
    {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit: 1 },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' },
      window: '1d',
    },
    { lake: { part_size_mb: 0.004, parquet: true } },
  );
}

/** A storage that a kill freezes: every call from then on never returns, as in a process that died. */
function freezable(storage: LakeStorage): { storage: LakeStorage; freeze: () => void } {
  let frozen = false;
  const never = new Promise<never>(() => undefined);
  const proxy = new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (frozen ? never : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { storage: proxy, freeze: () => (frozen = true) };
}

type Run = { kind: 'killed' } | WindowSliceOutcome;

/** One invocation: a slice of `size` pages, killed after page `killAt` of it when given. */
async function invocation(storage: LakeStorage, checkpoint: WindowCheckpoint | undefined, size: number, killAt?: number): Promise<Run> {
  const s = source();
  const client = await createSourceClient(s, new EnvSecretProvider({}));
  const { storage: frozen, freeze } = freezable(storage);
  let pages = 0;
  let kill: (run: Run) => void = () => undefined;
  const killed = new Promise<Run>((resolve) => (kill = resolve));
  const slice = runWindowSlice({
    source: s,
    stream: s.streams[0]!,
    window: DAY,
    client,
    storage: frozen,
    clock: new ManualClock(),
    ...(checkpoint ? { checkpoint: JSON.parse(JSON.stringify(checkpoint)) as WindowCheckpoint } : {}),
    onPage: () => {
      pages++;
      if (pages === killAt) {
        freeze();
        kill({ kind: 'killed' });
      }
    },
    stopWhen: () => pages >= size,
  });
  return Promise.race([slice, killed]);
}

async function records(storage: LakeStorage): Promise<number[]> {
  const snapshot = await snapshotStream(storage, 'testapi', 'items');
  expect(snapshot.committed).toHaveLength(1);
  const ids: number[] = [];
  for (const part of snapshot.committed[0]!.manifest.parts) {
    for (const line of gunzipSync((await storage.read(part.key))!)
      .toString()
      .trim()
      .split('\n'))
      ids.push((JSON.parse(line) as { data: { id: number } }).data.id);
  }
  return ids;
}

async function expectNoOrphansAfterGc(dir: string, storage: LakeStorage): Promise<void> {
  await ageFiles(dir, ORPHAN_HORIZON_MS + 60_000);
  await collectGarbage(storage, 'testapi', { streams: ['items'] });
  const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
  expect(snapshot.orphanParts).toEqual([]);
  expect(snapshot.incomplete).toEqual([]);
  const listed = new Set(snapshot.committed.flatMap((w) => [...w.manifest.parts, ...(w.manifest.curated ?? [])].map((p) => p.key)));
  const stored = [...(await storage.list('raw/')), ...(await storage.list('curated/'))].map((o) => o.key);
  expect(stored.sort()).toEqual([...listed].sort());
}

const EVERY_ID = Array.from({ length: PAGES }, (_, i) => i + 1);

describe('a window landed in slices', () => {
  it.each(Array.from({ length: 24 }, (_, i) => [1000 + i]))(
    'lands once when invocations are killed at seeded random pages (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const dir = await mkdtemp(join(tmpdir(), 'apilake-slice-kill-'));
      const storage = new FsLakeStorage(dir);
      let checkpoint: WindowCheckpoint | undefined;
      let kills = 0;
      for (let i = 0; i < 60; i++) {
        const size = between(random, 20, 70);
        // Half the invocations die somewhere in their slice, or past its end while it finishes its part.
        const killAt = i === 0 || random() < 0.5 ? between(random, 1, size + 12) : undefined;
        const run = await invocation(storage, checkpoint, size, killAt);
        if (run.kind === 'killed') {
          kills++;
          expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
          continue;
        }
        if (run.kind === 'paused') {
          checkpoint = run.checkpoint;
          expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
          continue;
        }
        expect(run.result.status).toBe('committed');
        break;
      }
      expect(kills).toBeGreaterThan(0);
      expect(await records(storage)).toEqual(EVERY_ID);
      await expectNoOrphansAfterGc(dir, storage);
    },
    120_000,
  );

  it('lets one of two invocations continuing the same checkpoint commit; the other stops without damage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-slice-race-'));
    const storage = new FsLakeStorage(dir);
    const first = await invocation(storage, undefined, 60);
    expect(first.kind).toBe('paused');
    const checkpoint = (first as Extract<Run, { kind: 'paused' }>).checkpoint;
    const [a, b] = await Promise.all([invocation(storage, checkpoint, 10_000), invocation(storage, checkpoint, 10_000)]);
    const statuses = [a, b].map((run) => (run.kind === 'done' ? run.result.status : run.kind)).sort();
    expect(statuses).toEqual(['committed', 'skipped']);
    const loser = [a, b].find((run) => run.kind === 'done' && run.result.status === 'skipped') as Extract<Run, { kind: 'done' }>;
    expect(loser.result.skipReason).toBe('concurrent_commit');
    expect(await records(storage)).toEqual(EVERY_ID);
    // Every part the commit lists is there with the bytes it recorded.
    const manifest = (await snapshotStream(storage, 'testapi', 'items')).committed[0]!.manifest;
    for (const part of manifest.parts) expect((await storage.read(part.key))!.length).toBe(part.bytes);
    await expectNoOrphansAfterGc(dir, storage);
  }, 120_000);
});
