/**
 * Checks a schema-valid source for what a schema cannot express: schedule syntax, window sizes,
 * JMESPath syntax, placeholders that exist, literal credentials where a secret belongs.
 */

import { search } from '@aws-lambda-powertools/jmespath';
import { isScheduleExpression, MIN_WINDOW_MS, parseDuration, rateIntervalMs } from '../window/duration.js';
import { checkColumns } from '../tables/checkColumns.js';
import { placeholdersIn, WINDOW_PLACEHOLDERS } from '../window/templating.js';
import type { SourceDefinition, StreamDefinition } from './sourceSchema.js';

/** A problem located by a path into the parsed document. */
export interface PathProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

/** Every semantic problem of one source; empty when it is valid. */
export function checkSource(source: SourceDefinition): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: readonly (string | number)[], message: string) => problems.push({ path, message });

  if (!isScheduleExpression(source.schedule)) {
    add(['schedule'], `"${source.schedule}" is not a Scheduler expression: expected rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)`);
  }
  if (!isTimeZone(source.timezone)) add(['timezone'], `"${source.timezone}" is not an IANA time zone (e.g. UTC, Europe/Paris)`);
  checkHeaders(source.headers, ['headers'], add);

  const seen = new Map<string, number>();
  source.streams.forEach((stream, i) => {
    const at = (...rest: (string | number)[]) => ['streams', i, ...rest];
    const earlier = seen.get(stream.name);
    if (earlier !== undefined) add(at('name'), `duplicate stream name "${stream.name}" (also streams[${earlier}])`);
    seen.set(stream.name, i);

    checkWindow(source, stream, at('window'), add);
    checkHeaders(stream.headers, at('headers'), add);
    if (stream.body !== undefined && stream.method !== 'POST') add(at('body'), 'a body needs method: POST');

    checkJmespath(stream.records, at('records'), add);
    const pagination = stream.pagination as Record<string, unknown>;
    for (const field of ['stop_when', 'cursor', 'next', 'total_pages', 'total_records']) {
      if (typeof pagination[field] === 'string') checkJmespath(pagination[field], at('pagination', field), add);
    }
    if (stream.pagination.type === 'page_number' && stream.pagination.page_size !== undefined && !stream.pagination.page_size_param) {
      add(at('pagination', 'page_size_param'), 'page_size needs page_size_param, the query parameter that carries it');
    }

    const known = new Set<string>([...WINDOW_PLACEHOLDERS, ...Object.keys(source.vars), ...Object.keys(stream.vars)]);
    checkPlaceholders(stream.path, at('path'), known, add);
    for (const [key, value] of Object.entries(stream.params)) {
      if (typeof value === 'string') checkPlaceholders(value, at('params', key), known, add);
    }
    forEachString(stream.body, (text, path) => checkPlaceholders(text, at('body', ...path), known, add));
    for (const problem of checkColumns(stream)) add(at(...problem.path), problem.message);
  });
  return problems;
}

/**
 * The window size of a stream in milliseconds: its `window`, else the schedule's rate interval.
 * Only call on a source that passed {@link checkSource}.
 */
export function streamWindowMs(source: SourceDefinition, stream: StreamDefinition): number {
  const size = stream.window === undefined ? rateIntervalMs(source.schedule) : parseDuration(stream.window);
  if (size === undefined) throw new Error(`stream ${source.name}.${stream.name} has no window size; checkSource should have caught this`);
  return size;
}

type Add = (path: readonly (string | number)[], message: string) => void;

function checkWindow(source: SourceDefinition, stream: StreamDefinition, path: (string | number)[], add: Add): void {
  if (stream.window === undefined) {
    if (rateIntervalMs(source.schedule) === undefined) {
      add(path, `required: schedule "${source.schedule}" has no fixed interval, so say which time slice a run covers (e.g. 1h)`);
    }
    return;
  }
  const size = parseDuration(stream.window);
  if (size === undefined) add(path, `"${stream.window}" is not a duration: expected <n>m, <n>h or <n>d (e.g. 15m, 1h, 1d)`);
  else if (size < MIN_WINDOW_MS || size % MIN_WINDOW_MS !== 0) add(path, `"${stream.window}" must be a whole number of minutes, at least 1m`);
}

function checkJmespath(expression: string, path: (string | number)[], add: Add): void {
  try {
    search(expression, {});
  } catch (error) {
    // A type error on the empty document means the syntax parsed; only syntax matters here.
    const name = (error as Error).name;
    if (name === 'ParseError' || name === 'LexerError' || name === 'IncompleteExpressionError' || name === 'EmptyExpressionError' || name === 'UnknownFunctionError') {
      add(path, `"${expression}" is not valid JMESPath: ${(error as Error).message}`);
    }
  }
}

function checkPlaceholders(text: string, path: (string | number)[], known: Set<string>, add: Add): void {
  for (const name of placeholdersIn(text)) {
    if (!known.has(name)) {
      add(path, `unknown placeholder {${name}}: expected one of ${[...WINDOW_PLACEHOLDERS].map((p) => `{${p}}`).join(', ')} or a key of vars`);
    }
  }
}

function checkHeaders(headers: Record<string, string>, path: (string | number)[], add: Add): void {
  for (const name of Object.keys(headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase())) {
      add([...path, name], `credentials do not belong in headers: use an auth block whose secret lives in Secrets Manager`);
    }
  }
}

function forEachString(value: unknown, visit: (text: string, path: (string | number)[]) => void, path: (string | number)[] = []): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => forEachString(item, visit, [...path, i]));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) forEachString(item, visit, [...path, key]);
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
