/**
 * A Google API as its documentation describes it, the Admin SDK Reports API's `activities.list`:
 * `GET /admin/reports/v1/activity/users/{userKey|all}/applications/{applicationName}` with
 * `startTime`/`endTime` (RFC 3339; the simulation reads the range as [startTime, endTime)),
 * `maxResults` (up to 1000) and `pageToken`, newest first, answering `{kind, items,
 * nextPageToken}`, where `items` is left out of a page without activities. Errors take Google's
 * JSON shape `{error: {code, message, errors: [{domain, reason, message}], status}}`: a per-user
 * rate limit is 403 `userRateLimitExceeded` (documented as retryable with exponential backoff),
 * a token without the scope is 403 `insufficientPermissions`, an unknown user 404 `notFound`.
 * Authentication is an OAuth 2.0 access token, issued at `/token` for a service account's RS256
 * assertion (JWT bearer grant, with `scope` and `sub` for domain-wide delegation); a token whose
 * scopes lack the reports scope is refused with 403 `insufficientPermissions`.
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 * https://developers.google.com/workspace/admin/reports/v1/reference/activities/list
 * https://developers.google.com/workspace/admin/reports/v1/limits
 * https://cloud.google.com/apis/design/errors
 */

import { randomBytes, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../../../functions/clock.js';
import { startJsonServer, type JsonAnswer, type JsonServer } from '../jsonServer.js';

/** An activity (the fields the tests need). */
export interface Activity {
  readonly kind: 'admin#reports#activity';
  readonly id: { readonly time: string; readonly uniqueQualifier: string; readonly applicationName: string; readonly customerId: string };
  readonly actor: { readonly email: string };
  readonly events: readonly { readonly type: string; readonly name: string }[];
}

/** `count` admin activities, one every `spacingMs` from `from`. */
export function activitiesEvery(from: string, spacingMs: number, count: number): Activity[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'admin#reports#activity',
    id: { time: new Date(Date.parse(from) + i * spacingMs).toISOString(), uniqueQualifier: String(-7_000_000_000 - i), applicationName: 'admin', customerId: 'C03az79cb' },
    actor: { email: `admin${i % 3}@example.com` },
    events: [{ type: 'USER_SETTINGS', name: i % 2 ? 'CHANGE_PASSWORD' : 'CREATE_USER' }],
  }));
}

const googleError = (code: number, status: string, reason: string, message: string, domain = 'global'): JsonAnswer => ({
  status: code,
  body: { error: { code, message, errors: [{ message, domain, reason }], status } },
});

/** The scope the activities need. */
export const REPORTS_SCOPE = 'https://www.googleapis.com/auth/admin.reports.audit.readonly';

/** The simulation, with the status of each API answer in order, and the access tokens it issued. */
export interface GoogleApi extends JsonServer {
  readonly statuses: readonly number[];
  /** Access tokens issued, with their scopes. */
  readonly issued: ReadonlyMap<string, readonly string[]>;
}

/** Starts the API and its token endpoint; `perSecond` API requests a second of `clock` are allowed, past that 403 userRateLimitExceeded. */
export async function startGoogleReportsApi(options: {
  activities: readonly Activity[];
  /** The service account whose assertions `/token` accepts. */
  serviceAccount: { readonly clientEmail: string; readonly publicKey: KeyObject };
  clock: Clock;
  perSecond: number;
  /** Users that exist besides `all`. @default none */
  users?: readonly string[];
}): Promise<GoogleApi> {
  const newestFirst = [...options.activities].sort((a, b) => Date.parse(b.id.time) - Date.parse(a.id.time));
  const sent: number[] = [];
  const statuses: number[] = [];
  const tokens = new Map<string, string[]>();
  const answer = (result: JsonAnswer) => (statuses.push(result.status ?? 200), result);
  const server = await startJsonServer((request, base) => {
    if (request.url.pathname === '/token') return issueToken(request.body, `${base}/token`, options.serviceAccount, options.clock.now(), tokens);
    const scopes = tokens.get(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    if (!scopes) return answer(googleError(401, 'UNAUTHENTICATED', 'authError', 'Invalid Credentials'));
    if (!scopes.includes(REPORTS_SCOPE)) return answer(googleError(403, 'PERMISSION_DENIED', 'insufficientPermissions', 'Request had insufficient authentication scopes.'));
    const now = options.clock.now();
    if (sent.filter((at) => at > now - 1_000).length >= options.perSecond) {
      return answer(googleError(403, 'PERMISSION_DENIED', 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits'));
    }
    sent.push(now);
    const route = /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/admin$/.exec(request.url.pathname);
    if (!route) return answer(googleError(404, 'NOT_FOUND', 'notFound', 'Not Found'));
    const user = decodeURIComponent(route[1]!);
    if (user !== 'all' && !(options.users ?? []).includes(user)) return answer(googleError(404, 'NOT_FOUND', 'notFound', `Resource Not Found: ${user}`));
    const q = request.url.searchParams;
    const [start, end] = [Date.parse(q.get('startTime') ?? ''), Date.parse(q.get('endTime') ?? '')];
    if (Number.isNaN(start) || Number.isNaN(end)) return answer(googleError(400, 'INVALID_ARGUMENT', 'invalid', 'Invalid value for: startTime or endTime'));
    const max = Math.min(1000, Number(q.get('maxResults') ?? 1000));
    const offset = q.has('pageToken') ? Number(Buffer.from(q.get('pageToken')!, 'base64url').toString()) : 0;
    const matching = newestFirst.filter((a) => Date.parse(a.id.time) >= start && Date.parse(a.id.time) < end && (user === 'all' || a.actor.email === user));
    const items = matching.slice(offset, offset + max);
    const next = offset + max < matching.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined;
    return answer({
      body: { kind: 'admin#reports#activities', etag: '"etag"', ...(items.length > 0 ? { items } : {}), ...(next ? { nextPageToken: next } : {}) },
    });
  });
  return Object.assign(server, { statuses, issued: tokens });
}

/** `/token`: an access token for a valid assertion (RS256 by the service account, aud this endpoint, at most an hour), with its scopes. */
function issueToken(form: string, audience: string, account: { clientEmail: string; publicKey: KeyObject }, nowMs: number, tokens: Map<string, string[]>): JsonAnswer {
  const params = new URLSearchParams(form);
  const refuse = (description: string): JsonAnswer => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
  if (params.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type' } };
  const [header, payload, signature] = (params.get('assertion') ?? '').split('.');
  if (!header || !payload || !signature) return refuse('Invalid JWT');
  if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), account.publicKey, Buffer.from(signature, 'base64url'))) return refuse('Invalid JWT Signature.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
  const now = nowMs / 1000;
  if (claims.iss !== account.clientEmail) return refuse('Invalid issuer');
  if (claims.aud !== audience) return refuse('Invalid JWT: audience');
  if (claims.iat === undefined || claims.exp === undefined || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 300)
    return refuse('Invalid JWT: Token must be a short-lived token');
  const token = `ya29.${randomBytes(24).toString('base64url')}`;
  tokens.set(token, (claims.scope ?? '').split(' ').filter(Boolean));
  return { body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
}
