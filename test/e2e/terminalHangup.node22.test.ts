/**
 * A terminal that closes under a running command: writes to it fail (EIO) and the command gets
 * SIGHUP. The clean stop of SIGHUP runs to its end and exits 129, as docs/cli.md (Signals) says.
 * Node 22: Node 20 aborts at any exit once its terminal is gone (it asserts on restoring the
 * terminal's modes; https://github.com/nodejs/node/pull/58200 removed that check).
 */

import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { listFiles, readManifests, readRecords } from '../support/lakeReader.js';
import { spawnInHangupPty } from '../support/pty.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';
import { waitUntil } from '../support/waitUntil.js';

// Windows of 60 records, 5 a page: 12 pages each, 40 ms apiece.
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T04:00:00Z'];

let api: TestApi;
let cwd: string;
beforeEach(async () => {
  api = await startTestApi({ count: 240, latencyMs: 40 });
  cwd = await shopProject('apilake-hangup-', api.url, { paging: { type: 'cursor', limit: 5 }, fields: ['lake: { part_size_mb: 0.001 }'] });
});
afterEach(() => api.close());

it('stops cleanly when its terminal closes mid-backfill: exit 129, nothing of the windows in flight left, and the re-run lands every window once', async () => {
  const run = spawnInHangupPty(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
  await run.ready;
  // Two windows in flight, a few pages into each, with parts written.
  await waitUntil(() => new Set(api.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('since'))).size >= 2 && api.requests.length >= 8, {
    what: 'two windows a few pages in',
  });
  run.hangUp();
  const { code } = await run.done();
  expect(code).toBe(129);
  const committed = new Set((await readManifests(join(cwd, 'lake'))).flatMap((m) => [...m.parts, ...(m.curated ?? [])].map((p) => p.key)));
  const files = await listFiles(join(cwd, 'lake'));
  expect(files.filter((f) => f.startsWith('raw/') || f.startsWith('curated/')).sort()).toEqual([...committed].sort());

  const rerun = await apilake(['backfill', 'shop', ...RANGE], { cwd });
  expect(rerun.code).toBe(0);
  const ids = (await readRecords(join(cwd, 'lake'))).map((r) => (r.data as Item).id).sort((a, b) => a - b);
  expect(ids).toEqual(api.items.map((i) => i.id));
  expect(await readManifests(join(cwd, 'lake'))).toHaveLength(4);
});
