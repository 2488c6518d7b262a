import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpStatusError, SecretError } from '../../functions/errors.js';
import { ROTATION_REREAD_DELAYS_MS } from '../../functions/http/auth/RefreshTokenGrant.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { authClient } from '../support/authClient.js';
import { ManualClock } from '../support/manualClock.js';
import { startOAuthServer, type OAuthServer, type OAuthServerOptions } from '../support/oauthServer.js';

const SECRET = 'apilake/hub';
const VARIABLE = 'APILAKE_SECRET_APILAKE_HUB';
let server: OAuthServer;
afterEach(() => server?.close());

async function start(options: OAuthServerOptions = {}) {
  server = await startOAuthServer({ clientSecret: 'cs-very-secret', refreshToken: 'rt-initial-0001', ...options });
  const env: Record<string, string> = { [VARIABLE]: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-very-secret', refresh_token: 'rt-initial-0001' }) };
  const warnings: string[] = [];
  const secrets = new EnvSecretProvider(env, { warn: (message) => warnings.push(message) });
  return { env, warnings, secrets };
}

const auth = (clientAuth: 'header' | 'body' = 'header') => ({ type: 'oauth2_refresh_token', secret: SECRET, token_url: server.tokenUrl, client_auth: clientAuth });
const stored = async (secrets: EnvSecretProvider) => (await secrets.readVersioned(SECRET)).value.refresh_token;

describe('oauth2_refresh_token with the environment provider', () => {
  it.each(['header', 'body'] as const)('exchanges the refresh token once and caches the access token (client auth in %s)', async (mode) => {
    const { secrets } = await start();
    const c = await authClient(server.url, auth(mode), secrets);
    for (let i = 0; i < 3; i++) expect((await c.get('/data')).body).toEqual({ items: [{ id: 1 }, { id: 2 }] });
    expect(server.exchanges).toHaveLength(1);
    expect(server.exchanges[0]).toMatchObject({ grantType: 'refresh_token', presented: 'rt-initial-0001', outcome: 'ok' });
  });

  it('keeps the rotated token for the process, so the next exchange presents it and is accepted', async () => {
    const { secrets } = await start();
    const clock = new ManualClock(Date.now());
    const c = await authClient(server.url, auth(), secrets, { clock });
    await c.get('/data');
    clock.advance(3_600_000 - 30_000); // inside the refresh margin
    await c.get('/data');
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(server.exchanges[1]!.presented).toBe(server.exchanges[0]!.issuedRefreshToken);
    expect(await stored(secrets)).toBe(server.latestRefreshToken());
    // A client built later in the same process starts from the rotated token too.
    const later = await authClient(server.url, auth(), secrets, { clock });
    await later.get('/data');
    expect(server.exchanges.at(-1)).toMatchObject({ presented: server.exchanges[1]!.issuedRefreshToken, outcome: 'ok' });
  });

  it('warns once per secret that the rotation cannot persist, naming the variable and no token', async () => {
    const { secrets, warnings } = await start();
    const clock = new ManualClock(Date.now());
    const c = await authClient(server.url, auth(), secrets, { clock });
    for (let i = 0; i < 3; i++) {
      await c.get('/data');
      clock.advance(3_600_000);
    }
    expect(server.exchanges).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`secret "${SECRET}"`);
    expect(warnings[0]).toContain(`${VARIABLE} cannot be written back`);
    for (const credential of server.credentials()) expect(warnings[0]).not.toContain(credential);
  });

  it('prints the warning on stderr by default', async () => {
    server = await startOAuthServer({ clientSecret: 'cs-very-secret', refreshToken: 'rt-initial-0001' });
    const env = { [VARIABLE]: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-very-secret', refresh_token: 'rt-initial-0001' }) };
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await (await authClient(server.url, auth(), new EnvSecretProvider(env))).get('/data');
      const lines = write.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('apilake: warning'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('kept for this process only');
    } finally {
      write.mockRestore();
    }
  });

  it('neither writes nor warns when the endpoint keeps the refresh token', async () => {
    const { secrets, warnings } = await start({ rotate: false });
    const clock = new ManualClock(Date.now());
    const c = await authClient(server.url, auth(), secrets, { clock });
    await c.get('/data');
    clock.advance(3_600_000);
    await c.get('/data');
    expect(server.exchanges.map((e) => e.presented)).toEqual(['rt-initial-0001', 'rt-initial-0001']);
    expect((await secrets.readVersioned(SECRET)).version).toBe('env:0');
    expect(warnings).toEqual([]);
  });

  it('refreshes once on a 401 and repeats the request', async () => {
    const { secrets } = await start();
    const c = await authClient(server.url, auth(), secrets);
    await c.get('/data');
    server.revokeAccessTokens();
    expect((await c.get('/data')).status).toBe(200);
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(server.dataRequests()).toBe(2);
  });

  it('masks the client secret, every refresh token and every access token in errors', async () => {
    const { secrets } = await start();
    const clock = new ManualClock(Date.now());
    const c = await authClient(server.url, auth(), secrets, { clock });
    await c.get('/data');
    clock.advance(3_600_000);
    await c.get('/data'); // a second rotation: old, middle and new refresh tokens exist
    const credentials = server.credentials();
    expect(credentials.length).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < credentials.length; i++) {
      const error = await c.get(`/echo/${i}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpStatusError);
      expect((error as Error).message).toContain('your credential was ***');
      for (const credential of credentials) expect((error as Error).message).not.toContain(credential);
    }
  });

  it('fails with invalid_grant guidance, without the token, when no newer token ever appears', async () => {
    const { env, secrets } = await start();
    // Another process (its own copy of the environment) uses the token and never saves the successor.
    const elsewhere = new EnvSecretProvider({ ...env }, { warn: () => undefined });
    await (await authClient(server.url, auth(), elsewhere)).get('/data');
    const waits: number[] = [];
    const c = await authClient(server.url, auth(), secrets, { sleep: (ms) => Promise.resolve(void waits.push(ms)) });
    const error = await c.get('/data').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toMatch(/rejected the refresh token of secret "apilake\/hub" \(invalid_grant\).*Authorize again/);
    expect((error as Error).message).not.toContain('rt-initial-0001');
    expect(waits).toEqual([...ROTATION_REREAD_DELAYS_MS]);
  });

  it('fails with the endpoint status when the client secret is wrong, without leaking it', async () => {
    await start();
    const wrong = new EnvSecretProvider({ [VARIABLE]: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-wrong-secret', refresh_token: 'rt-initial-0001' }) });
    const error = await (await authClient(server.url, auth('body'), wrong)).get('/data').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(401);
    expect((error as Error).message).toContain('invalid_client');
    expect((error as Error).message).not.toContain('cs-wrong-secret');
  });
});

describe('oauth2_refresh_token shared by concurrent clients (one secret, rotation on every use, reuse rejected)', () => {
  it('lets a client whose token was just used by another pick up the rotated one: nobody is locked out', async () => {
    const { secrets, warnings } = await start();
    // Both clients read the secret at version 0 before either exchanges.
    const a = await authClient(server.url, auth(), secrets);
    const b = await authClient(server.url, auth(), secrets);
    const held = server.hold();
    const first = a.get('/data');
    await held.arrived; // a's exchange of rt-initial waits at the server
    await b.get('/data'); // b uses rt-initial first and saves its successor
    held.release(); // a's exchange of the same token now fails with invalid_grant
    expect((await first).status).toBe(200);
    expect(server.exchanges.map((e) => [e.presented === 'rt-initial-0001', e.outcome])).toEqual([
      [true, 'ok'],
      [true, 'invalid_grant'],
      [false, 'ok'],
    ]);
    expect(await stored(secrets)).toBe(server.latestRefreshToken());
    expect(warnings).toHaveLength(1);
  });

  it('never presents a token it read before another client used it (reuse detection would revoke the family)', async () => {
    const { secrets } = await start();
    const early = await authClient(server.url, auth(), secrets); // reads version 0 now, exchanges later
    await (await authClient(server.url, auth(), secrets)).get('/data');
    await early.get('/data');
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(server.exchanges[1]!.presented).toBe(server.exchanges[0]!.issuedRefreshToken);
  });

  it('survives many clients refreshing at once, hour after hour, ending with the latest token stored', async () => {
    const { secrets } = await start();
    const clock = new ManualClock(Date.now());
    const clients = await Promise.all([1, 2, 3, 4].map(() => authClient(server.url, auth(), secrets, { clock })));
    for (let hour = 0; hour < 3; hour++) {
      const responses = await Promise.all(clients.map((c) => c.get('/data')));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      clock.advance(3_600_000);
    }
    expect(await stored(secrets)).toBe(server.latestRefreshToken());
    expect(server.dataRequests()).toBe(12);
  });
});
