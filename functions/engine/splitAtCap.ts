/**
 * Searches that stop at a fixed number of results (HubSpot's search at 10,000, GitHub's at 1,000)
 * would silently drop the rest of a busy window. A part of the window whose first page reports
 * more results than the cap is split in two halves, each paged with its own bounds, recursively,
 * so every result is reachable; all parts land in the window's one commit.
 */

import { PaginationError } from '../errors.js';
import { formatDuration } from '../window/duration.js';
import { describeWindow, type TimeWindow } from '../window/TimeWindow.js';

/** A search cap: the most results one query returns, and the shortest part a window splits into. */
export interface SearchCap {
  readonly limit: number;
  /** Whole seconds, at least 1 s: window placeholders render seconds, so parts split on whole seconds. */
  readonly minSpanMs: number;
}

/** What the splitter reads from a part's first page. */
export interface FirstPageTotal {
  /** The total the response reports, as it came (a count is checked here). */
  readonly total: unknown;
  /** The JMESPath the total was read with, for messages. */
  readonly expression: string;
  /** `POST https://…` redacted, for messages. */
  readonly request: string;
}

const SECOND_MS = 1000;

/**
 * The two halves of `part`, split on a whole second, or undefined when a half would be shorter
 * than `minSpanMs` (or than a second).
 */
export function splitInHalves(part: TimeWindow, minSpanMs: number): [TimeWindow, TimeWindow] | undefined {
  const span = part.end.getTime() - part.start.getTime();
  const half = Math.floor(span / 2 / SECOND_MS) * SECOND_MS;
  if (half < Math.max(minSpanMs, SECOND_MS) || span - half < Math.max(minSpanMs, SECOND_MS)) return undefined;
  const middle = new Date(part.start.getTime() + half);
  return [
    { start: part.start, end: middle },
    { start: middle, end: part.end },
  ];
}

/**
 * The pages of `window`, split into parts until each part's reported total is within the cap.
 * A part's pages are yielded only once its first page says it fits, so nothing of a part that is
 * split lands; parts come in time order, half-open, and cover the window exactly once.
 * @param pagesOf pages one part (its placeholders rendered with the part's bounds)
 * @param totalOf the total of a part's first page
 * @throws PaginationError when a part that cannot be split any more still reports more than the
 *   cap, or the total is not a count
 */
export async function* splitAtCap<P>(window: TimeWindow, cap: SearchCap, pagesOf: (part: TimeWindow) => AsyncGenerator<P>, totalOf: (first: P) => FirstPageTotal): AsyncGenerator<P> {
  const parts: TimeWindow[] = [window];
  while (parts.length > 0) {
    const part = parts.shift()!;
    const pages = pagesOf(part);
    const first = await pages.next();
    if (first.done) continue;
    const reported = totalOf(first.value);
    const total = typeof reported.total === 'number' && Number.isSafeInteger(reported.total) && reported.total >= 0 ? reported.total : undefined;
    if (total === undefined) {
      await pages.return(undefined);
      throw new PaginationError(`max_results: total "${reported.expression}" of the first page is ${JSON.stringify(reported.total) ?? 'missing'}, expected a count of results`, reported.request);
    }
    if (total > cap.limit) {
      // Stops the part's paging (pages fetched ahead are dropped, none has landed).
      await pages.return(undefined);
      const halves = splitInHalves(part, cap.minSpanMs);
      if (!halves) {
        throw new PaginationError(
          `${describeWindow(part)} has ${total} results, more than max_results ${cap.limit}, and cannot be split below ${formatDuration(Math.max(cap.minSpanMs, SECOND_MS))} (max_results.min_span): ` +
            `the search would return only the first ${cap.limit}, so nothing of the window is landed`,
          reported.request,
        );
      }
      parts.unshift(...halves);
      continue;
    }
    yield first.value;
    yield* pages;
  }
}
