/**
 * Cassettes recorded against local simulations, then replayed with the simulation stopped: the
 * replay lands the same records, byte for byte, with no network and no secret; a changed cassette
 * or source is reported precisely; no cassette holds a secret in any spelling.
 */

import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoApi } from '../../cli/demo/demoApi.js';
import { parseCassette, serializeCassette, type Cassette } from '../../functions/cassettes/cassette.js';
import { recordWindow, type RecordOutcome } from '../../functions/cassettes/recordWindow.js';
import { replayCassette } from '../../functions/cassettes/replayCassette.js';
import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';
import { exampleSource } from '../support/exampleSource.js';
import { nodesEvery, startGraphqlApi } from '../support/graphqlApi.js';
import { jobFileSource, startJobFileHost } from '../support/jobFileSource.js';
import { startJsonServer } from '../support/jsonServer.js';
import { listenOnLoopback } from '../support/listenOnLoopback.js';
import { startOAuthServer } from '../support/oauthServer.js';
import { productsEvery, startShopifyBulkApi } from '../support/apis/shopifyBulkApi.js';
import { secretSpellings } from '../support/secretSpellings.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close().catch(() => undefined);
});

const hour = (start: string): TimeWindow => ({ start: new Date(start), end: new Date(Date.parse(start) + 3_600_000) });
const day = (start: string): TimeWindow => ({ start: new Date(start), end: new Date(Date.parse(start) + 86_400_000) });
const lake = async () => new FsLakeStorage(await mkdtemp(join(tmpdir(), 'cassette-lake-')));

/** Records a window into a scratch lake; returns the outcome and the lake's folder. */
async function record(
  source: SourceDefinition,
  streamName: string,
  window: TimeWindow,
  env: Record<string, string>,
  options: { baseUrl?: string; tokenUrl?: string; secrets?: EnvSecretProvider } = {},
) {
  const storage = await lake();
  const stream = source.streams.find((s) => s.name === streamName)!;
  const outcome = await recordWindow({
    source,
    stream,
    window,
    secrets: options.secrets ?? new EnvSecretProvider(env, { warn: () => undefined }),
    storage,
    replayStorage: await lake(),
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
  });
  expect(outcome.problems).toEqual([]);
  expect(outcome.result.status).toBe('committed');
  return { outcome: outcome as RecordOutcome & { cassette: Cassette; bytes: Buffer }, root: storage.location };
}

/** Every landed line from `_parent`/`data` on, in landing order: the record bytes a replay must reproduce. */
async function recordLines(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (path.includes('/raw/') && path.endsWith('.jsonl.gz')) files.push(path);
    }
  };
  await walk(root);
  const lines: string[] = [];
  for (const file of files.sort()) {
    for (const line of gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')
      .filter(Boolean))
      lines.push(line.replace(/^.*?"_run_id":"[^"]*",/, ''));
  }
  return lines;
}

/** Replays a cassette into a fresh lake; returns the outcome and the lake's folder. */
async function replay(source: SourceDefinition, cassette: Cassette) {
  const storage = await lake();
  return { ...(await replayCassette({ source, cassette, storage })), root: storage.location };
}

/** The secrets of `values` found in a cassette's text, in any spelling. */
function leaks(bytes: Buffer, values: readonly string[]): string[] {
  const text = gunzipSync(bytes).toString('utf8');
  return values.filter((value) => secretSpellings(value).some((form) => text.includes(form)));
}

describe('a cassette of the demo shop (api key, retries after 429 and 503, cursor and page-number paging, typed columns)', () => {
  const KEY = 'demo-key-0123456789';
  const env = { APILAKE_SECRET_APILAKE_DEMO_SHOP: JSON.stringify({ api_key: KEY }) };
  const shop = () => exampleSource('demo_shop.yaml', () => undefined);

  async function recorded() {
    const api = await startDemoApi({ apiKey: KEY });
    closers.push(() => api.close());
    const source = await shop();
    const orders = await record(source, 'orders', hour('2024-01-01T00:00:00Z'), env, { baseUrl: api.url });
    const customers = await record(source, 'customers', day('2024-01-01T00:00:00Z'), env, { baseUrl: api.url });
    await api.close();
    return { source, orders, customers, served: api.requests() };
  }

  it('replays with the API stopped to the same records, byte for byte', async () => {
    const { source, orders, customers } = await recorded();
    for (const { outcome, root } of [orders, customers]) {
      const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
      expect(replayed.problems).toEqual([]);
      expect(await recordLines(replayed.root)).toEqual(await recordLines(root));
    }
    expect(orders.outcome.cassette.expected).toMatchObject({ records: 40, pages: 2, type_errors: {} });
    expect(customers.outcome.cassette.expected).toMatchObject({ records: 240, pages: 5 });
    // The recording names the source's base_url, not the server it was recorded from.
    expect(orders.outcome.cassette.interactions.every((i) => i.request.url.startsWith('http://127.0.0.1:8787/v1/orders?'))).toBe(true);
    // The retries are part of the recording: the 429 and the 503 are answered again on replay.
    expect(customers.outcome.cassette.interactions.map((i) => i.response?.status)).toContain(429);
  });

  it('holds the api key in no spelling, and a placeholder where it went', async () => {
    const { orders, customers } = await recorded();
    for (const { outcome } of [orders, customers]) {
      expect(leaks(outcome.bytes, [KEY])).toEqual([]);
      expect(outcome.cassette.secrets).toEqual({ 'apilake/demo_shop': { api_key: 'REDACTED.secret.api_key' } });
      expect(outcome.cassette.interactions[0]!.request.headers['x-api-key']).toBe('REDACTED.secret.api_key');
    }
  });

  it('reports a field whose type changed, by column and by record bytes', async () => {
    const { source, orders } = await recorded();
    const cassette = structuredClone(orders.outcome.cassette);
    const page = cassette.interactions.find((i) => i.response?.status === 200)!.response!;
    page.body = page.body.replace(/"customer_id":(\d+)/g, '"customer_id":"c-$1"');
    const { problems } = await replay(source, cassette);
    expect(problems).toEqual([expect.stringMatching(/^record bytes \(sha256\): expected [0-9a-f]{12}…, landed [0-9a-f]{12}…$/), 'type_errors.customer_id: expected 0, landed 25']);
  });

  it('reports an extra page the API now returns: its records and pages', async () => {
    const { source, orders } = await recorded();
    const cassette = structuredClone(orders.outcome.cassette);
    const last = cassette.interactions.at(-1)!;
    const body = JSON.parse(last.response!.body) as { data: { id: number }[]; meta: { next_cursor: string | null } };
    const lastId = body.data.at(-1)!.id;
    body.meta.next_cursor = String(lastId);
    last.response!.body = JSON.stringify(body);
    const url = new URL(last.request.url);
    url.searchParams.set('cursor', String(lastId));
    cassette.interactions.push({
      request: { ...last.request, url: url.href },
      response: { ...last.response!, body: JSON.stringify({ data: [{ ...body.data[0], id: lastId + 1 }], meta: { next_cursor: null } }) },
    });
    const { problems } = await replay(source, cassette);
    expect(problems).toEqual(['records: expected 40, landed 41', expect.stringMatching(/^record bytes/), 'pages: expected 2, landed 3']);
  });

  it('reports a different cursor as a request not in the cassette, naming the parameter', async () => {
    const { source, orders } = await recorded();
    const cassette = structuredClone(orders.outcome.cassette);
    const first = cassette.interactions.find((i) => i.response?.status === 200)!;
    const recordedCursor = (JSON.parse(first.response!.body) as { meta: { next_cursor: string } }).meta.next_cursor;
    first.response!.body = first.response!.body.replace(`"next_cursor":"${recordedCursor}"`, '"next_cursor":"999999"');
    const { problems, result } = await replay(source, cassette);
    expect(result?.status).toBe('failed');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^request not in the cassette: GET http:\/\/127\.0\.0\.1:8787\/v1\/orders\?.*cursor=999999; nearest recorded request #\d+ differs in query cursor: recorded "\d+", sent "999999"$/,
    );
  });

  it('reports a recorded request the replay never sent', async () => {
    const { source, orders } = await recorded();
    const cassette = structuredClone(orders.outcome.cassette);
    const extra = structuredClone(cassette.interactions.at(-1)!);
    cassette.interactions.push({ ...extra, request: { ...extra.request, url: `${extra.request.url}&cursor2=x` } });
    const { problems } = await replay(source, cassette);
    expect(problems).toEqual([`recorded request #${cassette.interactions.length} was not sent: GET ${extra.request.url}&cursor2=x (answered 200)`]);
  });

  it('reports a request the source now sends differently, and lets an ignored parameter differ', async () => {
    const { orders } = await recorded();
    const changed = await exampleSource('demo_shop.yaml', (doc) => {
      (doc.streams[0]!.params as Record<string, unknown>).limit = 30;
    });
    const { problems } = await replay(changed, orders.outcome.cassette);
    expect(problems[0]).toMatch(/^request not in the cassette: GET .*limit=30.*; nearest recorded request #1 differs in query limit: recorded "25", sent "30"/);
    const ignoring = await exampleSource('demo_shop.yaml', (doc) => {
      (doc.streams[0]!.params as Record<string, unknown>).limit = 30;
      doc.cassettes = { ignore: { params: ['limit'] } };
    });
    expect((await replay(ignoring, orders.outcome.cassette)).problems).toEqual([]);
  });
});

describe('a cassette of GitHub GraphQL search (a POST per page, the cursor in the body)', () => {
  const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
  const env = { APILAKE_SECRET_APILAKE_GITHUB: JSON.stringify({ token: TOKEN }) };

  async function recorded() {
    const api = await startGraphqlApi(nodesEvery('2024-03-01T10:00:00Z', 12_000, 250));
    closers.push(() => api.close());
    const source = await exampleSource('github_graphql.yaml', () => undefined);
    const run = await record(source, 'issues', hour('2024-03-01T10:00:00Z'), env, { baseUrl: api.url });
    await api.close();
    return { source, run };
  }

  it('replays with the API stopped to the same records, and holds no token', async () => {
    const { source, run } = await recorded();
    expect(run.outcome.cassette.expected).toMatchObject({ records: 250, pages: 3 });
    expect(run.outcome.cassette.interactions.map((i) => i.request.method)).toEqual(['POST', 'POST', 'POST']);
    const replayed = await replay(source, parseCassette(run.outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect(await recordLines(replayed.root)).toEqual(await recordLines(run.root));
    expect(leaks(run.outcome.bytes, [TOKEN])).toEqual([]);
    expect(run.outcome.cassette.interactions[0]!.request.headers.authorization).toBe('Bearer REDACTED.secret.token');
  });

  it('reports a different cursor by its path in the body', async () => {
    const { source, run } = await recorded();
    const cassette = structuredClone(run.outcome.cassette);
    const first = cassette.interactions[0]!.response!;
    const cursor = (JSON.parse(first.body) as { data: { search: { pageInfo: { endCursor: string } } } }).data.search.pageInfo.endCursor;
    first.body = first.body.replace(cursor, Buffer.from('cursor:99').toString('base64'));
    const { problems } = await replay(source, cassette);
    expect(problems).toEqual([
      `request not in the cassette: POST https://api.github.com/graphql; nearest recorded request #2 differs in body variables.after: recorded "${cursor}", sent "${Buffer.from('cursor:99').toString('base64')}"`,
    ]);
  });
});

describe('cassettes of OAuth2 sources', () => {
  const yaml = (tokenUrl: string, apiUrl: string, auth: string) => `
name: hub
schedule: rate(1 hour)
base_url: ${apiUrl}
auth: { ${auth}, token_url: "${tokenUrl}" }
streams:
  - { name: items, path: /data, records: items, window: 1h }
`;

  it('records refresh-token rotation across windows, replays each window offline, and holds no token ever issued', async () => {
    const server = await startOAuthServer({ clientSecret: 'cs-very-secret-value', refreshToken: 'rt-initial-0001' });
    closers.push(() => server.close());
    const source = parseSource(yaml(server.tokenUrl, server.url, 'type: oauth2_refresh_token, secret: apilake/hub'), 'hub.yaml');
    const secrets = new EnvSecretProvider(
      { APILAKE_SECRET_APILAKE_HUB: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-very-secret-value', refresh_token: 'rt-initial-0001' }) },
      { warn: () => undefined },
    );
    const runs = [];
    for (const start of ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z']) runs.push(await record(source, 'items', hour(start), {}, { secrets }));
    await server.close();
    // Each window exchanged the refresh token of the window before: two rotations.
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(server.exchanges[1]!.presented).toBe(server.exchanges[0]!.issuedRefreshToken);
    const credentials = [...server.credentials(), Buffer.from('client-1:cs-very-secret-value').toString('base64')];
    for (const { outcome, root } of runs) {
      expect(leaks(outcome.bytes, credentials)).toEqual([]);
      const [token, data] = outcome.cassette.interactions;
      expect(token!.request.body).toBe('grant_type=refresh_token&refresh_token=REDACTED.secret.refresh_token');
      expect(JSON.parse(token!.response!.body)).toMatchObject({ access_token: 'REDACTED.issued.1', refresh_token: 'REDACTED.issued.2' });
      expect(data!.request.headers.authorization).toBe('Bearer REDACTED.issued.1');
      const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
      expect(replayed.problems).toEqual([]);
      expect(await recordLines(replayed.root)).toEqual(await recordLines(root));
    }
  });

  it('records from a token endpoint and an API given instead of token_url and base_url, and names the source’s own in the cassette', async () => {
    const server = await startOAuthServer({ clientSecret: 'cs-very-secret-value', refreshToken: 'rt-initial-0001' });
    closers.push(() => server.close());
    const source = parseSource(yaml('https://login.example.com/oauth2/token', 'https://api.example.com', 'type: oauth2_refresh_token, secret: apilake/hub'), 'hub.yaml');
    const env = { APILAKE_SECRET_APILAKE_HUB: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-very-secret-value', refresh_token: 'rt-initial-0001' }) };
    const { outcome, root } = await record(source, 'items', hour('2024-01-01T00:00:00Z'), env, { baseUrl: server.url, tokenUrl: server.tokenUrl });
    await server.close();
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok']);
    expect(outcome.cassette.interactions.map((i) => `${i.request.method} ${i.request.url.replace(/\?.*/, '')}`)).toEqual([
      'POST https://login.example.com/oauth2/token',
      'GET https://api.example.com/data',
    ]);
    expect(gunzipSync(outcome.bytes).toString('utf8')).not.toContain(server.url);
    const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect(await recordLines(replayed.root)).toEqual(await recordLines(root));
  });

  it('fails if asked to record from another base URL when the token answer issues it, before any request', async () => {
    const server = await startOAuthServer({ clientSecret: 'cs-very-secret-value', refreshToken: 'rt-initial-0001' });
    closers.push(() => server.close());
    const source = parseSource(yaml(server.tokenUrl, '"{auth.instance_url}"', 'type: oauth2_refresh_token, secret: apilake/hub'), 'hub.yaml');
    const env = { APILAKE_SECRET_APILAKE_HUB: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-very-secret-value', refresh_token: 'rt-initial-0001' }) };
    await expect(record(source, 'items', hour('2024-01-01T00:00:00Z'), env, { baseUrl: server.url })).rejects.toThrow(
      'the base_url of source "hub" ({auth.instance_url}) is issued with the token: record without a base URL to record from; the requests go where the token answer says',
    );
    expect(server.exchanges).toEqual([]);
  });

  it('records a JWT bearer grant and replays it with a throwaway key; no assertion or key line is kept', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const server = await startOAuthServer({ jwt: { publicKey: pair.publicKey, issuer: 'lake@project.iam.gserviceaccount.com' } });
    closers.push(() => server.close());
    const source = parseSource(yaml(server.tokenUrl, server.url, 'type: jwt_bearer, secret: apilake/sa'), 'hub.yaml');
    const env = { APILAKE_SECRET_APILAKE_SA: JSON.stringify({ private_key: pem, client_email: 'lake@project.iam.gserviceaccount.com' }) };
    const { outcome, root } = await record(source, 'items', hour('2024-01-01T00:00:00Z'), env);
    await server.close();
    const assertion = server.exchanges[0]!.assertion!.raw;
    const keyLines = pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
    expect(leaks(outcome.bytes, [assertion, ...assertion.split('.'), pem, ...keyLines, ...server.credentials()])).toEqual([]);
    expect(outcome.cassette.interactions[0]!.request.body).toBe('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=REDACTED.generated.1');
    const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect(await recordLines(replayed.root)).toEqual(await recordLines(root));
  });
});

describe('a cassette of a job whose result is a file on another origin', () => {
  const TOKEN = 'shpat_cassette_bulk_0123456789';
  const env = { APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: TOKEN }) };

  it('records the file from a server standing in for its allowed origin, names the origin, and replays', async () => {
    const shop = await startShopifyBulkApi({ products: productsEvery('2024-05-01T00:00:00Z', 7 * 60_000, 9), token: TOKEN, pollsUntilDone: 0 });
    closers.push(() => shop.close());
    const source = await exampleSource('shopify_bulk.yaml', () => undefined);
    const storage = await lake();
    const outcome = await recordWindow({
      source,
      stream: source.streams[0]!,
      window: hour('2024-05-01T00:00:00Z'),
      secrets: new EnvSecretProvider(env, { warn: () => undefined }),
      storage,
      replayStorage: await lake(),
      baseUrl: shop.api.url,
      origins: [['https://storage.googleapis.com', shop.files.url]],
    });
    await shop.close();
    expect(outcome.problems).toEqual([]);
    const download = outcome.cassette!.interactions.at(-1)!.request;
    expect([download.method, download.url.replace(/\?.*/, ''), download.headers['x-shopify-access-token']]).toEqual(['GET', 'https://storage.googleapis.com/bulk/1.jsonl', undefined]);
    expect(gunzipSync(outcome.bytes!).toString('utf8')).not.toContain(shop.files.url);
    const replayed = await replay(source, parseCassette(outcome.bytes!, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect(await recordLines(replayed.root)).toEqual(await recordLines(storage.location));
  });

  it('fails if the origin given a server is neither one of redirects.allowed_origins nor a job download host, before any request', async () => {
    const source = await exampleSource('shopify_bulk.yaml', () => undefined);
    const run = recordWindow({
      source,
      stream: source.streams[0]!,
      window: hour('2024-05-01T00:00:00Z'),
      secrets: new EnvSecretProvider(env, { warn: () => undefined }),
      storage: await lake(),
      replayStorage: await lake(),
      origins: [['https://files.example.com', 'http://127.0.0.1:9']],
    });
    await expect(run).rejects.toThrow(
      'https://files.example.com is neither one of redirects.allowed_origins of source "shopify_bulk" (https://storage.googleapis.com) nor a job\'s download.base_url: only such an origin can be recorded from another server',
    );
  });
});

describe('a cassette of a job file whose connection broke while it was recorded', () => {
  const TOKEN = 'tok_cassette_files_0123456789';
  const env = { APILAKE_SECRET_APILAKE_FILES: JSON.stringify({ token: TOKEN }) };
  const csv = Buffer.from(`id,note\r\n${Array.from({ length: 2_000 }, (_, i) => `${i},"row ${i}, ""quoted""\nsecond line"`).join('\r\n')}\r\n`);

  it.each([
    { name: 'continued with Range requests', ranges: true },
    { name: 'read again from the start', ranges: false },
  ])('replays the download $name to the same records, each once, and holds no token', async ({ ranges }) => {
    const cuts = [Math.floor(csv.length / 5), Math.floor(csv.length / 2) + 7];
    const { api, files } = await startJobFileHost({ versions: [csv], contentType: 'text/csv', cuts, ranges });
    closers.push(api.close, files.close);
    const source = jobFileSource(api, files, 'csv');
    const { outcome, root } = await record(source, 'rows', day('2024-05-01T00:00:00Z'), env);
    // The breaks happened while recording: three reads of the file, the last two from where each broke (or from 0).
    expect(files.requests.map((r) => r.from)).toEqual(ranges ? [0, cuts[0], cuts[1]] : [0, 0, 0]);
    await Promise.all([api.close(), files.close()]);
    const recorded = await recordLines(root);
    expect(recorded).toHaveLength(2_000);
    expect(new Set(recorded).size).toBe(2_000);
    expect(leaks(outcome.bytes, [TOKEN])).toEqual([]);
    const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect(await recordLines(replayed.root)).toEqual(recorded);
  });
});

describe('cassettes.redact', () => {
  it('masks what its JMESPaths select and its headers carry, everywhere, and pins the records as they replay', async () => {
    const api = await startJsonServer((request) => {
      if (request.url.pathname === '/session') return { headers: { 'x-session': 'sess-abcdef123456' }, body: { session: { token: 'st-0000111122223333' } } };
      return { body: { data: [{ id: 1, email: 'ada@example.com', echo: request.headers['x-session'] ?? null }] } };
    });
    closers.push(() => api.close());
    const source = parseSource(
      `
name: crm
schedule: rate(1 hour)
base_url: ${api.url}
headers: { X-Session: sess-abcdef123456 }
cassettes: { redact: { headers: [X-Session], body: ["data[].email", session.token] } }
streams:
  - { name: people, path: /people, records: data, window: 1h }
`,
      'crm.yaml',
    );
    const { outcome } = await record(source, 'people', hour('2024-01-01T00:00:00Z'), {});
    await api.close();
    expect(leaks(outcome.bytes, ['ada@example.com', 'sess-abcdef123456'])).toEqual([]);
    expect(outcome.maskedBodies).toBe(1);
    expect(outcome.recordsMasked).toBe(true);
    const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    expect((await recordLines(replayed.root))[0]).toBe('"data":{"id":1,"email":"REDACTED.issued.1","echo":"REDACTED.generated.1"}}');
  });
});

describe('a large gzip-encoded page', () => {
  it('replays byte for byte, its multi-byte characters split across the chunks replay hands out', async () => {
    // 3,000 records of about 120 bytes, each with two- to four-byte UTF-8 characters: over 300 KiB
    // decoded, so replay hands the client several 64 KiB chunks that cut characters in two.
    const records = Array.from({ length: 3_000 }, (_, i) => ({ id: i, name: `é—😀 ${'ü'.repeat(i % 50)}`, amount: i / 7 }));
    const body = gzipSync(JSON.stringify({ data: records }));
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(body));
    const listening = await listenOnLoopback(server);
    closers.push(() => listening.close());
    const source = parseSource(
      `
name: big
schedule: rate(1 hour)
base_url: http://127.0.0.1:${listening.port}
streams:
  - { name: rows, path: /rows, records: data, window: 1h }
`,
      'big.yaml',
    );
    const { outcome, root } = await record(source, 'rows', hour('2024-01-01T00:00:00Z'), {});
    await listening.close();
    expect(Buffer.byteLength(outcome.cassette.interactions[0]!.response!.body)).toBeGreaterThan(3 * 64 * 1024);
    const replayed = await replay(source, parseCassette(outcome.bytes, 'cassette'));
    expect(replayed.problems).toEqual([]);
    const lines = await recordLines(replayed.root);
    expect(lines).toEqual(await recordLines(root));
    expect(lines).toHaveLength(3_000);
    expect(lines[2_999]).toContain(`"name":"é—😀 ${'ü'.repeat(2_999 % 50)}"`);
  });
});

describe('the stored form', () => {
  it('keeps a body that is not UTF-8 byte for byte, and reads back what it wrote', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const cassette = {
      format: 'apilake-cassette/1',
      source: 's',
      stream: 't',
      window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' },
      recorded_at: '2024-01-02T00:00:00.000Z',
      secrets: {},
      interactions: [{ request: { method: 'GET', url: 'http://x/', headers: {} }, response: { status: 200, headers: [['a', '1']], body: bytes.toString('base64'), base64: true } }],
      expected: { records: 0, sha256: '0'.repeat(64), pages: 1, type_errors: {} },
    } as Cassette;
    expect(parseCassette(serializeCassette(cassette), 'c')).toEqual(cassette);
  });
});
