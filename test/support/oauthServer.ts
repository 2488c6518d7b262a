/**
 * An OAuth2 authorization server and protected API on loopback that behave like strict real ones:
 * - refresh-token grant (RFC 6749 §6) that rotates the refresh token on every use and answers
 *   `invalid_grant` to a used one (as Auth0/Okta rotation without leeway do), or, with
 *   `reuse: 'accept'`, keeps accepting a used token (a grace period, as Xero's) and still rotates;
 * - JWT bearer grant (RFC 7523) that verifies the RS256 signature with the public key and checks
 *   iss, sub, aud, scope, iat, exp (at most an hour) and jti (no replay);
 * - `GET /data` that needs a live access token, and `GET /echo/<n>` that answers 400 with the
 *   n-th credential it knows in the body, as careless APIs echo credentials in error pages.
 * Token requests can be held until the test releases them, to force an interleaving.
 */

import { type KeyObject, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startOAuthServer}. */
export interface OAuthServerOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The refresh token the user authorized with. @default a random one */
  readonly refreshToken?: string;
  /** Rotate the refresh token on every use. @default true */
  readonly rotate?: boolean;
  /** What a used refresh token gets: `invalid_grant`, or another rotation. @default 'reject' */
  readonly reuse?: 'reject' | 'accept';
  /** @default 3600 */
  readonly expiresIn?: number;
  /** Accept JWT bearer assertions verified with this public key and these claims. */
  readonly jwt?: {
    readonly publicKey: KeyObject;
    readonly issuer: string;
    /** @default the token URL */
    readonly audience?: string;
    readonly scope?: string;
    readonly subject?: string;
  };
  /** The server's clock for exp/iat checks. @default Date.now */
  readonly now?: () => number;
  /** Runs before a data request is served, with the refresh token issued together with its access token. */
  readonly beforeData?: (issuedWith: { readonly accessToken: string; readonly refreshToken: string | undefined }) => Promise<void>;
}

/** One token request as the server judged it. */
export interface TokenExchange {
  readonly grantType: string;
  /** The refresh token presented. */
  readonly presented?: string;
  /** `ok`, or the OAuth2 error code answered. */
  readonly outcome: string;
  readonly issuedRefreshToken?: string;
  readonly accessToken?: string;
  /** Claims and header of a JWT assertion. */
  readonly assertion?: { readonly header: Record<string, unknown>; readonly claims: Record<string, unknown>; readonly raw: string };
}

/** A token request waiting for the test. */
export interface HeldRequest {
  /** Resolves when a matching request has arrived (and is waiting). */
  readonly arrived: Promise<void>;
  release(): void;
}

/** A running server. */
export interface OAuthServer {
  readonly url: string;
  readonly tokenUrl: string;
  readonly exchanges: TokenExchange[];
  /** The refresh token issued last: the one the secret must end up holding. */
  latestRefreshToken(): string;
  /** Every credential the server knows: client secret, refresh and access tokens. */
  credentials(): string[];
  /** Data requests served. */
  dataRequests(): number;
  /** Invalidates every access token (the next data request gets 401). */
  revokeAccessTokens(): void;
  /** Holds the next token request for which `predicate` holds until released. */
  hold(predicate?: (form: URLSearchParams) => boolean): HeldRequest;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a free port. */
export async function startOAuthServer(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const clientId = options.clientId ?? 'client-1';
  const clientSecret = options.clientSecret ?? `cs-${token()}`;
  const now = options.now ?? Date.now;
  const exchanges: TokenExchange[] = [];
  const liveRefresh = new Set<string>([options.refreshToken ?? `rt-${token()}`]);
  const usedRefresh = new Set<string>();
  let latest = [...liveRefresh][0]!;
  const accessTokens = new Map<string, { expiresAt: number; refreshToken: string | undefined }>();
  const seenJti = new Set<string>();
  const holds: { predicate: (form: URLSearchParams) => boolean; arrive: () => void; released: Promise<void> }[] = [];
  let served = 0;

  const issue = (refreshToken: string | undefined) => {
    const accessToken = `at-${token()}`;
    accessTokens.set(accessToken, { expiresAt: now() + (options.expiresIn ?? 3600) * 1000, refreshToken });
    return accessToken;
  };

  async function tokenEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const hold = holds.findIndex((h) => h.predicate(form));
    if (hold >= 0) {
      const [held] = holds.splice(hold, 1);
      held!.arrive();
      await held!.released;
    }
    const grantType = form.get('grant_type') ?? '';
    const fail = (status: number, error: string, extra: Partial<TokenExchange> = {}) => {
      exchanges.push({ grantType, outcome: error, ...extra });
      json(res, status, { error, error_description: `rejected: ${error}` });
    };

    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      if (!clientAuthenticated(req, form, clientId, clientSecret)) return fail(401, 'invalid_client', { presented });
      const known = liveRefresh.has(presented) || (options.reuse === 'accept' && usedRefresh.has(presented));
      if (!known || (usedRefresh.has(presented) && options.reuse !== 'accept')) return fail(400, 'invalid_grant', { presented });
      let issuedRefreshToken: string | undefined;
      if (options.rotate !== false) {
        liveRefresh.delete(presented);
        usedRefresh.add(presented);
        issuedRefreshToken = `rt-${token()}`;
        liveRefresh.add(issuedRefreshToken);
        latest = issuedRefreshToken;
      }
      const accessToken = issue(issuedRefreshToken ?? presented);
      exchanges.push({ grantType, presented, outcome: 'ok', issuedRefreshToken, accessToken });
      return json(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: options.expiresIn ?? 3600,
        ...(issuedRefreshToken ? { refresh_token: issuedRefreshToken } : {}),
      });
    }

    if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && options.jwt) {
      const checked = checkAssertion(form.get('assertion') ?? '', { audience: tokenUrl, ...options.jwt }, now(), seenJti);
      if ('error' in checked) return fail(400, 'invalid_grant', { assertion: checked.decoded });
      const accessToken = issue(undefined);
      exchanges.push({ grantType, outcome: 'ok', accessToken, assertion: checked.decoded });
      return json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: options.expiresIn ?? 3600 });
    }
    return fail(400, 'unsupported_grant_type');
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void (async () => {
      if (req.method === 'POST' && url.pathname === '/oauth/token') return tokenEndpoint(req, res);
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const access = bearer ? accessTokens.get(bearer) : undefined;
      if (!access || access.expiresAt <= now()) return json(res, 401, { error: 'invalid_token' });
      if (url.pathname === '/data') {
        await options.beforeData?.({ accessToken: bearer!, refreshToken: access.refreshToken });
        served++;
        return json(res, 200, { items: [{ id: 1 }, { id: 2 }] });
      }
      const echo = /^\/echo\/(\d+)$/.exec(url.pathname);
      if (echo) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request; your credential was ${credentials()[Number(echo[1])] ?? ''}`);
        return;
      }
      json(res, 404, { error: 'not_found' });
    })().catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(error) });
    });
  });
  const credentials = () => [clientSecret, ...usedRefresh, ...liveRefresh, ...accessTokens.keys()];

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenUrl = `${url}/oauth/token`;
  return {
    url,
    tokenUrl,
    exchanges,
    latestRefreshToken: () => latest,
    credentials,
    dataRequests: () => served,
    revokeAccessTokens: () => accessTokens.clear(),
    hold: (predicate = () => true) => {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ predicate, arrive, released });
      return { arrived, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function token(): string {
  return randomBytes(12).toString('hex');
}

function clientAuthenticated(req: IncomingMessage, form: URLSearchParams, id: string, secret: string): boolean {
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (basic) {
    const [user, password] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
    return user === id && password === secret;
  }
  return form.get('client_id') === id && form.get('client_secret') === secret;
}

/** RFC 7523 §3 checks of an RS256 assertion. */
function checkAssertion(
  assertion: string,
  expected: NonNullable<OAuthServerOptions['jwt']> & { readonly audience: string },
  nowMs: number,
  seenJti: Set<string>,
): { decoded: NonNullable<TokenExchange['assertion']> } | { error: string; decoded?: NonNullable<TokenExchange['assertion']> } {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { error: 'not a compact JWS' };
  let decoded: NonNullable<TokenExchange['assertion']>;
  try {
    decoded = {
      header: jsonObject(Buffer.from(parts[0]!, 'base64url').toString()),
      claims: jsonObject(Buffer.from(parts[1]!, 'base64url').toString()),
      raw: assertion,
    };
  } catch {
    return { error: 'undecodable' };
  }
  if (decoded.header.alg !== 'RS256') return { error: 'alg', decoded };
  const signed = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), expected.publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!signed) return { error: 'signature', decoded };
  const c = decoded.claims;
  const now = Math.floor(nowMs / 1000);
  if (c.iss !== expected.issuer || c.aud !== expected.audience) return { error: 'iss/aud', decoded };
  if (expected.subject !== undefined ? c.sub !== expected.subject : c.sub !== undefined) return { error: 'sub', decoded };
  if (expected.scope !== undefined && c.scope !== expected.scope) return { error: 'scope', decoded };
  if (typeof c.iat !== 'number' || typeof c.exp !== 'number' || c.iat > now + 60 || c.exp <= now || c.exp - c.iat > 3600) return { error: 'time', decoded };
  if (typeof c.jti !== 'string' || seenJti.has(c.jti)) return { error: 'jti', decoded };
  seenJti.add(c.jti);
  return { decoded };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A JWT segment's JSON object; throws on anything else, as an undecodable assertion. */
function jsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value as Record<string, unknown>;
}
