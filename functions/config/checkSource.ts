/**
 * Checks a source for what a schema cannot express: schedule syntax, window sizes, JMESPath
 * syntax, placeholders that exist (with offsets and formats that parse), time formats that read
 * timestamps, literal credentials where a secret belongs, headers that can be sent. Runs on whatever parts of a source passed the schema, so one pass reports everything.
 */

import { search } from '@aws-lambda-powertools/jmespath';
import { HEADER_NAME, headerValueProblem } from './headerValue.js';
import { isScheduleExpression, MIN_WINDOW_MS, parseDuration, rateIntervalMs, scheduleExpressionProblem } from '../window/duration.js';
import { isTimeZone } from '../window/timeZone.js';
import { checkColumns } from './checkColumns.js';
import { placeholdersIn, templateProblems, unfilledPlaceholders, WINDOW_PLACEHOLDERS } from '../window/templating.js';
import { readFormatProblem } from './readFormatProblem.js';
import { checkBudget, checkHeaderConditions, checkResponseRules } from './checkResponseRules.js';
import { checkFormatPaging } from './checkFormat.js';
import { checkJob } from './checkJob.js';
import { maxResultsProblems } from './checkMaxResults.js';
import { authBaseUrlProblem, authFieldProblem, authFieldsIn } from './authBaseUrl.js';
import { credentialTemplateProblems } from './credentialTemplate.js';
import type { PartialSource, PartialStream } from './partialSource.js';

/** A problem located by a path into the parsed document. */
export interface PathProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
/** RFC 9110 5.1: a field name is a token. */

/**
 * Every semantic problem of one source; empty when it is valid. Takes a full definition or the
 * parts of an invalid one that passed the schema ({@link PartialSource}): a check whose inputs
 * did not parse is skipped, the schema has already reported them.
 */
export function checkSource(source: PartialSource): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: readonly (string | number)[], message: string) => problems.push({ path, message });

  const scheduleProblem = source.schedule === undefined ? undefined : scheduleExpressionProblem(source.schedule);
  if (scheduleProblem) add(['schedule'], scheduleProblem);
  if (source.timezone !== undefined && !isTimeZone(source.timezone)) add(['timezone'], `"${source.timezone}" is not an IANA time zone (e.g. UTC, Europe/Paris)`);
  if (source.headers) checkHeaders(source.headers, ['headers'], add);
  source.cassettes?.redact.body.forEach((expression, i) => checkJmespath(expression, ['cassettes', 'redact', 'body', i], add));
  const budget = source.rate_limit?.budget;
  if (budget) checkBudget(budget, ['rate_limit', 'budget'], checkJmespath, add);
  const ruleContext = { budget: budget !== undefined, auth: source.auth?.type };
  if (source.response_rules) checkResponseRules(source.response_rules, ['response_rules'], ruleContext, checkJmespath, add);
  if (source.base_url !== undefined) {
    const problem = authBaseUrlProblem(source.base_url, source.auth?.type ?? 'none');
    if (problem) add(['base_url'], problem);
  }
  if (source.auth?.type === 'api_key' || source.auth?.type === 'bearer') for (const p of credentialTemplateProblems(source.auth)) add(['auth', p.field], p.message);

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
    if (stream.format && stream.format.type !== 'json' && stream.records !== undefined && stream.records !== '@') {
      add(
        at('records'),
        `a ${stream.format.type} body is read record by record (${stream.format.type === 'xml' ? 'format.records names the record element' : 'every line or row is one'}): records applies to json only`,
      );
    }
    if (stream.pagination) {
      const pagination = stream.pagination as Record<string, unknown>;
      for (const field of ['stop_when', 'cursor', 'next', 'total_pages', 'total_records']) {
        if (typeof pagination[field] === 'string') checkJmespath(pagination[field], at('pagination', field), add);
      }
      if (stream.pagination.type === 'page_number' && stream.pagination.page_size !== undefined && !stream.pagination.page_size_param) {
        add(at('pagination', 'page_size_param'), 'page_size needs page_size_param, the query parameter that carries it');
      }
      checkPagingTarget(stream, at('pagination'), add);
      if (stream.pagination.stop_when_headers) checkHeaderConditions(stream.pagination.stop_when_headers, at('pagination', 'stop_when_headers'), add);
    }
    if (stream.incremental) {
      checkJmespath(stream.incremental.cursor_field, at('incremental', 'cursor_field'), add);
      checkReadFormat(stream.incremental, at('incremental'), add);
    }
    if (stream.response_rules) checkResponseRules(stream.response_rules, at('response_rules'), ruleContext, checkJmespath, add);
    if (stream.settle !== undefined && parseDuration(stream.settle) === undefined) {
      add(at('settle'), `"${stream.settle}" is not a duration: expected <n>s, <n>m, <n>h or <n>d (e.g. 10m)`);
    }
    checkFormatPaging(stream.format, stream.pagination, at('pagination'), add);
    if (stream.job) checkFormatPaging(stream.job.format ?? stream.format, stream.job.download.pagination, at('job', 'download', 'pagination'), add);
    const lineage = parentLineage(source.streams, i);
    if (stream.parent) checkParent(source, stream, lineage, at('parent'), add);
    const windowAndVars = source.vars && stream.vars ? new Set<string>([...WINDOW_PLACEHOLDERS, ...Object.keys(source.vars), ...Object.keys(stream.vars)]) : undefined;
    checkJob(stream, at, { add, jmespath: (e, p) => checkJmespath(e, p, add), headers: (h, p) => checkHeaders(h, p, add), known: windowAndVars });
    if (stream.land === false) checkParentOnly(source, stream, at, add);
    for (const p of maxResultsProblems(stream)) add(at(...p.path), p.message);
    if (stream.columns !== undefined) for (const problem of checkColumns({ columns: stream.columns, primary_key: stream.primary_key })) add(at(...problem.path), problem.message);

    // Without both vars blocks every placeholder would look unknown: the schema reported what is wrong with them.
    if (!source.vars || !stream.vars) return;
    const known = new Set<string>([...Object.keys(source.vars), ...Object.keys(stream.vars), ...lineage.placeholders]);
    if (stream.path !== undefined) {
      // A path may name the token response's fields ({auth.<field>}), filled once a token is obtained.
      const fields = authFieldsIn(stream.path);
      for (const field of fields) {
        const problem = authFieldProblem(field, source.auth?.type ?? 'none');
        if (problem) add(at('path'), problem);
      }
      checkPlaceholders(stream.path, at('path'), new Set([...known, ...fields.map((field) => `auth.${field}`)]), add);
    }
    for (const [key, value] of Object.entries(stream.params ?? {})) {
      if (typeof value === 'string') checkPlaceholders(value, at('params', key), known, add);
    }
    forEachString(stream.body, (text, path) => checkPlaceholders(text, at('body', ...path), known, add));
    checkUnfilled(source, stream, at, known, add);
  });
  return problems;
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

/** A stream's chain of parents: the placeholders their `as` provide, and whether the chain loops. */
interface Lineage {
  readonly placeholders: readonly string[];
  /** The names around the loop, when following parents comes back to a stream already seen. */
  readonly cycle?: readonly string[];
}

/** Follows `parent.stream` from stream `index` up to a stream without a parent (or an unknown one, or a loop). */
function parentLineage(streams: readonly PartialStream[], index: number): Lineage {
  const byName = new Map(streams.filter((s) => s.name !== undefined).map((s) => [s.name!, s]));
  const placeholders: string[] = [];
  const path: string[] = [streams[index]!.name ?? `streams[${index}]`];
  for (let stream = streams[index]; stream?.parent;) {
    placeholders.push(stream.parent.as);
    const next = byName.get(stream.parent.stream);
    if (!next) break;
    if (path.includes(next.name!)) return { placeholders, cycle: [...path.slice(path.indexOf(next.name!)), next.name!] };
    path.push(next.name!);
    stream = next;
  }
  return { placeholders };
}

function checkParent(source: PartialSource, stream: PartialStream, lineage: Lineage, path: (string | number)[], add: Add): void {
  const parent = stream.parent!;
  checkJmespath(parent.key, [...path, 'key'], add);
  const names = source.streams.map((s) => s.name).filter((n): n is string => n !== undefined);
  if (parent.stream === stream.name) add([...path, 'stream'], `a stream cannot be its own parent`);
  else if (!names.includes(parent.stream))
    add([...path, 'stream'], `unknown stream "${parent.stream}": expected another stream of this source (${names.filter((n) => n !== stream.name).join(', ') || 'there is none'})`);
  else if (lineage.cycle) add([...path, 'stream'], `parent streams go round in a cycle: ${lineage.cycle.join(' → ')}`);

  const vars = new Set([...Object.keys(source.vars ?? {}), ...Object.keys(stream.vars ?? {})]);
  if (vars.has(parent.as)) add([...path, 'as'], `"${parent.as}" is also a key of vars: name the parent's placeholder something else`);
  if (lineage.placeholders.indexOf(parent.as) !== lineage.placeholders.lastIndexOf(parent.as)) {
    add([...path, 'as'], `"${parent.as}" is also the placeholder of a parent further up: each level needs its own name`);
  }
  const used: string[] = [...placeholdersIn(stream.path ?? '')];
  for (const value of Object.values(stream.params ?? {})) if (typeof value === 'string') used.push(...placeholdersIn(value));
  forEachString(stream.body, (text) => used.push(...placeholdersIn(text)));
  if (stream.path !== undefined && !used.includes(parent.as)) {
    add([...path, 'as'], `{${parent.as}} is used nowhere: put it in path, params or body, or every parent would fetch the same records`);
  }
}

/** A stream that is not landed must be some stream's parent, and declares nothing of a table. */
function checkParentOnly(source: PartialSource, stream: PartialStream, at: (...rest: (string | number)[]) => (string | number)[], add: Add): void {
  const children = source.streams.filter((s) => s.parent?.stream === stream.name && s !== stream);
  if (stream.name !== undefined && children.length === 0) {
    add(at('land'), `land: false, but no stream names "${stream.name}" as its parent.stream: it would never be paged (land it, make it a parent, or remove it)`);
  }
  if (stream.columns !== undefined && stream.columns.length > 0) add(at('columns'), 'a stream with land: false has no table: columns describe nothing');
  if (stream.primary_key !== undefined) add(at('primary_key'), 'a stream with land: false has no table: primary_key describes nothing');
}

/** With `in: body` every paging path needs a POST body it can be placed in; with `in: header` the name must be a header's. */
function checkPagingTarget(stream: PartialStream, path: (string | number)[], add: Add): void {
  const pagination = stream.pagination!;
  if (pagination.type !== 'cursor' && pagination.type !== 'header_cursor' && pagination.type !== 'page_number' && pagination.type !== 'offset') return;
  const fields =
    pagination.type === 'cursor' || pagination.type === 'header_cursor'
      ? { param: pagination.param }
      : pagination.type === 'page_number'
        ? { param: pagination.param, page_size_param: pagination.page_size_param }
        : { offset_param: pagination.offset_param, limit_param: pagination.limit_param };
  if (pagination.in === 'header') {
    const name = (fields as { param: string }).param;
    if (!HEADER_NAME.test(name)) add([...path, 'param'], `"${name}" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~- only)`);
    else if (CREDENTIAL_HEADERS.has(name.toLowerCase())) add([...path, 'param'], `the cursor cannot travel in the credential header ${name}`);
    return;
  }
  if (pagination.in !== 'body') return;
  if (stream.method !== undefined && stream.method !== 'POST') add([...path, 'in'], 'in: body needs method: POST (a GET request has no body)');
  if (stream.body !== undefined && (stream.body === null || typeof stream.body !== 'object' || Array.isArray(stream.body))) {
    add([...path.slice(0, -1), 'body'], 'in: body needs a JSON object body to place the paging values in');
    return;
  }
  for (const [field, target] of Object.entries(fields)) {
    if (target === undefined) continue;
    const problem = bodyPathProblem(stream.body, target);
    if (problem) add([...path, field], problem);
  }
}

/** Why `dotted` cannot be set in `body` (an empty segment, or an existing value on the way that is not an object). */
function bodyPathProblem(body: unknown, dotted: string): string | undefined {
  const segments = dotted.split('.');
  if (segments.some((s) => s === '')) return `"${dotted}" is not a dotted path into the body (an empty segment)`;
  let node = body;
  for (const [i, segment] of segments.slice(0, -1).entries()) {
    node = node === null || typeof node !== 'object' ? undefined : (node as Record<string, unknown>)[segment];
    if (node !== undefined && (node === null || typeof node !== 'object' || Array.isArray(node))) {
      return `"${dotted}" goes through body.${segments.slice(0, i + 1).join('.')}, which is not an object`;
    }
  }
  return undefined;
}

/**
 * `!` followed by a path: JMESPath binds `!` tighter than `.` and `[]`, so `!data.has_more` is
 * `(!data).has_more`, a field of a boolean, which is always null: a `stop_when` written that way
 * never stops. String and JSON literals are skipped; a quoted identifier counts as a name.
 * https://jmespath.org/specification.html#not-expressions (binding powers: not 45, dot 40)
 */
const NOT_THEN_PATH = /!(?!=)\s*((?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"|@)\s*[.[][^|&)]*)/;

function checkJmespath(expression: string, path: (string | number)[], add: Add): void {
  const trap = NOT_THEN_PATH.exec(expression.replace(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, (literal) => ' '.repeat(literal.length)));
  if (trap) {
    const operand = trap[1]!.trim();
    add(path, `"${expression}" reads as (!${operand.split(/[.[]/)[0]})… because JMESPath applies ! before the path, so it is always null: write !(${operand})`);
    return;
  }
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

/**
 * Placeholders where nothing fills them (base_url, headers, vars values) would be sent as written:
 * reported once per field, on the first stream that sees it.
 */
function checkUnfilled(source: PartialSource, stream: PartialStream, at: (...rest: (string | number)[]) => (string | number)[], known: Set<string>, add: Add): void {
  const fields: [string, (string | number)[]][] = [
    ...Object.entries(stream.headers ?? {}).map(([name, value]): [string, (string | number)[]] => [value, at('headers', name)]),
    ...Object.entries(stream.vars ?? {}).map(([name, value]): [string, (string | number)[]] => [String(value), at('vars', name)]),
  ];
  if (stream === source.streams[0]) {
    if (source.base_url !== undefined) fields.push([source.base_url, ['base_url']]);
    for (const [name, value] of Object.entries(source.headers ?? {})) fields.push([value, ['headers', name]]);
    for (const [name, value] of Object.entries(source.vars ?? {})) fields.push([String(value), ['vars', name]]);
  }
  for (const [text, path] of fields) {
    const unfilled = [
      ...unfilledPlaceholders(text, known),
      ...placeholdersIn(text)
        .filter((name) => name.startsWith('job.'))
        .map((name) => `{${name}}`),
    ];
    if (unfilled.length > 0) {
      add(path, `${unfilled.map((p) => `"${p}"`).join(', ')} would be sent as written: placeholders are filled only in path, params and body, and in the headers of a job's create, poll and download`);
    }
  }
}

function checkPlaceholders(text: string, path: (string | number)[], known: Set<string>, add: Add): void {
  for (const problem of templateProblems(text, known)) add(path, problem);
}

/** `incremental.format`: a format that reads timestamps, and not beside `unit`. */
function checkReadFormat(incremental: { format?: string | undefined; unit?: string | undefined }, path: (string | number)[], add: Add): void {
  if (incremental.format === undefined) return;
  if (incremental.unit !== undefined) add([...path, 'format'], 'give unit or format, not both: format: epoch or epoch_ms reads epoch numbers, unit: us or ns the finer ones');
  const problem = readFormatProblem(incremental.format);
  if (problem) add([...path, 'format'], problem);
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
