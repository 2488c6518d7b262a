/**
 * Walks the pages of one stream window: asks the strategy for each next request, applies the
 * stop conditions every strategy shares, and fetches known page ranges concurrently while
 * still yielding pages in order.
 */

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
}

/**
 * Yields the pages of a window in order. Stops on an empty page, on `stop_when`, or when the
 * strategy has no next request.
 * @throws PaginationError when `max_pages` would be exceeded, a request repeats, or a next URL leaves the API's origin.
 */
export async function* paginate(options: PaginateOptions): AsyncGenerator<PageContext> {
  const { strategy, fetchPage, maxPages } = options;
  const origin = options.first.url.origin;
  let request = strategy.first(options.first);
  let previousKey: string | undefined;

  for (let index = 0; ; index++) {
    const page = await fetchPage(request, index);
    yield page;
    if (isLastPage(page, options.stopWhen)) return;

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
    const key = requestKey(next);
    if (key === requestKey(request) || key === previousKey) {
      throw new PaginationError('next page request repeats an earlier one (the cursor did not advance)', options.describe(next));
    }
    previousKey = requestKey(request);
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
    if (isLastPage(page, options.stopWhen)) return;
    if (nextToStart < planned.length) start();
  }
}

function isLastPage(page: PageContext, stopWhen: string | undefined): boolean {
  if (page.records.length === 0) return true;
  return stopWhen !== undefined && isTruthy(evaluate(stopWhen, page.response.body));
}

function requestKey(request: PageRequest): string {
  return `${request.url.href}\n${request.body === undefined ? '' : JSON.stringify(request.body)}`;
}
