import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';

/** Follows the RFC 8288 `Link: <…>; rel="next"` header, as GitHub and many REST APIs send. */
export class LinkHeaderPagination implements PaginationStrategy {
  next(page: PageContext): PageRequest | undefined {
    const next = parseLinkHeader(page.response.headers.get('link') ?? '').get('next');
    return next === undefined ? undefined : { ...page.request, url: new URL(next, page.request.url) };
  }
}

/** Parses an RFC 8288 Link header into rel → target; a link with several rels is listed under each. */
export function parseLinkHeader(header: string): Map<string, string> {
  const links = new Map<string, string>();
  let i = 0;
  while (i < header.length) {
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open);
    if (close < 0) break;
    const target = header.slice(open + 1, close);
    // Parameters run to the next comma outside quotes (commas may sit inside <…> and "…").
    let end = close + 1;
    let quoted = false;
    while (end < header.length && (quoted || header[end] !== ',')) {
      if (header[end] === '"') quoted = !quoted;
      end++;
    }
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(header.slice(close + 1, end));
    for (const name of (rel?.[1] ?? rel?.[2] ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean)) {
      if (!links.has(name)) links.set(name, target);
    }
    i = end + 1;
  }
  return links;
}
