import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { spawnApilake } from '../support/cliProcess.js';
import { listFiles, readManifests, readRecords } from '../support/lakeReader.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';

// 30 hourly windows of 10 records each: items every 6 minutes from 2024-01-01T00:00Z.
const BIN = fileURLToPath(new URL('../../bin/apilake.mjs', import.meta.url));
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-02T06:00:00Z'];
const FAILING_WINDOW = '2024-01-01T07:00:00Z';

let api: TestApi;
let cwd: string;

beforeEach(async () => {
  api = await startTestApi({ count: 300, spacingMs: 360_000, latencyMs: 40 });
  cwd = await shopProject('apilake-backfill-', api.url, {
    paging: { type: 'page_number', perPage: 4 },
    fields: ['retry: { max_attempts: 2, base_delay_ms: 5, max_delay_ms: 1000 }', 'rate_limit: { concurrency: 8 }'],
  });
});
afterEach(() => api.close());

/** Successful first-page fetches per window, read from the API's request log. */
function landedFetches(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of api.requests) {
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/page' && url.searchParams.get('page') === '1') counts.set(url.searchParams.get('since')!, (counts.get(url.searchParams.get('since')!) ?? 0) + 1);
  }
  return counts;
}

/** The lake the closing summary (`shop: … → <lake>`) names. */
function summaryLake(stdout: string): string | undefined {
  return / → (.+)$/.exec(stdout.split('\n').find((line) => line.startsWith('shop: ')) ?? '')?.[1];
}

async function expectExactlyOnce() {
  const records = await readRecords(join(cwd, 'lake'));
  const ids = records.map((r) => (r.data as Item).id).sort((a, b) => a - b);
  expect(ids).toEqual(api.items.map((i) => i.id));
  const manifests = await readManifests(join(cwd, 'lake'));
  expect(manifests).toHaveLength(30);
  expect(new Set(manifests.map((m) => m.window.start)).size).toBe(30);
}

describe('apilake backfill (local)', () => {
  it('lands 30 windows 4 at a time; a window that fails twice is reported, then lands on the re-run', async () => {
    // The failing window's first page fails twice: both attempts of its retry budget.
    api.failWhen((url) => url.searchParams.get('since') === FAILING_WINDOW, { kind: 'status', status: 503 }, 2);
    const first = await apilake(['backfill', 'shop', ...RANGE, '--concurrency', '4'], { cwd });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('apilake backfill shop');
    expect(first.stdout).toContain('(30 windows, 4 at once, one shared rate limit)');
    expect(first.stdout).toContain('shop: 29 committed, 0 skipped, 1 failed');
    expect(first.stdout).toMatch(/failed windows \(run the same command again to retry only these\):\n {2}✗ items \[2024-01-01T07:00:00Z, 2024-01-01T08:00:00Z\) \(1h\): HTTP 503 after 2 attempts/);
    expect(api.peakConcurrency()).toBeGreaterThan(1);
    // Requests in flight are bounded by the source's shared rate_limit.concurrency (8): a window
    // pages ahead when it has no total, so requests outnumber the 4 windows in flight.
    expect(api.peakConcurrency()).toBeLessThanOrEqual(8);

    const second = await apilake(['backfill', 'shop', ...RANGE, '--concurrency', '4'], { cwd });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('shop: 1 committed, 29 skipped, 0 failed');
    // The summary names the lake as run's does: the folder --lake (./lake) resolves to.
    expect(summaryLake(second.stdout)).toBe(join(cwd, 'lake'));
    const run = await apilake(['run', 'shop', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'], { cwd });
    expect(summaryLake(run.stdout)).toBe(join(cwd, 'lake'));
    const fetches = landedFetches();
    expect([...fetches.entries()].filter(([since]) => since !== FAILING_WINDOW).every(([, n]) => n === 1)).toBe(true); // no window fetched twice
    expect(fetches.get(FAILING_WINDOW)).toBe(3); // two failed attempts, one success
    await expectExactlyOnce();
  });

  it('says a range that holds no complete window holds none, exit 0', async () => {
    const ahead = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const { code, stdout } = await apilake(['backfill', 'shop', '--from', ahead, '--to', `${ahead}T06:00:00Z`], { cwd });
    expect(code).toBe(0);
    expect(stdout).toContain('(0 windows, 1 at once, one shared rate limit)\n  no complete window in the requested range (a window is landed once it has ended)\n');
    expect(api.requests).toEqual([]);
  });

  it('goes on landing every window once, quietly and with exit 0, when the reader of its output stops reading (| head)', async () => {
    const run = spawnApilake(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
    run.child.stdout!.once('data', () => run.child.stdout!.destroy());
    const { code, stderr } = await run.done();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    await expectExactlyOnce();
  });

  it('ends with exit 2 when its output fills up mid-run, and the next run lands the windows left, each once', async () => {
    // A file size limit of 2 KiB (bash's ulimit -f): the window lines overflow it halfway through
    // the range, with windows in flight, while each lake file stays under it.
    const command = ['ulimit -f 2; exec "$0" "$@" > out.txt', process.execPath, BIN, 'backfill', 'shop', ...RANGE, '--concurrency', '2'];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', ...command], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let text = '';
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('close', (exit) => resolve({ code: exit, stderr: text }));
    });
    expect(stderr).toMatch(/^apilake: cannot write to standard output: EFBIG: file too large, write\n$/);
    expect(code).toBe(2);
    const landed = (await readManifests(join(cwd, 'lake'))).length;
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(30);
    const resumed = await apilake(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`shop: ${30 - landed} committed, ${landed} skipped, 0 failed`);
    await expectExactlyOnce();
  });

  it('stops cleanly on Ctrl-C though its standard error cannot be written (a full disk), and the re-run lands the windows left, each once', async () => {
    const child = spawn('bash', ['-c', 'exec "$0" "$@" 2>/dev/full', process.execPath, BIN, 'backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    const sixLanded = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.split('\n').filter((l) => /^\s+✓ items/.test(l)).length >= 6) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await sixLanded;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const manifests = await readManifests(join(cwd, 'lake'));
    const landed = manifests.length;
    // Nothing half-visible: every part on disk belongs to a committed window.
    const committed = new Set(manifests.flatMap((m) => m.parts.map((p) => p.key)));
    expect((await listFiles(join(cwd, 'lake'))).filter((f) => f.startsWith('raw/')).every((f) => committed.has(f))).toBe(true);
    const resumed = await apilake(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
    expect(resumed.stdout).toContain(`shop: ${30 - landed} committed, ${landed} skipped, 0 failed`);
    await expectExactlyOnce();
  });

  it('stops cleanly on Ctrl-C and resumes where it stopped, landing every window once', async () => {
    const run = spawnApilake(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
    await run.waitForLines(/^\s+✓ items/, 6);
    run.child.kill('SIGINT');
    const interrupted = await run.done();
    expect(interrupted.stderr).toContain('interrupted: no new windows start');
    expect(interrupted.code).toBe(130);
    // Windows that never started are one line, not a FAILED line each.
    expect(interrupted.stdout).not.toContain('FAILED');
    expect(interrupted.stdout).not.toContain('failed windows');
    expect(interrupted.stdout.split('\n').filter((l) => l.includes('not started'))).toEqual([
      expect.stringMatching(/^shop: \d+ committed, 0 skipped, 0 failed, (\d+ interrupted, )?\d+ not started · /),
      expect.stringMatching(/^\d+ windows not started(, \d+ windows? interrupted in flight \(nothing of (it|them) is visible\))?; re-run the same command to continue$/),
    ]);
    const landed = (await readManifests(join(cwd, 'lake'))).length;
    expect(landed).toBeGreaterThanOrEqual(6);
    expect(landed).toBeLessThan(30);
    // Nothing half-visible: every part on disk belongs to a committed window, and no temp files remain.
    const files = await listFiles(join(cwd, 'lake'));
    expect(files.filter((f) => f.split('/').pop()!.startsWith('.'))).toEqual([]);
    const committed = new Set((await readManifests(join(cwd, 'lake'))).flatMap((m) => m.parts.map((p) => p.key)));
    expect(files.filter((f) => f.startsWith('raw/')).every((f) => committed.has(f))).toBe(true);

    const resumed = await apilake(['backfill', 'shop', ...RANGE, '--concurrency', '2'], { cwd });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`shop: ${30 - landed} committed, ${landed} skipped, 0 failed`);
    await expectExactlyOnce();
  });

  it('widens a ragged range to whole windows and says so in the count', async () => {
    const { stdout, code } = await apilake(['backfill', 'shop', '--from', '2024-01-01T00:30', '--to', '2024-01-01T02:10'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toContain('(3 windows, 1 at once');
  });
});
