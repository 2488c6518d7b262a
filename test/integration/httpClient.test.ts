import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/clock.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { AbortedError, CircuitOpenError, HttpNetworkError, HttpStatusError, InvalidJsonError, RetryBudgetError, SecretError } from '../../functions/errors.js';
import { Redactor } from '../../functions/http/redact.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { ManualClock } from '../support/manualClock.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

let api: TestApi;
let clock: ManualClock;
beforeEach(async () => {
  api = await startTestApi({ count: 20 });
  clock = new ManualClock();
});
afterEach(() => api.close());

const noSecrets = new EnvSecretProvider({});

async function client(extra: Record<string, unknown> = {}, secrets = noSecrets, redactor = new Redactor()) {
  return createSourceClient(testSource(api.url, { path: '/items' }, extra), secrets, { clock, random: () => 0.5, redactor });
}
const get = (path: string) => ({ method: 'GET' as const, url: new URL(path, api.url), label: 'page 1' });

describe('HttpClient against a real HTTP server', () => {
  it('retries a 429 after exactly the Retry-After seconds', async () => {
    api.fail({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const c = await client();
    const response = await c.requestJson(get('/items'));
    expect(response.body).toHaveLength(20);
    expect(clock.sleeps).toContain(7_000);
    expect(c.stats).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
  });

  it('retries a 429 after a Retry-After HTTP date', async () => {
    const at = new Date(clock.now() + 12_000).toUTCString();
    api.fail({ kind: 'status', status: 429, headers: { 'retry-after': at } });
    const c = await client();
    await c.requestJson(get('/items'));
    expect(clock.sleeps).toContain(12_000);
  });

  it('honours x-ratelimit-reset when there is no Retry-After', async () => {
    api.fail({ kind: 'status', status: 429, headers: { 'x-ratelimit-reset': String(clock.now() / 1000 + 30) } });
    await (await client()).requestJson(get('/items'));
    expect(clock.sleeps).toContain(30_000);
  });

  it('rides out a burst of 5xx with exponential backoff and full jitter', async () => {
    api.fail({ kind: 'status', status: 503 }, { kind: 'status', status: 502 }, { kind: 'status', status: 500 });
    const c = await client();
    await c.requestJson(get('/items'));
    // base 10 ms, random 0.5: 5, 10, 20
    expect(clock.sleeps).toEqual([5, 10, 20]);
    expect(c.stats.retries).toBe(3);
  });

  it('fails after max_attempts with the status, attempts and URL', async () => {
    api.fail(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 503, body: '{"error":"down for maintenance"}' })));
    const error = await (await client()).requestJson(get('/items?x=1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as Error).message).toBe(`HTTP 503 after 4 attempts: {"error":"down for maintenance"} (page 1, GET ${api.url}/items?x=1)`);
  });

  it('fails at once on a 404 with a snippet of the body', async () => {
    const error = await (await client()).requestJson(get('/nope')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect((error as Error).message).toContain('no route /nope');
    expect(api.requests).toHaveLength(1);
  });

  it('retries a connection reset mid-body', async () => {
    api.fail({ kind: 'reset' });
    const c = await client();
    expect((await c.requestJson(get('/items'))).body).toHaveLength(20);
    expect(c.stats.retries).toBe(1);
  });

  it('times out a body that trickles past timeout_ms, then retries', async () => {
    api.fail({ kind: 'slow-body', ms: 5_000 });
    const c = await client({ timeout_ms: 300 });
    expect((await c.requestJson(get('/items'))).body).toHaveLength(20);
    expect(c.stats.retries).toBe(1);
  });

  it('reports a timeout that persists as a network error naming the timeout', async () => {
    api.fail(...Array.from({ length: 2 }, () => ({ kind: 'slow-body' as const, ms: 5_000 })));
    const error = await (await client({ timeout_ms: 200, retry: { max_attempts: 2, base_delay_ms: 1 } })).requestJson(get('/items')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as Error).message).toMatch(/network error after 2 attempts: timed out after 200 ms/);
  });

  it('retries a refused connection (API restarting) and reports it when it persists', async () => {
    const closed = await startTestApi();
    await closed.close();
    const c = await createSourceClient(testSource(closed.url, { path: '/items' }, { retry: { max_attempts: 3, base_delay_ms: 1 } }), noSecrets, { clock });
    const error = await c.requestJson({ method: 'GET', url: new URL(`${closed.url}/items`) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as Error).message).toMatch(/after 3 attempts: ECONNREFUSED/);
  });

  it('fails on a body that is not JSON, naming the page', async () => {
    api.fail({ kind: 'invalid-json' });
    const error = await (await client()).requestJson(get('/items')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJsonError);
    expect((error as Error).message).toMatch(/^page 1: response body is not valid JSON: <html><body>Bad Gateway/);
  });

  it('gives up when the server asks to wait longer than max_delay_ms', async () => {
    api.fail({ kind: 'status', status: 429, headers: { 'retry-after': '86400' } });
    const error = await (await client()).requestJson(get('/items')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryBudgetError);
    expect((error as Error).message).toMatch(/server asked to wait 86400 s, more than retry.max_delay_ms/);
  });

  it('opens the circuit after consecutive failures and fails the next request at once', async () => {
    api.fail(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })));
    const c = await client({ retry: { max_attempts: 5, base_delay_ms: 1, circuit_breaker_failures: 3 } });
    const first = await c.requestJson(get('/items')).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(CircuitOpenError);
    const requestsBefore = api.requests.length;
    const second = await c.requestJson(get('/items')).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(CircuitOpenError);
    expect((second as Error).message).toMatch(/circuit open after 3 consecutive failed requests of this source; last error: HTTP 500/);
    expect(api.requests.length).toBe(requestsBefore);
  });

  it('paces requests with the token bucket', async () => {
    const c = await client({ rate_limit: { requests_per_second: 2, burst: 1 } });
    for (let i = 0; i < 4; i++) await c.requestJson(get('/items'));
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(1_500);
  });

  it('fails with AbortedError when stopped while it waits for a rate-limit token', async () => {
    // A clock whose sleeps last until their signal aborts, and then reject with its reason as
    // given: a run is stopped with a text reason ('interrupted'), which must not escape as such.
    let sleeping!: () => void;
    const asleep = new Promise<void>((resolve) => (sleeping = resolve));
    const held: Clock = {
      now: () => 0,
      sleep: (_ms, signal) =>
        new Promise<void>((_resolve, reject) => {
          sleeping();
          signal?.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    };
    const c = await createSourceClient(testSource(api.url, { path: '/items' }, { rate_limit: { requests_per_second: 1, burst: 1 } }), noSecrets, { clock: held, redactor: new Redactor() });
    await c.requestJson(get('/items'));
    const controller = new AbortController();
    const second = c.requestJson(get('/items'), { signal: controller.signal });
    await asleep;
    controller.abort('interrupted');
    await expect(second).rejects.toBeInstanceOf(AbortedError);
    await expect(second).rejects.toThrow('stopped before the window finished: interrupted');
    expect(api.requests).toHaveLength(1);
  });

  it('pauses when the server reports its quota spent', async () => {
    // A successful response that says 0 remaining: the next request waits for the reset.
    api.fail({ kind: 'status', status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '20' }, body: '[]' });
    const c = await client();
    await c.requestJson(get('/items'));
    await c.requestJson(get('/items'));
    expect(clock.sleeps).toEqual([20_000]);
  });
});

describe('auth', () => {
  it('sends an api_key in a query parameter and redacts it from errors', async () => {
    await api.close();
    api = await startTestApi({ count: 3, apiKey: 'k-123456' });
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_APILAKE_TEST: JSON.stringify({ api_key: 'k-123456' }) });
    const c = await client({ auth: { type: 'api_key', secret: 'apilake/test', in: 'query', name: 'api_key' } }, secrets);
    expect((await c.requestJson(get('/items'))).body).toHaveLength(3);
    expect(api.requests[0]!.url).toContain('api_key=k-123456');
    // A next link from the API may carry the key back: it is masked wherever printed.
    const error = await c.requestJson(get('/nope?api_key=k-123456')).catch((e: unknown) => e);
    expect((error as Error).message).toContain('api_key=***');
    expect((error as Error).message).not.toContain('k-123456');
  });

  it('sends bearer and basic credentials in the Authorization header', async () => {
    const bearer = new EnvSecretProvider({ APILAKE_SECRET_T: JSON.stringify({ token: 'tok-abc-123' }) });
    await (await client({ auth: { type: 'bearer', secret: 't' } }, bearer)).requestJson(get('/items'));
    expect(api.requests.at(-1)!.headers.authorization).toBe('Bearer tok-abc-123');
    const basic = new EnvSecretProvider({ APILAKE_SECRET_T: JSON.stringify({ username: 'u', password: 'p@ss-word' }) });
    await (await client({ auth: { type: 'basic', secret: 't' } }, basic)).requestJson(get('/items'));
    expect(api.requests.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('u:p@ss-word').toString('base64')}`);
  });

  it('fails with the secret name (never its value) when a key is missing', async () => {
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_T: JSON.stringify({ user: 'x', password: 'hunter22' }) });
    const error = await client({ auth: { type: 'basic', secret: 't' } }, secrets).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe('secret "t" lacks "username" (string); keys present: user, password');
  });

  it('tells which environment variable to set when a secret is absent', async () => {
    const error = await client({ auth: { type: 'bearer', secret: 'apilake/shop-api' } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/set the environment variable APILAKE_SECRET_APILAKE_SHOP_API/);
  });

  describe('oauth2_client_credentials', () => {
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_OAUTH: JSON.stringify({ client_id: 'cid', client_secret: 'csecret-1' }) });
    const auth = (client_auth: 'header' | 'body') => ({ auth: { type: 'oauth2_client_credentials', secret: 'oauth', token_url: `${api.url}/oauth/token`, client_auth } });

    beforeEach(async () => {
      await api.close();
      api = await startTestApi({ count: 3, oauth: { clientId: 'cid', clientSecret: 'csecret-1', expiresIn: 3600 } });
    });

    it.each(['header', 'body'] as const)('fetches a token once and caches it (client auth in %s)', async (mode) => {
      const c = await client(auth(mode), secrets);
      for (let i = 0; i < 3; i++) expect((await c.requestJson(get('/items'))).body).toHaveLength(3);
      expect(api.tokenRequests()).toBe(1);
    });

    it('refreshes the token shortly before it expires', async () => {
      const c = await client(auth('header'), secrets);
      await c.requestJson(get('/items'));
      clock.advance(3_600_000 - 30_000); // inside the refresh margin
      await c.requestJson(get('/items'));
      expect(api.tokenRequests()).toBe(2);
    });

    it('refreshes once on a 401 and repeats the request', async () => {
      const c = await client(auth('header'), secrets);
      await c.requestJson(get('/items'));
      api.revokeTokens();
      expect((await c.requestJson(get('/items'))).body).toHaveLength(3);
      expect(api.tokenRequests()).toBe(2);
    });

    it('fails with 401 when the client secret is wrong, without leaking it', async () => {
      const wrong = new EnvSecretProvider({ APILAKE_SECRET_OAUTH: JSON.stringify({ client_id: 'cid', client_secret: 'wrong-secret' }) });
      const error = await (await client(auth('body'), wrong)).requestJson(get('/items')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpStatusError);
      expect((error as HttpStatusError).status).toBe(401);
      expect((error as Error).message).not.toContain('wrong-secret');
      expect((error as Error).message).toContain('token');
    });
  });
});
