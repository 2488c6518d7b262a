/**
 * What a window warns about without failing reaches the user: `run` and `backfill` print it on
 * stderr after the summary, one line per stream and warning, however many windows gave it.
 */

import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

let api: TestApi;
afterEach(() => api.close());

const warningsOf = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('apilake: warning:'));

async function manifestsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /manifest/.test(join(e.parentPath, e.name)) && e.name.endsWith('.json')).map((e) => join(e.parentPath, e.name));
}

describe('warnings of windows that did not fail', () => {
  it('backfill --curate-only says once, for the whole range, that windows not committed had nothing to curate', async () => {
    api = await startTestApi({ count: 10 });
    const cwd = await shopProject('apilake-window-warnings-', api.url, { paging: { type: 'cursor', limit: 5 } });
    const run = await apilake(['backfill', 'shop', '--curate-only', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'], { cwd });
    expect(run.code).toBe(0);
    expect(warningsOf(run.stderr)).toEqual([
      'apilake: warning: stream items, 3 windows, from [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h) to [2024-01-01T02:00:00Z, 2024-01-01T03:00:00Z) (1h): not committed: nothing to curate (land it with run or backfill)',
    ]);
  }, 60_000);

  it('backfill --curate-only says a window whose commit has its table already has it, and --curate-only --force rebuilds it without calling the API', async () => {
    api = await startTestApi({ count: 10 });
    const cwd = await shopProject('apilake-window-warnings-', api.url, { paging: { type: 'cursor', limit: 5 } });
    const hour = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'];
    expect((await apilake(['run', 'shop', ...hour], { cwd })).code).toBe(0);
    const curate = await apilake(['backfill', 'shop', '--curate-only', ...hour], { cwd });
    expect(curate.code).toBe(0);
    expect(curate.stdout).toContain('already has its table (10 records); --curate-only --force rebuilds it from the raw parts');
    const requests = api.requests.length;
    const rebuild = await apilake(['backfill', 'shop', '--curate-only', '--force', ...hour], { cwd });
    expect({ code: rebuild.code, stderr: rebuild.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rebuild.stdout).toContain('--curate-only --force in');
    expect(rebuild.stdout).toContain('shop: 1 committed, 0 skipped, 0 failed');
    expect(api.requests.length).toBe(requests);
    expect((await manifestsUnder(cwd)).map((path) => path.slice(-12)).sort()).toEqual(['.000001.json', '.000002.json']);
  }, 60_000);

  it('run says that the commit it found could not be read and that it landed the window again', async () => {
    api = await startTestApi({ count: 10 });
    const cwd = await shopProject('apilake-window-warnings-', api.url, { paging: { type: 'cursor', limit: 5 } });
    const hour = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'];
    expect((await apilake(['run', 'shop', ...hour], { cwd })).code).toBe(0);
    const [manifest, ...others] = await manifestsUnder(cwd);
    expect(others).toEqual([]);
    await writeFile(manifest!, '{"not": "a manifest"');
    const again = await apilake(['run', 'shop', ...hour], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('shop: 1 committed, 0 skipped, 0 failed');
    const [warning, ...more] = warningsOf(again.stderr);
    expect(more).toEqual([]);
    expect(warning).toMatch(/^apilake: warning: stream items, window \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\): .*the window counts as not committed and is landed again as commit 2$/);
  }, 60_000);

  it('run and backfill say once per stream and column how many values did not convert to its type; a window already committed is not told again', async () => {
    api = await startTestApi({ count: 300 });
    const cwd = await shopProject('apilake-window-warnings-', api.url, {
      paging: { type: 'cursor', limit: 25 },
      streamFields: ['columns:', '  - { name: id, path: id, type: bigint }', '  - { name: label, path: name, type: "decimal(18,2)" }'],
    });
    const run = await apilake(['run', 'shop', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'], { cwd });
    expect(run.code).toBe(0);
    expect(warningsOf(run.stderr)).toEqual(['apilake: warning: shop.items: column label: 180 values in 3 windows did not convert to decimal(18,2) and were stored as NULL (data keeps them as sent)']);
    const backfill = await apilake(['backfill', 'shop', '--from', '2024-01-01T02:00:00Z', '--to', '2024-01-01T04:00:00Z'], { cwd });
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain('shop: 1 committed, 1 skipped, 0 failed');
    expect(warningsOf(backfill.stderr)).toEqual(['apilake: warning: shop.items: column label: 60 values did not convert to decimal(18,2) and were stored as NULL (data keeps them as sent)']);
    const again = await apilake(['run', 'shop', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'], { cwd });
    expect(warningsOf(again.stderr)).toEqual([]);
  }, 60_000);
});
