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
 *
 * A walk can stop at a page boundary and be continued elsewhere: {@link PageWalk.position} is
 * where it stands after the page just handed over (a {@link PagingToken}, JSON), and a walk given
 * that token as `resume` goes on from the next page as if it had never stopped, with `until`
 * bounding how far one run of it goes.
 */

import { createHash } from 'node:crypto';
import { PaginationError } from '../errors.js';
import type { PageContext, PageRequest, PageResponse, PaginationStrategy } from './PaginationStrategy.js';
import { PagesInFlight, type PageFetcher } from './PagesInFlight.js';
import { loadRequest, RESUMED_FINGERPRINTS, storeRequest, type PagingToken } from './PagingToken.js';

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
  /** Continue a walk from where a {@link PageWalk.position} said it stood. @default the first page */
  readonly resume?: PagingToken;
  /**
   * The request as a stored position may hold it and as its fingerprint is taken: without the
   * credentials the client adds to every request (an API's next-page link may echo a query-string
   * key back). The walk still sends the request as the strategy built it. @default the request as is
   */
  readonly storable?: (request: PageRequest) => PageRequest;
  /**
   * Page index (0-based, of the whole walk) this run of the walk stops before: no request for it
   * or beyond goes out, and the position after the last page says where to go on. @default none
   */
  readonly until?: number;
}

/** The pages of a walk, and where it stands after each. */
export interface PageWalk<R extends PageResponse = PageResponse> extends AsyncGenerator<PageContext<R>> {
  /**
   * Where the walk stands after the page it handed over last: the token that continues it, or
   * undefined when that page was the last. Valid until the next page is asked for.
   * @throws PaginationError when the walk fails right after that page (max_pages, a repeated request)
   */
  position(): PagingToken | undefined;
}

/** What a walk knows about what comes after the page it hands over. */
type Mark =
  | { readonly kind: 'end' }
  | { readonly kind: 'fail'; readonly error: PaginationError }
  | { readonly kind: 'sequential'; readonly index: number; readonly request: PageRequest }
  | { readonly kind: 'ahead'; readonly index: number; readonly pages?: number; readonly fullPage: number };

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
export function paginate<R extends PageResponse>(options: PaginateOptions<R>): PageWalk<R> {
  const seen = new RequestFingerprints(options.rememberedRequests ?? MAX_REMEMBERED_REQUESTS);
  const state: { mark: Mark } = { mark: { kind: 'end' } };
  const pages = (async function* () {
    const inFlight = new PagesInFlight<R>(options.fetchPage, options.signal, options.resume?.index ?? 0);
    try {
      yield* walk(options, inFlight, seen, state);
    } finally {
      inFlight.abandon();
    }
  })();
  return Object.assign(pages, {
    position(): PagingToken | undefined {
      const { mark } = state;
      switch (mark.kind) {
        case 'end':
          return undefined;
        case 'fail':
          throw mark.error;
        case 'sequential':
          return { kind: 'sequential', index: mark.index, request: storeRequest(options.storable?.(mark.request) ?? mark.request), seen: seen.recent() };
        case 'ahead':
          return { kind: 'ahead', index: mark.index, ...(mark.pages === undefined ? {} : { pages: mark.pages }), fullPage: mark.fullPage };
      }
    },
  });
}

async function* walk<R extends PageResponse>(options: PaginateOptions<R>, inFlight: PagesInFlight<R>, seen: RequestFingerprints, state: { mark: Mark }): AsyncGenerator<PageContext<R>> {
  const { strategy, maxPages, resume } = options;
  const concurrency = options.concurrency ?? 1;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  const origin = options.first.url.origin;
  const firstRequest = strategy.first?.(options.first) ?? options.first;
  if (resume && until <= resume.index) throw new Error(`a walk continued at page ${resume.index + 1} must be allowed past it (until ${until})`);

  if (resume?.kind === 'ahead') {
    if (!strategy.at) throw new PaginationError('cannot continue paging from the stored position: this pagination has no positional pages', options.describe(firstRequest));
    const at = strategy.at.bind(strategy);
    yield* fetchAhead(
      options,
      inFlight,
      state,
      { requestAt: (k) => at(firstRequest, k), ...(resume.pages === undefined ? {} : { pages: resume.pages }) },
      { index: resume.index, fullPage: resume.fullPage },
    );
    return;
  }

  let request: PageRequest;
  let start = 0;
  if (resume) {
    request = loadRequest(resume.request);
    start = resume.index;
    seen.seed(resume.index - resume.seen.length + 1, resume.seen);
  } else {
    request = firstRequest;
    seen.add(fingerprint(options.storable?.(request) ?? request, options.method));
  }
  inFlight.start(request, start);

  for (let index = start; ; index++) {
    const page = await inFlight.take(index);
    if (isLastPage(page, options)) {
      state.mark = { kind: 'end' };
      yield page;
      return;
    }

    if (index === 0 && concurrency > 1) {
      const planned = strategy.plan?.(page);
      if (planned) {
        if (planned.length + 1 > maxPages) {
          const error = new PaginationError(`the API reports ${planned.length + 1} pages, more than pagination.max_pages (${maxPages})`, options.describe(request));
          state.mark = { kind: 'fail', error };
          yield page;
          throw error;
        }
        yield* fetchAhead(options, inFlight, state, { requestAt: (k) => planned[k - 1]!, pages: planned.length + 1 }, { index: 1, fullPage: page.response.recordCount, first: page });
        return;
      }
      if (strategy.at) {
        const at = strategy.at.bind(strategy);
        yield* fetchAhead(options, inFlight, state, { requestAt: (k) => at(page.request, k) }, { index: 1, fullPage: page.response.recordCount, first: page });
        return;
      }
    }

    // Sequential: the next request is known from this response, so it goes out before this page lands.
    const next = strategy.next(page);
    const verdict = next ? judgeNext(next, page, origin, seen, options) : 'end';
    if (verdict === 'go' && index + 1 < until) {
      inFlight.start(next!, index + 1);
      await letRequestsLeave();
    }
    state.mark = verdict === 'go' ? { kind: 'sequential', index: index + 1, request: next! } : verdict === 'end' ? { kind: 'end' } : { kind: 'fail', error: verdict };
    yield page;
    inFlight.landed(index);
    if (verdict instanceof PaginationError) throw verdict;
    if (verdict === 'end' || index + 1 >= until) return;
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
  // Taken without credentials: a position stores fingerprints, and they stay comparable across a resume.
  const earlier = seen.add(fingerprint(options.storable?.(next) ?? next, options.method));
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

/** Where a positional walk starts: page `index`, with the record count of a full page; `first` is page 0 when it was just fetched. */
interface AheadStart<R extends PageResponse> {
  readonly index: number;
  readonly fullPage: number;
  readonly first?: PageContext<R>;
}

/**
 * Yields pages in order from `from.index` with up to `concurrency` in flight (after page 0, when
 * the walk has just fetched it, or from a stored position). With a total, the window is full
 * from the start. Without one, every page past the end is a wasted request, so the window grows
 * from 2 as pages come back full, and shrinks to the one page that can confirm the end after a
 * page shorter than the first.
 */
async function* fetchAhead<R extends PageResponse>(options: PaginateOptions<R>, inFlight: PagesInFlight<R>, state: { mark: Mark }, ahead: Ahead, from: AheadStart<R>): AsyncGenerator<PageContext<R>> {
  const { maxPages } = options;
  const concurrency = options.concurrency ?? 1;
  const known = ahead.pages !== undefined;
  /** Where the walk ends: its total, or max_pages. */
  const total = Math.min(ahead.pages ?? Number.POSITIVE_INFINITY, maxPages);
  /** Where this run of it ends. */
  const end = Math.min(total, options.until ?? Number.POSITIVE_INFINITY);
  const { fullPage } = from;
  // Pages started ahead of the last landed one. Twice that (so an arrived page waiting to land
  // never holds back a request) measured no faster, and would double the memory of large pages.
  const widest = concurrency;
  let window = known ? widest : Math.min(2, concurrency);
  /** No page at or past this index is started (set by a short page). */
  let horizon = Number.POSITIVE_INFINITY;
  let nextToStart = from.index;
  /** Starts the pages the window allows; whether it started any. */
  const fill = (landedUpTo: number) => {
    const before = nextToStart;
    while (nextToStart < end && nextToStart < horizon && nextToStart <= landedUpTo + window) inFlight.start(ahead.requestAt(nextToStart), nextToStart++);
    return nextToStart > before;
  };
  const maxPagesError = () => new PaginationError(`more than pagination.max_pages (${maxPages}) pages; raise it if this API really has that many`, options.describe(ahead.requestAt(maxPages)));
  /** What follows page `index`, when it is not the last by its own content. */
  const after = (index: number): Mark => {
    if (index + 1 < total) return { kind: 'ahead', index: index + 1, ...(known ? { pages: ahead.pages } : {}), fullPage };
    return known ? { kind: 'end' } : { kind: 'fail', error: maxPagesError() };
  };

  if (from.first) {
    if (fill(0)) await letRequestsLeave();
    state.mark = after(0);
    yield from.first;
    inFlight.landed(0);
  }
  for (let index = from.index; index < end; index++) {
    fill(index - 1);
    const page = await inFlight.take(index);
    if (isLastPage(page, options)) {
      state.mark = { kind: 'end' };
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
    state.mark = after(index);
    yield page;
    inFlight.landed(index);
  }
  if (!known && end === maxPages) throw maxPagesError();
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
 * 128 bits of SHA-256: a chance collision among a window's requests is beyond any real count.
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
  return createHash('sha256').update(`${method} ${url.href}\n${body}\n${headers}`).digest().subarray(0, 16).toString('base64url');
}

/** A bounded set of fingerprints, remembering the page index of each; the oldest go first. */
class RequestFingerprints {
  private readonly pages = new Map<string, number>();
  private count = 0;
  /** The last {@link RESUMED_FINGERPRINTS} added, a ring, for a stored position. */
  private readonly last: string[] = [];
  private added = 0;

  constructor(private readonly limit: number) {}

  /** Remembers a request; returns the index of the earlier page that made it, if any. */
  add(key: string): number | undefined {
    const earlier = this.pages.get(key);
    if (earlier !== undefined) return earlier;
    this.pages.set(key, this.count++);
    this.last[this.added++ % RESUMED_FINGERPRINTS] = key;
    // A Map iterates in insertion order, so its first key is the oldest.
    if (this.pages.size > this.limit) this.pages.delete(this.pages.keys().next().value!);
    return undefined;
  }

  /** Remembers the requests of pages `from`, `from + 1`… of a walk continued from a stored position. */
  seed(from: number, keys: readonly string[]): void {
    this.count = from;
    for (const key of keys) this.add(key);
  }

  /** The fingerprints a stored position carries, oldest first. */
  recent(): string[] {
    if (this.added <= RESUMED_FINGERPRINTS) return this.last.slice(0, this.added);
    const at = this.added % RESUMED_FINGERPRINTS;
    return [...this.last.slice(at), ...this.last.slice(0, at)];
  }
}
