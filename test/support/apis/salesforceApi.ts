/**
 * Salesforce as a server-to-server integration sees it, on two origins like the real one:
 * - the login server's token endpoint, `POST /services/oauth2/token` with
 *   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256 `assertion` whose `iss` is
 *   the connected app's consumer key, `sub` the user name, `aud` the login URL and `exp` within
 *   minutes; it answers `{access_token, scope, instance_url, id, token_type}`, or 400
 *   `{error: "invalid_grant", error_description}`;
 * - the org's own instance (`instance_url`, another origin), where the REST API lives:
 *   `GET /services/data/v59.0/query?q=<SOQL>` answers `{totalSize, done, records, nextRecordsUrl?}`,
 *   each record with `attributes: {type, url}`; `nextRecordsUrl` is a path
 *   (`/services/data/v59.0/query/01gxx…-200`) requested with no parameters until `done` is true;
 *   the `Sforce-Query-Options: batchSize=<n>` header sets the batch size (200 to 2000, default 2000);
 * - SOQL `WHERE LastModifiedDate >= <dateTime> AND LastModifiedDate < <dateTime>` with unquoted
 *   ISO 8601 literals; anything else is 400 `MALFORMED_QUERY`;
 * - 401 `[{message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID"}]` without a
 *   valid token, and the login server answers 404 to API paths (the API is only on the instance).
 * https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
 * https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
 */

import { type KeyObject, randomBytes, verify } from 'node:crypto';
import { startJsonServer, type JsonAnswer, type JsonServer, type SeenRequest } from '../jsonServer.js';

/** An Account, with the fields the query selects. */
export interface SalesforceAccount {
  readonly Id: string;
  readonly Name: string;
  /** ISO 8601 UTC, as Salesforce writes it (`2024-03-01T10:00:00.000+0000`). */
  readonly LastModifiedDate: string;
}

/** What {@link startSalesforceApi} serves. */
export interface SalesforceApiOptions {
  /** The connected app's consumer key: the assertion's `iss`. */
  readonly consumerKey: string;
  /** The integration user: the assertion's `sub`. */
  readonly username: string;
  /** Verifies the assertion's signature (the certificate uploaded to the connected app). */
  readonly publicKey: KeyObject;
  readonly accounts: readonly SalesforceAccount[];
  /** The `aud` the login server accepts: the login URL it stands in for (`https://login.salesforce.com`). @default its own URL */
  readonly audience?: string;
}

/** The two servers, with what they issued. */
export interface SalesforceApi {
  /** The login server: its token endpoint is `${login.url}/services/oauth2/token`. */
  readonly login: JsonServer;
  /** The org's instance: `instance_url`. */
  readonly instance: JsonServer;
  readonly tokenUrl: string;
  readonly issuedTokens: readonly string[];
  close(): Promise<void>;
}

export const SALESFORCE_API_VERSION = 'v59.0';
const QUERY_PATH = `/services/data/${SALESFORCE_API_VERSION}/query`;
const DATE_TIME = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{3})?(?:Z|[+-]\\d{2}:\\d{2}))';
const WHERE = new RegExp(`^SELECT Id, Name, LastModifiedDate FROM Account WHERE LastModifiedDate >= ${DATE_TIME} AND LastModifiedDate < ${DATE_TIME} ORDER BY LastModifiedDate$`);

/** `perHour` accounts modified each hour over `hours` from `from`, spread evenly. */
export function salesforceAccounts(from: string, hours: number, perHour: number): SalesforceAccount[] {
  const start = Date.parse(from);
  return Array.from({ length: hours * perHour }, (_, k) => ({
    Id: `001${String(k).padStart(15, '0')}`,
    Name: `Account ${k}`,
    LastModifiedDate: new Date(start + (k * 3_600_000) / perHour).toISOString().replace('Z', '+0000'),
  }));
}

/** Starts the login server and the instance on two loopback ports. */
export async function startSalesforceApi(options: SalesforceApiOptions): Promise<SalesforceApi> {
  const issued: string[] = [];
  const cursors = new Map<string, { records: readonly unknown[]; at: number; batch: number }>();
  const instance = await startJsonServer((request) => query(request, issued, options, cursors));
  const login = await startJsonServer((request, base) => {
    if (request.method === 'POST' && request.url.pathname === '/services/oauth2/token') return token(request, base, instance.url, options, issued);
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
  });
  return {
    login,
    instance,
    tokenUrl: `${login.url}/services/oauth2/token`,
    issuedTokens: issued,
    close: async () => {
      await Promise.all([login.close(), instance.close()]);
    },
  };
}

function token(request: SeenRequest, loginUrl: string, instanceUrl: string, options: SalesforceApiOptions, issued: string[]): JsonAnswer {
  const form = new URLSearchParams(request.body);
  const refuse = (description: string): JsonAnswer => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
  const parts = (form.get('assertion') ?? '').split('.');
  if (parts.length !== 3) return refuse('invalid assertion');
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg?: string };
  const signed = header.alg === 'RS256' && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), options.publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!signed) return refuse('invalid assertion');
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as { iss?: string; sub?: string; aud?: string; exp?: number };
  if (claims.iss !== options.consumerKey) return refuse('invalid client credentials');
  if (claims.sub !== options.username) return refuse('user hasn\u2019t approved this consumer');
  if (claims.aud !== (options.audience ?? loginUrl)) return refuse('audience is invalid');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return refuse('expired authorization code');
  const accessToken = `00D5g000000abcd!AQ${randomBytes(24).toString('base64url')}`;
  issued.push(accessToken);
  return {
    body: { access_token: accessToken, scope: 'api', instance_url: instanceUrl, id: `${loginUrl}/id/00D5g000000abcdEAA/0055g000001xyzAAA`, token_type: 'Bearer' },
  };
}

function query(request: SeenRequest, issued: readonly string[], options: SalesforceApiOptions, cursors: Map<string, { records: readonly unknown[]; at: number; batch: number }>): JsonAnswer {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!bearer || !issued.includes(bearer)) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
  const path = request.url.pathname;
  if (path === QUERY_PATH || path === `${QUERY_PATH}/`) {
    const soql = request.url.searchParams.get('q') ?? '';
    const where = WHERE.exec(soql);
    if (!where) return { status: 400, body: [{ message: `unexpected token: ${soql.slice(0, 40)}`, errorCode: 'MALFORMED_QUERY' }] };
    const [from, to] = [Date.parse(where[1]!), Date.parse(where[2]!)];
    const records = options.accounts
      .filter((a) => Date.parse(a.LastModifiedDate.replace('+0000', 'Z')) >= from && Date.parse(a.LastModifiedDate.replace('+0000', 'Z')) < to)
      .map((a) => ({ attributes: { type: 'Account', url: `/services/data/${SALESFORCE_API_VERSION}/sobjects/Account/${a.Id}` }, ...a }));
    const size = /batchSize=(\d+)/.exec(String(request.headers['sforce-query-options'] ?? ''))?.[1];
    const batch = Math.min(2000, Math.max(200, Number(size ?? 2000)));
    const locator = `01g5g00000${randomBytes(5).toString('hex').toUpperCase()}`;
    cursors.set(locator, { records, at: 0, batch });
    return batchOf(locator, cursors);
  }
  const more = new RegExp(`^${QUERY_PATH}/(01g\\w+)-(\\d+)$`).exec(path);
  if (more && request.url.search === '') {
    const cursor = cursors.get(more[1]!);
    if (!cursor || Number(more[2]) !== cursor.at) return { status: 400, body: [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }] };
    return batchOf(more[1]!, cursors);
  }
  return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
}

function batchOf(locator: string, cursors: Map<string, { records: readonly unknown[]; at: number; batch: number }>): JsonAnswer {
  const cursor = cursors.get(locator)!;
  const records = cursor.records.slice(cursor.at, cursor.at + cursor.batch);
  cursor.at += records.length;
  const done = cursor.at >= cursor.records.length;
  return { body: { totalSize: cursor.records.length, done, ...(done ? {} : { nextRecordsUrl: `${QUERY_PATH}/${locator}-${cursor.at}` }), records } };
}
