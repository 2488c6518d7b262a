/**
 * A Google API as its documentation describes it, the Admin SDK Reports API's `activities.list`:
 * `GET /admin/reports/v1/activity/users/{userKey|all}/applications/{applicationName}` with
 * `startTime`/`endTime` (RFC 3339; the simulation reads the range as [startTime, endTime)),
 * `maxResults` (up to 1000) and `pageToken`, newest first, answering `{kind, items,
 * nextPageToken}`, where `items` is left out of a page without activities. Errors take Google's
 * JSON shape `{error: {code, message, errors: [{domain, reason, message}], status}}`: a per-user
 * rate limit is 403 `userRateLimitExceeded` (documented as retryable with exponential backoff),
 * a token without the scope is 403 `insufficientPermissions`, an unknown user 404 `notFound`.
 * Authentication is an OAuth 2.0 bearer token.
 * https://developers.google.com/workspace/admin/reports/v1/reference/activities/list
 * https://developers.google.com/workspace/admin/reports/v1/limits
 * https://cloud.google.com/apis/design/errors
 */

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

/** The simulation, with the status of each answer in order. */
export interface GoogleApi extends JsonServer {
  readonly statuses: readonly number[];
}

/** Starts the API; `perSecond` requests a second of `clock` are allowed per token, past that 403 userRateLimitExceeded. */
export async function startGoogleReportsApi(options: {
  activities: readonly Activity[];
  token: string;
  clock: Clock;
  perSecond: number;
  /** A token that lacks the reports scope. */
  unscopedToken?: string;
  /** Users that exist besides `all`. @default none */
  users?: readonly string[];
}): Promise<GoogleApi> {
  const newestFirst = [...options.activities].sort((a, b) => Date.parse(b.id.time) - Date.parse(a.id.time));
  const sent: number[] = [];
  const statuses: number[] = [];
  const answer = (result: JsonAnswer) => (statuses.push(result.status ?? 200), result);
  const server = await startJsonServer((request) => {
    if (options.unscopedToken && request.headers.authorization === `Bearer ${options.unscopedToken}`) {
      return answer(googleError(403, 'PERMISSION_DENIED', 'insufficientPermissions', 'Request had insufficient authentication scopes.'));
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) return answer(googleError(401, 'UNAUTHENTICATED', 'authError', 'Invalid Credentials'));
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
  return Object.assign(server, { statuses });
}
