import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import { RedirectError } from '../../functions/errors.js';
import { Redactor } from '../../functions/http/redact.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { listFiles, readRecords } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';
import { PRESIGNED, startRedirectServers, type RecordedRequest, type RedirectServers } from '../support/redirectServers.js';
import { testSource } from '../support/sources.js';

const WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };

/** Each auth type with a credential holding characters that encoders change (`/`, `+`, `!`). */
const AUTHS = [
  { name: 'api_key in a header', auth: { type: 'api_key', secret: 'apilake/r', in: 'header', name: 'X-API-Key' }, secret: { api_key: 'ak_live/4f9a+2c7e1b' } },
  { name: 'api_key in the query', auth: { type: 'api_key', secret: 'apilake/r', in: 'query', name: 'api_key' }, secret: { api_key: 'ak_live/4f9a+2c7e1b' } },
  { name: 'bearer', auth: { type: 'bearer', secret: 'apilake/r' }, secret: { token: 'bt_live/9Xq+7abc' } },
  { name: 'basic', auth: { type: 'basic', secret: 'apilake/r' }, secret: { username: 'svc-user', password: 'pw_live_7Qz!x9' } },
] as const;

type Auth = (typeof AUTHS)[number];

let servers: RedirectServers;
let lake: string;
beforeEach(async () => {
  servers = await startRedirectServers();
  lake = await mkdtemp(join(tmpdir(), 'apilake-redirect-'));
});
afterEach(() => servers.close());

/** A redactor that knows every form of the credential: what must never appear anywhere. */
function detector(auth: Auth): Redactor {
  const redactor = new Redactor();
  for (const value of Object.values(auth.secret)) redactor.addSecret(value);
  if ('password' in auth.secret) redactor.addSecret(Buffer.from(`${auth.secret.username}:${auth.secret.password}`).toString('base64'));
  return redactor;
}

async function run(auth: Auth, path: string, extra: Record<string, unknown> = {}) {
  const source = testSource(servers.home.url, { path, records: 'data' }, { auth: auth.auth, retry: { max_attempts: 2, base_delay_ms: 1, max_delay_ms: 10 }, ...extra });
  const secrets = new EnvSecretProvider({ APILAKE_SECRET_APILAKE_R: JSON.stringify(auth.secret) });
  const client = await createSourceClient(source, secrets, { clock: new ManualClock(Date.now()) });
  const [result] = await runSource({ source, selection: { kind: 'windows', windows: [WINDOW] }, client, storage: new FsLakeStorage(lake) });
  return result!;
}

/** Every byte the run wrote, gzip parts decompressed. */
async function lakeBytes(): Promise<string> {
  let out = '';
  for (const key of await listFiles(lake)) {
    const bytes = await readFile(join(lake, key));
    out += key.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  }
  return out;
}

const credentialFree = (request: RecordedRequest) => ({
  authorization: request.headers.authorization,
  'x-api-key': request.headers['x-api-key'],
  cookie: request.headers.cookie,
  apiKeyParam: new URL(request.url, 'http://x').searchParams.get('api_key'),
});

describe('redirects to another origin', () => {
  describe.each(AUTHS.map((a) => [a.name, a] as const))('with %s', (_name, auth) => {
    it.each([301, 302, 303, 307, 308])('fail the window on a %i by default: nothing reaches the foreign origin, nothing lands', async (status) => {
      const result = await run(auth, `/to-foreign/${status}`);
      expect(result.status).toBe('failed');
      expect(result.error).toBeInstanceOf(RedirectError);
      expect(result.error!.message).toMatch(
        new RegExp(`^HTTP ${status} redirect from ${servers.home.url} to another origin ${servers.foreign.url} refused: .*list "${servers.foreign.url}" in redirects.allowed_origins`),
      );
      expect(detector(auth).contains(result.error!.message)).toBe(false);
      expect(servers.foreign.requests).toEqual([]);
      expect(await listFiles(lake)).toEqual([]);
    });

    it('follow an allow-listed origin without any credential, and land its records', async () => {
      const result = await run(auth, '/to-foreign/302', { redirects: { allowed_origins: [`${servers.foreign.url}/`] } });
      expect(result.error?.message).toBeUndefined();
      expect(result.status).toBe('committed');
      expect(servers.foreign.requests).toHaveLength(1);
      const [seen] = servers.foreign.requests;
      expect(credentialFree(seen!)).toEqual({ authorization: undefined, 'x-api-key': undefined, cookie: undefined, apiKeyParam: null });
      expect(detector(auth).contains(JSON.stringify(seen))).toBe(false);
      expect((await readRecords(lake)).map((l) => l.data)).toEqual([{ id: 'foreign-1' }]);
      expect(detector(auth).contains(await lakeBytes())).toBe(false);
    });
  });

  it('never re-adds credentials once a chain has left the origin, even on its way back home', async () => {
    const auth = AUTHS[2];
    const result = await run(auth, '/via-foreign', { redirects: { allowed_origins: [servers.foreign.url] } });
    expect(result.status).toBe('committed');
    expect(servers.foreign.requests.map((r) => r.url)).toEqual(['/back-home']);
    expect(servers.foreign.requests[0]!.headers.authorization).toBeUndefined();
    const [first, last] = [servers.home.requests[0]!, servers.home.requests.at(-1)!];
    expect(first.headers.authorization).toBe(`Bearer ${auth.secret.token}`);
    expect(last.url).toBe('/data');
    expect(last.headers.authorization).toBeUndefined();
  });

  it("quotes a signed URL's error body without the signature and credential the host echoes back", async () => {
    const { 'X-Amz-Signature': signature, 'X-Amz-Credential': credential } = PRESIGNED;
    const result = await run(AUTHS[2], '/to-signed', { redirects: { allowed_origins: [servers.foreign.url] } });
    expect(servers.foreign.requests.map((r) => r.url)).toEqual([`/signed?${new URLSearchParams(PRESIGNED).toString()}`]);
    expect(result.status).toBe('failed');
    const message = result.error!.message;
    expect(message).toMatch(/^HTTP 403: .*<Code>SignatureDoesNotMatch<\/Code>.*<SignatureProvided>\*\*\*<\/SignatureProvided>/);
    expect(message).not.toContain(signature);
    expect(message).not.toContain(credential);
    expect(message).not.toContain(encodeURIComponent(credential));
  });

  it('refuses to follow an allow-listed redirect whose Location carries the credential under another name', async () => {
    const auth = AUTHS[0];
    const key = encodeURIComponent(auth.secret.api_key);
    const result = await run(auth, `/to-foreign-with/leak/${key}`, { redirects: { allowed_origins: [servers.foreign.url] } });
    expect(result.status).toBe('failed');
    expect(result.error!.message).toMatch(/^HTTP redirect from .* to allowed origin .* refused: the redirected request would carry a credential of the source in its URL/);
    expect(detector(auth).contains(result.error!.message)).toBe(false);
    expect(servers.foreign.requests).toEqual([]);
    expect(await listFiles(lake)).toEqual([]);
  });
});

describe('redirects within the origin', () => {
  it.each([301, 302, 303, 307, 308])('follow a %i with the credentials, a query api_key included', async (status) => {
    const auth = AUTHS[1];
    const result = await run(auth, `/to-home/${status}`);
    expect(result.status).toBe('committed');
    const last = servers.home.requests.at(-1)!;
    expect(new URL(last.url, 'http://x').pathname).toBe('/data');
    expect(new URL(last.url, 'http://x').searchParams.get('api_key')).toBe(auth.secret.api_key);
    expect(result.requests).toBe(2);
  });

  it('stop after redirects.max hops with a clear error', async () => {
    const result = await run(AUTHS[2], '/loop', { redirects: { max: 3 } });
    expect(result.status).toBe('failed');
    expect(result.error!.message).toMatch(/^more than 3 redirects in a row \(redirects\.max\); the next one pointed to http:\/\/127\.0\.0\.1:\d+\/loop\?n=4/);
    expect(servers.home.requests).toHaveLength(4);
    expect(await listFiles(lake)).toEqual([]);
  });

  it.each([
    [301, 'GET', ''],
    [302, 'GET', ''],
    [303, 'GET', ''],
    [307, 'POST', '{"query":"q"}'],
    [308, 'POST', '{"query":"q"}'],
  ])('apply RFC 9110 to a POST redirected with %i: %s with body %j', async (status, method, body) => {
    const source = testSource(servers.home.url, { path: '/data', method: 'POST', body: { query: 'q' }, params: {} });
    const client = await createSourceClient(source, new EnvSecretProvider({}));
    const response = await client.requestJson({ method: 'POST', url: new URL(`${servers.home.url}/to-home/${status}`), body: { query: 'q' } });
    expect(response.body).toMatchObject({ meta: { method, body } });
    const last = servers.home.requests.at(-1)!;
    expect(last.headers['content-type']).toBe(method === 'POST' ? 'application/json' : undefined);
  });
});
