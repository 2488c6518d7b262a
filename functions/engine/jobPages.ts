/**
 * The pages of a job stream's window (`job:`): the export job is created once per window, or the
 * one a job record names is reused (an earlier attempt of the window created it and died while it
 * ran, or after it finished and before the commit); it is polled until `done_when` holds, and its
 * results are downloaded, paged like any stream (`download.path`) or as files (`download.urls`),
 * and landed as the window's pages. A file on another origin is fetched without the source's
 * credentials, and only from `redirects.allowed_origins`. Every request of the job may carry
 * `{job.key}`, the window's idempotency key ({@link jobKey}), in its headers as elsewhere.
 *
 * A window landed in slices (the deployed durable function) may pause while its job runs instead
 * of sleeping until the next poll ({@link JobContext.pauseWhen}): {@link JobPendingError} ends the
 * slice before any page, and the next slice finds the job record and polls the same job again. A
 * slice may also stop within the download, like any paged window: each landed page says where the
 * download stands ({@link JobDownloadCursor}: the results walk's position, the next result
 * file, or a byte offset within one), and the next slice polls the recorded job once more, for its `{job.<field>}` values and
 * result files, and downloads from there.
 */

import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { formBodyProblems, isFormEncoded } from '../config/formBody.js';
import { headerValueProblem } from '../config/headerValue.js';
import type { JobConfig, SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { AbortedError, ApilakeError, HttpStatusError, JobError } from '../errors.js';
import { evaluate, isTruthy } from '../expressions/evaluate.js';
import { plainValue } from '../expressions/plainValue.js';
import type { HttpRequest } from '../http/HttpClient.js';
import { quoteBody } from '../http/quoteBody.js';
import { readJson } from '../http/readJson.js';
import { parseRetryAfter } from '../http/retryPolicy.js';
import type { PageRequest } from '../pagination/PaginationStrategy.js';
import { newJobRecord, type JobRecord, type JobRecordStore } from '../sink/jobRecord.js';
import type { WindowRef } from '../sink/lakeLayout.js';
import { parseDuration } from '../window/duration.js';
import { placeholdersIn, renderString, renderValue, type TemplateScope } from '../window/templating.js';
import type { HttpClient, HttpResult, HttpStats } from '../http/HttpClient.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { templatedUrl } from './buildRequest.js';
import type { FilePage, FilePosition } from './fetchPage.js';
import { jobKey } from './jobKey.js';
import { pollParamNames, withoutPollParams, withPollParams } from './pollParams.js';
import { isJobDownload, type JobDownloadCursor, type PagesCursor, type WindowCursor } from './WindowCursor.js';

/** What a job stream's window needs beyond paging: where its job record is, and time. */
export interface JobContext {
  readonly ref: WindowRef;
  readonly records: JobRecordStore;
  /** The commit this attempt lands: a record left for another commit (before a --force) is not reused. */
  readonly commit: number;
  readonly runId: string;
  readonly clock: Clock;
  /**
   * Asked before each wait for the job's next poll, with the wait in ms: when true, the job is
   * left running and {@link JobPendingError} ends the window's slice, to poll again in a later one.
   * @default never: the wait is slept through
   */
  readonly pauseWhen?: (nextPollInMs: number) => boolean;
}

/** The window's job is not done and its slice pauses rather than wait for the next poll (not a failure). */
export class JobPendingError extends ApilakeError {
  constructor(
    readonly jobId: string,
    /** How long to wait before the next poll, in ms. */
    readonly pollInMs: number,
  ) {
    super(`job ${jobId} is not done yet; the window continues with its next poll in ${Math.ceil(pollInMs / 1000)} s`);
    this.name = 'JobPendingError';
  }
}

/** What a job stream's window needs of its paging input (streamPages.ts gives it). */
export interface JobPagesInput {
  readonly source: SourceDefinition;
  readonly window: TimeWindow;
  readonly client: HttpClient;
  readonly signal?: AbortSignal;
  readonly stats: HttpStats;
  readonly job?: JobContext;
  /** Where an earlier slice's download stopped (a {@link JobDownloadCursor}). @default the job's first poll */
  readonly resume?: PagesCursor;
}

/** Where one download of a job's results starts, and whether it carries the source's credentials. */
export interface DownloadTarget {
  readonly first: PageRequest;
  readonly authenticate: boolean;
  /** `file 2 of 3`, for labels. */
  readonly label?: string;
  /** Where this download's walk goes on from (a slice before stopped within it). @default its first page */
  readonly resume?: WindowCursor;
  /** Where the window's download stands after a page of it, given where this download's walk stands (undefined after its last page). */
  readonly standing: (walk: WindowCursor | undefined) => JobDownloadCursor | undefined;
  /** The download is one result file: a slice stops after it or before it, or within it where {@link within} is given. @default false */
  readonly wholeFile?: boolean;
  /** The download is one file that may be taken up within (fetchPage.ts). @default a walk of pages */
  readonly file?: FilePage;
  /** Where the window's download stands with the file landed up to `at` (a file that can be taken up within). */
  readonly within?: (at: FilePosition) => JobDownloadCursor;
}

/** Pages `stream` (the download, made a plain stream) from `target`, landing them as the window's. */
export type DownloadPages<P> = (stream: StreamDefinition, target: DownloadTarget) => AsyncIterable<P>;

/** The window's pages of the job stream `stream`. */
export async function* jobPages<P>(input: JobPagesInput, stream: StreamDefinition, download: DownloadPages<P>): AsyncGenerator<P> {
  const job = stream.job!;
  const context = input.job;
  // runWindow gives every job stream its context; only a bug gets here without one.
  if (!context) throw new Error(`stream "${stream.name}" is a job stream, but its window was run without a job record store`);
  const resume = input.resume;
  // streamPages gives a job stream only a download's position; anything else is a bug.
  if (resume && !isJobDownload(resume)) throw new Error(`stream "${stream.name}" is a job stream, but its pages were to be taken up from a position outside its download`);
  const values: TemplateScope = { window: input.window, timeZone: input.source.timezone, values: { ...input.source.vars, ...stream.vars } };
  // A download taken up goes on with the job it began with, never with a new one.
  const { record, found } = resume ? { record: await recordedJob(context, resume), found: true } : await ensureJob(input, job, values, context);
  const key = keyOf(context, job, record.generation ?? 0);
  // A job an earlier attempt recorded may since have left its API (deleted, or expired with its results);
  // one a concurrent attempt recorded while this one created its own is as new as a job of this attempt.
  const recorded = found && record.run_id !== context.runId;
  const lastPoll = await pollUntilDone(input, job, values, record, key, context, resume !== undefined, recorded);
  try {
    yield* downloadResults(input, stream, download, { job, values, record, key, lastPoll, resume });
  } catch (error) {
    const status = error instanceof HttpStatusError ? error.status : undefined;
    if (!recorded || status === undefined || !EXPIRED_RESULTS.has(status)) throw error;
    // Kept, the record would send every later attempt to results that are gone: the next attempt creates a new job.
    await context.records.abandon(record, new Date(context.clock.now()).toISOString());
    throw new JobError(
      `the results of job ${record.job_id}, recorded by an earlier attempt of the window, are gone (they expired, or the job did): ${(error as Error).message}; its record is marked abandoned, so the window's next attempt creates a new job`,
      `job ${record.job_id}`,
      { cause: error },
    );
  }
}

/**
 * Statuses of a done job's results that say they are gone: an unknown job or file (404, 410), or a
 * signed URL past its expiry (S3 and Azure answer 403, Google Cloud Storage 400 ExpiredToken).
 */
const EXPIRED_RESULTS: ReadonlySet<number> = new Set([400, 403, 404, 410]);

/** What {@link downloadResults} downloads: the done job and its last poll. */
interface DoneJob {
  readonly job: JobConfig;
  readonly values: TemplateScope;
  readonly record: JobRecord;
  readonly key: string;
  readonly lastPoll: unknown;
  readonly resume: JobDownloadCursor | undefined;
}

/** The pages of a done job's results: a paged `download.path`, or the files of `download.urls`. */
async function* downloadResults<P>(input: JobPagesInput, stream: StreamDefinition, download: DownloadPages<P>, done: DoneJob): AsyncGenerator<P> {
  const { job, values, record, key, lastPoll, resume } = done;
  const jobValues = (text: string): TemplateScope => ({ ...values, values: { ...values.values, ...jobPlaceholders(text, record.job_id, key, lastPoll) } });
  const downloadHeaders = renderHeaders(job.download.headers, jobValues, `stream "${stream.name}" job.download`);
  const format = job.format ?? stream.format;
  const plain = (fields: Partial<StreamDefinition>): StreamDefinition => ({
    ...stream,
    method: 'GET',
    body: undefined,
    params: renderParams(job.download.params, jobValues, `stream "${stream.name}" job.download.params`),
    headers: { ...stream.headers, ...downloadHeaders },
    pagination: job.download.pagination ?? { type: 'none', max_pages: 10_000 },
    format,
    job: undefined,
    ...fields,
  });

  const jobId = record.job_id;
  const stale = (why: string) =>
    new JobError(`cannot continue downloading the results of job ${jobId} from the stored position: ${why}; the window's next attempt downloads them anew`, `job ${jobId}`);
  if (job.download.path !== undefined) {
    const path = job.download.path;
    if (resume && !resume.paging) throw stale('it is a result file, and the stream downloads from job.download.path');
    const first = templatedUrl(job.download.base_url ?? input.source.base_url, path, job.download.params, jobValues, (field) => `stream "${stream.name}" job.download.${field}`);
    const fromPoll = pollParamNames(job.download.params);
    const paging = resume?.paging && withPollParams(resume.paging, first, resume.fromPoll ?? []);
    // The resumed poll fills the download's parameters the same way, or it is another set of results (pollParams.ts).
    if (resume && !paging) throw stale(`its next request takes ${(resume.fromPoll ?? []).join(', ')} from the job's poll, and the download's first request now has none`);
    yield* download(plain({ path }), {
      first: { url: first },
      authenticate: true,
      ...(paging ? { resume: { paging, ...(resume?.incremental ? { incremental: resume.incremental } : {}) } } : {}),
      standing: (walk) => {
        if (!walk) return undefined;
        const { paging: stored, left } = withoutPollParams(walk.paging, first, fromPoll);
        return { job: 'download', jobId, ...walk, paging: stored, ...(left.length > 0 ? { fromPoll: left } : {}) };
      },
    });
    return;
  }

  const urls = fileUrls(input, job, lastPoll, record);
  if (resume && resume.file === undefined) throw stale('it is a page of job.download.path, and the stream downloads the files of job.download.urls');
  // The files are taken up by their place in the list: a list of another length, other files or another order is another set of results.
  if (resume && resume.files !== urls.length) throw stale(`the download began with ${resume.files} result files, and the job's poll now names ${urls.length}`);
  const listing = listingOf(urls);
  if (resume && resume.listing !== listing) throw stale("the job's poll now names other result files than the download began with, or the same files in another order");
  for (let i = resume?.file ?? 0; i < urls.length; i++) {
    const url = urls[i]!;
    const home = new URL(input.source.base_url).origin;
    // A signed URL carries its own authorisation: the source's credentials stay with its own origin.
    const authenticate = url.origin === home;
    const label = urls.length > 1 ? `file ${i + 1} of ${urls.length}, ` : 'file, ';
    const after: JobDownloadCursor | undefined = i + 1 < urls.length ? { job: 'download', jobId, file: i + 1, files: urls.length, listing } : undefined;
    const from = i === resume?.file && resume.offset !== undefined ? { offset: resume.offset, validator: resume.validator!, length: resume.length! } : undefined;
    // Within a file, the filter's order check would have to be kept too: an incremental stream's files are taken up whole.
    const within = stream.incremental === undefined;
    yield* download(plain({ path: url.pathname, params: {}, headers: authenticate ? plain({}).headers : downloadHeaders, pagination: { type: 'none', max_pages: 1 } }), {
      first: { url },
      authenticate,
      label,
      standing: () => after,
      wholeFile: true,
      ...(within || from ? { file: { ...(from ? { from } : {}), stale: (why: string) => stale(`${label.slice(0, -2)}: ${why}`) } } : {}),
      ...(within ? { within: (at: FilePosition): JobDownloadCursor => ({ job: 'download', jobId, file: i, files: urls.length, listing, ...at }) } : {}),
    });
  }
}

/**
 * The job a download taken up goes on with: the one its job record names for this commit, which
 * must be the job the download began with.
 * @throws JobError when the record is gone, abandoned, left for another commit or names another job
 */
async function recordedJob(context: JobContext, cursor: JobDownloadCursor): Promise<JobRecord> {
  const standing = await context.records.read();
  const why =
    standing === undefined
      ? 'the window has no job record'
      : standing.commit !== context.commit
        ? `the window's job record is for commit ${standing.commit}, and this attempt lands commit ${context.commit}`
        : standing.job_id !== cursor.jobId
          ? `the window's job record names job ${standing.job_id}`
          : standing.abandoned_at !== undefined
            ? `the job was abandoned at ${standing.abandoned_at} (it failed or timed out in another attempt)`
            : undefined;
  if (why !== undefined) throw new JobError(`cannot continue downloading the results of job ${cursor.jobId}: ${why}; the window's next attempt starts anew`, `job ${cursor.jobId}`);
  return standing!;
}

/**
 * The window's job: the one its record names for this commit, or one created now and recorded.
 * The create carries the same `{job.key}` until a job of this commit is recorded abandoned, so a
 * create whose answer was lost (a retried POST, or an attempt killed before it wrote the record)
 * is answered with the job it created by an API that honours the key.
 * @returns the record, and whether it stood before this attempt asked for a job (`found`)
 */
async function ensureJob(input: JobPagesInput, job: JobConfig, values: TemplateScope, context: JobContext): Promise<{ record: JobRecord; found: boolean }> {
  const standing = await context.records.read();
  const sameCommit = standing !== undefined && standing.commit === context.commit;
  if (sameCommit && standing.abandoned_at === undefined) return { record: standing, found: true };
  const generation = sameCommit ? (standing.generation ?? 0) + 1 : 0;
  const key = keyOf(context, job, generation);
  const request = buildRequest(input.source, job.create, { ...values, values: { ...values.values, 'job.key': key } }, 'job create');
  const response = await input.client.request(request, { read: readJson, stats: input.stats, ...(input.signal ? { signal: input.signal } : {}) });
  const described = describe(input, request);
  const id = plainValue(evaluate(job.id, response.body));
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
    throw new JobError(
      `job create: job.id "${job.id}" gives ${JSON.stringify(id) ?? 'nothing'}, expected the job's id (a string or a number); the response: ${quote(input, response.body)}`,
      described,
    );
  }
  const record = newJobRecord(context.ref, {
    commit: context.commit,
    job_id: String(id),
    created_at: new Date(context.clock.now()).toISOString(),
    run_id: context.runId,
    timeout_ms: parseDuration(job.poll.timeout)!,
    generation,
  });
  if (standing) {
    await context.records.replace(record);
    return { record, found: false };
  }
  // Another attempt of the window that recorded its job first wins: this one polls that job too.
  return { record: await context.records.create(record), found: false };
}

/** Statuses of a poll that say the job no longer exists. */
const GONE: ReadonlySet<number> = new Set([404, 410]);

/**
 * Polls the job until `done_when` holds; returns the last poll response.
 * @param once the job was done when its download began (a slice taking the download up): one poll, which must find it done still
 * @param recorded an earlier attempt recorded the job: a poll that finds it gone abandons its record, as `once` does
 * @throws JobError when it fails or outlives `poll.timeout`, or, polled `once`, is not done, or, polled `once` or `recorded`, is gone (404, 410: its record is then abandoned)
 */
async function pollUntilDone(input: JobPagesInput, job: JobConfig, values: TemplateScope, record: JobRecord, key: string, context: JobContext, once: boolean, recorded: boolean): Promise<unknown> {
  const { clock } = context;
  const every = parseDuration(job.poll.every)!;
  const deadline = Date.parse(record.created_at) + parseDuration(job.poll.timeout)!;
  let last: unknown = undefined;
  for (let polls = 1; ; polls++) {
    if (input.signal?.aborted) throw new AbortedError(String(input.signal.reason ?? 'aborted'));
    const request = buildRequest(input.source, job.poll, { ...values, values: { ...values.values, ...jobPlaceholders(templateText(job.poll), record.job_id, key, last) } }, `job poll ${polls}`);
    const described = describe(input, request);
    let response: HttpResult<unknown>;
    try {
      response = await input.client.request(request, { read: readJson, stats: input.stats, ...(input.signal ? { signal: input.signal } : {}) });
    } catch (error) {
      // A recorded job its API no longer knows (deleted, or expired with its results) is never found
      // again: kept, its record would send every later attempt to the same answer. A job created by
      // this attempt is kept: an API may not know a job it just created yet.
      if ((once || recorded) && error instanceof HttpStatusError && GONE.has(error.status)) {
        await context.records.abandon(record, new Date(clock.now()).toISOString());
        const which = once ? `job ${record.job_id} was done when its download began, and its poll now` : `job ${record.job_id}, recorded by an earlier attempt of the window, is polled and`;
        throw new JobError(
          `${which} answers HTTP ${error.status} (the job is gone, or its results expired); its record is marked abandoned, so the window's next attempt creates a new job`,
          described,
          { cause: error },
        );
      }
      throw error;
    }
    last = response.body;
    if (job.failed_when !== undefined && isTruthy(evaluate(job.failed_when, last))) {
      await context.records.abandon(record, new Date(clock.now()).toISOString());
      const error = job.error === undefined ? last : plainValue(evaluate(job.error, last));
      throw new JobError(`job ${record.job_id} failed (${job.failed_when}): ${typeof error === 'string' ? quoteBody(error, (t) => input.client.redactor.text(t)) : quote(input, error)}`, described);
    }
    if (isTruthy(evaluate(job.done_when, last))) return last;
    if (once) {
      // Its record stays: the next attempt polls the job again, within poll.timeout, and downloads its results anew.
      throw new JobError(
        `job ${record.job_id} was done when its download began, and its poll now finds it not done (${job.done_when}): ${quote(input, last)}; the window's next attempt polls it again`,
        described,
      );
    }
    const now = clock.now();
    if (now >= deadline) {
      await context.records.abandon(record, new Date(now).toISOString());
      throw new JobError(`job ${record.job_id} is not done ${job.poll.timeout} (poll.timeout) after it was created, at ${record.created_at}; its last state: ${quote(input, last)}`, described);
    }
    const retryAfter = response.headers.get('retry-after');
    const asked = retryAfter === null ? undefined : parseRetryAfter(retryAfter, now);
    const wait = Math.max(0, Math.min(asked ?? every, deadline - now));
    // poll.timeout counts from the record's created_at, so a later slice's polls keep to it too.
    if (context.pauseWhen?.(wait)) throw new JobPendingError(record.job_id, Math.round(wait));
    await clock.sleep(wait, input.signal);
  }
}

/** The result files of a done job, resolved against base_url. @throws JobError when there are none or one is on an origin not allowed */
function fileUrls(input: JobPagesInput, job: JobConfig, lastPoll: unknown, record: JobRecord): URL[] {
  const found = plainValue(evaluate(job.download.urls!, lastPoll));
  const texts = found === null ? [] : Array.isArray(found) ? found : [found];
  const where = `job ${record.job_id}: job.download.urls "${job.download.urls!}"`;
  if (texts.some((t) => typeof t !== 'string' || t === '')) throw new JobError(`${where} gives ${quote(input, found)}, expected a URL or a list of URLs`, `job ${record.job_id}`);
  const home = new URL(input.source.base_url).origin;
  const allowed = new Set(input.source.redirects.allowed_origins);
  return (texts as string[]).map((text) => {
    let url: URL;
    try {
      url = new URL(text, input.source.base_url);
    } catch {
      throw new JobError(`${where} gives ${quote(input, text)}, which is not a URL`, `job ${record.job_id}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new JobError(`${where} gives a ${url.protocol} URL; expected http or https`, `job ${record.job_id}`);
    if (url.origin !== home && !allowed.has(url.origin)) {
      throw new JobError(`${where} names a file on ${url.origin}, which is neither base_url's origin nor listed in redirects.allowed_origins`, `job ${record.job_id}`);
    }
    return url;
  });
}

/**
 * A digest of result files' origins and paths, in order ({@link JobDownloadCursor.listing}): no
 * query, so a signature renewed at each poll neither changes it nor is stored.
 */
function listingOf(urls: readonly URL[]): string {
  return createHash('sha256')
    .update(JSON.stringify(urls.map((url) => url.origin + url.pathname)))
    .digest('base64url')
    .slice(0, 22);
}

/** The window's `{job.key}` for a job of `generation` at the attempt's commit. */
function keyOf(context: JobContext, job: JobConfig, generation: number): string {
  return jobKey({ ref: context.ref, commit: context.commit, generation, create: job.create });
}

/** `{job.id}`, `{job.key}` and every `{job.<field>}` of `text`, the fields read from the last poll response. */
function jobPlaceholders(text: string, id: string, key: string, lastPoll: unknown): Record<string, string> {
  const out: Record<string, string> = { 'job.id': id, 'job.key': key };
  for (const name of placeholdersIn(text)) {
    if (!name.startsWith('job.') || name in out) continue;
    const value = plainValue(evaluate(name.slice(4), lastPoll ?? null));
    if (value === null || value === undefined || typeof value === 'object') {
      throw new JobError(`{${name}}: the job's last poll response has no ${name.slice(4)} to fill it with (it gives ${JSON.stringify(value) ?? 'nothing'})`, `job ${id}`);
    }
    out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

type RequestBlock = JobConfig['create'] | JobConfig['poll'];

/** Every templated text of a request block, for the placeholders it uses. */
function templateText(block: RequestBlock): string {
  return [block.path, ...Object.values(block.params).map(String), ...Object.values(block.headers), JSON.stringify(block.body ?? null)].join(' ');
}

function buildRequest(source: SourceDefinition, block: RequestBlock, values: TemplateScope, label: string): HttpRequest {
  const url = templatedUrl(
    source.base_url,
    block.path,
    block.params,
    () => values,
    (field) => `${label} ${field}`,
  );
  const headers = renderHeaders(block.headers, () => values, label);
  if (block.body === undefined) return { method: block.method, url, headers, label };
  const body = renderValue(block.body, values, `${label} body`);
  const form = isFormEncoded(block.headers) ? formOf(body, label) : undefined;
  return { method: block.method, url, headers, ...(form ? { form } : { body }), label };
}

/** A request block's headers with their placeholders filled. @throws JobError when a filled value cannot be sent as a header (not quoting it) */
function renderHeaders(headers: Readonly<Record<string, string>>, values: (text: string) => TemplateScope, label: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, text]) => {
      const value = renderString(text, values(text), `${label} headers.${name}`);
      const problem = headerValueProblem(value);
      if (problem) throw new JobError(`${label} headers.${name}: its value, placeholders filled, cannot be sent as an HTTP header: ${problem}`, label);
      return [name, value];
    }),
  );
}

/** A flat body as form fields, keys as written (`parameters[interval_start]`). @throws JobError when a value is not a string, number or boolean */
function formOf(body: unknown, label: string): URLSearchParams {
  const problem = formBodyProblems(body)[0];
  if (problem) throw new JobError(`${label} ${['body', ...problem.path].join('.')}: ${problem.message}`, label);
  return new URLSearchParams(Object.entries(body as Record<string, string | number | boolean>).map(([key, value]): [string, string] => [key, String(value)]));
}

function renderParams(params: Readonly<Record<string, string | number | boolean>>, values: (text: string) => TemplateScope, where: string): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, typeof value === 'string' ? renderString(value, values(value), `${where}.${key}`) : value]));
}

function describe(input: JobPagesInput, request: HttpRequest): string {
  return `${request.label}, ${request.method} ${input.client.redactor.url(request.url)}`;
}

function quote(input: JobPagesInput, value: unknown): string {
  return quoteBody(JSON.stringify(value) ?? 'nothing', (t) => input.client.redactor.text(t));
}
