/**
 * One page of a stream: the request sent through the source's client, and its body read as it
 * arrives into records kept as the API's bytes (body/readPageBody.ts).
 */

import { ApilakeError, HttpNetworkError } from '../errors.js';
import { readPageBody, type EarlyLanding, type PageBody, type PageReading } from '../body/readPageBody.js';
import type { HttpClient, HttpRequest, HttpStats } from '../http/HttpClient.js';
import { networkReason } from '../http/networkReason.js';
import type { PageResponse } from '../pagination/PaginationStrategy.js';

/** A page as the engine lands it: what pagination reads, and the records as the API's bytes. */
export interface FetchedPage extends PageResponse, PageBody {
  readonly status: number;
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
  const result = await client.request(request, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stats ? { stats: options.stats } : {}),
    read: async (response) => {
      const progress = { landedRecords: 0 };
      // The request is described only when an error quotes it: redacting a URL on every page costs the next request's start.
      const origin = {
        page: options.page,
        get request() {
          return response.describe();
        },
        redact: response.redact,
      };
      try {
        return await readPageBody(response, reading, origin, options.landing, progress);
      } catch (error) {
        if (error instanceof ApilakeError || progress.landedRecords === 0) throw error;
        throw new HttpNetworkError(
          `${networkReason(error)}, after ${progress.landedRecords} records of this page had landed; a page cannot be resumed, so the window fails (its retry lands the page whole)`,
          response.describe(),
          { cause: error },
        );
      }
    },
  });
  return { status: result.status, headers: result.headers, url: result.url, ...result.body };
}
