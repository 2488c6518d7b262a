import type { FetchedPage } from '../../functions/engine/fetchPage.js';
import { describe, expect, it } from 'vitest';
import type { PaginationConfig } from '../../functions/config/sourceSchema.js';
import { sourceSchema } from '../../functions/config/sourceSchema.js';
import { PaginationError } from '../../functions/errors.js';
import { createPaginationStrategy } from '../../functions/pagination/createPaginationStrategy.js';
import { paginate, type PageSlot } from '../../functions/pagination/paginate.js';
import type { PageContext, PageRequest } from '../../functions/pagination/PaginationStrategy.js';
import { pageResponse, recordValues } from '../support/pageResponse.js';

function config(block: Record<string, unknown>): PaginationConfig {
  return sourceSchema.parse({ name: 's', schedule: 'rate(1 hour)', base_url: 'https://api.test', streams: [{ name: 't', path: '/x', pagination: block }] }).streams[0]!.pagination;
}

const base: PageRequest = { url: new URL('https://api.test/items') };

/**
 * Turns of the event loop: a page "arrives" after this many, as a response arrives from a socket.
 * (Promise turns would not do: paging lets a turn of the loop pass before it hands over a page,
 * so requests it started reach the wire first, and every page would already have arrived.)
 */
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A paged API in memory: `pages[i]` records on page i (0-based; past the end, empty), each page
 * answered after a number of queue turns that makes later pages arrive first. Logs what happens.
 */
function fakeApi(pages: number[][], options: { param?: (r: PageRequest) => number; bodyOf?: (i: number) => unknown } = {}) {
  const log: string[] = [];
  const started: number[] = [];
  const aborted: number[] = [];
  const param = options.param ?? ((r) => Number(r.url.searchParams.get('page')) - 1);
  const fetchPage = async (request: PageRequest, index: number, slot?: PageSlot): Promise<PageContext<FetchedPage>> => {
    const at = param(request);
    started.push(at);
    log.push(`start ${at}`);
    slot?.signal.addEventListener('abort', () => aborted.push(at));
    await ticks(40 - (index % 8) * 4);
    if (slot?.signal.aborted) throw slot.signal.reason;
    const records = pages[at] ?? [];
    log.push(`arrive ${at}`);
    return { request, index, response: pageResponse(request.url, options.bodyOf?.(at) ?? { page: at + 1 }, records) };
  };
  return { fetchPage, log, started, aborted };
}

/** Pages of `size` records numbered from 1, `count` pages, the last one `last` long. */
function numbered(count: number, size: number, last = size): number[][] {
  let id = 0;
  return Array.from({ length: count }, (_, p) => Array.from({ length: p === count - 1 ? last : size }, () => ++id));
}

async function drain(walk: AsyncGenerator<PageContext<FetchedPage>>, onPage?: (page: PageContext<FetchedPage>) => void | Promise<void>) {
  const records: unknown[] = [];
  const order: number[] = [];
  for await (const page of walk) {
    order.push(page.index);
    records.push(...recordValues(page.response));
    await onPage?.(page);
  }
  return { records, order };
}

describe('paginate fetching ahead', () => {
  it('starts the next cursor request before the consumer lands the page', async () => {
    const api = fakeApi(numbered(3, 2), { param: (r) => Number(r.url.searchParams.get('c') ?? 0), bodyOf: (i) => ({ next: i < 2 ? i + 1 : null }) });
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'c' }));
    const { records } = await drain(paginate({ strategy, first: base, fetchPage: api.fetchPage, maxPages: 10, describe: () => '' }), (page) => {
      api.log.push(`land ${page.index}`);
    });
    expect(records).toEqual([1, 2, 3, 4, 5, 6]);
    // Page 1's request is out before page 0 lands, and page 2's before page 1 lands.
    expect(api.log.indexOf('start 1')).toBeLessThan(api.log.indexOf('land 0'));
    expect(api.log.indexOf('start 2')).toBeLessThan(api.log.indexOf('land 1'));
  });

  it('gives each page its turn only after every earlier page landed', async () => {
    const turns: string[] = [];
    const api = fakeApi(numbered(6, 3));
    const fetchPage = (request: PageRequest, index: number, slot?: PageSlot) => {
      void slot!.turn.then(
        () => turns.push(`turn ${index}`),
        () => undefined,
      );
      return api.fetchPage(request, index, slot);
    };
    const strategy = createPaginationStrategy(config({ type: 'page_number', total_pages: 'pages' }));
    await drain(
      paginate({
        strategy,
        first: base,
        fetchPage: async (r, i, s) => ({ ...(await fetchPage(r, i, s)), response: pageResponse(r.url, { pages: 6 }, numbered(6, 3)[i]!) }),
        concurrency: 4,
        maxPages: 10,
        describe: () => '',
      }),
      async (page) => {
        turns.push(`land ${page.index}`);
        await ticks(3);
      },
    );
    for (let i = 1; i < 6; i++) expect(turns.indexOf(`turn ${i}`)).toBeGreaterThan(turns.indexOf(`land ${i - 1}`));
  });

  it.each([
    ['page_number', { type: 'page_number', page_size_param: 'n', page_size: 3 }, (r: PageRequest) => Number(r.url.searchParams.get('page')) - 1],
    ['offset', { type: 'offset', limit: 3 }, (r: PageRequest) => Number(r.url.searchParams.get('offset')) / 3],
  ])('fetches %s pages ahead without a total: every record once, in order, and few requests wasted', async (_name, block, param) => {
    for (const [count, last] of [
      [1, 3],
      [1, 1],
      [2, 3],
      [7, 2],
      [20, 3],
      [37, 1],
    ] as const) {
      const api = fakeApi(numbered(count, 3, last), { param });
      const { records, order } = await drain(
        paginate({ strategy: createPaginationStrategy(config(block)), first: base, fetchPage: api.fetchPage, concurrency: 8, maxPages: 1000, describe: () => '' }),
      );
      const total = (count - 1) * 3 + last;
      expect(records).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(order).toEqual(Array.from({ length: order.length }, (_, i) => i));
      expect(new Set(api.started).size).toBe(api.started.length); // no page asked twice
      // What a sequential walk asks: every page, then the empty one that ends it (unless the last is short).
      const needed = last < 3 ? count : count + 1;
      expect(api.started.length - needed).toBeLessThanOrEqual(8);
    }
  });

  it('keeps up to concurrency pages in flight once pages come back full', async () => {
    let inFlight = 0;
    let peak = 0;
    const api = fakeApi(numbered(40, 5));
    const fetchPage = async (request: PageRequest, index: number, slot?: PageSlot) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await api.fetchPage(request, index, slot);
      } finally {
        inFlight--;
      }
    };
    await drain(paginate({ strategy: createPaginationStrategy(config({ type: 'page_number' })), first: base, fetchPage, concurrency: 6, maxPages: 1000, describe: () => '' }));
    expect(peak).toBe(6);
  });

  it('stops at a page where stop_when is truthy and aborts the pages fetched past it, never yielding them', async () => {
    const api = fakeApi(numbered(30, 2), { bodyOf: (i) => ({ done: i === 9 }) });
    const { order } = await drain(
      paginate({ strategy: createPaginationStrategy(config({ type: 'page_number', stop_when: 'done' })), first: base, fetchPage: api.fetchPage, concurrency: 8, maxPages: 1000, describe: () => '' }),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(api.started.filter((p) => p > 9).length).toBeGreaterThan(0);
    expect(api.started.filter((p) => p > 9).every((p) => api.aborted.includes(p))).toBe(true);
  });

  it('walks an API that sends fewer records than asked on every page to its empty page', async () => {
    // Asked for 100 a page, the API caps at 3: short pages are not the end, an empty page is.
    const api = fakeApi(numbered(12, 3));
    const { records } = await drain(
      paginate({
        strategy: createPaginationStrategy(config({ type: 'page_number', page_size_param: 'n', page_size: 100 })),
        first: base,
        fetchPage: api.fetchPage,
        concurrency: 8,
        maxPages: 1000,
        describe: () => '',
      }),
    );
    expect(records).toHaveLength(36);
  });

  it('does not start past the page after a short page', async () => {
    const pages = numbered(10, 4);
    pages[3] = [1]; // a short page in the middle: the walk still goes on to page 4
    const api = fakeApi(pages);
    const strategy = createPaginationStrategy(config({ type: 'page_number' }));
    const walk = paginate({ strategy, first: base, fetchPage: api.fetchPage, concurrency: 2, maxPages: 1000, describe: () => '' });
    const { order } = await drain(walk);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('fails after max_pages pages fetched ahead when the API has more', async () => {
    const api = fakeApi(numbered(50, 2));
    const walk = paginate({ strategy: createPaginationStrategy(config({ type: 'page_number' })), first: base, fetchPage: api.fetchPage, concurrency: 4, maxPages: 10, describe: () => 'GET /items' });
    const seen: number[] = [];
    await expect(drain(walk, (p) => void seen.push(p.index))).rejects.toThrow(PaginationError);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.max(...api.started)).toBeLessThan(10);
  });

  it('aborts the page in flight when the consumer stops early', async () => {
    const api = fakeApi(numbered(5, 2), { param: (r) => Number(r.url.searchParams.get('c') ?? 0), bodyOf: (i) => ({ next: i + 1 }) });
    const strategy = createPaginationStrategy(config({ type: 'cursor', cursor: 'next', param: 'c' }));
    for await (const page of paginate({ strategy, first: base, fetchPage: api.fetchPage, maxPages: 10, describe: () => '' })) {
      if (page.index === 1) break;
    }
    expect(api.started).toEqual([0, 1, 2]);
    expect(api.aborted).toEqual([2]);
  });

  it('ignores a failure of a page fetched past the end', async () => {
    const api = fakeApi(numbered(3, 2));
    const fetchPage = async (request: PageRequest, index: number, slot?: PageSlot) => {
      if (index > 3) throw new Error('404 past the end');
      return api.fetchPage(request, index, slot);
    };
    const { records } = await drain(paginate({ strategy: createPaginationStrategy(config({ type: 'page_number' })), first: base, fetchPage, concurrency: 8, maxPages: 100, describe: () => '' }));
    expect(records).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('surfaces the failure of a page inside the window', async () => {
    const api = fakeApi(numbered(9, 2));
    const fetchPage = async (request: PageRequest, index: number, slot?: PageSlot) => {
      if (index === 4) throw new Error('page 5 failed');
      return api.fetchPage(request, index, slot);
    };
    const seen: number[] = [];
    await expect(
      drain(
        paginate({ strategy: createPaginationStrategy(config({ type: 'page_number' })), first: base, fetchPage, concurrency: 8, maxPages: 100, describe: () => '' }),
        (p) => void seen.push(p.index),
      ),
    ).rejects.toThrow('page 5 failed');
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it("aborts every page in flight with the walk's signal, and stops listening to it when the walk ends", async () => {
    const window = new AbortController();
    const slots = new Map<number, PageSlot>();
    const answered = new Set<number>();
    const fetchPage = async (request: PageRequest, index: number, slot: PageSlot): Promise<PageContext<FetchedPage>> => {
      slots.set(index, slot);
      await ticks(40 - (index % 8) * 4);
      if (slot.signal.aborted) throw slot.signal.reason;
      answered.add(index);
      return { request, index, response: pageResponse(request.url, { pages: 40 }, numbered(40, 5)[index]!) };
    };
    const walk = paginate({
      strategy: createPaginationStrategy(config({ type: 'page_number', total_pages: 'pages' })),
      first: base,
      fetchPage,
      concurrency: 4,
      maxPages: 100,
      describe: () => '',
      signal: window.signal,
    });
    const seen: number[] = [];
    const stopped = drain(walk, (page) => {
      seen.push(page.index);
      if (page.index === 2) window.abort(new Error('window aborted'));
    });
    await expect(stopped).rejects.toThrow('window aborted');
    await ticks(50);
    // Every page still unanswered when the window aborted was aborted with the window's reason, none handed over.
    const unanswered = [...slots.keys()].filter((index) => !answered.has(index));
    expect(unanswered.length).toBeGreaterThanOrEqual(1);
    for (const index of unanswered) expect((slots.get(index)!.signal.reason as Error).message).toBe('window aborted');
    expect(seen).toEqual([0, 1, 2, ...[...answered].filter((i) => i > 2 && i < Math.min(...unanswered)).sort((a, b) => a - b)]);

    const quiet = new AbortController();
    let listening = 0;
    const signal = new Proxy(quiet.signal, {
      get(target, key) {
        if (key === 'addEventListener') return (...args: Parameters<AbortSignal['addEventListener']>) => (listening++, target.addEventListener(...args));
        if (key === 'removeEventListener') return (...args: Parameters<AbortSignal['removeEventListener']>) => (listening--, target.removeEventListener(...args));
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await drain(
      paginate({
        strategy: createPaginationStrategy(config({ type: 'page_number', page_size_param: 'n', page_size: 5 })),
        first: base,
        fetchPage: fakeApi(numbered(3, 5, 2)).fetchPage,
        concurrency: 4,
        maxPages: 100,
        describe: () => '',
        signal,
      }),
    );
    expect(listening).toBe(0);
  });

  it("starts a page already aborted when the walk's signal aborted before it", async () => {
    const window = new AbortController();
    window.abort(new Error('gone'));
    const api = fakeApi(numbered(2, 1));
    await expect(
      drain(paginate({ strategy: createPaginationStrategy(config({ type: 'page_number' })), first: base, fetchPage: api.fetchPage, maxPages: 10, describe: () => '', signal: window.signal })),
    ).rejects.toThrow('gone');
  });
});
