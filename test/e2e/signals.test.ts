import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { spawnApilake } from '../support/cliProcess.js';
import { listFiles, readManifests, readRecords } from '../support/lakeReader.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3FaultProxy.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';
import { waitUntil } from '../support/waitUntil.js';

// The CLI stopped the way containers, systemd, CI runners and closed terminals stop it: the
// first signal stops cleanly and the exit code says which signal; a second quits at once.
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'];
const SECOND_WINDOW = '2024-01-01T01:00:00Z';

let api: TestApi;
let cwd: string;

async function workspace(latencyMs: number): Promise<void> {
  // 60 records an hour, 5 a page: 12 pages a window, each `latencyMs` slow.
  api = await startTestApi({ count: 180, latencyMs });
  cwd = await shopProject('apilake-signals-', api.url, { paging: { type: 'cursor', limit: 5 }, fields: ['lake: { part_size_mb: 0.001 }'] });
}
afterEach(() => api.close());

/** Resolves once the API has received `count` requests of the window starting at `since`. */
function requestsOf(since: string, count: number): Promise<void> {
  return waitUntil(() => api.requests.filter((r) => new URL(r.url, 'http://x').searchParams.get('since') === since).length >= count, {
    what: `the API has ${count} requests of the window from ${since}`,
  });
}

describe('apilake run stopped by a signal', () => {
  beforeEach(() => workspace(40));

  it.each([
    ['SIGTERM', 143, 'interrupted by SIGTERM: finishing cleanly'],
    ['SIGHUP', 129, 'interrupted by SIGHUP: finishing cleanly'],
    ['SIGINT', 130, 'interrupted: finishing cleanly'],
  ] as const)(
    'on %s mid-window stops between pages, removes what the window wrote, prints the summary and exits %i; the re-run lands every window once',
    async (signal, code, notice) => {
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
    },
    60_000,
  );
});

describe('a second signal', () => {
  // The first signal drops the page in flight but lets storage calls finish, so that the window
  // can remove what it wrote: an S3 upload that stalls keeps the run waiting, a second signal ends it.
  let moto: MotoServer;
  let proxy: S3FaultProxy;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startS3FaultProxy(moto.endpoint);
    s3 = new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true });
  });
  afterAll(async () => {
    s3.destroy();
    await Promise.all([proxy.close(), moto.stop()]);
  });
  beforeEach(() => workspace(0));

  it.each([
    ['SIGTERM', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGHUP', 129],
  ] as const)(
    'after %s, %s quits at once with its own exit code, while a stalled S3 upload holds the clean stop',
    async (first, second, code) => {
      const bucket = `signals-${first}-${second}`.toLowerCase();
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      proxy.clear();
      proxy.calls.splice(0);
      proxy.inject({ match: (c) => c.bucket === bucket && c.operation === 'PutObject' && c.key.startsWith('raw/'), fault: { kind: 'stall' }, times: 1_000 });
      const env = { ...moto.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, APILAKE_S3_IDLE_TIMEOUT_MS: '120000' };
      const run = spawnApilake(['run', 'shop', ...RANGE, '--bucket', bucket], { cwd, env });
      await waitUntil(() => proxy.calls.some((c) => c.fault === 'stall'), { what: 'S3 has stalled a call' });
      const noticed = new Promise<void>((resolve, reject) => {
        run.child.stderr!.on('data', (chunk: Buffer) => /interrupted.*(a second signal quits at once|Ctrl-C again to quit at once)/.test(chunk.toString()) && resolve());
        void run.done().then(({ code: exited }) => reject(new Error(`apilake exited (${exited}) before it noticed ${first}`)));
      });
      run.child.kill(first);
      await noticed;
      const sent = Date.now();
      run.child.kill(second);
      const quit = await run.done();
      expect(quit.code).toBe(code);
      expect(Date.now() - sent).toBeLessThan(5_000); // the stalled upload would hold the run for minutes
      expect(quit.stdout).not.toContain('shop: ');
    },
    60_000,
  );
});

describe('apilake query stopped by a signal', () => {
  beforeEach(() => workspace(0));

  it.each([
    ['writes no --out file', undefined],
    ['leaves the --out file it was replacing as it was', 'an earlier export\n'],
  ])('on SIGTERM interrupts DuckDB, %s, and exits 143', async (_what, before) => {
    const out = join(cwd, 'export.csv');
    if (before !== undefined) await writeFile(out, before);
    // Slow on purpose (a 25 KB hash a row): the export grows by about a megabyte a second.
    const query = spawnApilake(['query', 'SELECT i, md5(repeat(i::VARCHAR, 5000)) AS h FROM range(100000000) t(i)', '--format', 'csv', '--out', out, ...(before === undefined ? [] : ['--force'])], {
      cwd,
    });
    const hung = setTimeout(() => query.child.kill('SIGKILL'), 20_000);
    // Once the export has begun (a temporary file beside the one it replaces), it is under way.
    await waitUntil(
      async () => {
        const names = await readdir(cwd);
        const sizes = await Promise.all(names.filter((n) => n.includes('export.csv')).map(async (n) => (await stat(join(cwd, n))).size));
        return sizes.some((size) => size > (before?.length ?? 0));
      },
      { what: 'the export has begun', everyMs: 10 },
    );
    query.child.kill('SIGTERM');
    const stopped = await query.done();
    clearTimeout(hung);
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toContain(`interrupted by SIGTERM: stopping the query; ${out} is not written`);
    expect(stopped.stderr).toContain(`apilake: query stopped; ${out} was not written (a file that was there is left as it was)`);
    if (before === undefined) await expect(stat(out)).rejects.toThrow(/ENOENT/);
    else expect(await readFile(out, 'utf8')).toBe(before);
    expect((await readdir(cwd)).filter((n) => n.includes('export'))).toEqual(before === undefined ? [] : ['export.csv']);
  });
});
