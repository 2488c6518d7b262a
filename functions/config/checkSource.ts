/**
 * Checks a source for what a schema cannot express: schedule syntax, window sizes, JMESPath
 * syntax, placeholders that exist, literal credentials where a secret belongs, headers that can
 * be sent. Runs on whatever parts of a source passed the schema, so one pass reports everything.
 */

import { search } from '@aws-lambda-powertools/jmespath';
import { headerValueProblem } from '../http/headerValue.js';
import { isScheduleExpression, MIN_WINDOW_MS, parseDuration, rateIntervalMs } from '../window/duration.js';
import { checkColumns } from '../tables/checkColumns.js';
import { placeholdersIn, WINDOW_PLACEHOLDERS } from '../window/templating.js';
import type { PartialSource, PartialStream } from './partialSource.js';
import type { SourceDefinition, StreamDefinition } from './sourceSchema.js';

/** A problem located by a path into the parsed document. */
export interface PathProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
/** RFC 9110 5.1: a field name is a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Every semantic problem of one source; empty when it is valid. Takes a full definition or the
 * parts of an invalid one that passed the schema ({@link PartialSource}): a check whose inputs
 * did not parse is skipped, the schema has already reported them.
 */
export function checkSource(source: PartialSource): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: readonly (string | number)[], message: string) => problems.push({ path, message });

  if (source.schedule !== undefined && !isScheduleExpression(source.schedule)) {
    add(['schedule'], `"${source.schedule}" is not a Scheduler expression: expected rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)`);
  }
  if (source.timezone !== undefined && !isTimeZone(source.timezone)) add(['timezone'], `"${source.timezone}" is not an IANA time zone (e.g. UTC, Europe/Paris)`);
  if (source.headers) checkHeaders(source.headers, ['headers'], add);

  const seen = new Map<string, number>();
  source.streams.forEach((stream, i) => {
    const at = (...rest: (string | number)[]) => ['streams', i, ...rest];
    if (stream.name !== undefined) {
      const earlier = seen.get(stream.name);
      if (earlier !== undefined) add(at('name'), `duplicate stream name "${stream.name}" (also streams[${earlier}])`);
      seen.set(stream.name, i);
    }

    checkWindow(source.schedule, stream, at('window'), add);
    if (stream.headers) checkHeaders(stream.headers, at('headers'), add);
    if (stream.body !== undefined && stream.method !== undefined && stream.method !== 'POST') add(at('body'), 'a body needs method: POST');

    if (stream.records !== undefined) checkJmespath(stream.records, at('records'), add);
    if (stream.pagination) {
      const pagination = stream.pagination as Record<string, unknown>;
      for (const field of ['stop_when', 'cursor', 'next', 'total_pages', 'total_records']) {
        if (typeof pagination[field] === 'string') checkJmespath(pagination[field], at('pagination', field), add);
      }
      if (stream.pagination.type === 'page_number' && stream.pagination.page_size !== undefined && !stream.pagination.page_size_param) {
        add(at('pagination', 'page_size_param'), 'page_size needs page_size_param, the query parameter that carries it');
      }
    }

    // Without both vars blocks every placeholder would look unknown: the schema reported what is wrong with them.
    if (!source.vars || !stream.vars) return;
    const known = new Set<string>([...WINDOW_PLACEHOLDERS, ...Object.keys(source.vars), ...Object.keys(stream.vars)]);
    if (stream.path !== undefined) checkPlaceholders(stream.path, at('path'), known, add);
    for (const [key, value] of Object.entries(stream.params ?? {})) {
      if (typeof value === 'string') checkPlaceholders(value, at('params', key), known, add);
    }
    forEachString(stream.body, (text, path) => checkPlaceholders(text, at('body', ...path), known, add));
    if (stream.columns !== undefined) for (const problem of checkColumns({ columns: stream.columns, primary_key: stream.primary_key })) add(at(...problem.path), problem.message);
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

function checkWindow(schedule: string | undefined, stream: PartialStream, path: (string | number)[], add: Add): void {
  if (stream.window === undefined) {
    if (schedule !== undefined && isScheduleExpression(schedule) && rateIntervalMs(schedule) === undefined) {
      add(path, `required: schedule "${schedule}" has no fixed interval, so say which time slice a run covers (e.g. 1h)`);
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
  for (const [name, value] of Object.entries(headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase())) {
      add([...path, name], `credentials do not belong in headers: use an auth block whose secret lives in Secrets Manager`);
    } else if (!HEADER_NAME.test(name)) {
      add([...path, name], `"${name}" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~- only)`);
    } else {
      const problem = headerValueProblem(value);
      if (problem) add([...path, name], `cannot be sent as an HTTP header: ${problem}`);
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
