/**
 * Microsoft Graph's users and their mail as an app with application permissions sees them:
 * - the Microsoft identity platform's client credentials grant, `POST /<tenant>/oauth2/v2.0/token`
 *   with `client_id`, `client_secret` and `scope=https://graph.microsoft.com/.default` in the form,
 *   answering `{token_type, expires_in, ext_expires_in, access_token}`;
 * - `GET /v1.0/users` and `GET /v1.0/users/{id}/messages`, each answering `{"@odata.context", value,
 *   "@odata.nextLink"?}` where the next link is an absolute URL with a `$skiptoken` and every query
 *   option of the request, present until the last page; `$top` sets the page size;
 * - `$filter=receivedDateTime ge <DateTimeOffset> and receivedDateTime lt <DateTimeOffset>` on messages;
 * - 401 `InvalidAuthenticationToken` without a valid bearer token, 404 `ErrorItemNotFound` for an unknown user.
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * https://learn.microsoft.com/en-us/graph/api/user-list  https://learn.microsoft.com/en-us/graph/api/user-list-messages
 * https://learn.microsoft.com/en-us/graph/paging  https://learn.microsoft.com/en-us/graph/filter-query-parameter
 */

import { randomBytes } from 'node:crypto';
import { startJsonServer, type JsonAnswer, type JsonServer, type SeenRequest } from '../jsonServer.js';

/** A mailbox user. */
export interface GraphUser {
  readonly id: string;
  readonly displayName: string;
}

/** A message, with the fields the tests read. */
export interface GraphMessage {
  readonly id: string;
  readonly subject: string;
  /** ISO 8601 UTC. */
  readonly receivedDateTime: string;
  readonly userId: string;
}

/** What {@link startMicrosoftGraphApi} serves. */
export interface GraphApiOptions {
  readonly tenant: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: readonly GraphUser[];
  readonly messages: readonly GraphMessage[];
  /** Answer the n-th request to /v1.0/users (1-based) with 503, once each. @default none */
  readonly failUsersRequests?: readonly number[];
}

/** The running API, with the access tokens it issued. */
export interface GraphApi extends JsonServer {
  readonly tokenUrl: string;
  readonly issuedTokens: readonly string[];
}

const SCOPE = 'https://graph.microsoft.com/.default';
const DATE = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?Z)';
const RECEIVED_FILTER = new RegExp(`^receivedDateTime ge ${DATE} and receivedDateTime lt ${DATE}$`);

/** `count` users with GUID-like ids, and `perUserPerHour` messages per user per hour over `hours` from `from`. */
export function graphMailboxes(count: number, from: string, hours: number, perUserPerHour: number): { users: GraphUser[]; messages: GraphMessage[] } {
  const users = Array.from({ length: count }, (_, i) => ({ id: `0000000${i}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`, displayName: `User ${i}` }));
  const messages: GraphMessage[] = [];
  const start = Date.parse(from);
  for (const user of users) {
    const step = 3_600_000 / perUserPerHour;
    for (let k = 0; k < hours * perUserPerHour; k++) {
      messages.push({
        id: `AAMk-${user.id.slice(-4)}-${k}`,
        subject: `message ${k} of ${user.displayName}`,
        receivedDateTime: new Date(start + k * step).toISOString().replace('.000Z', 'Z'),
        userId: user.id,
      });
    }
  }
  return { users, messages };
}

/** Starts the identity platform's token endpoint and Graph's users and messages on one loopback port. */
export async function startMicrosoftGraphApi(options: GraphApiOptions): Promise<GraphApi> {
  const issued: string[] = [];
  let usersRequests = 0;
  const failing = new Set(options.failUsersRequests ?? []);
  const server = await startJsonServer((request, base) => {
    const path = request.url.pathname;
    if (request.method === 'POST' && path === `/${options.tenant}/oauth2/v2.0/token`) return token(request, options, issued);
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!bearer || !issued.includes(bearer)) {
      return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty or invalid.' } } };
    }
    if (path === '/v1.0/users') {
      usersRequests++;
      if (failing.delete(usersRequests)) return { status: 503, body: { error: { code: 'serviceNotAvailable', message: 'Service unavailable' } } };
      return page(request, base, options.users, `${base}/v1.0/$metadata#users`);
    }
    const mail = /^\/v1\.0\/users\/([^/]+)\/messages$/.exec(path);
    if (mail) {
      const userId = decodeURIComponent(mail[1]!);
      if (!options.users.some((u) => u.id === userId)) return { status: 404, body: { error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } } };
      let messages = options.messages.filter((m) => m.userId === userId);
      const filter = request.url.searchParams.get('$filter');
      if (filter !== null) {
        const range = RECEIVED_FILTER.exec(filter);
        if (!range) return { status: 400, body: { error: { code: 'BadRequest', message: `Invalid filter clause: ${filter}` } } };
        const [from, to] = [Date.parse(range[1]!), Date.parse(range[2]!)];
        messages = messages.filter((m) => Date.parse(m.receivedDateTime) >= from && Date.parse(m.receivedDateTime) < to);
      }
      const records = messages.map(({ userId: _user, ...message }) => message);
      return page(request, base, records, `${base}/v1.0/$metadata#users('${userId}')/messages`);
    }
    return { status: 404, body: { error: { code: 'Request_ResourceNotFound', message: `Resource not found for the segment '${path}'.` } } };
  });
  return { ...server, tokenUrl: `${server.url}/${options.tenant}/oauth2/v2.0/token`, issuedTokens: issued };
}

function token(request: SeenRequest, options: GraphApiOptions, issued: string[]): JsonAnswer {
  const form = new URLSearchParams(request.body);
  if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'AADSTS70003' } };
  if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
    return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
  }
  if (form.get('scope') !== SCOPE) return { status: 400, body: { error: 'invalid_scope', error_description: 'AADSTS1002012: The provided value for scope is not valid.' } };
  const accessToken = `eyJ0eXAi.${randomBytes(24).toString('base64url')}`;
  issued.push(accessToken);
  return { body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken } };
}

/** One page of `records` by `$top` and `$skiptoken` (an opaque offset), with the next link absolute. */
function page(request: SeenRequest, base: string, records: readonly unknown[], context: string): JsonAnswer {
  const q = request.url.searchParams;
  const top = Math.min(999, Number(q.get('$top') ?? 100));
  const skip = q.has('$skiptoken') ? Number(Buffer.from(q.get('$skiptoken')!, 'base64url').toString()) : 0;
  const body: Record<string, unknown> = { '@odata.context': context, value: records.slice(skip, skip + top) };
  if (skip + top < records.length) {
    const next = new URL(request.url.pathname, base);
    for (const [key, value] of q) if (key !== '$skiptoken') next.searchParams.set(key, value);
    next.searchParams.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
    body['@odata.nextLink'] = next.href;
  }
  return { body };
}
