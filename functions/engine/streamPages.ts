/**
 * The pages of one stream over one window, as they land: fetched and paged, filtered to the
 * window (`incremental`), and, for a child stream (`parent`), run once per key of its parent
 * stream's records, parents concurrently, pages grouped by parent in parent order.
 */

import { createHash } from 'node:crypto';
import type { ParentConfig, SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { AbortedError, RecordFieldError } from '../errors.js';
import type { HttpClient, HttpStats } from '../http/HttpClient.js';
import { createPaginationStrategy } from '../pagination/createPaginationStrategy.js';
import { paginate, type PageSlot } from '../pagination/paginate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../pagination/PaginationStrategy.js';
import { withStopCondition } from '../pagination/stopConditions.js';
import { IncrementalFilter, type PageOrigin, type PageSelection } from './IncrementalFilter.js';
import { parentKeyOf, selectParentKey, type ParentKey } from './parentKey.js';
import { plainValue } from '../expressions/plainValue.js';
import type { RecordBatch } from '../body/RecordBatch.js';
import { compilePath } from '../expressions/compilePath.js';
import { authBaseUrlField, authFieldsIn } from '../config/authBaseUrl.js';
import { buildFirstRequest, type ParentPlaceholders } from './buildRequest.js';
import { evaluate } from '../expressions/evaluate.js';
import { fetchPage, type FetchedPage, type FileVersion } from './fetchPage.js';
import { inOrderLanes } from './inOrderLanes.js';
import { isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import { jobPages, type DownloadTarget, type JobContext } from './jobPages.js';
import { pagedOncePerRun, type ParentKeyCache } from './ParentKeyCache.js';
import { parseDuration } from '../window/duration.js';
import { rulesFor } from '../http/responseRules.js';
import { splitAtCap } from './splitAtCap.js';
import { isJobDownload, type PagesCursor, type WindowCursor } from './WindowCursor.js';

/** What paging a stream over a window needs. */
export interface StreamPagesInput {
  readonly source: SourceDefinition;
  readonly window: TimeWindow;
  readonly client: HttpClient;
  /** Stops paging between pages and aborts requests in flight. */
  readonly signal?: AbortSignal;
  /** The window's request counters. */
  readonly stats: HttpStats;
  /** The window's page counters, updated as pages arrive. */
  readonly tally: PageTally;
  /**
   * Lands records of page `index` while its body still arrives, once every earlier page has
   * landed (a page too large to hold). Only the stream's own pages and a job's download land early,
   * and only where they land as the API sent them in one sequence: without `incremental` (records
   * are selected per page) and without `parent` (parents page concurrently). Those batches are not
   * yielded again.
   */
  readonly landEarly?: (index: number, batch: RecordBatch) => Promise<boolean | void>;
  /** The job record and clock of a job stream's window. */
  readonly job?: JobContext;
  /** The run's parent keys: a parent whose records do not depend on the window is paged once per run. @default paged for each window */
  readonly parents?: ParentKeyCache;
  /**
   * Take up the stream's pages where a landed page's `cursor` said they stood: the stream's own walk
   * (not with a parent or `max_results`), or a job stream's download.
   */
  readonly resume?: PagesCursor;
}

/** Counters of one window's paging. */
export interface PageTally {
  /** Every page fetched, the parent streams' included. */
  pages: number;
  /** Distinct keys of the stream's parent (0 without a parent). */
  parents: number;
  /** Pages a response rule ignored. @default 0 */
  ignored?: number;
}

/** One parent a child stream runs for. */
export interface ParentRun {
  readonly key: ParentKey;
  /** Every ancestor's placeholder and this one's: `{repo}`, `{number}`…, each with the record it came from. */
  readonly placeholders: ParentPlaceholders;
  /** `repo="aws-cdk"` (with the ancestors', for a parent of a parent), for messages. */
  readonly label: string;
  /** What makes it distinct among the parents of a window: its key with its ancestors'. */
  readonly id: string;
}

/** A page as it lands. */
export interface LandingPage {
  readonly page: PageContext<FetchedPage>;
  /** The records to land (those in the window, with `incremental`), as the API's bytes. */
  readonly batches: readonly RecordBatch[];
  /** Position in the page (0-based) of each batch's first record, for messages. */
  readonly offsets: readonly number[];
  readonly records: number;
  /** Records of the page outside the window, dropped. */
  readonly filtered: number;
  /** The parent this page was fetched for, for a child stream. */
  readonly parent?: ParentRun;
  /** `page 3` or `page 3 for repo="x"`, for messages. */
  readonly label: string;
  /**
   * Where the stream's pages stand after this one, to take them up elsewhere; undefined when it
   * was the last. Valid until the next page is asked for. Absent for a stream with a parent.
   * @throws PaginationError when paging fails right after this page
   */
  readonly cursor?: () => PagesCursor | undefined;
  /**
   * The page is a whole result file of a job: pages can be taken up after it, and a part that
   * began with the next one would have that whole file fetched again. @default false
   */
  readonly wholeFile?: boolean;
  /**
   * The page is a result file that can be taken up within: where the window's pages stand with
   * the file's records landed up to the line that ends at `offset` ({@link RecordBatch.end}).
   */
  readonly within?: (offset: number) => PagesCursor;
}

/** Longest key text kept as is for deduplication; longer keys are kept as a digest. */
const MAX_PLAIN_ID = 64;
/** Longest key text quoted in messages. */
const MAX_LABEL_KEY = 60;

/**
 * The landing pages of `stream` over the input's window.
 * @param onParent called once per distinct parent key (the window's `parents` count).
 */
export function streamPages(input: StreamPagesInput, stream: StreamDefinition, onParent: () => void = () => undefined): AsyncIterable<LandingPage> {
  // A parent's pages are walked anew with each window, and a split window is several walks: only a stream's own walk, or a job's download, can be taken up.
  if (input.resume && (stream.parent || stream.max_results !== undefined || isJobDownload(input.resume) !== (stream.job !== undefined))) {
    throw new Error(`stream "${stream.name}": its pages cannot be taken up from this checkpoint`);
  }
  return pagesFor(input, stream, onParent, '');
}

/** {@link streamPages}, with `prefix` naming the stream in labels when it is paged as a parent. */
function pagesFor(input: StreamPagesInput, stream: StreamDefinition, onParent: () => void, prefix: string): AsyncIterable<LandingPage> {
  if (stream.job) return jobPages(input, stream, (download, target) => pagesOf(input, download, undefined, prefix, undefined, target));
  const link = stream.parent;
  if (!link) return cappedPagesOf(input, stream, undefined, prefix);
  const parentStream = input.source.streams.find((s) => s.name === link.stream);
  // checkSource refuses an unknown parent, so this is a bug if it happens.
  if (!parentStream) throw new Error(`stream "${stream.name}" names parent "${link.stream}", which is not a stream of source "${input.source.name}"`);
  const keys = input.parents && pagedOncePerRun(input.source, parentStream) ? runParentKeys(input, input.parents, parentStream, link, onParent) : parentKeys(input, parentStream, link, onParent);
  return inOrderLanes(keys, input.source.rate_limit.concurrency, (parent) => cappedPagesOf(input, stream, parent, prefix));
}

/**
 * {@link pagesOf}, split at the stream's `max_results`: each part of the window is paged with its
 * own bounds (`[start, end) page 2` in messages), and only once its first page reports a total
 * within the cap. Pages are not landed early, since a part may be dropped after its first page.
 */
function cappedPagesOf(input: StreamPagesInput, stream: StreamDefinition, parent: ParentRun | undefined, prefix: string): AsyncGenerator<LandingPage> {
  const cap = stream.max_results;
  if (!cap) return pagesOf(input, stream, parent, prefix);
  // checkSource requires one of the two.
  const expression = cap.total ?? totalRecordsOf(stream.pagination) ?? '';
  const whole = input.window;
  // A first page over the cap ends its paging at once: the part is split, not paged further.
  const overCap = (page: PageContext<FetchedPage>) => {
    const total = evaluate(expression, page.response.body);
    return page.index === 0 && (typeof total !== 'number' || total > cap.limit);
  };
  return splitAtCap(
    whole,
    { limit: cap.limit, minSpanMs: parseDuration(cap.min_span) ?? 1000 },
    (part) => {
      const same = part.start.getTime() === whole.start.getTime() && part.end.getTime() === whole.end.getTime();
      return pagesOf({ ...input, window: part, landEarly: undefined }, stream, parent, same ? prefix : `${prefix}[${isoSeconds(part.start)}, ${isoSeconds(part.end)}) `, overCap);
    },
    (first) => ({ total: evaluate(expression, first.page.response.body), expression, request: describeRequest(input, stream, first.page.request) }),
  );
}

function totalRecordsOf(pagination: StreamDefinition['pagination']): string | undefined {
  return 'total_records' in pagination ? pagination.total_records : undefined;
}

/**
 * {@link parentKeys} of a parent paged once per run: paged by the first window that asks (its
 * pages and requests count in that window), on the run's signal, since other windows share it.
 */
async function* runParentKeys(input: StreamPagesInput, cache: ParentKeyCache, parentStream: StreamDefinition, link: ParentConfig, onParent: () => void): AsyncGenerator<ParentRun> {
  const id = JSON.stringify([parentStream.name, link.key, link.as, link.skip_empty]);
  const shared: StreamPagesInput = { ...input, signal: cache.signal, landEarly: undefined };
  const runs = await cache.keys(
    id,
    async () => {
      const all: ParentRun[] = [];
      for await (const run of parentKeys(shared, parentStream, link, () => undefined)) all.push(run);
      return all;
    },
    input.signal,
  );
  for (const run of runs) {
    if (input.signal?.aborted) throw new AbortedError(String(input.signal.reason ?? 'aborted'));
    onParent();
    yield run;
  }
}

/** The distinct keys of the parent stream's records in the window, in order of first appearance. */
async function* parentKeys(input: StreamPagesInput, parentStream: StreamDefinition, link: ParentConfig, onParent: () => void): AsyncGenerator<ParentRun> {
  const read = compilePath(link.key);
  const seen = new Set<string>();
  // The parent's own parent, incremental filter and paging apply; its pages are not landed.
  for await (const landing of pagesFor(input, parentStream, () => undefined, `parent stream "${parentStream.name}" `)) {
    const request = describeRequest(input, parentStream, landing.page.request);
    for (const [b, batch] of landing.batches.entries()) {
      for (let i = 0; i < batch.count; i++) {
        const raw = selectParentKey(batch, i, read);
        const key = parentKeyOf(raw);
        const record = `${landing.label}, record ${landing.offsets[b]! + i + 1}`;
        if (!key) {
          const value = plainValue(raw);
          const found = value === null ? 'is missing (or null)' : `is ${typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : JSON.stringify(value)}`;
          throw new RecordFieldError(`${record}: parent.key "${link.key}" ${found}; expected a string or a number`, request);
        }
        if (key.text === '' && link.skip_empty) continue;
        const own = key.json.length > MAX_PLAIN_ID ? `#${createHash('sha256').update(key.json).digest('base64')}` : key.json;
        const id = landing.parent ? `${landing.parent.id}\u0000${own}` : own;
        if (seen.has(id)) continue;
        seen.add(id);
        onParent();
        const shown = key.json.length > MAX_LABEL_KEY ? `${key.json.slice(0, MAX_LABEL_KEY - 1)}…` : key.json;
        yield {
          key,
          id,
          placeholders: { ...landing.parent?.placeholders, [link.as]: { key, record, request } },
          label: `${landing.parent ? `${landing.parent.label}, ` : ''}${link.as}=${shown}`,
        };
      }
    }
  }
}

/**
 * The pages of one paging sequence: the stream alone, the stream for one parent, or a download of a job's results from `target`.
 * @param isLast also ends paging after a page it holds true for, before the next request
 */
async function* pagesOf(
  input: StreamPagesInput,
  stream: StreamDefinition,
  parent: ParentRun | undefined,
  prefix: string,
  isLast?: (page: PageContext<FetchedPage>) => boolean,
  target?: DownloadTarget,
): AsyncGenerator<LandingPage> {
  const { source, window, client } = input;
  // The landed stream's own pages (prefix ''), not a parent's, whose records only yield keys, nor a job's download.
  const own = prefix === '' && !parent && !target;
  // A job's download is taken up where its target says (jobPages.ts reads the cursor).
  const resume = own ? (input.resume as WindowCursor | undefined) : target?.resume;
  const filter = stream.incremental ? new IncrementalFilter(stream.incremental, window, source.timezone, resume?.incremental) : undefined;
  const selections = new WeakMap<PageContext<FetchedPage>, PageSelection>();
  const label = (index: number) => `${prefix}${target?.label ?? ''}page ${index + 1}${parent ? ` for ${parent.label}` : ''}`;
  const origin = (page: { request: PageRequest; index: number }): PageOrigin => ({ label: label(page.index), request: describeRequest(input, stream, page.request) });
  const reading = { records: stream.records, encoding: stream.response_encoding, maxPageBytes: Math.round(stream.max_page_mb * 1024 * 1024), format: stream.format };
  const rules = rulesFor(source.response_rules, stream.response_rules, stream.name);
  const budget = source.rate_limit.budget;

  const landEarly = (own || target) && !filter ? input.landEarly : undefined;

  const fetchOne = async (request: PageRequest, index: number, slot: PageSlot): Promise<PageContext<FetchedPage>> => {
    if (input.signal?.aborted) throw new AbortedError(String(input.signal.reason ?? 'aborted'));
    // The slot's signal aborts when paging no longer needs the page, and when the window is aborted.
    const { signal } = slot;
    const landing = landEarly && { turn: slot.turn, land: (batch: RecordBatch) => landEarly(index, batch) };
    const response = await fetchPage(
      client,
      {
        method: stream.method,
        url: request.url,
        body: request.body,
        headers: { ...stream.headers, ...request.headers },
        label: label(index),
        ...(target?.authenticate === false ? { authenticate: false } : {}),
      },
      reading,
      {
        page: index + 1,
        signal,
        stats: input.stats,
        ...(landing ? { landing } : {}),
        ...(rules.length > 0 ? { rules } : {}),
        ...(budget ? { budget } : {}),
        ...(target?.file ? { file: target.file } : {}),
      },
    );
    const page = { request, response, index };
    // Selected as it arrives, so paging can stop before the next request (pages may arrive out of order).
    if (filter) selections.set(page, filter.select(response.batches, origin(page)));
    return page;
  };

  const created: PaginationStrategy<FetchedPage> = createPaginationStrategy(stream.pagination);
  const stopped = isLast ? withStopCondition(created, isLast) : created;
  // A page a rule ignored ends its paging: what it says of a next page is not the API's paging.
  const strategy = rules.some((rule) => rule.action === 'ignore') ? withStopCondition(stopped, (page) => page.response.ignored === true) : stopped;
  // A base_url the token response issues (`{auth.instance_url}`) is known once a token is.
  const authFields = target || (authBaseUrlField(source.base_url) === undefined && authFieldsIn(stream.path ?? '').length === 0) ? {} : await client.authValues();
  const pages = paginate({
    // An incremental stream stops after a page whose records passed the window.
    strategy: filter ? withStopCondition(strategy, (page) => selections.get(page)!.pastWindow) : strategy,
    first: target?.first ?? buildFirstRequest(source, stream, window, parent?.placeholders, authFields),
    fetchPage: fetchOne,
    maxPages: stream.pagination.max_pages,
    // A child's parents already run concurrently; paging each one concurrently too would hold concurrency² pages.
    concurrency: parent ? 1 : source.rate_limit.concurrency,
    describe: (request) => describeRequest(input, stream, request),
    ...(own || target ? { storable: (request: PageRequest) => withoutCredentials(request, client) } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(resume ? { resume: resume.paging } : {}),
  });
  const walked = (): WindowCursor | undefined => {
    const paging = pages.position();
    const incremental = filter?.position;
    return paging && { paging, ...(incremental ? { incremental } : {}) };
  };
  const cursor = own ? walked : target ? () => target.standing(walked()) : undefined;
  for await (const page of pages) {
    input.tally.pages++;
    if (page.response.ignored) input.tally.ignored = (input.tally.ignored ?? 0) + 1;
    const selection = selections.get(page);
    if (selection) filter!.follow(selection, origin(page));
    yield {
      page,
      batches: selection?.batches ?? page.response.batches,
      offsets: selection?.offsets ?? offsetsOf(page.response.batches),
      records: selection?.kept ?? page.response.recordCount,
      filtered: selection?.filtered ?? 0,
      label: label(page.index),
      ...(parent ? { parent } : {}),
      ...(cursor ? { cursor } : {}),
      ...(target?.wholeFile ? { wholeFile: true } : {}),
      ...(target?.within && page.response.file ? { within: withinFile(target.within, page.response.file) } : {}),
    };
  }
}

function withinFile(within: NonNullable<DownloadTarget['within']>, file: FileVersion): (offset: number) => PagesCursor {
  return (offset) => within({ ...file, offset });
}

/**
 * A request as a checkpoint may store it: without the auth's own parameters, which the client sets
 * again on every request. A credential anywhere else (a paging header, another parameter) stays,
 * and the slice then refuses to store the checkpoint rather than lose the walk's position.
 */
function withoutCredentials(request: PageRequest, client: HttpClient): PageRequest {
  return { ...request, url: client.redactor.withoutCredentials(request.url) };
}

function describeRequest(input: StreamPagesInput, stream: StreamDefinition, request: PageRequest): string {
  return `${stream.method} ${input.client.redactor.url(request.url)}`;
}

function offsetsOf(batches: readonly RecordBatch[]): number[] {
  let at = 0;
  return batches.map((batch) => {
    const start = at;
    at += batch.count;
    return start;
  });
}
