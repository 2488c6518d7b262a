/**
 * One page of a stream: the request sent through the source's client, and its body read as it
 * arrives into records kept as the API's bytes (body/readPageBody.ts).
 */

import { ApilakeError, HttpNetworkError, RecordsPathError } from '../errors.js';
import { readPageBody, type EarlyLanding, type PageBody, type PageReading } from '../body/readPageBody.js';
import type { PageStats } from '../body/RecordParser.js';
import type { BudgetConfig } from '../config/responseRuleSchema.js';
import type { HttpClient, HttpRequest, HttpStats } from '../http/HttpClient.js';
import type { HttpResponse } from '../http/HttpRequest.js';
import { networkReason } from '../http/networkReason.js';
import { mayMatchStatus, type ResponseRule } from '../http/responseRules.js';
import type { PageResponse } from '../pagination/PaginationStrategy.js';
import { applyBodyRules } from './applyBodyRules.js';

/** A page as the engine lands it: what pagination reads, and the records as the API's bytes. */
export interface FetchedPage extends PageResponse, PageBody {
  readonly status: number;
  /** A response rule ignored the response: the page holds no records and ends its paging. */
  readonly ignored?: boolean;
}

/** Options of {@link fetchPage}. */
export interface FetchPageOptions {
  /** 1-based page number, for messages. */
  readonly page: number;
  readonly signal?: AbortSignal;
  /** The window's counters. */
  readonly stats?: HttpStats;
  /** Lands the page's records while its body arrives, once its turn has come. @default the page lands after its body ends */
  readonly landing?: EarlyLanding;
  /** The stream's response rules, then the source's. @default none */
  readonly rules?: readonly ResponseRule[];
  /** `rate_limit.budget`, for a rule's `wait: budget`. */
  readonly budget?: BudgetConfig;
}

/**
 * Fetches a page. A body that is not a valid page fails at once, never retried; a connection that
 * breaks while the body arrives is retried, unless records of the page already landed early: a
 * retry would land them twice, so the window fails instead (its parts are discarded, and a later
 * run lands the page whole).
 * @throws what HttpClient.request throws, and PageTooLargeError, ResponseEncodingError,
 *   JsonSyntaxError, JsonNestingError, RecordsPathError
 */
export async function fetchPage(client: HttpClient, request: HttpRequest, reading: PageReading, options: FetchPageOptions): Promise<FetchedPage> {
  const rules = options.rules ?? [];
  const result = await client.request<PageBody & { ignored?: boolean }>(request, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stats ? { stats: options.stats } : {}),
    ...(rules.length > 0 ? { rules, ignore: (ignored) => ignoredPage(ignored.body, reading) } : {}),
    read: async (response) => {
      const progress = { landedRecords: 0 };
      // The request is described only when an error quotes it: redacting a URL on every page costs the next request's start.
      const origin = {
        page: options.page,
        get request() {
          return response.describe();
        },
        redact: (text: string) => response.redact(text),
      };
      const judge = (body: () => unknown) =>
        applyBodyRules({ rules, response, body, landedRecords: progress.landedRecords, nowMs: client.clock.now(), ...(options.budget ? { budget: options.budget } : {}) });
      let page: PageBody;
      try {
        page = await readPageBody(response, reading, origin, options.landing, progress);
      } catch (error) {
        if (error instanceof RecordsPathError && error.body !== undefined) {
          // A body without records may be the API's way of saying something: its budget and the rules read it.
          response.observeBody?.(error.body);
          if (rules.length > 0 && judge(() => error.body) === 'ignore') return ignoredPage(error.body, reading, response);
          throw error;
        }
        if (error instanceof ApilakeError || progress.landedRecords === 0) throw error;
        throw new HttpNetworkError(
          `${networkReason(error)}, after ${progress.landedRecords} records of this page had landed; a page cannot be resumed, so the window fails (its retry lands the page whole)`,
          response.describe(),
          { cause: error },
        );
      }
      // The body is parsed for these only when they are there: a page without them is never parsed beyond its records.
      response.observeBody?.(page.body);
      if (rules.length > 0 && mayMatchStatus(rules, response.status) && judge(() => page.body) === 'ignore') return ignoredPage(page.body, reading, response);
      return page;
    },
  });
  return { status: result.status, headers: result.headers, url: result.url, ...result.body };
}

/** A page a rule ignored: no records, its body kept for messages. */
function ignoredPage(body: unknown, reading: PageReading, response?: HttpResponse): PageBody & { ignored: true } {
  const bytes = Number(response?.headers.get('content-length') ?? 0) || 0;
  const stats: PageStats = {
    bytes,
    records: 0,
    recordBytes: 0,
    encoding: reading.encoding ?? 'strict',
    bom: false,
    replacedChars: 0,
    transcodedChars: 0,
    reserialisedRecords: 0,
  };
  return { batches: [], recordCount: 0, body, stats, landedRecords: 0, ignored: true };
}
