/**
 * Walks the pages of one stream window: asks the strategy for each next request, applies the
 * stop conditions every strategy shares, and fetches known page ranges concurrently while
 * still yielding pages in order.
 */

import { createHash } from 'node:crypto';
import { PaginationError } from '../errors.js';
import { evaluate, isTruthy } from '../records/evaluate.js';
import type { PageContext, PageRequest, PaginationStrategy } from './PaginationStrategy.js';

/** Fetches one page; `index` is 0-based. */
export type PageFetcher = (request: PageRequest, index: number) => Promise<PageContext>;

/** How to walk the pages. */
export interface PaginateOptions {
  readonly strategy: PaginationStrategy;
  readonly first: PageRequest;
  readonly fetchPage: PageFetcher;
  /** JMESPath; paging stops after a page where it is truthy. */
  readonly stopWhen?: string;
  readonly maxPages: number;
  /** Pages fetched at once when the strategy can plan them. @default 1 */
  readonly concurrency?: number;
  /** Redacts URLs for error messages. */
  readonly describe: (request: PageRequest) => string;
  /** The stream's method, part of each request's fingerprint. @default 'GET', or 'POST' when the request has a body */
  readonly method?: string;
  /** How many request fingerprints to remember. @default MAX_REMEMBERED_REQUESTS */
  readonly rememberedRequests?: number;
  /**
   * Ends paging after a page, before the next is requested, when it returns true: an
   * incremental stream whose records have passed the window.
   */
  readonly stopAfter?: (page: PageContext) => boolean;
}

/**
 * Request fingerprints remembered per window to detect a cursor that cycles (A→B→C→A). Past
 * this many requests the oldest are forgotten: a cycle longer than that is still stopped by
 * `max_pages` (default 10,000, below this bound), never by running forever. 32-byte digests
 * keep the set near 10 MB at the bound, however long the URLs and bodies are.
 */
export const MAX_REMEMBERED_REQUESTS = 100_000;

/**
 * Yields the pages of a window in order. Stops on `stop_when`, on `stopAfter`, when the strategy
 * has no next request, and on an empty page when the strategy ends there (page numbers, offsets).
 * An empty page whose next request would repeat its own is the end of a caught-up cursor.
 * @throws PaginationError when `max_pages` would be exceeded, a request repeats, or a next URL leaves the API's origin.
 */
export async function* paginate(options: PaginateOptions): AsyncGenerator<PageContext> {
  const { strategy, fetchPage, maxPages } = options;
  const origin = options.first.url.origin;
  let request = strategy.first(options.first);
  const seen = new RequestFingerprints(options.rememberedRequests ?? MAX_REMEMBERED_REQUESTS);
  seen.add(fingerprint(request, options.method));

  for (let index = 0; ; index++) {
    const page = await fetchPage(request, index);
    yield page;
    if (isLastPage(page, options)) return;

    if (index === 0 && (options.concurrency ?? 1) > 1 && strategy.plan) {
      const planned = strategy.plan(page);
      if (planned) {
        if (planned.length + 1 > maxPages) {
          throw new PaginationError(`the API reports ${planned.length + 1} pages, more than pagination.max_pages (${maxPages})`, options.describe(request));
        }
        yield* fetchInOrder(planned, options);
        return;
      }
    }

    const next = strategy.next(page);
    if (!next) return;
    if (index + 1 >= maxPages) {
      throw new PaginationError(`more than pagination.max_pages (${maxPages}) pages; raise it if this API really has that many`, options.describe(next));
    }
    if (next.url.origin !== origin) {
      throw new PaginationError(`next page URL leaves the API's origin ${origin}; refusing to send credentials there`, options.describe(next));
    }
    const earlier = seen.add(fingerprint(next, options.method));
    // Nothing can be lost by ending there: asking again would return the same empty page.
    if (earlier === index && page.response.recordCount === 0) return;
    if (earlier !== undefined) {
      throw new PaginationError(
        `page ${index + 2} would repeat the request of page ${earlier + 1} (${earlier === index ? 'the cursor did not advance' : `the cursor went round in a cycle of ${index + 1 - earlier} pages`})`,
        options.describe(next),
      );
    }
    request = next;
  }
}

/** Fetches planned pages with at most `concurrency` in flight, yielding them in order. */
async function* fetchInOrder(planned: readonly PageRequest[], options: PaginateOptions): AsyncGenerator<PageContext> {
  const limit = options.concurrency ?? 1;
  const inFlight: Promise<PageContext>[] = [];
  let nextToStart = 0;
  const start = () => {
    const index = nextToStart++;
    const promise = options.fetchPage(planned[index]!, index + 1);
    // Pages abandoned after an early stop or a failure must not surface as unhandled rejections.
    promise.catch(() => undefined);
    inFlight.push(promise);
  };
  while (nextToStart < planned.length && inFlight.length < limit) start();
  while (inFlight.length > 0) {
    const page = await inFlight.shift()!;
    yield page;
    if (isLastPage(page, options)) return;
    if (nextToStart < planned.length) start();
  }
}

function isLastPage(page: PageContext, options: PaginateOptions): boolean {
  if (page.response.recordCount === 0 && options.strategy.endsOnEmptyPage) return true;
  if (options.stopAfter?.(page)) return true;
  return options.stopWhen !== undefined && isTruthy(evaluate(options.stopWhen, page.response.body));
}

/**
 * What identifies a request: method, URL with its query parameters in a canonical order (an API
 * that shuffles them must not slip past), body, and the headers paging set (a cursor `in: header`).
 */
function fingerprint(request: PageRequest, method = request.body === undefined ? 'GET' : 'POST'): string {
  const url = new URL(request.url);
  url.searchParams.sort();
  url.hash = '';
  const body = request.body === undefined ? '' : JSON.stringify(request.body);
  const headers = request.headers === undefined ? '' : JSON.stringify(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]).sort());
  return createHash('sha256').update(`${method} ${url.href}\n${body}\n${headers}`).digest('base64');
}

/** A bounded set of fingerprints, remembering the page index of each; the oldest go first. */
class RequestFingerprints {
  private readonly pages = new Map<string, number>();
  private count = 0;

  constructor(private readonly limit: number) {}

  /** Remembers a request; returns the index of the earlier page that made it, if any. */
  add(key: string): number | undefined {
    const earlier = this.pages.get(key);
    if (earlier !== undefined) return earlier;
    this.pages.set(key, this.count++);
    // A Map iterates in insertion order, so its first key is the oldest.
    if (this.pages.size > this.limit) this.pages.delete(this.pages.keys().next().value!);
    return undefined;
  }
}
