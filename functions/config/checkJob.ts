/** Checks a job stream's `job` block for what its schema cannot express (checkSource runs it). */

import { formBodyProblems, isFormEncoded } from './formBody.js';
import type { PartialStream } from './partialSource.js';
import { placeholdersIn } from '../window/templating.js';

type Path = readonly (string | number)[];
type Add = (path: Path, message: string) => void;

/** The checks of checkSource a job block reuses. */
export interface JobCheckTools {
  readonly add: Add;
  readonly jmespath: (expression: string, path: (string | number)[]) => void;
  readonly headers: (headers: Record<string, string>, path: (string | number)[]) => void;
  /** The window placeholders and vars this stream may use. */
  readonly known: ReadonlySet<string> | undefined;
}

/** Placeholders a job's poll and download requests may use beyond the stream's: `{job.id}`, `{job.key}`, `{job.<field>}`. */
const JOB_PLACEHOLDER = /^job\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The placeholder every request of a job may use, create included: the window's idempotency key. */
export const JOB_KEY_PLACEHOLDER = 'job.key';

/** Reports every problem of the stream's `job` block, and of a stream without one that lacks a path. */
export function checkJob(stream: PartialStream, at: (...rest: (string | number)[]) => (string | number)[], tools: JobCheckTools): void {
  const { add } = tools;
  const job = stream.job;
  if (!job) {
    if (stream.name !== undefined && stream.path === undefined) add(at('path'), 'required (expected a path starting with "/"; only a job stream goes without one)');
    return;
  }
  if (stream.parent) add(at('parent'), 'a job stream cannot have a parent: one job covers the whole window');
  if (stream.pagination && stream.pagination.type !== 'none') add(at('pagination'), "a job stream is paged by job.download.pagination, not by the stream's pagination");
  if (stream.path !== undefined) add(at('path'), 'a job stream sends job.create, job.poll and job.download: put the path there');
  if (stream.body !== undefined) add(at('body'), "a job stream sends job.create's body: put it there");

  tools.jmespath(job.id, at('job', 'id'));
  tools.jmespath(job.done_when, at('job', 'done_when'));
  if (job.failed_when !== undefined) tools.jmespath(job.failed_when, at('job', 'failed_when'));
  if (job.error !== undefined) tools.jmespath(job.error, at('job', 'error'));
  const download = job.download;
  if ((download.path === undefined) === (download.urls === undefined)) add(at('job', 'download'), 'give exactly one of path (a results endpoint) and urls (JMESPath to the result files)');
  if (download.urls !== undefined) {
    tools.jmespath(download.urls, at('job', 'download', 'urls'));
    if (download.pagination && download.pagination.type !== 'none') add(at('job', 'download', 'pagination'), 'result files named by urls are not paged: pagination goes with path');
  }
  const pagination = download.pagination as Record<string, unknown> | undefined;
  for (const field of ['stop_when', 'cursor', 'next', 'total_pages', 'total_records']) {
    if (typeof pagination?.[field] === 'string') tools.jmespath(pagination[field], at('job', 'download', 'pagination', field));
  }
  if (pagination?.in === 'body') add(at('job', 'download', 'pagination', 'in'), 'the results endpoint is read with GET, which has no body: use in: query or header');

  const requests = [
    ['create', job.create, false],
    ['poll', job.poll, true],
    ['download', download, true],
  ] as const;
  for (const [name, request, jobValues] of requests) {
    tools.headers(request.headers, at('job', name, 'headers'));
    if ('method' in request && request.body !== undefined && request.method !== 'POST') add(at('job', name, 'body'), 'a body needs method: POST');
    if ('body' in request && request.body !== undefined && isFormEncoded(request.headers)) {
      for (const problem of formBodyProblems(request.body)) add(at('job', name, 'body', ...problem.path), problem.message);
    }
    const known = tools.known;
    if (!known) continue;
    const check = (text: string, path: (string | number)[]) => {
      for (const placeholder of placeholdersIn(text)) {
        if (known.has(placeholder) || placeholder === JOB_KEY_PLACEHOLDER || (jobValues && JOB_PLACEHOLDER.test(placeholder))) continue;
        const hint = jobValues
          ? ', {job.key}, {job.id} or {job.<field>}'
          : placeholder.startsWith('job.')
            ? ' or {job.key} (the job is not created yet: {job.id} and {job.<field>} belong in poll and download)'
            : ' or {job.key}';
        add(path, `unknown placeholder {${placeholder}}: expected a window placeholder, a key of vars${hint}`);
      }
    };
    if (request.path !== undefined) check(request.path, at('job', name, 'path'));
    for (const [header, value] of Object.entries(request.headers)) check(value, at('job', name, 'headers', header));
    for (const [key, value] of Object.entries(request.params)) if (typeof value === 'string') check(value, at('job', name, 'params', key));
    if ('body' in request) forEachString(request.body, (text, path) => check(text, at('job', name, 'body', ...path)));
  }
}

function forEachString(value: unknown, visit: (text: string, path: (string | number)[]) => void, path: (string | number)[] = []): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, visit, [...path, i]));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) forEachString(item, visit, [...path, key]);
}
