import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpStatusError, SecretError } from '../../functions/errors.js';
import { ASSERTION_LIFETIME_SECONDS, JWT_BEARER_GRANT_TYPE } from '../../functions/http/auth/JwtBearerGrant.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { authClient } from '../support/authClient.js';
import { ManualClock } from '../support/manualClock.js';
import { startOAuthServer, type OAuthServer } from '../support/oauthServer.js';

const SECRET = 'apilake/google-sa';
const VARIABLE = 'APILAKE_SECRET_APILAKE_GOOGLE_SA';
const SCOPE = 'https://www.googleapis.com/auth/analytics.readonly';
const EMAIL = 'lake@project.iam.gserviceaccount.com';

let keys: { publicKey: KeyObject; privateKey: KeyObject; pem: string };
let other: string;
beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys = { ...pair, pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
});

let server: OAuthServer;
let clock: ManualClock;
afterEach(() => server?.close());

async function start(expected: { audience?: string; subject?: string; issuer?: string; scope?: string } = {}) {
  clock = new ManualClock(Date.now());
  server = await startOAuthServer({ now: () => clock.now(), jwt: { publicKey: keys.publicKey, issuer: EMAIL, scope: SCOPE, ...expected } });
}

/** A Google service-account key file, as downloaded (extra keys included). */
const serviceAccount = (extra: Record<string, unknown> = {}) => ({
  type: 'service_account',
  project_id: 'project',
  private_key_id: 'kid-0001',
  private_key: keys.pem,
  client_email: EMAIL,
  client_id: '1234567890',
  token_uri: 'https://oauth2.googleapis.com/token',
  ...extra,
});
const secrets = (value: unknown) => new EnvSecretProvider({ [VARIABLE]: JSON.stringify(value) });
const auth = (extra: Record<string, unknown> = {}) => ({ type: 'jwt_bearer', secret: SECRET, token_url: server.tokenUrl, scope: SCOPE, ...extra });

describe('jwt_bearer against a token endpoint that verifies the RS256 signature', () => {
  it('exchanges a signed assertion with the RFC 7523 claims for a token it caches', async () => {
    await start();
    const c = await authClient(server.url, auth(), secrets(serviceAccount()), { clock });
    for (let i = 0; i < 3; i++) expect((await c.get('/data')).status).toBe(200);
    expect(server.exchanges).toHaveLength(1);
    const [exchange] = server.exchanges;
    expect(exchange).toMatchObject({ grantType: JWT_BEARER_GRANT_TYPE, outcome: 'ok' });
    const iat = Math.floor(clock.now() / 1000);
    expect(exchange!.assertion!.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-0001' });
    expect(exchange!.assertion!.claims).toEqual({ iss: EMAIL, aud: server.tokenUrl, scope: SCOPE, iat, exp: iat + ASSERTION_LIFETIME_SECONDS, jti: expect.any(String) as string });
    expect(ASSERTION_LIFETIME_SECONDS).toBeLessThanOrEqual(3600);
  });

  it('signs a new assertion when the token nears expiry, and again on a 401', async () => {
    await start();
    const c = await authClient(server.url, auth(), secrets(serviceAccount()), { clock });
    await c.get('/data');
    clock.advance(3_600_000 - 30_000);
    await c.get('/data');
    server.revokeAccessTokens();
    await c.get('/data');
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok']);
    const [first, second] = server.exchanges.map((e) => e.assertion!.claims as { iat: number });
    expect(second!.iat).toBe(first!.iat + 3_570);
    expect(new Set(server.exchanges.map((e) => e.assertion!.claims.jti)).size).toBe(3);
  });

  it('sends issuer, subject and a custom audience when the secret and auth block give them', async () => {
    await start({ issuer: 'consumer-key-42', audience: 'https://login.example.com', subject: 'analyst@example.com', scope: undefined });
    // issuer wins over client_email when a secret has both.
    const secret = { issuer: 'consumer-key-42', client_email: EMAIL, private_key: keys.pem, subject: 'analyst@example.com' };
    const c = await authClient(server.url, auth({ scope: undefined, audience: 'https://login.example.com' }), secrets(secret), { clock });
    expect((await c.get('/data')).status).toBe(200);
    expect(server.exchanges[0]!.assertion!.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(server.exchanges[0]!.assertion!.claims).toMatchObject({ iss: 'consumer-key-42', sub: 'analyst@example.com', aud: 'https://login.example.com' });
    expect(server.exchanges[0]!.assertion!.claims).not.toHaveProperty('scope');
  });

  it('accepts a key whose line breaks arrived as literal \\n', async () => {
    await start();
    const c = await authClient(server.url, auth(), secrets(serviceAccount({ private_key: keys.pem.replaceAll('\n', '\\n') })), { clock });
    expect((await c.get('/data')).status).toBe(200);
  });

  it('fails with the endpoint status when the key is not the registered one, quoting neither key nor assertion', async () => {
    await start();
    const c = await authClient(server.url, auth(), secrets(serviceAccount({ private_key: other })), { clock });
    const error = await c.get('/data').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as Error).message).toContain('invalid_grant');
    for (const line of other.split('\n').filter((l) => l.length > 20)) expect((error as Error).message).not.toContain(line);
  });

  it('masks the private key, the assertion and the access token in errors', async () => {
    await start();
    const c = await authClient(server.url, auth(), secrets(serviceAccount()), { clock });
    await c.get('/data');
    const accessToken = server.exchanges[0]!.accessToken!;
    const pemLine = keys.pem.split('\n')[5]!;
    const assertion = server.exchanges[0]!.assertion!.raw;
    for (const value of [accessToken, assertion, keys.pem, pemLine, JSON.stringify(keys.pem)]) {
      expect(c.redactor.text(`echo: ${value}`)).not.toContain(value);
    }
    const error = await c.get(`/echo/${server.credentials().indexOf(accessToken)}`).catch((e: unknown) => e); // the server echoes the access token
    expect((error as Error).message).toContain('your credential was ***');
    expect((error as Error).message).not.toContain(accessToken);
  });
});

describe('jwt_bearer secrets that cannot work', () => {
  const failure = async (secret: unknown) => {
    await start();
    const error = await authClient(server.url, auth(), secrets(secret), { clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    return (error as Error).message;
  };

  it('fails if neither client_email nor issuer is present', async () => {
    expect(await failure({ private_key: keys.pem })).toBe(`secret "${SECRET}" lacks "client_email" or "issuer" (string), the assertion's iss; keys present: private_key`);
  });

  it('fails if private_key is not PEM, without quoting it', async () => {
    const message = await failure(serviceAccount({ private_key: 'not-a-key-but-secret-text' }));
    expect(message).toMatch(/"private_key" is not a PEM private key/);
    expect(message).not.toContain('not-a-key-but-secret-text');
  });

  it('fails if the key is not RSA, or shorter than 2048 bits', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await failure(serviceAccount({ private_key: ec }))).toBe(`secret "${SECRET}": "private_key" must be an RSA key for RS256, found ec`);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await failure(serviceAccount({ private_key: small }))).toBe(`secret "${SECRET}": "private_key" is a 1024-bit RSA key; RS256 needs at least 2048 bits`);
  });

  it('fails if subject has the wrong type, saying which type it found', async () => {
    expect(await failure(serviceAccount({ subject: 42 }))).toBe(`secret "${SECRET}": "subject" must be a string, found number`);
  });
});
