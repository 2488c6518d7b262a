/**
 * Listings bounded by key (`startAfter`, `before`), on disk and in S3 (moto): the same keys from
 * both, and in S3 the keys outside the bounds are not read, page by page. Following a backfill
 * lists the manifests of its pending days only, through them.
 */

import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { manifestKey, windowId, type WindowRef } from '../../functions/sink/lakeLayout.js';
import { currentCommits } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { committedWindows } from '../../cli/backfill/windowList.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from '../support/awsServers.js';

const HOUR = 3_600_000;
const FIRST = Date.parse('2024-01-01T00:00:00Z');
/** Hourly windows over 50 days: 1,200 windows, 2,400 manifests (two commits each), more than two pages of a listing. */
const WINDOWS = 50 * 24;
const ref = (stream: string, hour: number): WindowRef => ({ source: 'shop', stream, window: { start: new Date(FIRST + hour * HOUR), end: new Date(FIRST + (hour + 1) * HOUR) } });
const KEYS = [
  ...Array.from({ length: WINDOWS }, (_, h) => [manifestKey(ref('orders', h), 1), manifestKey(ref('orders', h), 2)]).flat(),
  // Another stream, whose keys sort right after these: no bound of the first may reach them.
  manifestKey(ref('orderz', 0), 1),
  'manifests/source=shop/stream=orders/zzz-not-a-day.json',
];

describe('bounded listings', () => {
  let aws: AwsServers;
  let s3: S3Client;
  const listCalls: { StartAfter?: string }[] = [];
  let stores: [string, LakeStorage][];

  beforeAll(async () => {
    aws = await startAwsServers();
    s3 = new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true });
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') listCalls.push(args.input as { StartAfter?: string });
        return next(args);
      },
      { step: 'initialize', name: 'countLists' },
    );
    await aws.createBucket('lake');
    const dir = await mkdtemp(join(tmpdir(), 'apilake-listing-'));
    for (let i = 0; i < KEYS.length; i += 50) {
      await Promise.all(
        KEYS.slice(i, i + 50).map(async (key) => {
          await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `prefix/${key}`, Body: '{}' }));
          await mkdir(dirname(join(dir, key)), { recursive: true });
          await writeFile(join(dir, key), '{}');
        }),
      );
    }
    stores = [
      ['on disk', new FsLakeStorage(dir)],
      ['in S3', new S3LakeStorage({ bucket: 'lake', prefix: 'prefix/', client: s3 })],
    ];
  }, 120_000);
  afterAll(() => aws.stop());

  it('lists exactly the keys after startAfter and before before, the same on disk and in S3', async () => {
    const prefix = 'manifests/source=shop/stream=orders/';
    const cases = [
      { startAfter: `${prefix}dt=2024-01-03`, before: `${prefix}dt=2024-01-05` },
      { startAfter: manifestKey(ref('orders', 30), 1), before: manifestKey(ref('orders', 32), 2) },
      { startAfter: `${prefix}dt=2024-02-18` },
      { before: `${prefix}dt=2024-01-02` },
      { startAfter: `${prefix}dt=2025-01-01`, before: `${prefix}dt=2025-01-02` },
    ];
    for (const bounds of cases) {
      const expected = KEYS.filter((k) => k.startsWith(prefix) && (bounds.startAfter === undefined || k > bounds.startAfter) && (bounds.before === undefined || k < bounds.before)).sort();
      for (const [where, storage] of stores) {
        expect(
          (await storage.list(prefix, bounds)).map((o) => o.key),
          `${where}, ${JSON.stringify(bounds)}`,
        ).toEqual(expected);
      }
    }
  });

  it('in S3, starts at startAfter and stops at before: two days of fifty take one request, not three', async () => {
    const s3Storage = stores[1]![1];
    listCalls.length = 0;
    await s3Storage.list('manifests/source=shop/stream=orders/');
    expect(listCalls).toHaveLength(3); // 2,401 keys, 1,000 a page
    listCalls.length = 0;
    const days = await currentCommits(s3Storage, 'shop', 'orders', { starts: { first: new Date('2024-01-20T05:00:00Z'), last: new Date('2024-01-21T23:00:00Z') } });
    expect(listCalls).toEqual([expect.objectContaining({ StartAfter: 'prefix/manifests/source=shop/stream=orders/dt=2024-01-20' })]);
    // Every window of both days, at its current commit, and nothing of the days around them.
    const hours = Array.from({ length: 48 }, (_, i) => 19 * 24 + i);
    expect([...days.keys()].sort()).toEqual(hours.map((h) => windowId(ref('orders', h))).sort());
    expect([...days.values()].every((c) => c.commit === 2)).toBe(true);
  });

  it("reads the current commits of a backfill's windows from the days they start on, for each stream", async () => {
    const event = (stream: string, hour: number) => {
      const { start, end } = ref(stream, hour).window;
      return { source: 'shop', stream, window: { start: start.toISOString().replace('.000', ''), end: end.toISOString().replace('.000', '') }, force: false };
    };
    for (const [where, storage] of stores) {
      listCalls.length = 0;
      // Windows on the 3rd and the 10th: the days between are listed too, and no day around them.
      const found = await committedWindows(storage, [event('orders', 2 * 24 + 7), event('orders', 9 * 24 + 23), event('orderz', 0)]);
      const expected = [...Array.from({ length: 8 * 24 }, (_, i) => windowId(ref('orders', 2 * 24 + i))), windowId(ref('orderz', 0))];
      expect([...found.keys()].sort(), where).toEqual(expected.sort());
      if (where === 'in S3') expect(listCalls).toHaveLength(2); // one bounded listing per stream
    }
  });
});
