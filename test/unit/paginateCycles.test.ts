import { pageResponse } from '../support/pageResponse.js';
import { describe, expect, it } from 'vitest';
import { PaginationError } from '../../functions/errors.js';
import { paginate } from '../../functions/pagination/paginate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../../functions/pagination/PaginationStrategy.js';

/** A strategy that walks a scripted list of URLs, then stops. */
function scripted(urls: readonly string[]): PaginationStrategy {
  return {
    first: (base) => base,
    next: (page) => (page.index + 1 < urls.length ? { url: new URL(urls[page.index + 1]!) } : undefined),
  };
}

async function walk(urls: readonly string[], options: { rememberedRequests?: number; maxPages?: number; bodies?: unknown[] } = {}) {
  const fetched: string[] = [];
  const fetchPage = (request: PageRequest, index: number): Promise<PageContext> => {
    fetched.push(request.url.href);
    return Promise.resolve({ request, response: pageResponse(request.url, {}, [index]), index });
  };
  const strategy = scripted(urls);
  const first = { url: new URL(urls[0]!) };
  let error: unknown;
  try {
    for await (const _page of paginate({ strategy, first, fetchPage, maxPages: options.maxPages ?? 10_000, describe: (r) => `GET ${r.url.href}`, ...options })) {
      // drain
    }
  } catch (e) {
    error = e;
  }
  return { fetched, error: error as Error | undefined };
}

const u = (q: string) => `https://api.test/items?${q}`;

describe('paginate: repeated requests', () => {
  it.each([
    ['A→B→A', ['a', 'b', 'a'], 'page 3 would repeat the request of page 1 (the cursor went round in a cycle of 2 pages)'],
    ['A→B→C→A', ['a', 'b', 'c', 'a'], 'page 4 would repeat the request of page 1 (the cursor went round in a cycle of 3 pages)'],
    ['A→B→C→D→E→B', ['a', 'b', 'c', 'd', 'e', 'b'], 'page 6 would repeat the request of page 2 (the cursor went round in a cycle of 4 pages)'],
    ['A→A', ['a', 'a'], 'page 2 would repeat the request of page 1 (the cursor did not advance)'],
  ])('fails on %s before sending the repeat', async (_name, cursors, message) => {
    const urls = cursors.map((c) => u(`cursor=${c}`));
    const { fetched, error } = await walk(urls);
    expect(error).toBeInstanceOf(PaginationError);
    expect(error!.message).toBe(`${message} (GET ${urls.at(-1)})`);
    expect(fetched).toEqual(urls.slice(0, -1));
  });

  it('treats the same parameters in another order as the same request', async () => {
    const { error } = await walk([u('a=1&b=2'), u('c=3'), u('b=2&a=1')]);
    expect(error!.message).toMatch(/^page 3 would repeat the request of page 1/);
  });

  it('walks a long chain of distinct requests', async () => {
    const urls = Array.from({ length: 2_000 }, (_, i) => u(`cursor=${i}`));
    const { fetched, error } = await walk(urls);
    expect(error).toBeUndefined();
    expect(fetched).toHaveLength(2_000);
  });

  it('forgets the oldest fingerprints past the bound; max_pages still ends a longer cycle', async () => {
    const cycle = ['a', 'b', 'c', 'd'];
    const urls = Array.from({ length: 40 }, (_, i) => u(`cursor=${cycle[i % 4]}`));
    const within = await walk(urls, { rememberedRequests: 4 });
    expect(within.error!.message).toMatch(/^page 5 would repeat the request of page 1/);
    const past = await walk(urls, { rememberedRequests: 3, maxPages: 20 });
    expect(past.error!.message).toMatch(/^more than pagination.max_pages \(20\) pages/);
    expect(past.fetched).toHaveLength(20);
  });
});
