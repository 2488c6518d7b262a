import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../functions/http/redact.js';
import { apilake, type CliResult } from '../support/cli.js';
import { listFiles } from '../support/lakeReader.js';
import { startRedirectServers, type RedirectServers } from '../support/redirectServers.js';
import { projectFolder } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const H = 3_600_000;

const source = (baseUrl: string, auth: string, path = '/items', extra = '') => `name: shop
schedule: rate(1 hour)
base_url: ${baseUrl}
auth: ${auth}
retry: { max_attempts: 2, base_delay_ms: 1, max_delay_ms: 100 }
${extra}streams:
  - name: items
    path: ${path}
    params: { since: "{window.start}", until: "{window.end}" }
    records: "@"
    window: 1h
`;

const project = (files: Record<string, string>) => projectFolder('apilake-hostile-', files);

/** An input error as users must see it: exit 2, the message, no stack trace, nothing "unexpected". */
function expectInputError(result: CliResult, message: string | RegExp) {
  expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.code).toBe(2);
}

const laughs = (indent: string) =>
  'abcdefghi'
    .split('')
    .map(
      (name, i, names) =>
        `${indent}${name}: &${name} [${Array(9)
          .fill(i === 0 ? '"lol"' : `*${names[i - 1]}`)
          .join(', ')}]`,
    )
    .join('\n');

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ count: 10 });
});
afterAll(() => api.close());

describe('hostile source files', () => {
  it('reports a billion laughs as a located input error, exit 2', async () => {
    const cwd = await project({ 'bomb.yaml': laughs('') });
    expectInputError(await apilake(['validate'], { cwd }), 'sources/bomb.yaml:5: YAML: aliases expand this file by more than 10,000 nodes (*d alone stands for 7,381 nodes)');
  });

  it('reports an alias bomb inside a known key on every command that reads sources, exit 2', async () => {
    const text = source(api.url, '{ type: none }').replace('streams:', `vars:\n${laughs('  ')}\nstreams:`);
    const cwd = await project({ 'shop.yaml': text });
    for (const args of [['validate'], ['run', 'shop'], ['backfill', 'shop', '--from', '2024-01-01', '--to', '2024-01-02']]) {
      expectInputError(await apilake(args, { cwd }), /sources\/shop\.yaml:11: YAML: aliases expand this file by more than 10,000 nodes/);
    }
    expect(api.requests).toEqual([]);
  });

  it('refuses a source file over 1 MiB, exit 2', async () => {
    const cwd = await project({ 'big.yaml': `${source(api.url, '{ type: none }')}description: "${'x'.repeat(2 * 1024 * 1024)}"\n` });
    expectInputError(await apilake(['validate'], { cwd }), /sources\/big\.yaml: file is 2,097,[0-9]{3} bytes, more than the 1 MiB a source definition may take/);
  });

  it('reports colliding table names in validate and in cdk synth, naming both files', async () => {
    const cwd = await project({
      'gh.yaml': source(api.url, '{ type: none }').replace('name: shop', 'name: gh').replace('name: items', 'name: x_issues'),
      'gh_x.yaml': source(api.url, '{ type: none }').replace('name: shop', 'name: gh_x').replace('name: items', 'name: issues'),
    });
    const message =
      'sources/gh_x.yaml:7 streams[0].name: table "gh_x_issues" (source "gh_x", stream "issues") is also the table of source "gh", stream "x_issues" in sources/gh.yaml:7: rename a source or a stream';
    expectInputError(await apilake(['validate'], { cwd }), message);
    // The CDK app as `cdk synth` runs it (cdk.json: tsx infra/app.ts), reading the same folder.
    const synth = (await promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ sources: join(cwd, 'sources') }), CDK_OUTDIR: await mkdtemp(join(tmpdir(), 'apilake-out-')) },
    }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(synth.code).toBe(1);
    expect(synth.stderr).toContain(message.replaceAll('sources/', `${cwd}/sources/`));
    expect(synth.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('hostile ranges and dates', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await project({ 'shop.yaml': source(api.url, '{ type: none }').replace('window: 1h', 'window: 1m') });
  });

  it.each(['2024-02-30', '2023-02-29', '2024-02-30T22:00', '2024-01-01T24:00'])('rejects --from %s like any malformed date, exit 2', async (from) => {
    expectInputError(await apilake(['run', 'shop', '--from', from], { cwd }), `--from "${from}" is not a date-time: expected ISO 8601 such as 2024-01-01 or 2024-01-01T06:00:00Z`);
  });

  it('answers a range to year 9999 at once, with how many windows it would have been, exit 2', async () => {
    const result = await apilake(['backfill', 'shop', '--from', '1970-01-01', '--to', '9999-12-31'], { cwd });
    expectInputError(result, /the range \[1970-01-01T00:00:00Z, 9999-12-31T00:00:00Z\) holds (\d{1,3}(,\d{3})+) complete windows .*more than the 250,000 one command may run/);
    const count = Number(/holds ([\d,]+)/.exec(result.stderr)![1]!.replaceAll(',', ''));
    expect(count).toBeGreaterThan(29_000_000); // minutes since 1970, not minutes until 9999
    expect(count).toBeLessThan(Date.now() / 60_000 + 10);
  });

  it('runs only the ended windows of a range reaching year 9999', async () => {
    const hourly = await project({ 'shop.yaml': source(api.url, '{ type: none }') });
    const from = new Date(Math.floor(Date.now() / H) * H - 3 * H).toISOString();
    const result = await apilake(['run', 'shop', '--from', from, '--to', '9999-12-31'], { cwd: hourly });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/shop: [34] committed, 0 skipped, 0 failed/);
  });
});

describe('credentials under attack', () => {
  let servers: RedirectServers;
  beforeAll(async () => {
    servers = await startRedirectServers();
  });
  afterAll(() => servers.close());

  const KEY = 'ak_live/4f9a+2c7e1b';
  const keyEnv = { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ api_key: KEY }) };
  const apiKeyAuth = '{ type: api_key, secret: apilake/e2e, in: header, name: X-API-Key }';
  const leaks = (text: string) => {
    const detector = new Redactor();
    detector.addSecret(KEY);
    return detector.contains(text);
  };

  it('fails a window redirected to another origin, naming both, sending nothing there and landing nothing, exit 1', async () => {
    const cwd = await project({ 'shop.yaml': source(servers.home.url, apiKeyAuth, '/to-foreign/307') });
    const result = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], { cwd, env: keyEnv });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`HTTP 307 redirect from ${servers.home.url} to another origin ${servers.foreign.url} refused`);
    expect(leaks(result.stdout + result.stderr)).toBe(false);
    expect(servers.foreign.requests).toEqual([]);
    expect(await listFiles(join(cwd, 'lake'))).toEqual([]);
  });

  it('follows an allow-listed origin without the key', async () => {
    const extra = `redirects: { allowed_origins: ["${servers.foreign.url}"] }\n`;
    const cwd = await project({ 'shop.yaml': source(servers.home.url, apiKeyAuth, '/to-foreign/302', extra).replace('records: "@"', 'records: data') });
    const result = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], { cwd, env: keyEnv });
    expect(result.code).toBe(0);
    expect(servers.foreign.requests).toHaveLength(1);
    expect(leaks(JSON.stringify(servers.foreign.requests))).toBe(false);
  });

  it('masks a token the API echoes JSON-escaped with \\/ in its error, exit 1', async () => {
    const token = 'tk_live/9Xq7Zb3LmN';
    api.fail({ kind: 'status', status: 403, body: JSON.stringify({ error: `token ${token} revoked` }).replaceAll('/', '\\/') });
    const cwd = await project({ 'shop.yaml': source(api.url, '{ type: bearer, secret: apilake/e2e }') });
    const result = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], { cwd, env: { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ token }) } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('HTTP 403: {"error":"token *** revoked"}');
    expect(result.stdout + result.stderr).not.toContain('9Xq7Zb3LmN');
  });

  it('names the secret key that cannot travel in a header, never its value, and stops before any window, exit 2', async () => {
    const before = api.requests.length;
    const cwd = await project({ 'shop.yaml': source(api.url, '{ type: bearer, secret: apilake/e2e }') });
    const token = 'tök’en-secret-9';
    const result = await apilake(['backfill', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T06:00'], { cwd, env: { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ token }) } });
    expect(result.code).toBe(2);
    // Once, for the source: not a line per window.
    expect((result.stdout + result.stderr).split('cannot be sent in an HTTP header').length - 1).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      'secret "apilake/e2e" key "token" cannot be sent in an HTTP header: its character 4 of 15 is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji); correct the stored value',
    );
    expect(result.stdout + result.stderr).not.toMatch(/ByteString|secret-9|8217/);
    expect(api.requests.length).toBe(before);
  });

  it('says the same of an API key with a line break inside, sent in a header', async () => {
    const before = api.requests.length;
    const cwd = await project({ 'shop.yaml': source(api.url, apiKeyAuth) });
    const result = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], {
      cwd,
      env: { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ api_key: 'supersecret\nkey123' }) },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('secret "apilake/e2e" key "api_key" cannot be sent in an HTTP header: its character 12 of 18 is a line break; correct the stored value');
    expect(result.stdout + result.stderr).not.toMatch(/supersecret|key123/);
    expect(api.requests.length).toBe(before);
  });

  it('refuses a credential too short to mask, naming the key, never the value', async () => {
    const cwd = await project({ 'shop.yaml': source(api.url, '{ type: basic, secret: apilake/e2e }') });
    const result = await apilake(['run', 'shop', '--from', '2024-01-01T00:00', '--to', '2024-01-01T01:00'], {
      cwd,
      env: { APILAKE_SECRET_APILAKE_E2E: JSON.stringify({ username: 'bob', password: 'pw9' }) },
    });
    expect(result.code).toBe(2); // a secret that cannot work is invalid configuration
    expect(result.stderr).toContain('secret "apilake/e2e" key "password" is 3 characters long; apilake refuses credentials shorter than 8 characters');
    expect(result.stdout + result.stderr).not.toContain('pw9');
  });
});
