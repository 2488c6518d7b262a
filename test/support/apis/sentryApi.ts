/**
 * Sentry's "list a project's error events" as its documentation describes it:
 * `GET /api/0/projects/{org}/{project}/events/` with `start`/`end` (ISO 8601, the events whose
 * `dateCreated` falls in [start, end)), newest first, 100 a page, a `cursor` of the form
 * `<value>:<offset>:<is_prev>`, and a `Link` header that always holds a previous and a next link,
 * each saying with `results="true|false"` whether there is anything there. Authentication is a
 * bearer token.
 * https://docs.sentry.io/api/events/list-a-projects-error-events/
 * https://docs.sentry.io/api/pagination/
 * https://docs.sentry.io/api/auth/
 */

import { startJsonServer, type JsonServer } from '../jsonServer.js';

/** An event as the list returns it (the summary fields). */
export interface SentryEvent {
  readonly id: string;
  readonly eventID: string;
  readonly groupID: string;
  readonly projectID: string;
  readonly title: string;
  readonly message: string;
  readonly platform: string;
  readonly dateCreated: string;
  readonly tags: readonly { key: string; value: string }[];
}

/** Events a page holds: Sentry's list endpoints return 100. */
export const SENTRY_PAGE_SIZE = 100;

/** `count` events, one every `spacingMs` from `from`. */
export function sentryEventsEvery(from: string, spacingMs: number, count: number): SentryEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = (0xa0000000 + i).toString(16).padStart(32, '0');
    return {
      id,
      eventID: id,
      groupID: String(4_000 + (i % 7)),
      projectID: '1',
      title: `TypeError: cannot read property 'x' of undefined (${i})`,
      message: '',
      platform: 'javascript',
      dateCreated: new Date(Date.parse(from) + i * spacingMs).toISOString(),
      tags: [{ key: 'level', value: 'error' }],
    };
  });
}

/** Starts the API for one organization and project, answering only `token` as a bearer. */
export async function startSentryApi(options: { events: readonly SentryEvent[]; org: string; project: string; token: string }): Promise<JsonServer> {
  const path = `/api/0/projects/${options.org}/${options.project}/events/`;
  const newestFirst = [...options.events].sort((a, b) => Date.parse(b.dateCreated) - Date.parse(a.dateCreated) || b.id.localeCompare(a.id));
  return startJsonServer((request, base) => {
    if (request.headers.authorization !== `Bearer ${options.token}`) return { status: 401, body: { detail: 'Invalid token' } };
    if (request.url.pathname !== path) return { status: 404, body: { detail: 'The requested resource does not exist' } };
    const q = request.url.searchParams;
    const start = Date.parse(q.get('start') ?? '');
    const end = Date.parse(q.get('end') ?? '');
    if (Number.isNaN(start) || Number.isNaN(end)) return { status: 400, body: { detail: 'start and end are required, in ISO-8601 format' } };
    const cursor = /^(\d+):(\d+):([01])$/.exec(q.get('cursor') ?? '0:0:0');
    if (!cursor) return { status: 400, body: { detail: 'Invalid cursor parameter.' } };
    const offset = Number(cursor[2]);
    const matching = newestFirst.filter((e) => Date.parse(e.dateCreated) >= start && Date.parse(e.dateCreated) < end);
    const page = matching.slice(offset, offset + SENTRY_PAGE_SIZE);
    const link = (rel: string, at: number, isPrev: 0 | 1, results: boolean) => {
      const url = new URL(path, base);
      for (const [name, value] of q) if (name !== 'cursor') url.searchParams.set(name, value);
      url.searchParams.set('cursor', `0:${at}:${isPrev}`);
      return `<${url.href}>; rel="${rel}"; results="${results}"; cursor="0:${at}:${isPrev}"`;
    };
    const previous = link('previous', Math.max(0, offset - SENTRY_PAGE_SIZE), 1, offset > 0);
    const next = link('next', offset + SENTRY_PAGE_SIZE, 0, offset + SENTRY_PAGE_SIZE < matching.length);
    return { headers: { link: `${previous}, ${next}` }, body: page };
  });
}
