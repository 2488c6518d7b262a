import { describe, expect, it } from 'vitest';
import type { PaginationConfig } from '../../functions/config/sourceSchema.js';
import { sourceSchema } from '../../functions/config/sourceSchema.js';
import type { FetchedPage } from '../../functions/engine/fetchPage.js';
import { PaginationError } from '../../functions/errors.js';
import { createPaginationStrategy } from '../../functions/pagination/createPaginationStrategy.js';
import { paginate } from '../../functions/pagination/paginate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../../functions/pagination/PaginationStrategy.js';
import { parsePagingToken, RESUMED_FINGERPRINTS, type PagingToken } from '../../functions/pagination/PagingToken.js';
import { pageResponse, recordValues } from '../support/pageResponse.js';

function config(block: Record<string, unknown>): PaginationConfig {
  return sourceSchema.parse({ name: 's', schedule: 'rate(1 hour)', base_url: 'https://api.test', streams: [{ name: 't', path: '/x', pagination: block }] }).streams[0]!.pagination;
}

const PAGES = 23;
const SIZE = 4;
const LAST = 3;
const first: PageRequest = { url: new URL('https://api.test/items') };

/** Which page (0-based) a request asks for, and the body and headers its response carries, per paging scheme. */
const schemes = {
  cursor: {
    config: { type: 'cursor', cursor: 'next', param: 'c' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('c') ?? 0),
    body: (p: number) => ({ next: p + 1 < PAGES ? p + 1 : null }),
  },
  'cursor in the body': {
    config: { type: 'cursor', cursor: 'next', param: 'variables.after', in: 'body' },
    pageOf: (r: PageRequest) => Number((r.body as { variables?: { after?: number } } | undefined)?.variables?.after ?? 0),
    body: (p: number) => ({ next: p + 1 < PAGES ? p + 1 : null }),
  },
  next_url: {
    config: { type: 'next_url', next: 'next' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('p') ?? 0),
    body: (p: number) => ({ next: p + 1 < PAGES ? `/items?p=${p + 1}` : null }),
  },
  link_header: {
    config: { type: 'link_header' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('p') ?? 0),
    headers: (p: number): Record<string, string> => (p + 1 < PAGES ? { link: `</items?p=${p + 1}>; rel="next"` } : {}),
  },
  page_number: {
    config: { type: 'page_number', param: 'page' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('page')) - 1,
  },
  'page_number with total_pages': {
    config: { type: 'page_number', param: 'page', total_pages: 'pages' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('page')) - 1,
    body: () => ({ pages: PAGES }),
  },
  'offset with total_records': {
    config: { type: 'offset', offset_param: 'offset', limit_param: 'limit', limit: SIZE, total_records: 'total' },
    pageOf: (r: PageRequest) => Number(r.url.searchParams.get('offset')) / SIZE,
    body: () => ({ total: (PAGES - 1) * SIZE + LAST }),
  },
} as const satisfies Record<string, { config: object; pageOf: (r: PageRequest) => number; body?: (p: number) => object; headers?: (p: number) => Record<string, string> }>;

type Scheme = (typeof schemes)[keyof typeof schemes];

/** An API of PAGES pages of SIZE records (the last LAST long), counting how often each page is asked for. */
function api(scheme: Scheme) {
  const asked = new Map<number, number>();
  const fetchPage = async (request: PageRequest, index: number): Promise<PageContext<FetchedPage>> => {
    const p = scheme.pageOf(request);
    asked.set(p, (asked.get(p) ?? 0) + 1);
    await new Promise((resolve) => setImmediate(resolve));
    const count = p < PAGES - 1 ? SIZE : p === PAGES - 1 ? LAST : 0;
    const records = Array.from({ length: count }, (_, i) => p * SIZE + i);
    const body = 'body' in scheme ? scheme.body(p) : {};
    const headers = 'headers' in scheme ? scheme.headers(p) : {};
    return { request, index, response: pageResponse(request.url, body, records, headers) };
  };
  return { fetchPage, asked };
}

async function run(strategy: PaginationStrategy<FetchedPage>, fetchPage: ReturnType<typeof api>['fetchPage'], options: { concurrency: number; resume?: PagingToken; until?: number }) {
  const records: unknown[] = [];
  const walk = paginate({ strategy, first, fetchPage, maxPages: 1_000, describe: (r) => r.url.href, ...options });
  for await (const page of walk) records.push(...recordValues(page.response));
  // Through JSON, as a checkpoint stores it.
  const position = walk.position();
  return { records, position: position === undefined ? undefined : parsePagingToken(JSON.parse(JSON.stringify(position))) };
}

describe('paginate continued from a stored position', () => {
  const cases = Object.entries(schemes).flatMap(([name, scheme]) => [1, 4].flatMap((concurrency) => [1, 5, 9].map((leg) => [name, concurrency, leg, scheme] as const)));

  it.each(cases)('%s (concurrency %i) walked %i pages at a time yields what one walk yields, asking for no page twice', async (_name, concurrency, leg, scheme) => {
    const strategy = createPaginationStrategy(config(scheme.config));
    const whole = await run(strategy, api(scheme).fetchPage, { concurrency });
    expect(whole.records).toHaveLength((PAGES - 1) * SIZE + LAST);
    expect(whole.position).toBeUndefined();

    const legs = api(scheme);
    const records: unknown[] = [];
    let resume: PagingToken | undefined;
    let runs = 0;
    do {
      const from: number = resume?.index ?? 0;
      const part = await run(strategy, legs.fetchPage, { concurrency, until: from + leg, ...(resume ? { resume } : {}) });
      records.push(...part.records);
      resume = part.position;
      runs++;
    } while (resume && runs < 100);
    expect(records).toEqual(whole.records);
    expect(runs).toBeGreaterThanOrEqual(Math.ceil(PAGES / leg));
    // Page numbers without a total find their end by asking past it, one walk or many.
    expect(Math.max(...legs.asked.values())).toBe(1);
  });

  it('asks again, once, for the pages in flight when the consumer stops early', async () => {
    const scheme = schemes.page_number;
    const strategy = createPaginationStrategy(config(scheme.config));
    const server = api(scheme);
    const walk = paginate({ strategy, first, fetchPage: server.fetchPage, maxPages: 1_000, concurrency: 4, describe: () => '' });
    const records: unknown[] = [];
    for await (const page of walk) {
      records.push(...recordValues(page.response));
      if (page.index === 6) break;
    }
    const resume = walk.position()!;
    expect(resume).toMatchObject({ kind: 'ahead', index: 7 });
    const rest = await run(strategy, server.fetchPage, { concurrency: 4, resume });
    expect([...records, ...rest.records]).toEqual(Array.from({ length: (PAGES - 1) * SIZE + LAST }, (_, i) => i));
    expect(Math.max(...server.asked.values())).toBe(2);
  });

  it('carries the fingerprints of the last requests, and catches a cycle that spans the stop', async () => {
    const urls = ['a', 'b', 'c', 'd', 'b'].map((c) => `https://api.test/items?cursor=${c}`);
    const strategy: PaginationStrategy = { next: (page) => (page.index + 1 < urls.length ? { url: new URL(urls[page.index + 1]!) } : undefined) };
    const fetched: string[] = [];
    const fetchPage = (request: PageRequest, index: number): Promise<PageContext> => {
      fetched.push(request.url.href);
      return Promise.resolve({ request, index, response: pageResponse(request.url, {}, [index]) });
    };
    const options = { strategy, first: { url: new URL(urls[0]!) }, fetchPage, maxPages: 100, describe: (r: PageRequest) => `GET ${r.url.href}` };
    const legOne = paginate({ ...options, until: 3 });
    for await (const _page of legOne) {
      // drain
    }
    const position = legOne.position()!;
    expect(position).toMatchObject({ kind: 'sequential', index: 3, request: { url: urls[3] } });
    expect(position.kind === 'sequential' && position.seen).toHaveLength(4);
    const legTwo = paginate({ ...options, resume: parsePagingToken(JSON.parse(JSON.stringify(position))) });
    await expect(
      (async () => {
        for await (const _page of legTwo) {
          // drain
        }
      })(),
    ).rejects.toThrow(new PaginationError('page 5 would repeat the request of page 2 (the cursor went round in a cycle of 3 pages)', `GET ${urls[4]}`));
    expect(fetched).toEqual(urls.slice(0, 4));
  });

  it('names the pages of a cycle by their place in the whole walk', async () => {
    const urls = [...Array.from({ length: 150 }, (_, i) => `https://api.test/items?cursor=${i}`), 'https://api.test/items?cursor=120'];
    const strategy: PaginationStrategy = { next: (page) => (page.index + 1 < urls.length ? { url: new URL(urls[page.index + 1]!) } : undefined) };
    const fetchPage = (request: PageRequest, index: number): Promise<PageContext> => Promise.resolve({ request, index, response: pageResponse(request.url, {}, [index]) });
    const options = { strategy, first: { url: new URL(urls[0]!) }, fetchPage, maxPages: 1_000, describe: (r: PageRequest) => `GET ${r.url.href}` };
    const legOne = paginate({ ...options, until: 140 });
    for await (const _page of legOne) {
      // drain
    }
    const legTwo = paginate({ ...options, resume: legOne.position()! });
    await expect(
      (async () => {
        for await (const _page of legTwo) {
          // drain
        }
      })(),
    ).rejects.toThrow('page 151 would repeat the request of page 121 (the cursor went round in a cycle of 30 pages)');
  });

  it(`keeps the fingerprints of the last ${RESUMED_FINGERPRINTS} requests`, async () => {
    const strategy: PaginationStrategy = { next: (page) => ({ url: new URL(`https://api.test/items?cursor=${page.index + 1}`) }) };
    const fetchPage = (request: PageRequest, index: number): Promise<PageContext> => Promise.resolve({ request, index, response: pageResponse(request.url, {}, [index]) });
    const walk = paginate({ strategy, first: { url: new URL('https://api.test/items?cursor=0') }, fetchPage, maxPages: 1_000, describe: () => '', until: 250 });
    for await (const _page of walk) {
      // drain
    }
    const position = walk.position()!;
    expect(position.kind === 'sequential' && position.seen).toHaveLength(RESUMED_FINGERPRINTS);
  });

  it('reports the failure a page leads to instead of a position', async () => {
    const scheme = schemes.cursor;
    const strategy = createPaginationStrategy(config(scheme.config));
    const walk = paginate({ strategy, first, fetchPage: api(scheme).fetchPage, maxPages: 3, describe: (r) => r.url.href });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of walk) {
          seen.push(page.index);
          if (page.index === 2) expect(() => walk.position()).toThrow('more than pagination.max_pages (3) pages');
        }
      })(),
    ).rejects.toThrow(PaginationError);
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('a stored position of a walk whose next links echo a key', () => {
  /** Next links carrying every query parameter back, the key included, as many APIs write them. */
  function echoing(key: string) {
    const fetchPage = async (request: PageRequest, index: number): Promise<PageContext<FetchedPage>> => {
      await new Promise((resolve) => setImmediate(resolve));
      const next = new URL(request.url);
      next.searchParams.set('p', String(index + 1));
      next.searchParams.set('api_key', key);
      return { request, index, response: pageResponse(request.url, { next: index + 1 < PAGES ? next.href : null }, [index], {}) };
    };
    return fetchPage;
  }
  const strip = (request: PageRequest): PageRequest => {
    const url = new URL(request.url);
    url.searchParams.delete('api_key');
    return { ...request, url };
  };

  async function positionAfter(pages: number, key: string, storable?: (request: PageRequest) => PageRequest): Promise<PagingToken> {
    const walk = paginate({
      strategy: createPaginationStrategy(config(schemes.next_url.config)),
      first,
      fetchPage: echoing(key),
      maxPages: 1_000,
      describe: (r) => r.url.href,
      ...(storable ? { storable } : {}),
    });
    for await (const page of walk) if (page.index === pages - 1) return walk.position()!;
    throw new Error('the walk ended early');
  }

  it('stores the next request as `storable` makes it, and fingerprints that do not depend on the key', async () => {
    const [a, b] = await Promise.all([positionAfter(5, 'sk_live_aaaaaaaa', strip), positionAfter(5, 'sk_live_bbbbbbbb', strip)]);
    expect(JSON.stringify(a)).not.toContain('sk_live_');
    expect(a).toEqual(b);
    // Without it, the next request is stored as the API wrote it, and its fingerprints follow the key.
    const [c, d] = await Promise.all([positionAfter(5, 'sk_live_aaaaaaaa'), positionAfter(5, 'sk_live_bbbbbbbb')]);
    expect(JSON.stringify(c)).toContain('sk_live_aaaaaaaa');
    expect(c.kind === 'sequential' && d.kind === 'sequential' && c.seen.at(-1) !== d.seen.at(-1)).toBe(true);
  });

  it('continues from a stripped position to the last page', async () => {
    const token = await positionAfter(5, 'sk_live_aaaaaaaa', strip);
    const records: unknown[] = [];
    const walk = paginate({
      strategy: createPaginationStrategy(config(schemes.next_url.config)),
      first,
      fetchPage: echoing('sk_live_aaaaaaaa'),
      maxPages: 1_000,
      describe: (r) => r.url.href,
      storable: strip,
      resume: token,
    });
    for await (const page of walk) records.push(...recordValues(page.response));
    expect(records).toEqual(Array.from({ length: PAGES - 5 }, (_, i) => i + 5));
  });
});

describe('parsePagingToken', () => {
  it.each([
    ['not an object', 'x', 'it is not an object'],
    ['a negative index', { kind: 'ahead', index: -1, fullPage: 3 }, 'index -1 is not a page index'],
    ['an unknown kind', { kind: 'sideways', index: 1 }, 'unknown kind "sideways"'],
    ['a request without a URL', { kind: 'sequential', index: 1, request: { url: 'not a url' }, seen: [] }, 'its request has no valid URL'],
    ['fingerprints that are not strings', { kind: 'sequential', index: 1, request: { url: 'https://a.test/' }, seen: [1] }, 'its fingerprints are not a list of strings'],
    ['a total that is not a count', { kind: 'ahead', index: 1, pages: 1.5, fullPage: 3 }, 'pages 1.5 is not a count'],
  ])('fails if the token has %s', (_case, token, message) => {
    expect(() => parsePagingToken(token)).toThrow(`cannot continue paging from the stored position: ${message}`);
  });
});
