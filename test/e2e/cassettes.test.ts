/**
 * `apilake record` and `apilake test` as a user runs them: cassettes recorded from a local
 * simulation, replayed with it stopped (exit 0), a changed cassette failing with the window and
 * the request named (exit 1), bad input (exit 2), a JUnit report, and `--live` reporting what
 * the API changed since the recording.
 */

import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoApi } from '../../cli/demo/demoApi.js';
import { createServer } from 'node:http';
import { apilake } from '../support/cli.js';
import { spawnApilake } from '../support/cliProcess.js';
import { listenOnLoopback } from '../support/listenOnLoopback.js';
import { startJsonServer, type JsonServer } from '../support/jsonServer.js';

const KEY = 'cassette-key-5b1e0c77';
const env = { APILAKE_SECRET_APILAKE_DEMO_SHOP: JSON.stringify({ api_key: KEY }) };
let cwd: string;

/** The cassette files under `dir`, relative. */
async function cassetteFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'apilake-cassettes-'));
  await mkdir(join(cwd, 'sources'));
  await cp(new URL('../../examples/demo_shop.yaml', import.meta.url), join(cwd, 'sources', 'demo_shop.yaml'));
  const api = await startDemoApi({ apiKey: KEY });
  const recorded = await apilake(['record', 'demo_shop', '--stream', 'orders', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T02:00:00Z', '--base-url', api.url], { cwd, env });
  await api.close();
  expect(recorded.stderr).toBe('');
  expect(recorded.code).toBe(0);
  expect(recorded.stdout).toContain('demo_shop: 2 recorded, 0 failed');
});

describe('apilake record', () => {
  it('writes one gzip cassette per window under sources/cassettes/<source>/<stream>/, holding no key', async () => {
    const dir = join(cwd, 'sources', 'cassettes');
    expect(await cassetteFiles(dir)).toEqual(['demo_shop/orders/20240101T000000Z_20240101T010000Z.json.gz', 'demo_shop/orders/20240101T010000Z_20240101T020000Z.json.gz']);
    for (const file of await cassetteFiles(dir)) {
      const text = gunzipSync(await readFile(join(dir, file))).toString('utf8');
      expect(text).not.toContain(KEY);
      expect(text).toContain('REDACTED.secret.api_key');
    }
  });

  it.each([
    [['--origin', 'storage.example.com'], '--origin "storage.example.com" is not ORIGIN=URL, two http(s) origins (scheme://host[:port])'],
    [['--token-url', 'http://127.0.0.1:9/token'], '--token-url: auth type "api_key" of source "demo_shop" asks no token endpoint'],
    [['--token-url', 'login'], '--token-url "login" is not an http(s) URL'],
  ])('fails with exit 2 on %j, before any request', async (flags, message) => {
    const { code, stderr } = await apilake(['record', 'demo_shop', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z', ...flags], { cwd, env });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('fails with exit 2 on a range that is not a time', async () => {
    const { code, stderr } = await apilake(['record', 'demo_shop', '--from', 'yesterday-ish', '--to', '2024-01-01'], { cwd, env });
    expect(code).toBe(2);
    expect(stderr).toContain('yesterday-ish');
  });
});

describe('apilake test', () => {
  it('replays every cassette with no network and no secret, exit 0, and writes a JUnit report', async () => {
    const { code, stdout, stderr } = await apilake(['test', 'demo_shop', '--junit', 'reports/junit.xml'], { cwd, env: { APILAKE_SECRET_APILAKE_DEMO_SHOP: '' } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ orders \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\) 40 records, 2 pages/);
    expect(stdout).toContain('demo_shop: 2 passed, 0 failed');
    const junit = await readFile(join(cwd, 'reports', 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="demo_shop" tests="2" failures="0"');
    expect(junit).toContain('classname="demo_shop.orders"');
  });

  it('fails with exit 1 naming the window and the request when a cassette no longer matches', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'apilake-cassettes-changed-'));
    await cp(cwd, copy, { recursive: true });
    const file = join(copy, 'sources', 'cassettes', 'demo_shop', 'orders', '20240101T010000Z_20240101T020000Z.json.gz');
    const text = gunzipSync(await readFile(file)).toString('utf8');
    const cursor = /\\"next_cursor\\":\\"(\d+)\\"/.exec(text)![1]!;
    await writeFile(file, gzipSync(text.replace(`\\"next_cursor\\":\\"${cursor}\\"`, '\\"next_cursor\\":\\"7\\"')));
    const { code, stdout } = await apilake(['test', 'demo_shop', '--junit', 'junit.xml'], { cwd: copy });
    expect(code).toBe(1);
    expect(stdout).toContain('✓ orders [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h) 40 records, 2 pages');
    expect(stdout).toMatch(/✗ orders \[2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z\) \(1h\) \(sources\/cassettes\/demo_shop\/orders\/20240101T010000Z_20240101T020000Z\.json\.gz\):/);
    expect(stdout).toMatch(
      new RegExp(`request not in the cassette: GET http://127\\.0\\.0\\.1:8787/v1/orders\\?.*cursor=7; nearest recorded request #\\d+ differs in query cursor: recorded "${cursor}", sent "7"`),
    );
    expect(stdout).toContain('demo_shop: 1 passed, 1 failed');
    expect(await readFile(join(copy, 'junit.xml'), 'utf8')).toContain('<failure message="request not in the cassette: GET');
  });

  it('fails with exit 2 when a source has no cassettes, or a cassette is not one', async () => {
    const none = await apilake(['test', 'demo_shop', '--stream', 'customers'], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no cassettes of demo_shop.customers in sources/cassettes/demo_shop: record some first');
    const copy = await mkdtemp(join(tmpdir(), 'apilake-cassettes-bad-'));
    await cp(cwd, copy, { recursive: true });
    await writeFile(join(copy, 'sources', 'cassettes', 'demo_shop', 'orders', '20240101T000000Z_20240101T010000Z.json.gz'), 'not gzip');
    const bad = await apilake(['test', 'demo_shop'], { cwd: copy });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('20240101T000000Z_20240101T010000Z.json.gz: not a cassette (not gzip');
  });
});

describe('apilake test --live', () => {
  /** An API whose records can change shape between the recording and the live check. */
  let shape: 'recorded' | 'untyped drift' | 'typed drift' = 'recorded';
  let api: JsonServer;
  let lab: string;
  const crmYaml = (url: string) => `
name: crm
schedule: rate(1 hour)
base_url: ${url}
streams:
  - name: deals
    path: /deals
    params: { since: "{window.start}" }
    records: data
    pagination: { type: cursor, cursor: next, param: after }
    window: 1h
    columns:
      - { name: id, path: id, type: bigint }
      - { name: amount, path: amount, type: double }
`;

  beforeAll(async () => {
    api = await startJsonServer((request) => {
      const page = request.url.searchParams.get('after') === null ? 0 : 1;
      const data = [1, 2].map((n) => {
        const id = page * 2 + n;
        if (shape === 'typed drift') return { id, amount: `USD ${id}.50`, owner: 'ann' };
        if (shape === 'untyped drift') return { id, amount: id + 0.5, stage: 'won' };
        return { id, amount: id + 0.5, owner: 'ann' };
      });
      // The API's cursors: short names as recorded, opaque base64 after the untyped drift.
      const next = shape === 'untyped drift' ? 'cGFnZToyMDAw' : 'p2';
      return { body: { data, next: page === 0 ? next : null } };
    });
    lab = await mkdtemp(join(tmpdir(), 'apilake-live-'));
    await mkdir(join(lab, 'sources'));
    await writeFile(join(lab, 'sources', 'crm.yaml'), crmYaml(api.url));
    const recorded = await apilake(['record', 'crm', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'], { cwd: lab });
    expect(recorded.code).toBe(0);
  });
  afterAll(() => api?.close());

  it('reports no drift, exit 0, when the API answers as recorded', async () => {
    shape = 'recorded';
    const { code, stdout } = await apilake(['test', '--live', 'crm'], { cwd: lab });
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ deals .* 4 records, 2 pages \(cassettes: 4 records, 2 pages\)/);
    expect(stdout).toContain('crm: no drift that changes the typed table');
  });

  it('reports a field added and one removed and a new cursor shape, exit 0, when no typed column reads them', async () => {
    shape = 'untyped drift';
    const { code, stdout } = await apilake(['test', '--live', 'crm'], { cwd: lab });
    expect(code).toBe(0);
    expect(stdout).toContain('- field owner (string): no longer in the records');
    expect(stdout).toContain('+ field stage (string): new');
    expect(stdout).toContain('~ cursor: text → base64');
    expect(stdout).toContain('crm: no drift that changes the typed table');
  });

  it('fails with exit 1 when a typed column changes type, naming the column, and writes the live cassette to --scratch', async () => {
    shape = 'typed drift';
    const scratch = join(lab, 'scratch');
    const { code, stdout } = await apilake(['test', '--live', 'crm', '--scratch', scratch, '--junit', 'live.xml'], { cwd: lab });
    expect(code).toBe(1);
    expect(stdout).toContain('~ field amount: double → string (column amount)  [changes the typed table]');
    expect(stdout).toContain('✗ column amount: 4 values did not convert (type_errors), against 0 in the cassettes  [changes the typed table]');
    expect(stdout).toContain('crm: drift that changes the typed table');
    expect((await cassetteFiles(join(scratch, 'cassettes'))).length).toBe(1);
    expect(await readFile(join(lab, 'live.xml'), 'utf8')).toContain('failures="1"');
  });
});

describe('apilake test --live with servers standing in', () => {
  const SECRET = JSON.stringify({ client_id: 'crm-client', client_secret: 'crm-client-secret-9d2f' });
  let api: JsonServer;
  let lab: string;

  beforeAll(async () => {
    // A token endpoint and an API on one loopback server; the source names a token endpoint this machine cannot reach.
    api = await startJsonServer((request) => {
      if (request.url.pathname === '/token') return { body: { access_token: 'crm-access-token-41c7', token_type: 'Bearer', expires_in: 3600 } };
      if (request.headers.authorization !== 'Bearer crm-access-token-41c7') return { status: 401, body: { error: 'invalid_token' } };
      return { body: { data: [{ id: 1, amount: 1.5 }] } };
    });
    lab = await mkdtemp(join(tmpdir(), 'apilake-live-token-'));
    await mkdir(join(lab, 'sources'));
    await writeFile(
      join(lab, 'sources', 'crm.yaml'),
      `
name: crm
schedule: rate(1 hour)
base_url: ${api.url}
auth: { type: oauth2_client_credentials, secret: apilake/crm, token_url: "https://login.crm.invalid/oauth/token" }
retry: { max_attempts: 1 }
streams:
  - name: deals
    path: /deals
    records: data
    window: 1h
    columns: [{ name: id, path: id, type: bigint }]
`,
    );
    const tokenUrl = `${api.url}/token`;
    const recorded = await apilake(['record', 'crm', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z', '--token-url', tokenUrl], {
      cwd: lab,
      env: { APILAKE_SECRET_APILAKE_CRM: SECRET },
    });
    expect(recorded.stderr).toBe('');
    expect(recorded.code).toBe(0);
  });
  afterAll(() => api?.close());

  it("asks the --token-url endpoint instead of the source's token_url, and reports no drift", async () => {
    const before = api.count('/token');
    const { code, stdout, stderr } = await apilake(['test', '--live', 'crm', '--token-url', `${api.url}/token`], { cwd: lab, env: { APILAKE_SECRET_APILAKE_CRM: SECRET } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.count('/token')).toBe(before + 1);
    expect(stdout).toContain('crm: no drift that changes the typed table');
    expect(stdout).not.toContain('crm-access-token-41c7');
  });

  it.each([
    [['--token-url', 'http://127.0.0.1:9/token'], '--base-url, --token-url and --origin go with --live: a replay talks to no server'],
    [['--live', '--origin', 'files.crm.example'], '--origin "files.crm.example" is not ORIGIN=URL'],
    [['--live', '--token-url', 'login'], '--token-url "login" is not an http(s) URL'],
  ])('fails with exit 2 on %j, before any request', async (flags, message) => {
    const before = api.requests.length;
    const { code, stderr } = await apilake(['test', 'crm', ...flags], { cwd: lab, env: { APILAKE_SECRET_APILAKE_CRM: SECRET } });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(api.requests.length).toBe(before);
  });
});

describe('apilake record stopped by Ctrl-C', () => {
  it('keeps the cassettes of the windows it finished, writes none of the window in flight, and exits 130', async () => {
    // The second window's request is held until the signal has been sent.
    let arrived!: () => void;
    const secondArrived = new Promise<void>((resolve) => (arrived = resolve));
    const server = createServer((req, res) => {
      const since = new URL(req.url ?? '/', 'http://local').searchParams.get('since');
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: since }] }));
      if (since !== '2024-01-01T01:00:00Z') return answer();
      arrived();
      req.socket.once('close', () => undefined);
    });
    const listening = await listenOnLoopback(server);
    const { port } = listening;
    try {
      const dir = await mkdtemp(join(tmpdir(), 'apilake-record-stop-'));
      await mkdir(join(dir, 'sources'));
      await writeFile(
        join(dir, 'sources', 'feed.yaml'),
        `name: feed\nschedule: rate(1 hour)\nbase_url: http://127.0.0.1:${port}\nstreams:\n  - { name: items, path: /items, params: { since: "{window.start}" }, records: data, window: 1h }\n`,
      );
      const run = spawnApilake(['record', 'feed', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T03:00:00Z'], { cwd: dir });
      await secondArrived;
      run.child.kill('SIGINT');
      const { code, stdout, stderr } = await run.done();
      expect(stderr).toContain('interrupted: finishing cleanly');
      expect(code).toBe(130);
      expect(stdout).toMatch(/✓ items \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\) 1 record/);
      expect(stdout).toContain('- items [2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z) (1h): stopped, no cassette written');
      expect(stdout).toContain('feed: 1 recorded, 0 failed, 2 not recorded (stopped)');
      expect(await cassetteFiles(join(dir, 'sources', 'cassettes'))).toEqual(['feed/items/20240101T000000Z_20240101T010000Z.json.gz']);
    } finally {
      server.closeAllConnections();
      await listening.close();
    }
  });
});
