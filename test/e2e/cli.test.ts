import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { spawnApilake } from '../support/cliProcess.js';
import { readRecords } from '../support/lakeReader.js';
import { projectFolder, shopSource } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const KEY = 'e2e-key-7f3a9c';
let api: TestApi;
let cwd: string;
const env = { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ api_key: KEY }) };

const sourceYaml = (baseUrl: string) =>
  shopSource(baseUrl, {
    paging: { type: 'cursor', limit: 25 },
    fields: ['auth: { type: api_key, secret: apilake/e2e, in: query, name: api_key }', 'retry: { max_attempts: 3, base_delay_ms: 10, max_delay_ms: 2000 }'],
  });

beforeAll(async () => {
  api = await startTestApi({ count: 240, apiKey: KEY });
  cwd = await projectFolder('apilake-e2e-', { 'shop.yaml': sourceYaml(api.url) });
});
afterAll(() => api.close());

describe('apilake CLI', () => {
  it('prints help with every command', async () => {
    const { code, stdout } = await apilake(['--help'], { cwd });
    expect(code).toBe(0);
    for (const command of ['validate', 'run', 'query', 'demo']) expect(stdout).toContain(command);
  });

  it('validates a good folder', async () => {
    const { code, stdout } = await apilake(['validate'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toContain('✓ sources/shop.yaml: shop · rate(1 hour) · auth api_key · items (cursor, 1h)');
  });

  it('fails validate and run on a bad file with file, line, path and reason, exit 2', async () => {
    const bad = await projectFolder('apilake-bad-', { 'shop.yaml': sourceYaml(api.url).replace('cursor: meta.next_cursor, ', '').replace('window: 1h', 'window: 1h\n    extra: 1') });
    for (const args of [['validate'], ['run', 'shop']]) {
      const { code, stderr } = await apilake(args, { cwd: bad });
      expect(code).toBe(2);
      expect(stderr).toContain('invalid source definition (2 problems)');
      expect(stderr).toContain('sources/shop.yaml:11 streams[0].pagination.cursor: required (expected string)');
      expect(stderr).toContain('sources/shop.yaml:13 streams[0].extra: unknown key "extra"');
    }
  });

  it('runs a range into the lake, then skips it on a re-run, exit 0', async () => {
    const first = await apilake(['run', 'shop', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T04:00:00Z'], { cwd, env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('✓ items [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h) 60 records, 3 pages, 0 retries, 1 part');
    expect(first.stdout).toMatch(/shop: 4 committed, 0 skipped, 0 failed · 240 records landed \(.+\) · 12 pages, 0 retries, 0 throttled responses →/);
    const records = await readRecords(join(cwd, 'lake'));
    expect(records).toHaveLength(240);

    const again = await apilake(['run', 'shop', '--from', '2024-01-01', '--to', '2024-01-01T04:00'], { cwd, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('shop: 0 committed, 4 skipped, 0 failed');
    expect(await readRecords(join(cwd, 'lake'))).toHaveLength(240);
  });

  it('answers SQL over the lake in table, json and csv', async () => {
    const sql = "select count(*) as n, count(distinct dt) as days, min(json_extract_scalar(data, '$.id')::int) as first_id from shop_items";
    const table = await apilake(['query', sql], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/n\s+│ days │ first_id\n[─┼]+\n240 │ 1\s+│ 1\n\(1 row\)/);
    const json = await apilake(['query', 'select _stream, count(*) as n from shop_items group by 1', '--format', 'json'], { cwd });
    expect(JSON.parse(json.stdout)).toEqual({ _stream: 'items', n: '240' });
    const csv = await apilake(['query', "select data->>'name' as name from shop_items order by _window_start, data->>'id' limit 1", '--format', 'csv'], { cwd });
    expect(csv.stdout.trim()).toBe('name\n"item 1 ""quoted"" ✓"');
  });

  it('fails a query with the tables it knows, exit 2', async () => {
    const { code, stderr } = await apilake(['query', 'select * from nope'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('tables: shop_items');
  });

  it('exits 1 naming the failed window, and never prints the secret', async () => {
    api.fail({ kind: 'status', status: 403, body: `{"error":"key ${KEY} is not allowed"}` });
    const { code, stdout, stderr } = await apilake(['run', 'shop', '--from', '2024-01-02', '--to', '2024-01-02T02:00', '--force'], { cwd, env });
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ items \[2024-01-02T00:00:00Z, 2024-01-02T01:00:00Z\) \(1h\) FAILED .*HTTP 403: \{"error":"key \*\*\* is not allowed"\}/);
    expect(stdout).toContain('1 committed, 0 skipped, 1 failed');
    expect(stderr).toContain('1 window failed');
    expect(stdout + stderr).not.toContain(KEY);
  });

  it('reports committed windows and the gap left by the failed window, as text and JSON', async () => {
    const text = await apilake(['status', 'shop'], { cwd });
    expect(text.code).toBe(1); // a gap is a failure, so status can gate a pipeline
    // Both columns are window starts, and say so.
    expect(text.stdout).toMatch(/first window start\s+│ last window start/);
    expect(text.stdout).toMatch(/items\s+│ 1h\s+│ 5\s+│ 240\s+│ 2024-01-01T00:00:00Z\s+│ 2024-01-02T01:00:00Z\s+│ 21/);
    // It says in words why it exits 1.
    expect(text.stdout).toContain('status exits 1 because:');
    expect(text.stdout).toContain(
      'items: 21 windows missing between the first and the last committed window, in 1 gap (apilake backfill shop --stream items --from 2024-01-01T04:00:00Z --to 2024-01-02T01:00:00Z fills them)',
    );
    expect(text.stdout).toContain('items: gap [2024-01-01T04:00:00Z, 2024-01-02T01:00:00Z) 21 windows');
    const json = JSON.parse((await apilake(['status', 'shop', '--json'], { cwd })).stdout) as { streams: unknown[] };
    expect(json.streams[0]).toMatchObject({
      stream: 'items',
      committed: 5,
      first: { start: '2024-01-01T00:00:00Z' },
      last: { start: '2024-01-02T01:00:00Z' },
      gaps: [{ start: '2024-01-01T04:00:00Z', end: '2024-01-02T01:00:00Z', windows: 21 }],
    });
  });

  it('tells which variable holds a missing secret, exit 2 (configuration)', async () => {
    const { code, stderr } = await apilake(['run', 'shop', '--from', '2024-01-01', '--to', '2024-01-01T01:00'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain('secret "apilake/e2e" not found: set the environment variable APILAKE_SECRET_APILAKE_E2E');
  });

  it('rejects a malformed --from, exit 2', async () => {
    const { code, stderr } = await apilake(['run', 'shop', '--from', 'yesterday'], { cwd, env });
    expect(code).toBe(2);
    expect(stderr).toContain('--from "yesterday" is not a date-time');
  });

  it('runs the offline demo end to end from any folder, with the examples shipped in examples/', async () => {
    const demoDir = await mkdtemp(join(tmpdir(), 'apilake-demo-'));
    const { code, stdout, stderr } = await apilake(['demo', '--lake', join(demoDir, 'lake')], { cwd: demoDir });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('demo_shop: 25 committed, 0 skipped, 0 failed · 1,200 records');
    expect(stdout).toMatch(/orders\s+│ 960\s+│ 24/);
    expect(stdout).toMatch(/retries, [1-9]\d* throttled responses? →/);
    // The next command works as printed from where the demo ran: the examples named where they are, the lake where it is by default.
    expect(stdout).toContain(`--sources ${join(process.cwd(), 'examples')}\n`);
    const again = await apilake(['demo', '--lake', join(demoDir, 'lake'), '--sources', join(process.cwd(), 'examples')], { cwd: demoDir });
    expect(again.stdout).toContain('demo_shop: 0 committed, 25 skipped, 0 failed');
    expect(again.stdout).toMatch(/orders\s+│ 960\s+│ 24/);
  });

  it('serves the demo API alone, printing a run command that names its lake and saying how to reach another port', async () => {
    const demoDir = await mkdtemp(join(tmpdir(), 'apilake-demo-serve-'));
    const serve = spawnApilake(['demo', '--serve', '--port', '0', '--lake', 'my lake'], { cwd: demoDir });
    await serve.waitForLines(/base_url names port 8787/, 1);
    serve.child.kill('SIGINT');
    const { code, stdout } = await serve.done();
    expect(code).toBe(0);
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1];
    expect(stdout).toContain(`npx apilake run demo_shop --sources ${join(process.cwd(), 'examples')} --lake 'my lake' --from 2024-01-01 --to 2024-01-02\n`);
    expect(stdout).toContain(`for port ${port}, copy it into a folder of your own, set base_url: http://127.0.0.1:${port}, and name that folder with --sources`);
  });
});
