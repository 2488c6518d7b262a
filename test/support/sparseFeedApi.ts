/**
 * A feed whose pages may be empty in the middle (records deleted or filtered out on the server),
 * reachable three ways: a cursor in a query parameter or a header (`/feed`), a next URL in the
 * body (`/feed-next`), and a `Link` header (`/feed-link`). Empty pages still carry the way on.
 */

import { startJsonServer, type JsonServer } from './jsonServer.js';

/** Starts the feed; `pages[i]` holds the ids of page i. */
export async function startSparseFeedApi(pages: readonly (readonly number[])[]): Promise<JsonServer> {
  return startJsonServer((request, base) => {
    const q = request.url.searchParams;
    const header = request.headers['x-page-cursor'];
    const index = Number(q.get('cursor') ?? (typeof header === 'string' ? header : undefined) ?? q.get('p') ?? 0);
    const data = (pages[index] ?? []).map((id) => ({ id }));
    const more = index + 1 < pages.length;
    switch (request.url.pathname) {
      case '/feed':
        return { body: { data, next: more ? String(index + 1) : null } };
      case '/feed-next':
        return { body: { data, next: more ? `/feed-next?p=${index + 1}` : null } };
      case '/feed-link':
        return { headers: { link: more ? `<${base}/feed-link?p=${index + 1}>; rel="next"` : undefined }, body: data };
      default:
        return { status: 404, body: { error: 'no route' } };
    }
  });
}
