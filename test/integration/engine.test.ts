import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowSelection } from '../../functions/engine/windowSelection.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { ManualClock } from '../support/manualClock.js';
import { listFiles, readCommittedRecords, readCurrentCommits, readManifests, readRecords, sha256Of } from '../support/lakeReader.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';

// 250 items, one a minute from 2024-01-01T00:00Z: 60 per hourly window, the last window holds 10.
const DAY: WindowSelection = { kind: 'range', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-01T05:00:00Z') };

let api: TestApi;
let lake: string;
beforeEach(async () => {
  api = await startTestApi({ count: 250 });
  lake = await mkdtemp(join(tmpdir(), 'apilake-lake-'));
});
afterEach(() => api.close());

async function run(source: SourceDefinition, options: { selection?: WindowSelection; force?: boolean; secrets?: EnvSecretProvider; signal?: AbortSignal } = {}) {
  const client = await createSourceClient(source, options.secrets ?? new EnvSecretProvider({}), { clock: new ManualClock(Date.now()), random: () => 0 });
  return runSource({ source, selection: options.selection ?? DAY, client, storage: new FsLakeStorage(lake), force: options.force, signal: options.signal });
}

/** Asserts the lake holds exactly the API's items once each, in the window their ts falls into. */
async function expectExactlyOnce(items: readonly Item[] = api.items) {
  const lines = await readCommittedRecords(lake);
  // And nothing else lies around: every part on disk is listed by a current commit.
  expect((await readRecords(lake)).length).toBe(lines.length);
  const ids = lines.map((l) => (l.data as Item).id);
  expect(ids).toHaveLength(items.length);
  expect(new Set(ids).size).toBe(items.length);
  expect([...ids].sort((a, b) => a - b)).toEqual(items.map((i) => i.id));
  for (const line of lines) {
    const item = line.data as Item;
    expect(item).toEqual(api.items[item.id - 1]); // the record exactly as the API sent it
    expect(Date.parse(item.ts)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
    expect(Date.parse(item.ts)).toBeLessThan(Date.parse(line._window_end));
    expect(line.key).toContain(`dt=${line._window_start.slice(0, 10)}/`);
  }
  return lines;
}

const STYLES: [string, Record<string, unknown>][] = [
  ['none', { path: '/items', records: '@' }],
  ['page_number', { path: '/page', params: { since: '{window.start}', until: '{window.end}', per_page: 7 }, records: 'items', pagination: { type: 'page_number' } }],
  [
    'page_number with total (concurrent)',
    {
      path: '/page',
      params: { since: '{window.start}', until: '{window.end}' },
      records: 'items',
      pagination: { type: 'page_number', page_size_param: 'per_page', page_size: 7, total_pages: 'pages' },
    },
  ],
  ['offset', { path: '/offset', records: 'results', pagination: { type: 'offset', limit: 9 } }],
  ['offset with total (concurrent)', { path: '/offset', records: 'results', pagination: { type: 'offset', limit: 9, total_records: 'count' } }],
  ['cursor', { path: '/cursor', params: { since: '{window.start}', until: '{window.end}', limit: 8 }, records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } }],
  [
    'cursor with stop_when',
    {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit: 8 },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'data[-1].id', param: 'cursor', stop_when: '!has_more' },
    },
  ],
  ['next_url (relative and absolute)', { path: '/next', params: { since: '{window.start}', until: '{window.end}', limit: 11 }, records: 'results', pagination: { type: 'next_url', next: 'next' } }],
  ['link_header', { path: '/link', params: { since: '{window.start}', until: '{window.end}', limit: 13 }, records: '@', pagination: { type: 'link_header' } }],
  [
    'POST with a JSON body (GraphQL style)',
    { path: '/graphql', method: 'POST', params: {}, body: { query: '{ items }', variables: { since: '{window.start}', until: '{window.end}' } }, records: 'data.items' },
  ],
];

describe('runSource into a local lake', () => {
  it.each(STYLES)('lands every record exactly once with %s pagination', async (_style, stream) => {
    const source = testSource(api.url, stream, { rate_limit: { concurrency: 3 } });
    const results = await run(source);
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed', 'committed', 'committed']);
    expect(results.map((r) => r.records)).toEqual([60, 60, 60, 60, 10]);
    const lines = await expectExactlyOnce();
    // Records land in API order within each window, whatever the paging concurrency.
    for (const window of new Set(lines.map((l) => l._window_start))) {
      const ids = lines.filter((l) => l._window_start === window).map((l) => (l.data as Item).id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  });

  it('keeps integers past 2^53 exact, in records and in cursors', async () => {
    const source = testSource(api.url, { path: '/big', params: {}, records: 'data', pagination: { type: 'cursor', cursor: 'next', param: 'cursor' } });
    const [result] = await run(source, { selection: { kind: 'windows', windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] } });
    expect(result!.error).toBeUndefined();
    const key = (await listFiles(lake)).find((k) => k.endsWith('.gz'))!;
    const text = (await import('node:zlib')).gunzipSync(await readFile(join(lake, key))).toString();
    expect(text).toContain('"data":{"id":9007199254740993,"amount":12345678901234567.25,"n":1.5}}');
    expect(text).toContain('"data":{"id":18446744073709551615}}');
  });

  it('writes manifests that match the parts byte for byte', async () => {
    await run(testSource(api.url, STYLES[5]![1]));
    const manifests = await readManifests(lake);
    expect(manifests).toHaveLength(5);
    for (const manifest of manifests) {
      expect(manifest.totals.parts).toBe(manifest.parts.length);
      for (const part of manifest.parts) {
        expect(await sha256Of(lake, part.key)).toBe(part.sha256);
        expect((await stat(join(lake, part.key))).size).toBe(part.bytes);
      }
      expect(manifest.pages).toBeGreaterThan(0);
    }
    const first = manifests.find((m) => m.window.start === '2024-01-01T00:00:00Z')!;
    expect(first).toMatchObject({ source: 'testapi', stream: 'items', totals: { records: 60 }, pages: 8 });
  });

  it('skips committed windows on a re-run and changes nothing', async () => {
    const source = testSource(api.url, STYLES[5]![1]);
    await run(source);
    const before = await Promise.all((await listFiles(lake)).map(async (k) => [k, await sha256Of(lake, k)]));
    const requests = api.requests.length;
    const again = await run(source);
    expect(again.every((r) => r.status === 'skipped')).toBe(true);
    expect(again.map((r) => r.records)).toEqual([60, 60, 60, 60, 10]);
    expect(api.requests.length).toBe(requests);
    const after = await Promise.all((await listFiles(lake)).map(async (k) => [k, await sha256Of(lake, k)]));
    expect(after).toEqual(before);
  });

  it('replaces a window with --force by a new commit, deleting the parts it replaced, never duplicating', async () => {
    const source = testSource(api.url, STYLES[5]![1]);
    await run(source);
    const firstParts = (await listFiles(lake)).filter((k) => k.startsWith('raw/'));
    const forced = await run(source, { force: true });
    expect(forced.every((r) => r.status === 'committed')).toBe(true);
    const parts = (await listFiles(lake)).filter((k) => k.startsWith('raw/'));
    expect(parts).toHaveLength(5);
    expect(parts.filter((k) => firstParts.includes(k))).toEqual([]);
    expect((await readCurrentCommits(lake)).map((m) => [m.commit, m.replaces?.commit])).toEqual(Array(5).fill([2, 1]));
    const lines = await expectExactlyOnce();
    expect(new Set(lines.map((l) => l._run_id)).size).toBe(5); // one fresh run id per window
  });

  it('rolls parts at part_size_mb and lists each in the manifest', async () => {
    const source = testSource(api.url, STYLES[5]![1], { lake: { part_size_mb: 0.002 } }); // ~2 KiB
    await run(source, { selection: { kind: 'windows', windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] } });
    const [manifest] = await readManifests(lake);
    expect(manifest!.parts.length).toBeGreaterThan(5);
    expect(manifest!.parts.map((p) => p.key.slice(-19))).toEqual(manifest!.parts.map((_, i) => `part-${String(i).padStart(5, '0')}.jsonl.gz`));
    expect(manifest!.parts.reduce((n, p) => n + p.records, 0)).toBe(60);
    await expectExactlyOnce(api.items.slice(0, 60));
  });

  it('removes the parts of the commit a forced re-run replaced, however many', async () => {
    const hour = { kind: 'windows' as const, windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] };
    await run(testSource(api.url, STYLES[5]![1], { lake: { part_size_mb: 0.002 } }), { selection: hour });
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/')).length).toBeGreaterThan(5);
    await run(testSource(api.url, STYLES[5]![1]), { selection: hour, force: true });
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/'))).toHaveLength(1);
    await expectExactlyOnce(api.items.slice(0, 60));
  });

  it('leaves no visible part of a window that fails mid-way, and the retry lands it once', async () => {
    const source = testSource(api.url, STYLES[5]![1], { lake: { part_size_mb: 0.002 }, retry: { max_attempts: 2, base_delay_ms: 1 } });
    const hour = { kind: 'windows' as const, windows: [{ start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') }] };
    // Pages 1-4 land (several parts roll over), then every request fails.
    const [failed] = await runWithFaultAt(source, hour, 5);
    expect(failed!.status).toBe('failed');
    expect(failed!.error!.message).toMatch(/HTTP 500 after 2 attempts/);
    expect(failed!.pages).toBe(4);
    const visible = (await listFiles(lake)).filter((k) => !k.split('/').pop()!.startsWith('.'));
    expect(visible).toEqual([]);
    expect(await listFiles(lake)).toEqual([]); // no temp files either
    const [retried] = await run(source, { selection: hour });
    expect(retried!.status).toBe('committed');
    await expectExactlyOnce(api.items.slice(0, 60));
  });

  async function runWithFaultAt(source: SourceDefinition, selection: WindowSelection, failingPage: number) {
    const client = await createSourceClient(source, new EnvSecretProvider({}), {
      clock: new ManualClock(Date.now()),
      random: () => 0,
      fetch: async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
        pageCount++;
        if (pageCount >= failingPage) return new Response('{"error":"boom"}', { status: 500 });
        return fetch(input, init);
      },
    });
    let pageCount = 0;
    return runSource({ source, selection, client, storage: new FsLakeStorage(lake) });
  }

  it.each([
    [
      'an error body served with 200',
      { kind: 'error-body-200' as const },
      /records path "data" is missing from the response; the API answered: "daily quota exceeded \(quota\)"; top-level keys: error/,
    ],
    ['an invalid JSON page', { kind: 'invalid-json' as const }, /page 1: response body is not valid JSON/],
  ])('fails the window on %s instead of landing an empty page', async (_what, fault, message) => {
    api.fail(fault);
    const [first, ...rest] = await run(testSource(api.url, STYLES[5]![1]));
    expect(first!.status).toBe('failed');
    expect(first!.error!.message).toMatch(message);
    expect(rest.every((r) => r.status === 'committed')).toBe(true); // one bad window does not stop the others
    expect((await listFiles(lake)).some((k) => k.includes('20240101T000000Z_'))).toBe(false);
  });

  it('stops between pages when the signal aborts, leaving the window uncommitted and invisible', async () => {
    const controller = new AbortController();
    const source = testSource(api.url, STYLES[5]![1]);
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    const result = await runWindow({
      source,
      stream: source.streams[0]!,
      window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') },
      client,
      storage: new FsLakeStorage(lake),
      signal: controller.signal,
      onPage: ({ index }) => index === 2 && controller.abort('deadline'),
    });
    expect(result.status).toBe('failed');
    expect(result.error!.message).toMatch(/stopped before the window finished: deadline/);
    expect(await listFiles(lake)).toEqual([]);
  });

  it.each([
    // 8 pages of 8 (the last of 4); at 2 KiB each page ends a part, and the one after the third page took 5 s.
    { why: 'the slowest part of many', partSizeMb: 0.002, parts: 8, advance: (index: number) => (index === 2 ? 5_000 : 1_000), slowest: 5_000 },
    // At 64 MiB the window's only part never fills: it took as long as the window's pages.
    { why: 'its last part, for as long as it filled', partSizeMb: 64, parts: 1, advance: () => 1_000, slowest: 8_000 },
  ])('reports how long $why took to fill, by its clock', async ({ partSizeMb, parts, advance, slowest }) => {
    const source = testSource(api.url, STYLES[5]![1], { lake: { part_size_mb: partSizeMb } });
    const clock = new ManualClock();
    const result = await runWindow({
      source,
      stream: source.streams[0]!,
      window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') },
      client: await createSourceClient(source, new EnvSecretProvider({})),
      storage: new FsLakeStorage(lake),
      clock,
      onPage: ({ index }) => clock.advance(advance(index)),
    });
    expect(result).toMatchObject({ status: 'committed', pages: 8, parts, slowestPartMs: slowest });
  });

  it('refuses a window that has not ended yet', async () => {
    const now = new Date();
    const [result] = await run(testSource(api.url, STYLES[0]![1]), {
      selection: { kind: 'windows', windows: [{ start: new Date(now.getTime() - 60_000), end: new Date(now.getTime() + 3_600_000) }] },
    });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(/has not ended yet/);
  });

  it('keeps credentials out of the lake, the manifests and the errors', async () => {
    await api.close();
    api = await startTestApi({ count: 250, apiKey: 'sk-live-very-secret' });
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_APILAKE_T: JSON.stringify({ api_key: 'sk-live-very-secret' }) });
    const source = testSource(api.url, STYLES[7]![1], { auth: { type: 'api_key', secret: 'apilake/t', in: 'query', name: 'api_key' } });
    api.fail({ kind: 'status', status: 400, body: '{"error":"bad key sk-live-very-secret"}' });
    const results = await run(source, { secrets });
    expect(results[0]!.status).toBe('failed');
    expect(results[0]!.error!.message).toContain('bad key ***');
    expect(results.slice(1).every((r) => r.status === 'committed')).toBe(true);
    expect(api.requests.some((r) => r.url.includes('api_key=sk-live-very-secret'))).toBe(true);
    for (const key of await listFiles(lake)) {
      const bytes = await readFile(join(lake, key));
      const text = key.endsWith('.gz') ? (await import('node:zlib')).gunzipSync(bytes).toString() : bytes.toString();
      expect(text).not.toContain('sk-live-very-secret');
    }
    expect(JSON.stringify(results.map((r) => ({ ...r, error: r.error?.message })))).not.toContain('sk-live-very-secret');
  });
});
