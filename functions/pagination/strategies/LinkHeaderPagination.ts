import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';

/** Follows the RFC 8288 `Link: <…>; rel="next"` header, as GitHub and many REST APIs send. */
export class LinkHeaderPagination implements PaginationStrategy {
  first(base: PageRequest): PageRequest {
    return base;
  }

  next(page: PageContext): PageRequest | undefined {
    const next = parseLinkHeader(page.response.headers.get('link') ?? '').get('next');
    return next === undefined ? undefined : { ...page.request, url: new URL(next, page.request.url) };
  }
}

/** Parses an RFC 8288 Link header into rel → target; a link with several rels is listed under each. */
export function parseLinkHeader(header: string): Map<string, string> {
  const links = new Map<string, string>();
  // Commas may appear inside <…> targets, so match link-values instead of splitting.
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+?(?:=(?:"[^"]*"|[^;,]*))?)*)/g)) {
    const [, target, params] = match;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params ?? '');
    const value = rel?.[1] ?? rel?.[2];
    if (!value) continue;
    for (const name of value.trim().toLowerCase().split(/\s+/)) if (!links.has(name)) links.set(name, target!);
  }
  return links;
}
