import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';

/** One link of a Link header: its target and its parameters (names lower-cased, values unquoted). */
export interface HeaderLink {
  readonly target: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Follows the RFC 8288 `Link: <…>; rel="next"` header, as GitHub and many REST APIs send. A next
 * link that says `results="false"` ends paging: Sentry always sends a next link, and marks the one
 * past the last page so (https://docs.sentry.io/api/pagination/).
 */
export class LinkHeaderPagination implements PaginationStrategy {
  next(page: PageContext): PageRequest | undefined {
    const next = parseLinks(page.response.headers.get('link') ?? '').get('next');
    if (next === undefined || next.params.results?.toLowerCase() === 'false') return undefined;
    return { ...page.request, url: new URL(next.target, page.request.url) };
  }
}

/** Parses an RFC 8288 Link header into rel → target; a link with several rels is listed under each. */
export function parseLinkHeader(header: string): Map<string, string> {
  return new Map([...parseLinks(header)].map(([rel, link]) => [rel, link.target]));
}

/** Parses an RFC 8288 Link header into rel → link with its parameters; the first link of a rel wins. */
export function parseLinks(header: string): Map<string, HeaderLink> {
  const links = new Map<string, HeaderLink>();
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
    const params: Record<string, string> = {};
    for (const match of header.slice(close + 1, end).matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;\s]+))/g)) {
      const name = match[1]!.toLowerCase();
      if (!(name in params)) params[name] = match[2] ?? match[3] ?? '';
    }
    for (const name of (params.rel ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean)) {
      if (!links.has(name)) links.set(name, { target, params });
    }
    i = end + 1;
  }
  return links;
}
