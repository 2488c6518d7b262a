import { describe, expect, it } from 'vitest';
import type { PaginationConfig } from '../../functions/config/sourceSchema.js';
import { sourceSchema } from '../../functions/config/sourceSchema.js';
import { PaginationError } from '../../functions/errors.js';
import { withStopCondition } from '../../functions/pagination/stopConditions.js';
import { createPaginationStrategy } from '../../functions/pagination/createPaginationStrategy.js';
import { paginate } from '../../functions/pagination/paginate.js';
import type { PageContext, PageRequest } from '../../functions/pagination/PaginationStrategy.js';
import { placeValues } from '../../functions/pagination/strategies/placeValues.js';
import { pageResponse } from '../support/pageResponse.js';

function config(block: Record<string, unknown>, method = 'POST'): PaginationConfig {
  return sourceSchema.parse({ name: 's', schedule: 'rate(1 hour)', base_url: 'https://api.test', streams: [{ name: 't', path: '/x', method, pagination: block }] }).streams[0]!.pagination;
}
const page = (request: PageRequest, body: unknown, records: unknown[], index = 0): PageContext => ({ request, response: pageResponse(request.url, body, records), index });
const graphql: PageRequest = { url: new URL('https://api.test/graphql'), body: { query: 'q', variables: { q: 'repo:a/b', after: null } } };

describe('placeValues', () => {
  it('sets query parameters on a copy', () => {
    const base = { url: new URL('https://api.test/x?a=1') };
    expect(placeValues(base, 'query', { cursor: 'c1', limit: 10 }).url.href).toBe('https://api.test/x?a=1&cursor=c1&limit=10');
    expect(base.url.href).toBe('https://api.test/x?a=1');
  });

  it('sets dotted body paths on copies, creating objects on the way, never touching the template', () => {
    const placed = placeValues(graphql, 'body', { 'variables.after': 'Y3Vyc29yOjQ=', 'page.size': 50 });
    expect(placed.body).toEqual({ query: 'q', variables: { q: 'repo:a/b', after: 'Y3Vyc29yOjQ=' }, page: { size: 50 } });
    expect(graphql.body).toEqual({ query: 'q', variables: { q: 'repo:a/b', after: null } });
    expect(placeValues({ url: graphql.url }, 'body', { after: 7 }).body).toEqual({ after: 7 });
  });

  it('sets headers, and refuses a value a header cannot carry', () => {
    expect(placeValues({ url: graphql.url, headers: { 'X-A': '1' } }, 'header', { 'X-Cursor': 'abc' }).headers).toEqual({ 'X-A': '1', 'X-Cursor': 'abc' });
    expect(() => placeValues({ url: graphql.url }, 'header', { 'X-Cursor': 'a\nb' })).toThrow(PaginationError);
    expect(() => placeValues({ url: graphql.url }, 'header', { 'X-Cursor': 'curs’or' })).toThrow(/cannot be sent in a header: character 5 of 7 is beyond Latin-1/);
  });
});

describe('strategies with pagination.in', () => {
  it('cursor in: body puts the next cursor at variables.after', () => {
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'data.search.pageInfo.endCursor', param: 'variables.after', in: 'body' }));
    const next = strategy.next(page(graphql, { data: { search: { pageInfo: { endCursor: 'abc' } } } }, [1]))!;
    expect(next.body).toEqual({ query: 'q', variables: { q: 'repo:a/b', after: 'abc' } });
    expect(next.url.href).toBe('https://api.test/graphql');
  });

  it('cursor in: header sends it as a header', () => {
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'X-Cursor', in: 'header' }, 'GET'));
    expect(strategy.next(page({ url: new URL('https://api.test/x') }, { next: 42 }, [1]))!.headers).toEqual({ 'X-Cursor': '42' });
  });

  it('page_number and offset in: body put their numbers in the body', () => {
    const pages = createPaginationStrategy(config({ type: 'page_number', param: 'page.number', page_size_param: 'page.size', page_size: 25, in: 'body' }));
    expect(pages.first!({ url: graphql.url, body: { filter: 'x' } }).body).toEqual({ filter: 'x', page: { number: 1, size: 25 } });
    const offsets = createPaginationStrategy(config({ type: 'offset', limit: 10, offset_param: 'from', limit_param: 'size', in: 'body' }));
    const first = offsets.first!({ url: graphql.url, body: {} });
    expect(offsets.next(page(first, {}, [1]))!.body).toEqual({ from: 10, size: 10 });
  });
});

describe('paginate: empty pages and early stops', () => {
  /** Serves `pages[i]` records for request i, each with a next cursor, recording the requests. */
  function server(pages: unknown[][]) {
    const fetched: PageRequest[] = [];
    const fetchPage = (request: PageRequest, index: number) => {
      fetched.push(request);
      return Promise.resolve(page(request, { next: index + 1 < pages.length ? `c${index + 1}` : null, has_more: index + 1 < pages.length }, pages[index] ?? [], index));
    };
    return { fetched, fetchPage };
  }
  const run = async (options: Parameters<typeof paginate>[0]) => {
    const out: PageContext[] = [];
    for await (const p of paginate(options)) out.push(p);
    return out;
  };
  const describeRequest = (r: PageRequest) => `GET ${r.url.href}`;
  const base = { url: new URL('https://api.test/x') };

  it.each([
    ['cursor', { type: 'cursor', cursor: 'next', param: 'c' }, false],
    ['cursor in a header', { type: 'cursor', cursor: 'next', param: 'X-C', in: 'header' }, false],
    ['next_url', { type: 'next_url', next: 'next' }, false],
    ['link_header', { type: 'link_header' }, false],
    ['page_number', { type: 'page_number' }, true],
    ['offset', { type: 'offset', limit: 1 }, true],
  ])("%s: an empty page ends paging only when it is the strategy's only end signal", (_type, block, ends) => {
    const strategy = createPaginationStrategy(config(block, 'GET'));
    expect(strategy.isLast?.({ request: base, index: 0, response: pageResponse(base.url, {}, []) }) ?? false).toBe(ends);
  });

  it('follows a cursor in a header past an empty page, without mistaking the same URL for a repeat', async () => {
    const { fetched, fetchPage } = server([[1], [], [2]]);
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'X-C', in: 'header' }, 'GET'));
    const pages = await run({ strategy, first: base, fetchPage, maxPages: 10, describe: describeRequest });
    expect(pages.map((p) => p.response.recordCount)).toEqual([1, 0, 1]);
    expect(fetched.map((r) => r.headers?.['X-C'])).toEqual([undefined, 'c1', 'c2']);
  });

  it('stops after the page a stop condition names, before requesting the next', async () => {
    const { fetched, fetchPage } = server([[1], [2], [3], [4]]);
    const strategy = withStopCondition(createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'c' }, 'GET')), (p) => p.index === 1);
    const pages = await run({ strategy, first: base, fetchPage, maxPages: 10, describe: describeRequest });
    expect(pages).toHaveLength(2);
    expect(fetched).toHaveLength(2);
  });

  it('stops planned concurrent pages at a stop condition too', async () => {
    const { fetchPage } = server([[1], [2], [3], [4], [5], [6]]);
    const strategy = withStopCondition(createPaginationStrategy(config({ type: 'page_number', total_pages: 'total' }, 'GET')), (p) => p.index === 2);
    const withTotal = async (request: PageRequest, index: number) => ({ ...(await fetchPage(request, index)), response: pageResponse(request.url, { total: 6 }, [index]) });
    const pages = await run({ strategy, first: base, fetchPage: withTotal, maxPages: 10, concurrency: 3, describe: describeRequest });
    expect(pages.map((p) => p.index)).toEqual([0, 1, 2]);
  });

  it('still fails a repeat after a page with records', async () => {
    const strategy = { first: (b: PageRequest) => b, next: (p: PageContext) => ({ url: p.request.url }) };
    const fetchPage = (request: PageRequest, index: number) => Promise.resolve(page(request, {}, [index], index));
    await expect(run({ strategy, first: base, fetchPage, maxPages: 10, describe: describeRequest })).rejects.toThrow(/the cursor did not advance/);
  });
});
