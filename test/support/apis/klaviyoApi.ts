/**
 * Klaviyo's events as a private API key sees them:
 * - `GET /api/events` with `Authorization: Klaviyo-API-Key <private key>` and a `revision` header
 *   (a dated API version); anything else is 401 `not_authenticated` (JSON:API `errors`), a missing
 *   revision 400;
 * - `filter=greater-or-equal(datetime,<ISO 8601>),less-than(datetime,<ISO 8601>)` (a comma joins
 *   filters with AND);
 * - JSON:API bodies `{data: [{type: "event", id, attributes: {timestamp, datetime, uuid}}], links:
 *   {self, next, prev}}`, where `links.next` is an absolute URL with `page[cursor]`, null on the last page.
 * https://developers.klaviyo.com/en/reference/get_events
 * https://developers.klaviyo.com/en/docs/authenticate_#private-key-authentication
 * https://developers.klaviyo.com/en/docs/filtering_  https://developers.klaviyo.com/en/docs/pagination_
 */

import { startJsonServer, type JsonAnswer, type JsonServer, type SeenRequest } from '../jsonServer.js';

/** An event, as the API returns it. */
export interface KlaviyoEvent {
  readonly type: 'event';
  readonly id: string;
  readonly attributes: { readonly timestamp: number; readonly datetime: string; readonly uuid: string };
}

/** The running API. */
export type KlaviyoApi = JsonServer;

const ISO = '(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2}))';
const FILTER = new RegExp(`^greater-or-equal\\(datetime,${ISO}\\),less-than\\(datetime,${ISO}\\)$`);

/** `perHour` events over `hours` from `from`, evenly spread. */
export function klaviyoEvents(from: string, hours: number, perHour: number): KlaviyoEvent[] {
  const start = Date.parse(from);
  return Array.from({ length: hours * perHour }, (_, k) => {
    const at = start + (k * 3_600_000) / perHour;
    return {
      type: 'event',
      id: `4vRpBT${String(k).padStart(6, '0')}`,
      attributes: { timestamp: Math.floor(at / 1000), datetime: new Date(at).toISOString().replace('.000Z', '+00:00'), uuid: `uuid-${k}` },
    };
  });
}

/** Starts `/api/events` on a loopback port, `pageSize` events a page. */
export async function startKlaviyoApi(options: { apiKey: string; events: readonly KlaviyoEvent[]; pageSize: number }): Promise<KlaviyoApi> {
  return startJsonServer((request, base) => {
    if (request.headers.authorization !== `Klaviyo-API-Key ${options.apiKey}`) {
      return {
        status: 401,
        body: { errors: [{ id: 'e1', status: 401, code: 'not_authenticated', title: 'Authentication credentials were not provided.', detail: 'Missing or invalid private key.' }] },
      };
    }
    if (!request.headers.revision) return { status: 400, body: { errors: [{ status: 400, code: 'invalid', title: 'Invalid input.', detail: 'A revision header is required.' }] } };
    if (request.url.pathname !== '/api/events' && request.url.pathname !== '/api/events/') return { status: 404, body: { errors: [{ status: 404, code: 'not_found', title: 'Not found.' }] } };
    return events(request, base, options);
  });
}

function events(request: SeenRequest, base: string, options: { events: readonly KlaviyoEvent[]; pageSize: number }): JsonAnswer {
  const filter = FILTER.exec(request.url.searchParams.get('filter') ?? '');
  if (!filter) return { status: 400, body: { errors: [{ status: 400, code: 'invalid', title: 'Invalid input.', detail: `Invalid filter provided: ${request.url.searchParams.get('filter')}` }] } };
  const [from, to] = [Date.parse(filter[1]!), Date.parse(filter[2]!)];
  const matching = options.events.filter((e) => Date.parse(e.attributes.datetime) >= from && Date.parse(e.attributes.datetime) < to);
  const at = Number(request.url.searchParams.get('page[cursor]') ?? 0);
  const data = matching.slice(at, at + options.pageSize);
  const self = new URL(request.url.pathname + request.url.search, base).href;
  let next: string | null = null;
  if (at + data.length < matching.length) {
    const url = new URL(request.url.pathname + request.url.search, base);
    url.searchParams.set('page[cursor]', String(at + data.length));
    next = url.href;
  }
  return { headers: { 'content-type': 'application/vnd.api+json' }, body: { data, links: { self, next, prev: null } } };
}
