import type { FetchedPage } from '../../functions/engine/fetchPage.js';
import { pageResponse, recordValues } from '../support/pageResponse.js';
import { describe, expect, it } from 'vitest';
import type { PaginationConfig } from '../../functions/config/sourceSchema.js';
import { sourceSchema } from '../../functions/config/sourceSchema.js';
import { PaginationError } from '../../functions/errors.js';
import { createPaginationStrategy } from '../../functions/pagination/createPaginationStrategy.js';
import { paginate } from '../../functions/pagination/paginate.js';
import type { PageContext, PageRequest } from '../../functions/pagination/PaginationStrategy.js';
import { parseLinkHeader } from '../../functions/pagination/strategies/LinkHeaderPagination.js';

/** Parses a pagination block through the real schema, so defaults are the ones users get. */
function config(block: Record<string, unknown>): PaginationConfig {
  return sourceSchema.parse({ name: 's', schedule: 'rate(1 hour)', base_url: 'https://api.test', streams: [{ name: 't', path: '/x', pagination: block }] }).streams[0]!.pagination;
}

function page(request: PageRequest, body: unknown, records: unknown[], index = 0, headers: Record<string, string> = {}): PageContext<FetchedPage> {
  return { request, response: pageResponse(request.url, body, records, headers), index };
}

const base: PageRequest = { url: new URL('https://api.test/v1/items?limit=2') };

describe('pagination strategies', () => {
  it('page_number sets the page and page size, and plans the rest from total_records', () => {
    const strategy = createPaginationStrategy(config({ type: 'page_number', param: 'p', page_size_param: 'size', page_size: 2, total_records: 'meta.total' }));
    const first = strategy.first!(base);
    expect(first.url.search).toBe('?limit=2&p=1&size=2');
    const ctx = page(first, { meta: { total: 5 } }, [1, 2]);
    expect(strategy.next(ctx)!.url.searchParams.get('p')).toBe('2');
    expect(strategy.plan!(ctx)!.map((r) => r.url.searchParams.get('p'))).toEqual(['2', '3']);
  });

  it('page_number plans from total_pages and honours start: 0', () => {
    const strategy = createPaginationStrategy(config({ type: 'page_number', start: 0, total_pages: 'pages' }));
    const first = strategy.first!(base);
    expect(first.url.searchParams.get('page')).toBe('0');
    expect(strategy.plan!(page(first, { pages: 3 }, [1]))!.map((r) => r.url.searchParams.get('page'))).toEqual(['1', '2']);
  });

  it('page_number does not plan when the total is missing', () => {
    const strategy = createPaginationStrategy(config({ type: 'page_number', total_pages: 'pages' }));
    expect(strategy.plan!(page(strategy.first!(base), {}, [1]))).toBeUndefined();
  });

  it('offset advances by limit and plans from total_records', () => {
    const strategy = createPaginationStrategy(config({ type: 'offset', limit: 10, total_records: 'count' }));
    const first = strategy.first!(base);
    expect(first.url.searchParams.get('offset')).toBe('0');
    expect(first.url.searchParams.get('limit')).toBe('10');
    const ctx = page(first, { count: 35 }, [1]);
    expect(strategy.next(ctx)!.url.searchParams.get('offset')).toBe('10');
    expect(strategy.plan!(ctx)!.map((r) => r.url.searchParams.get('offset'))).toEqual(['10', '20', '30']);
  });

  it.each([
    [{ meta: { next: 'abc' } }, 'abc'],
    [{ meta: { next: 42 } }, '42'],
    [{ meta: { next: null } }, undefined],
    [{ meta: { next: '' } }, undefined],
    [{ meta: {} }, undefined],
  ])('cursor from %j → %s', (body, cursor) => {
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'meta.next', param: 'after' }));
    expect(strategy.next(page(base, body, [1]))?.url.searchParams.get('after') ?? undefined).toBe(cursor);
  });

  it('cursor can point at the last record (starting_after style)', () => {
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'data[-1].id', param: 'starting_after' }));
    expect(strategy.next(page(base, { data: [{ id: 'a' }, { id: 'b' }] }, [1, 2]))!.url.searchParams.get('starting_after')).toBe('b');
  });

  it.each([
    ['/v1/items?page=2', 'https://api.test/v1/items?page=2'],
    ['https://api.test/v2/next?x=1', 'https://api.test/v2/next?x=1'],
    ['?page=3', 'https://api.test/v1/items?page=3'],
  ])('next_url resolves %s', (next, expected) => {
    const strategy = createPaginationStrategy(config({ type: 'next_url', next: 'links.next' }));
    expect(strategy.next(page(base, { links: { next } }, [1]))!.url.href).toBe(expected);
  });

  it('link_header follows rel="next"', () => {
    const strategy = createPaginationStrategy(config({ type: 'link_header' }));
    const ctx = page(base, [], [1], 0, { link: '<https://api.test/v1/items?page=2>; rel="next", <https://api.test/v1/items?page=9>; rel="last"' });
    expect(strategy.next(ctx)!.url.href).toBe('https://api.test/v1/items?page=2');
    expect(strategy.next(page(base, [], [1], 0, { link: '<https://api.test/x?page=1>; rel="prev"' }))).toBeUndefined();
  });
});

describe('parseLinkHeader', () => {
  it.each([
    ['<https://a/x?page=2>; rel="next"', 'https://a/x?page=2'],
    ['<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel=next', 'https://a/x?page=3'],
    ['<https://a/x?q=a,b&page=2>; rel="next last"', 'https://a/x?q=a,b&page=2'],
    ['<https://a/x?page=2>; title="n, x"; rel="next"', 'https://a/x?page=2'],
    ['<https://a/x?page=2>; REL="Next"', 'https://a/x?page=2'],
    ['', undefined],
  ])('%s', (header, next) => expect(parseLinkHeader(header).get('next')).toBe(next));
});

describe('paginate', () => {
  /** A fake API of `pages` pages of two records, addressed by ?page=. */
  function fakeFetcher(pages: number, body: (n: number) => Record<string, unknown> = () => ({})) {
    const fetched: number[] = [];
    const fetchPage = async (request: PageRequest, index: number) => {
      const n = Number(request.url.searchParams.get('page') ?? 1);
      fetched.push(n);
      // Later pages answer sooner, so out-of-order completion is exercised.
      await new Promise((r) => setTimeout(r, (pages - n) * 2));
      const records = n <= pages ? [`${n}a`, `${n}b`] : [];
      return page(request, { total: pages * 2, ...body(n) }, records, index);
    };
    return { fetched, fetchPage };
  }
  const collect = async (gen: AsyncGenerator<PageContext<FetchedPage>>) => {
    const out: unknown[] = [];
    for await (const p of gen) out.push(...recordValues(p.response));
    return out;
  };
  const describeRequest = (r: PageRequest) => `GET ${r.url.href}`;

  it('stops on an empty page', async () => {
    const { fetched, fetchPage } = fakeFetcher(3);
    const strategy = createPaginationStrategy(config({ type: 'page_number' }));
    expect(await collect(paginate({ strategy, first: base, fetchPage, maxPages: 100, describe: describeRequest }))).toEqual(['1a', '1b', '2a', '2b', '3a', '3b']);
    expect(fetched).toEqual([1, 2, 3, 4]);
  });

  it('stops when stop_when is truthy', async () => {
    const { fetched, fetchPage } = fakeFetcher(5, (n) => ({ has_more: n < 2 }));
    const strategy = createPaginationStrategy(config({ type: 'page_number', stop_when: '!has_more' }));
    await collect(paginate({ strategy, first: base, fetchPage, maxPages: 100, describe: describeRequest }));
    expect(fetched).toEqual([1, 2]);
  });

  it('fails if max_pages would be exceeded, instead of truncating silently', async () => {
    const { fetchPage } = fakeFetcher(10);
    const strategy = createPaginationStrategy(config({ type: 'page_number' }));
    await expect(collect(paginate({ strategy, first: base, fetchPage, maxPages: 3, describe: describeRequest }))).rejects.toThrow(/more than pagination.max_pages \(3\)/);
  });

  it('fails if the cursor does not advance', async () => {
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'c' }));
    const fetchPage = (request: PageRequest, index: number) => Promise.resolve(page(request, { next: 'same' }, [1], index));
    await expect(collect(paginate({ strategy, first: base, fetchPage, maxPages: 100, describe: describeRequest }))).rejects.toThrow(PaginationError);
  });

  it('refuses to follow a next URL to another origin', async () => {
    const strategy = createPaginationStrategy(config({ type: 'next_url', next: 'next' }));
    const fetchPage = (request: PageRequest, index: number) => Promise.resolve(page(request, { next: 'https://evil.test/steal' }, [1], index));
    await expect(collect(paginate({ strategy, first: base, fetchPage, maxPages: 100, describe: describeRequest }))).rejects.toThrow(/leaves the API's origin/);
  });

  it('fetches planned pages concurrently and yields them in page order', async () => {
    const { fetched, fetchPage } = fakeFetcher(6);
    const strategy = createPaginationStrategy(config({ type: 'page_number', total_records: 'total', page_size: 2, page_size_param: 'limit' }));
    const records = await collect(paginate({ strategy, first: base, fetchPage, maxPages: 100, concurrency: 3, describe: describeRequest }));
    expect(records).toEqual(['1a', '1b', '2a', '2b', '3a', '3b', '4a', '4b', '5a', '5b', '6a', '6b']);
    expect(fetched.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(fetched).toHaveLength(6); // the total is known, so no probe for an empty page
  });

  it('fails if the planned page count exceeds max_pages', async () => {
    const { fetchPage } = fakeFetcher(6);
    const strategy = createPaginationStrategy(config({ type: 'page_number', total_pages: 'total' }));
    await expect(collect(paginate({ strategy, first: base, fetchPage, maxPages: 5, concurrency: 2, describe: describeRequest }))).rejects.toThrow(/reports 12 pages/);
  });
});
