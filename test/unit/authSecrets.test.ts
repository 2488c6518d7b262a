import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { HttpStatusError, SecretError } from '../../functions/errors.js';
import { createAuthenticator } from '../../functions/http/auth/createAuthenticator.js';
import { MAX_EXCHANGES_PER_FETCH } from '../../functions/http/auth/RefreshTokenGrant.js';
import { signJwtRs256 } from '../../functions/http/auth/signJwt.js';
import { TokenCache } from '../../functions/http/auth/TokenCache.js';
import { oauthErrorCode, parseTokenResponse, TOKEN_EXPIRY_MARGIN_MS } from '../../functions/http/auth/tokenResponse.js';
import { Redactor } from '../../functions/http/redact.js';
import { parseSecretJson, requireSecretKeys } from '../../functions/secrets/secretJson.js';
import { EnvSecretProvider, type SecretProvider } from '../../functions/secrets/SecretProvider.js';
import { secretExample, type SecretAuthType } from '../../functions/secrets/secretShapes.js';

const authOf = (auth: Record<string, unknown>) =>
  parseSource(JSON.stringify({ name: 't', schedule: 'rate(1 hour)', base_url: 'https://api.test', auth, streams: [{ name: 's', path: '/s' }] }), 't.yaml').auth;
const noToken = () => Promise.reject(new Error('no token request expected'));

describe('secretExample', () => {
  it.each([
    ['api_key', '{"api_key": "…"}'],
    ['bearer', '{"token": "…"}'],
    ['basic', '{"username": "…", "password": "…"}'],
    ['oauth2_client_credentials', '{"client_id": "…", "client_secret": "…"}'],
    ['oauth2_refresh_token', '{"client_id": "…", "client_secret": "…", "refresh_token": "…"}'],
    ['jwt_bearer', '{"client_email": "…", "private_key": "…"}'],
  ] as const)('shows the JSON of a %s secret', (type: SecretAuthType, example) => {
    expect(secretExample(type)).toBe(example);
  });
});

describe('the missing-secret hint', () => {
  it.each([
    [{ type: 'api_key', secret: 'apilake/shop', name: 'X-Key' }, '{"api_key": "…"}'],
    [{ type: 'basic', secret: 'apilake/shop' }, '{"username": "…", "password": "…"}'],
    [{ type: 'oauth2_client_credentials', secret: 'apilake/shop', token_url: 'https://a.test/t' }, '{"client_id": "…", "client_secret": "…"}'],
    [{ type: 'oauth2_refresh_token', secret: 'apilake/shop', token_url: 'https://a.test/t' }, '{"client_id": "…", "client_secret": "…", "refresh_token": "…"}'],
    [{ type: 'jwt_bearer', secret: 'apilake/shop', token_url: 'https://a.test/t' }, '{"client_email": "…", "private_key": "…"}'],
  ])('names the variable and shows the JSON of the source auth type (%o)', async (auth, example) => {
    const error = await createAuthenticator(authOf(auth), new EnvSecretProvider({}), new Redactor(), noToken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(`secret "apilake/shop" not found: set the environment variable APILAKE_SECRET_APILAKE_SHOP to its JSON, e.g. ${example}`);
  });

  it('shows the same shape when the variable holds text that is not JSON, never the text', async () => {
    const secrets = new EnvSecretProvider({ APILAKE_SECRET_S: 'client_secret=hunter2' });
    const error = await createAuthenticator(authOf({ type: 'basic', secret: 's' }), secrets, new Redactor(), noToken).catch((e: unknown) => e);
    expect((error as Error).message).toBe('secret "s" (environment variable APILAKE_SECRET_S) is not valid JSON; expected an object such as {"username": "…", "password": "…"}');
  });
});

describe('secret value checks', () => {
  it.each([
    [{ token: 42 }, 'secret "s": "token" must be a string, found number'],
    [{ token: '' }, 'secret "s": "token" must not be empty'],
    [{ token: null }, 'secret "s": "token" must be a string, found null'],
    [{ token: ['a'] }, 'secret "s": "token" must be a string, found an array'],
    [{ token: { value: 'x' } }, 'secret "s": "token" must be a string, found an object'],
    [{ tok: 'abc' }, 'secret "s" lacks "token" (string); keys present: tok'],
  ])('says what it found for %o', (secret, message) => {
    const error = (() => {
      try {
        return requireSecretKeys('s', secret, ['token']);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(message);
  });

  it('reports missing and mistyped keys together', () => {
    expect(() => requireSecretKeys('s', { client_id: 7 }, ['client_id', 'client_secret'])).toThrow(
      'secret "s" lacks "client_secret" (string); "client_id" must be a string, found number; keys present: client_id',
    );
  });

  it('fails if the JSON is not an object, saying what it is', () => {
    expect(() => parseSecretJson('s', '["k"]', 'env')).toThrow('secret "s" (env) must be a JSON object, found an array');
    expect(() => parseSecretJson('s', '"k"', 'env')).toThrow('secret "s" (env) must be a JSON object, found string');
  });
});

describe('EnvSecretProvider.replaceIfCurrent', () => {
  const env = () => ({ APILAKE_SECRET_S: JSON.stringify({ refresh_token: 'rt-0' }) });

  it('replaces the value for the process when the version read is current, and refuses a stale version', async () => {
    const warnings: string[] = [];
    const provider = new EnvSecretProvider(env(), { warn: (m) => warnings.push(m) });
    const first = await provider.readVersioned('s');
    expect(await provider.replaceIfCurrent('s', { refresh_token: 'rt-1' }, first.version)).toEqual({ written: true, version: 'env:1' });
    expect(await provider.replaceIfCurrent('s', { refresh_token: 'rt-x' }, first.version)).toEqual({ written: false });
    expect(await provider.getSecretJson('s')).toEqual({ refresh_token: 'rt-1' });
    expect(warnings).toHaveLength(1);
  });

  it('shares rotations between providers of one environment object, not across objects', async () => {
    const shared = env();
    const [a, b] = [new EnvSecretProvider(shared, { warn: () => undefined }), new EnvSecretProvider(shared)];
    await a.replaceIfCurrent('s', { refresh_token: 'rt-1' }, 'env:0');
    expect((await b.getSecretJson('s')).refresh_token).toBe('rt-1');
    expect((await new EnvSecretProvider(env()).getSecretJson('s')).refresh_token).toBe('rt-0');
  });
});

describe('token responses', () => {
  it('registers the access and refresh tokens and refreshes a margin before expiry', () => {
    const redactor = new Redactor();
    const token = parseTokenResponse({ access_token: 'at-abcdef', refresh_token: 'rt-ghijkl', expires_in: '7200' }, 'https://a.test/t', redactor, 1_000);
    expect(token).toEqual({ accessToken: 'at-abcdef', refreshToken: 'rt-ghijkl', refreshAt: 1_000 + 7_200_000 - TOKEN_EXPIRY_MARGIN_MS });
    expect(redactor.text('at-abcdef rt-ghijkl')).toBe('*** ***');
  });

  it('fails without an access_token, naming the keys but no value', () => {
    expect(() => parseTokenResponse({ error: 'x', refresh_token: 'rt-secret' }, 'https://a.test/t', new Redactor(), 0)).toThrow(
      'token endpoint https://a.test/t returned no access_token (keys: error, refresh_token)',
    );
  });

  it.each([
    [new HttpStatusError(400, '{"error":"invalid_grant","error_description":"used"}', 'token, POST x'), 'invalid_grant'],
    [new HttpStatusError(401, '{"error": "invalid_client"}', 'token, POST x'), 'invalid_client'],
    [new HttpStatusError(503, '{"error":"invalid_grant"}', 'token, POST x'), undefined],
    [new Error('{"error":"invalid_grant"}'), undefined],
  ])('reads the OAuth2 error code of %s', (error, code) => {
    expect(oauthErrorCode(error)).toBe(code);
  });
});

describe('signJwtRs256', () => {
  it('produces a compact JWS that the public key verifies, with the claims and kid given', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwt = signJwtRs256({ iss: 'me', exp: 2 }, privateKey, 'kid-1');
    const [header, claims, signature] = jwt.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-1' });
    expect(JSON.parse(Buffer.from(claims!, 'base64url').toString())).toEqual({ iss: 'me', exp: 2 });
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature!, 'base64url'))).toBe(true);
    expect(verify('sha256', Buffer.from(`${header}.${claims}x`), publicKey, Buffer.from(signature!, 'base64url'))).toBe(false);
  });
});

describe('oauth2_refresh_token against a hostile secret store', () => {
  it(`gives up after ${MAX_EXCHANGES_PER_FETCH} exchanges when every re-read shows a new token the endpoint rejects`, async () => {
    let reads = 0;
    const store: SecretProvider = {
      getSecretJson: () => Promise.resolve({}),
      readVersioned: () => Promise.resolve({ value: { client_id: 'c', client_secret: 'cs-12345678', refresh_token: `refresh-token-${++reads}` }, version: `v${reads}` }),
      replaceIfCurrent: () => Promise.resolve({ written: false }),
      readPendingWrite: () => Promise.resolve(undefined),
    };
    let exchanges = 0;
    const requestToken = () => {
      exchanges++;
      return Promise.reject(new HttpStatusError(400, '{"error":"invalid_grant"}', 'token, POST https://a.test/t'));
    };
    const auth = authOf({ type: 'oauth2_refresh_token', secret: 's', token_url: 'https://a.test/t' });
    const authenticator = await createAuthenticator(auth, store, new Redactor(), requestToken, Date.now, { sleep: () => Promise.resolve(), tokenCache: new TokenCache() });
    const error = await authenticator.apply(new URL('https://a.test/x'), new Headers()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect(exchanges).toBe(MAX_EXCHANGES_PER_FETCH);
  });
});
