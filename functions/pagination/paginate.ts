/**
 * Walks the pages of one stream window: asks the strategy for each next request, applies the
 * stop conditions every strategy shares, and keeps the next requests in flight while the consumer
 * lands a page, still yielding pages strictly in order:
 * - sequential strategies (cursor, next_url, link_header): the next request starts as soon as the
 *   response names it, before the page is landed;
 * - a reported total (page_number, offset): the remaining pages, `concurrency` at a time;
 * - page_number/offset without a total: a window of pages fetched ahead, growing from 2 to
 *   `concurrency`, ended by the first empty page or `stop_when` like the sequential walk; pages
 *   fetched past the end are aborted and never yielded.
 * Every stop condition is checked on a page before any request that follows it goes out, and
 * the requests a page lets start are written to their sockets before that page is handed to the
 * consumer (unless they must wait: for a token, a slot, a new connection).
 */

import { createHash } from 'node:crypto';
import { PaginationError } from '../errors.js';
import type { PageContext, PageRequest, PageResponse, PaginationStrategy } from './PaginationStrategy.js';
import { PagesInFlight, type PageFetcher } from './PagesInFlight.js';

export type { PageFetcher, PageSlot } from './PagesInFlight.js';

/** How to walk the pages. */
export interface PaginateOptions<R extends PageResponse = PageResponse> {
  readonly strategy: PaginationStrategy<NoInfer<R>>;
  readonly first: PageRequest;
  readonly fetchPage: PageFetcher<R>;
  readonly maxPages: number;
  /** Pages fetched at once when the strategy can plan or predict them. @default 1 */
  readonly concurrency?: number;
  /** Redacts URLs for error messages. */
  readonly describe: (request: PageRequest) => string;
  /** The stream's method, part of each request's fingerprint. @default 'GET', or 'POST' when the request has a body */
  readonly method?: string;
  /** How many request fingerprints to remember. @default MAX_REMEMBERED_REQUESTS */
  readonly rememberedRequests?: number;
  /** Aborts every page in flight (each page's {@link PageSlot.signal} follows it). */
  readonly signal?: AbortSignal;
}

/**
 * Request fingerprints remembered per window to detect a cursor that cycles (A→B→C→A). Past
 * this many requests the oldest are forgotten: a cycle longer than that is still stopped by
 * `max_pages` (default 10,000, below this bound), never by running forever. 32-byte digests
 * keep the set near 10 MB at the bound, however long the URLs and bodies are.
 */
export const MAX_REMEMBERED_REQUESTS = 100_000;

/**
 * Yields the pages of a window in order. Stops after a page the strategy calls the last (an empty
 * page of page numbers or offsets, `stop_when`, any stop condition wrapped around it) and when it
 * has no next request.
 * An empty page whose next request would repeat its own is the end of a caught-up cursor.
 * A consumer that stops early (or fails) aborts the pages in flight.
 * @throws PaginationError when `max_pages` would be exceeded, a request repeats, or a next URL leaves the API's origin.
 */
export async function* paginate<R extends PageResponse>(options: PaginateOptions<R>): AsyncGenerator<PageContext<R>> {
  const inFlight = new PagesInFlight<R>(options.fetchPage, options.signal);
  try {
    yield* walk(options, inFlight);
  } finally {
    inFlight.abandon();
  }
}

async function* walk<R extends PageResponse>(options: PaginateOptions<R>, inFlight: PagesInFlight<R>): AsyncGenerator<PageContext<R>> {
  const { strategy, maxPages } = options;
  const concurrency = options.concurrency ?? 1;
  const origin = options.first.url.origin;
  const seen = new RequestFingerprints(options.rememberedRequests ?? MAX_REMEMBERED_REQUESTS);
  let request = strategy.first?.(options.first) ?? options.first;
  seen.add(fingerprint(request, options.method));
  inFlight.start(request, 0);

  for (let index = 0; ; index++) {
    const page = await inFlight.take(index);
    if (isLastPage(page, options)) {
      yield page;
      return;
    }

    if (index === 0 && concurrency > 1) {
      const planned = strategy.plan?.(page);
      if (planned) {
        if (planned.length + 1 > maxPages) {
          yield page;
          throw new PaginationError(`the API reports ${planned.length + 1} pages, more than pagination.max_pages (${maxPages})`, options.describe(request));
        }
        yield* fetchAhead(page, options, inFlight, { requestAt: (k) => planned[k - 1]!, pages: planned.length + 1 });
        return;
      }
      if (strategy.at) {
        const at = strategy.at.bind(strategy);
        yield* fetchAhead(page, options, inFlight, { requestAt: (k) => at(page.request, k) });
        return;
      }
    }

    // Sequential: the next request is known from this response, so it goes out before this page lands.
    const next = strategy.next(page);
    const verdict = next ? judgeNext(next, page, origin, seen, options) : 'end';
    if (verdict === 'go') {
      inFlight.start(next!, index + 1);
      await letRequestsLeave();
    }
    yield page;
    inFlight.landed(index);
    if (verdict instanceof PaginationError) throw verdict;
    if (verdict === 'end') return;
    request = next!;
  }
}

/** Whether the walk goes on from `page` to `next`, ends there, or fails (with why). */
function judgeNext<R extends PageResponse>(next: PageRequest, page: PageContext<R>, origin: string, seen: RequestFingerprints, options: PaginateOptions<R>): 'go' | 'end' | PaginationError {
  const { maxPages } = options;
  const { index } = page;
  if (index + 1 >= maxPages) {
    return new PaginationError(`more than pagination.max_pages (${maxPages}) pages; raise it if this API really has that many`, options.describe(next));
  }
  if (next.url.origin !== origin) {
    return new PaginationError(`next page URL leaves the API's origin ${origin}; refusing to send credentials there`, options.describe(next));
  }
  const earlier = seen.add(fingerprint(next, options.method));
  // Nothing can be lost by ending there: asking again would return the same empty page.
  if (earlier === index && page.response.recordCount === 0) return 'end';
  if (earlier !== undefined) {
    return new PaginationError(
      `page ${index + 2} would repeat the request of page ${earlier + 1} (${earlier === index ? 'the cursor did not advance' : `the cursor went round in a cycle of ${index + 1 - earlier} pages`})`,
      options.describe(next),
    );
  }
  return 'go';
}

/** Pages 1… requested ahead of the consumer. */
interface Ahead {
  readonly requestAt: (index: number) => PageRequest;
  /** Pages in all, when the API reported a total; otherwise the walk ends at the first empty page. */
  readonly pages?: number;
}

/**
 * Yields pages 1… in order with up to `concurrency` in flight. With a total, the window is full
 * from the start. Without one, every page past the end is a wasted request, so the window grows
 * from 2 as pages come back full, and shrinks to the one page that can confirm the end after a
 * page shorter than the first.
 */
async function* fetchAhead<R extends PageResponse>(first: PageContext<R>, options: PaginateOptions<R>, inFlight: PagesInFlight<R>, ahead: Ahead): AsyncGenerator<PageContext<R>> {
  const { maxPages } = options;
  const concurrency = options.concurrency ?? 1;
  const known = ahead.pages !== undefined;
  const end = Math.min(ahead.pages ?? Number.POSITIVE_INFINITY, maxPages);
  const fullPage = first.response.recordCount;
  // Pages started ahead of the last landed one. Twice that (so an arrived page waiting to land
  // never holds back a request) measured no faster, and would double the memory of large pages.
  const widest = concurrency;
  let window = known ? widest : Math.min(2, concurrency);
  /** No page at or past this index is started (set by a short page). */
  let horizon = Number.POSITIVE_INFINITY;
  let nextToStart = 1;
  /** Starts the pages the window allows; whether it started any. */
  const fill = (landedUpTo: number) => {
    const before = nextToStart;
    while (nextToStart < end && nextToStart < horizon && nextToStart <= landedUpTo + window) inFlight.start(ahead.requestAt(nextToStart), nextToStart++);
    return nextToStart > before;
  };

  if (fill(0)) await letRequestsLeave();
  yield first;
  inFlight.landed(0);
  for (let index = 1; index < end; index++) {
    fill(index - 1);
    const page = await inFlight.take(index);
    if (isLastPage(page, options)) {
      yield page;
      return;
    }
    if (!known) {
      // A short page is often the last: only the page that can confirm it goes out. A full one after it
      // proves it was not (an API may trim a page), and the window opens again.
      if (page.response.recordCount < fullPage) horizon = index + 2;
      else {
        horizon = Number.POSITIVE_INFINITY;
        window = Math.min(widest, window * 2);
      }
    }
    if (fill(index)) await letRequestsLeave();
    yield page;
    inFlight.landed(index);
  }
  if (!known && end === maxPages) {
    throw new PaginationError(`more than pagination.max_pages (${maxPages}) pages; raise it if this API really has that many`, options.describe(ahead.requestAt(maxPages)));
  }
}

/**
 * One turn of the event loop, so requests just started are written to their sockets before the
 * consumer lands a page. node:http attaches a kept-alive socket to a new request in a
 * process.nextTick (`ClientRequest.prototype.onSocket`, lib/_http_client.js), and the request's
 * own promise steps (auth, slot, rate limit) are microtasks: all of them would otherwise wait
 * behind the landing's synchronous work (records to gzip, to the Parquet hand-over), which
 * delayed every sequential page by 0.3–0.5 ms (bench/run.ts, T1, measured per request).
 * setImmediate runs after every pending microtask and tick. A request that truly waits (a token,
 * a slot, a pause) does not hold the page back: it goes out when it may.
 */
function letRequestsLeave(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isLastPage<R extends PageResponse>(page: PageContext<R>, options: PaginateOptions<R>): boolean {
  return options.strategy.isLast?.(page) ?? false;
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
  const headers =
    request.headers === undefined
      ? ''
      : JSON.stringify(
          Object.entries(request.headers)
            .map(([k, v]) => [k.toLowerCase(), v])
            .sort(),
        );
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
