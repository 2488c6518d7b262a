/** The interface every pagination strategy implements (one strategy per file in strategies/). */

import type { ResponseHeaders } from '../http/Transport.js';

/** What varies between the requests of one stream's pages. */
export interface PageRequest {
  readonly url: URL;
  /** JSON body of POST streams. */
  readonly body?: unknown;
  /** Headers of this request on top of the source's and the stream's (a cursor sent `in: header`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** What strategies and stop conditions read of a page's response. */
export interface PageResponse {
  readonly headers: ResponseHeaders;
  /** The URL requested, for resolving relative next links. */
  readonly url: URL;
  /** The body as expressions read it (`meta.next_cursor`, `data[-1].id`, `length(data)`). */
  readonly body: unknown;
  /** Records the page holds. */
  readonly recordCount: number;
}

/** A fetched page as strategies see it; `R` is what the fetcher returns, at least a {@link PageResponse}. */
export interface PageContext<R extends PageResponse = PageResponse> {
  readonly request: PageRequest;
  readonly response: R;
  /** 0-based position of the page in the window. */
  readonly index: number;
}

/**
 * Turns one response into the next request (one strategy per file in strategies/). What ends
 * paging besides the strategy itself (`stop_when`, an incremental stream past its window) wraps
 * any strategy as a stop condition (stopConditions.ts); `max_pages`, repeated requests and the
 * origin rule are `paginate`'s.
 */
export interface PaginationStrategy<R extends PageResponse = PageResponse> {
  /** The first page's request, from the stream's templated request. @default that request as is */
  first?(base: PageRequest): PageRequest;
  /** The next page's request, or `undefined` when the response says there is none. */
  next(page: PageContext<R>): PageRequest | undefined;
  /**
   * When the first response reports a total: every remaining request, so pages can be fetched
   * concurrently. `undefined` when the total is unknown (paging stays sequential).
   */
  plan?(first: PageContext<R>): PageRequest[] | undefined;
  /**
   * For strategies whose requests depend only on the page's position (page number, offset): the
   * request of page `index` (0-based), so pages can be fetched ahead when no total is reported.
   */
  at?(first: PageRequest, index: number): PageRequest;
  /**
   * Whether paging ends after this page, checked before any request that follows it. Page numbers
   * and offsets end on an empty page, their only end signal; a cursor or next URL that comes with
   * an empty page is followed, since APIs send empty pages mid-stream (filtered or deleted records).
   * @default false
   */
  isLast?(page: PageContext<R>): boolean;
}

/** A copy of `request` with query parameters set. */
export function withParams(request: PageRequest, params: Readonly<Record<string, string | number>>): PageRequest {
  const url = new URL(request.url);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return { ...request, url };
}
