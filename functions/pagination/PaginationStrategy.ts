/** The interface every pagination strategy implements (one strategy per file in strategies/). */

import type { PageResponse } from '../http/HttpClient.js';

/** What varies between the requests of one stream's pages. */
export interface PageRequest {
  readonly url: URL;
  /** JSON body of POST streams. */
  readonly body?: unknown;
  /** Headers of this request on top of the source's and the stream's (a cursor sent `in: header`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A fetched page as strategies see it. */
export interface PageContext {
  readonly request: PageRequest;
  /** The response: headers, the body for expressions, and the records as the API's bytes (`batches`). */
  readonly response: PageResponse;
  /** 0-based position of the page in the window. */
  readonly index: number;
}

/**
 * Turns one response into the next request. Stop conditions common to every strategy
 * (`stop_when`, empty page, `max_pages`) live in `paginate`, not here.
 */
export interface PaginationStrategy {
  /** The first page's request, built from the stream's templated request. */
  first(base: PageRequest): PageRequest;
  /** The next page's request, or `undefined` when the response says there is none. */
  next(page: PageContext): PageRequest | undefined;
  /**
   * When the first response reports a total: every remaining request, so pages can be fetched
   * concurrently. `undefined` when the total is unknown (paging stays sequential).
   */
  plan?(first: PageContext): PageRequest[] | undefined;
  /**
   * Whether an empty page ends paging. Only strategies with no other end signal (page numbers,
   * offsets) say yes; a cursor or next URL that comes with an empty page is followed, since APIs
   * send empty pages mid-stream (filtered or deleted records) and stopping there would truncate.
   * @default false
   */
  readonly endsOnEmptyPage?: boolean;
  /**
   * For strategies whose requests depend only on the page's position (page number, offset): the
   * request of page `index` (0-based), so pages can be fetched ahead when no total is reported.
   */
  at?(first: PageRequest, index: number): PageRequest;
}

/** A copy of `request` with query parameters set. */
export function withParams(request: PageRequest, params: Readonly<Record<string, string | number>>): PageRequest {
  const url = new URL(request.url);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return { ...request, url };
}
