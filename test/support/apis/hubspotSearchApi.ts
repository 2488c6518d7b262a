/**
 * HubSpot's CRM search as a private app sees it:
 * - `POST /crm/v3/objects/contacts/search` with `Authorization: Bearer <private app token>` and a
 *   JSON body `{filterGroups: [{filters: [...]}], sorts, properties, limit, after}`; a datetime
 *   filter's `value` is epoch milliseconds (as a string), operators `GTE`, `LT` (and `GT`, `LTE`, `EQ`);
 * - `limit` at most 200; it answers `{total, results: [{id, properties, createdAt, updatedAt,
 *   archived}], paging?: {next: {after}}}`, `total` counting every match even past the cap;
 * - a query returns at most 10,000 results: paging past them is 400 `VALIDATION_ERROR`, so a
 *   query with more matches cannot be read in full;
 * - 401 `{status: "error", category: "INVALID_AUTHENTICATION"}` without the token.
 * https://developers.hubspot.com/docs/api/crm/search
 * https://developers.hubspot.com/docs/guides/api/crm/search#limitations
 */

import { startJsonServer, type JsonAnswer, type JsonServer, type SeenRequest } from '../jsonServer.js';

/** A contact, with the fields the tests read. */
export interface HubspotContact {
  readonly id: string;
  readonly properties: { readonly email: string; readonly lastmodifieddate: string };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly archived: boolean;
}

/** What {@link startHubspotSearchApi} serves. */
export interface HubspotSearchOptions {
  readonly token: string;
  readonly contacts: readonly HubspotContact[];
  /** The most results one query returns. @default 10000, as documented */
  readonly cap?: number;
}

/** The running API, with the filter bounds of every search it answered. */
export interface HubspotSearchApi extends JsonServer {
  /** `[from, to)` epoch ms of each search request, in arrival order. */
  readonly searches: { from: number; to: number; after: number }[];
}

const SEARCH_PATH = '/crm/v3/objects/contacts/search';

/** A contact modified at `at` (ISO 8601). */
export function hubspotContact(id: number, at: string): HubspotContact {
  return { id: String(id), properties: { email: `c${id}@example.com`, lastmodifieddate: at }, createdAt: '2023-01-01T00:00:00Z', updatedAt: at, archived: false };
}

/** Starts the search endpoint on a loopback port. */
export async function startHubspotSearchApi(options: HubspotSearchOptions): Promise<HubspotSearchApi> {
  const cap = options.cap ?? 10_000;
  const searches: { from: number; to: number; after: number }[] = [];
  const server = await startJsonServer((request) => {
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      return { status: 401, body: { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' } };
    }
    if (request.method !== 'POST' || request.url.pathname !== SEARCH_PATH) return { status: 404, body: { status: 'error', message: 'Not found', category: 'OBJECT_NOT_FOUND' } };
    return search(request, options.contacts, cap, searches);
  });
  return { ...server, searches };
}

interface Filter {
  readonly propertyName: string;
  readonly operator: string;
  readonly value: string;
}

function search(request: SeenRequest, contacts: readonly HubspotContact[], cap: number, searches: HubspotSearchApi['searches']): JsonAnswer {
  const invalid = (message: string): JsonAnswer => ({ status: 400, body: { status: 'error', message, category: 'VALIDATION_ERROR' } });
  const body = JSON.parse(request.body) as { filterGroups?: { filters: Filter[] }[]; limit?: number; after?: string };
  const limit = body.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) return invalid(`limit must be between 1 and 200, got ${limit}`);
  const filters = body.filterGroups?.[0]?.filters ?? [];
  let from = -Infinity;
  let to = Infinity;
  for (const filter of filters) {
    if (filter.propertyName !== 'lastmodifieddate') return invalid(`unsupported property ${filter.propertyName}`);
    if (!/^\d+$/.test(filter.value)) return invalid(`${filter.value} is not a valid timestamp in milliseconds`);
    if (filter.operator === 'GTE') from = Number(filter.value);
    else if (filter.operator === 'LT') to = Number(filter.value);
    else return invalid(`unsupported operator ${filter.operator}`);
  }
  const after = body.after === undefined || body.after === null ? 0 : Number(body.after);
  searches.push({ from, to, after });
  if (after >= cap) return invalid(`The search API cannot return more than ${cap} results; result ${after + 1} is past it`);
  const matches = contacts
    .filter((c) => Date.parse(c.properties.lastmodifieddate) >= from && Date.parse(c.properties.lastmodifieddate) < to)
    .sort((a, b) => Date.parse(a.properties.lastmodifieddate) - Date.parse(b.properties.lastmodifieddate) || Number(a.id) - Number(b.id));
  const results = matches.slice(after, Math.min(after + limit, cap));
  const next = after + results.length;
  return { body: { total: matches.length, results, ...(next < matches.length && next < cap ? { paging: { next: { after: String(next) } } } : {}) } };
}
