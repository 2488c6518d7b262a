/**
 * One page of a stream: the request sent through the source's client, and its body read as it
 * arrives into records kept as the API's bytes (body/readPageBody.ts).
 */

import { ApilakeError, HttpNetworkError, HttpStatusError, RecordsPathError } from '../errors.js';
import { readPageBody, type EarlyLanding, type PageBody, type PageReading } from '../body/readPageBody.js';
import type { PageStats } from '../body/RecordParser.js';
import type { BudgetConfig } from '../config/responseRuleSchema.js';
import type { HttpClient, HttpRequest, HttpStats } from '../http/HttpClient.js';
import type { HttpResponse } from '../http/HttpRequest.js';
import { networkReason } from '../http/networkReason.js';
import { checkPartial, resumePlan, validatorFields } from '../http/resumableBody.js';
import { mayMatchStatus, type ResponseRule } from '../http/responseRules.js';
import type { PageResponse } from '../pagination/PaginationStrategy.js';
import { applyBodyRules } from './applyBodyRules.js';

/** A version of a file, by what a range request for the rest of it must match. */
export interface FileVersion {
  /** The strong validator the file was first sent with (an ETag, or a Last-Modified that is one), for `If-Range`. */
  readonly validator: string;
  /** The file's length in bytes. */
  readonly length: number;
}

/** Where a file is taken up: the byte just after the last record's line landed from it. */
export interface FilePosition extends FileVersion {
  readonly offset: number;
}

/** A page that is one file, which a later request may take up within. */
export interface FilePage {
  /** Ask for the file's rest from here (`Range`, `If-Range`). @default the whole file */
  readonly from?: FilePosition;
  /** The error for a file host that answers with anything but the rest of the same file. */
  readonly stale: (why: string) => Error;
}

/** A page as the engine lands it: what pagination reads, and the records as the API's bytes. */
export interface FetchedPage extends PageResponse, PageBody {
  readonly status: number;
  /** A response rule ignored the response: the page holds no records and ends its paging. */
  readonly ignored?: boolean;
  /**
   * The page is a file that can be taken up within, after any record that says where its line
   * ends ({@link RecordBatch.end}): it came without a content coding, from a host that takes byte
   * ranges, with a strong validator and a length. @default only whole
   */
  readonly file?: FileVersion;
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
  /** The page is one file, perhaps taken up within. @default a page */
  readonly file?: FilePage;
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
  const from = options.file?.from;
  // RFC 9110 §14.2 and §13.1.5: the rest of the file if it is still the version the position is in, else all of it (refused below). identity: offsets count the bytes as sent.
  const ranged = from ? { ...request, headers: { ...request.headers, range: `bytes=${from.offset}-`, 'if-range': from.validator, 'accept-encoding': 'identity' } } : request;
  let file: FileVersion | undefined;
  const result = await client
    .request<PageBody & { ignored?: boolean }>(ranged, {
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
        if (options.file) file = from ? takenUp(response, from, options.file.stale) : versionOf(response);
        const fileReading = file ? { ...reading, fileOffset: from?.offset ?? 0 } : reading;
        let page: PageBody;
        try {
          page = await readPageBody(response, fileReading, origin, options.landing, progress);
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
    })
    .catch((error: unknown) => {
      // A validator that still matches, for fewer bytes than the position: the file is not the one it was.
      if (from && error instanceof HttpStatusError && error.status === 416)
        throw options.file.stale(`its host answers HTTP 416 (Range Not Satisfiable) to a request for its bytes from ${from.offset} on`);
      throw error;
    });
  return { status: result.status, headers: result.headers, url: result.url, ...result.body, ...(file && !result.body.ignored ? { file } : {}) };
}

/** The version of a whole file that can be taken up within, if it can. */
function versionOf(response: HttpResponse): FileVersion | undefined {
  const plan = resumePlan(response.headers);
  return plan.ifRange !== undefined && plan.length !== undefined && plan.length > 0 ? { validator: plan.ifRange, length: plan.length } : undefined;
}

/** The file version of an answer to a request for the rest of a file from `from`. @throws what `stale` makes, when the answer is not that rest */
function takenUp(response: HttpResponse, from: FilePosition, stale: (why: string) => Error): FileVersion {
  const refuse = (why: string) => {
    response.discard();
    return stale(why);
  };
  if (response.status !== 206) {
    throw refuse(
      `asked for its bytes from ${from.offset} on if it is still version ${from.validator}, its host answered HTTP ${response.status} with the whole file (it changed, or the host ignores ranges)`,
    );
  }
  const partial = checkPartial(response.headers, from.offset, { ifRange: from.validator, length: from.length, ...validatorFields(from.validator) });
  if ('problem' in partial) throw refuse(`asked for its bytes from ${from.offset} on, its host answered ${partial.problem}`);
  return { validator: from.validator, length: from.length };
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
