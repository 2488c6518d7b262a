import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { spawnApilake } from '../support/cliProcess.js';
import { listFiles, readManifests, readRecords } from '../support/lakeReader.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';

// The CLI stopped the way containers, systemd, CI runners and closed terminals stop it: the
// first signal stops cleanly and the exit code says which signal; a second quits at once.
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'];
const SECOND_WINDOW = '2024-01-01T01:00:00Z';

let api: TestApi;
let cwd: string;

async function workspace(latencyMs: number): Promise<void> {
  // 60 records an hour, 5 a page: 12 pages a window, each `latencyMs` slow.
  api = await startTestApi({ count: 180, latencyMs });
  cwd = await mkdtemp(join(tmpdir(), 'apilake-signals-'));
  await mkdir(join(cwd, 'sources'));
  await writeFile(
    join(cwd, 'sources', 'shop.yaml'),
    `name: shop
schedule: rate(1 hour)
base_url: ${api.url}
lake: { part_size_mb: 0.001 }
streams:
  - name: items
    path: /cursor
    params: { since: "{window.start}", until: "{window.end}", limit: 5 }
    records: data
    pagination: { type: cursor, cursor: meta.next_cursor, param: cursor }
    window: 1h
`,
  );
}
afterEach(() => api.close());

/** Resolves once the API has received `count` requests of the window starting at `since`. */
function requestsOf(since: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (api.requests.filter((r) => new URL(r.url, 'http://x').searchParams.get('since') === since).length >= count) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('apilake run stopped by a signal', () => {
  beforeEach(() => workspace(40));

  it.each([
    ['SIGTERM', 143, 'interrupted by SIGTERM: finishing cleanly'],
    ['SIGHUP', 129, 'interrupted by SIGHUP: finishing cleanly'],
    ['SIGINT', 130, 'interrupted: finishing cleanly'],
  ] as const)('on %s mid-window stops between pages, removes what the window wrote, prints the summary and exits %i; the re-run lands every window once', async (signal, code, notice) => {
    const run = spawnApilake(['run', 'shop', ...RANGE], { cwd });
    // Three pages into the second window: some of its parts are written, one is being written.
    await requestsOf(SECOND_WINDOW, 3);
    run.child.kill(signal);
    const stopped = await run.done();
    expect(stopped.code).toBe(code);
    expect(stopped.stderr).toContain(notice);
    expect(stopped.stdout).toMatch(/^shop: 1 committed, 0 skipped, 0 failed, 1 interrupted, 1 not started · 60 records landed/m);
    expect(stopped.stdout).toContain('1 window not started, 1 window interrupted in flight (nothing of it is visible); re-run the same command to continue');
    // Only what the first window committed is left: no temp file, no part of the stopped window.
    const manifests = await readManifests(join(cwd, 'lake'));
    expect(manifests.map((m) => m.window.start)).toEqual(['2024-01-01T00:00:00Z']);
    const committed = new Set(manifests.flatMap((m) => [...m.parts, ...(m.curated ?? [])].map((p) => p.key)));
    const files = await listFiles(join(cwd, 'lake'));
    expect(files.filter((f) => f.startsWith('raw/') || f.startsWith('curated/')).sort()).toEqual([...committed].sort());
    expect(files.filter((f) => !f.startsWith('raw/') && !f.startsWith('curated/'))).toEqual([
      expect.stringMatching(/^manifests\/.*\/20240101T000000Z_20240101T010000Z\.000001\.json$/),
      expect.stringMatching(/^symlinks\/curated\/.*\/20240101T000000Z_20240101T010000Z\.txt$/),
      expect.stringMatching(/^symlinks\/raw\/.*\/20240101T000000Z_20240101T010000Z\.txt$/),
    ]);

    const rerun = await apilake(['run', 'shop', ...RANGE], { cwd });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('shop: 2 committed, 1 skipped, 0 failed');
    const ids = (await readRecords(join(cwd, 'lake'))).map((r) => (r.data as Item).id).sort((a, b) => a - b);
    expect(ids).toEqual(api.items.map((i) => i.id));
    expect(await readManifests(join(cwd, 'lake'))).toHaveLength(3);
  }, 60_000);
});

describe('a second signal', () => {
  // Pages so slow that stopping between pages would take seconds.
  beforeEach(() => workspace(8_000));

  it.each([
    ['SIGTERM', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
  ] as const)('after %s, %s quits at once, with its own exit code', async (first, second, code) => {
    const run = spawnApilake(['run', 'shop', ...RANGE], { cwd });
    await requestsOf('2024-01-01T00:00:00Z', 1);
    const noticed = new Promise<void>((resolve, reject) => {
      run.child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('a second signal quits at once') && resolve());
      void run.done().then(({ code: exited }) => reject(new Error(`apilake exited (${exited}) before it noticed ${first}`)));
    });
    run.child.kill(first);
    await noticed;
    const sent = Date.now();
    run.child.kill(second);
    const quit = await run.done();
    expect(quit.code).toBe(code);
    expect(Date.now() - sent).toBeLessThan(4_000); // the page in flight needs 8 s
    expect(quit.stdout).not.toContain('shop: ');
  });
});
