/**
 * Reads source definitions from YAML and validates them completely: YAML syntax, the zod schema
 * and the semantic checks, with every problem reported at once by file, path and line.
 */

import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { join, relative } from 'node:path';
import { isMap, isNode, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { checkSource } from './checkSource.js';
import { partialSource, type PartialSource } from './partialSource.js';
import { sourceSchema, type SourceDefinition } from './sourceSchema.js';
import { unionReading } from './unionIssue.js';
import { checkAliases, checkFlowDepth, checkSize, formatBytes, MAX_ALIAS_NODES, MAX_SOURCE_BYTES, type LimitProblem } from './yamlLimits.js';
import { maskUrlCredentials } from './urlCredentials.js';

/** A validated source and the file it came from. */
export interface LoadedSource {
  readonly file: string;
  readonly definition: SourceDefinition;
}

/** Everything known about one file: its definition when valid, its problems, and what parsed. */
interface Analysis {
  readonly file: string;
  readonly definition?: SourceDefinition;
  readonly problems: ConfigProblem[];
  /** The parts that passed the schema, for checks across files. */
  readonly partial: PartialSource;
  /** The 1-based line of a path in the file, when it can be located. */
  readonly lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

/**
 * Parses and validates one source file's text.
 * @param file shown in error messages; not read.
 * @throws ConfigError listing every problem in the file.
 */
export function parseSource(text: string, file: string): SourceDefinition {
  const analysis = analyseSource(text, file);
  if (analysis.problems.length > 0 || !analysis.definition) throw new ConfigError(analysis.problems);
  return analysis.definition;
}

/**
 * Reads, parses and checks one file's text, gathering every problem: the size and YAML limits,
 * YAML syntax, the schema, and the semantic checks on whatever passed the schema.
 */
function analyseSource(text: string, file: string): Analysis {
  const lines = new LineCounter();
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  const nothing: Analysis = { file, problems: [], partial: { streams: [] }, lineOf: () => undefined };
  const fail = (...found: LimitProblem[]): Analysis => ({ ...nothing, problems: found.map((p) => ({ file, path: '', line: lineAt(p.offset), message: p.message })) });

  const tooBig = checkSize(Buffer.byteLength(text));
  if (tooBig) return fail(tooBig);
  // Lines are counted here rather than by the parser, so a problem found before parsing is located too.
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  const tooDeep = checkFlowDepth(text);
  if (tooDeep) return fail(tooDeep);

  let doc: Document;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    return fail({ message: `YAML: cannot be parsed: ${yamlReason(error)}` });
  }
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) return fail(...syntax.map((e) => ({ offset: e.pos[0], message: `YAML: ${yamlReason(e)}` })));
  const aliases = checkAliases(doc);
  if (aliases.length > 0) return fail(...aliases);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_NODES });
  } catch (error) {
    return fail({ message: `YAML: ${yamlReason(error)}` });
  }
  const lineOf = (path: readonly PropertyKey[]) => locate(path, '', doc, file, lineAt).line;
  const parsed = sourceSchema.safeParse(raw);
  const partial = parsed.success ? parsed.data : partialSource(raw);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => issueToProblems(issue, doc, file, lineAt))),
    ...checkSource(partial).map((p) => locate(p.path, p.message, doc, file, lineAt)),
  ];
  return { file, definition: parsed.success ? parsed.data : undefined, problems: sortByLine(problems), partial, lineOf };
}

/** Reads and validates one file. @throws ConfigError */
export async function loadSourceFile(file: string): Promise<SourceDefinition> {
  const analysis = await analyseFile(file);
  if (analysis.problems.length > 0 || !analysis.definition) throw new ConfigError(analysis.problems);
  return analysis.definition;
}

async function analyseFile(file: string): Promise<Analysis> {
  const problem = (message: string, line?: number): Analysis => ({ file, problems: [{ file, path: '', line, message }], partial: { streams: [] }, lineOf: () => undefined });
  let bytes: Buffer;
  try {
    bytes = await readCapped(file);
  } catch (error) {
    if (error instanceof ReadLimitError) return problem(error.message);
    return problem(`cannot read file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!isUtf8(bytes)) {
    // A line break byte never occurs inside a multi-byte sequence, so lines can be checked one by one.
    let line = 1;
    for (let start = 0; start <= bytes.length; line++) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end < 0 ? bytes.length : end;
      if (!isUtf8(bytes.subarray(start, stop))) break;
      start = stop + 1;
    }
    return problem('file is not valid UTF-8 (save it as UTF-8)', line);
  }
  return analyseSource(bytes.toString('utf8'), file);
}

class ReadLimitError extends Error {}

/** Reads at most the size limit (plus one byte to notice more), refusing what is not a regular file. */
async function readCapped(file: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO named *.yaml must not wait for a writer.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ReadLimitError('not a regular file');
    if (info.size > MAX_SOURCE_BYTES) throw new ReadLimitError(checkSize(info.size)!.message);
    const buffer = Buffer.alloc(MAX_SOURCE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    // The file grew after stat: still refuse it.
    if (length > MAX_SOURCE_BYTES) throw new ReadLimitError(`file is more than the ${formatBytes(MAX_SOURCE_BYTES)} a source definition may take`);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/**
 * Loads every `*.yaml` / `*.yml` file of a folder. Problems of all files are gathered and
 * thrown together, so one `apilake validate` shows everything that needs fixing, including
 * what collides across files: two sources of the same name, or two streams whose table name
 * `<source>_<stream>` is the same (source `gh` + stream `x_issues`, source `gh_x` + stream `issues`).
 * @throws ConfigError
 */
export async function loadSources(dir: string): Promise<LoadedSource[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : (code ?? (error as Error).message);
    throw new ConfigError([{ file: dir, path: '', message: `cannot read the sources folder: ${why} (--sources names the folder of the source files, default ./sources)` }], { cause: error });
  }
  const analyses: Analysis[] = [];
  for (const name of names) analyses.push(await analyseFile(displayPath(join(dir, name))));
  const problems = [...analyses.flatMap((a) => a.problems), ...collisions(analyses)];
  if (problems.length > 0) throw new ConfigError(problems);
  return analyses.map((a) => ({ file: a.file, definition: a.definition! }));
}

/** Source names and table names used twice across files, reported at the later one, naming both. */
function collisions(analyses: readonly Analysis[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const sources = new Map<string, { file: string; line?: number }>();
  const tables = new Map<string, { file: string; line?: number; source: string; stream: string }>();
  const where = (at: { file: string; line?: number }) => `${at.file}${at.line === undefined ? '' : `:${at.line}`}`;
  for (const analysis of analyses) {
    const { name } = analysis.partial;
    if (name === undefined) continue;
    const here = { file: analysis.file, line: analysis.lineOf(['name']) };
    const other = sources.get(name);
    if (other) {
      // The same source twice: its tables collide too, and saying so again would only add noise.
      problems.push({ ...here, path: 'name', message: `source "${name}" is also defined in ${where(other)}` });
      continue;
    }
    sources.set(name, here);
    analysis.partial.streams.forEach((stream, i) => {
      if (stream.name === undefined) return;
      const table = `${name}_${stream.name}`;
      const at = { file: analysis.file, line: analysis.lineOf(['streams', i, 'name']) };
      const earlier = tables.get(table);
      if (earlier && earlier.source !== name) {
        problems.push({
          ...at,
          path: `streams[${i}].name`,
          message: `table "${table}" (source "${name}", stream "${stream.name}") is also the table of source "${earlier.source}", stream "${earlier.stream}" in ${where(earlier)}: rename a source or a stream`,
        });
      } else if (!earlier) tables.set(table, { ...at, source: name, stream: stream.name });
    });
  }
  return problems;
}

/**
 * Finds one source by name in a folder, validating the whole folder first.
 * @throws ConfigError when the folder is invalid or no source has that name.
 */
export async function findSource(dir: string, name: string): Promise<LoadedSource> {
  const sources = await loadSources(dir);
  const found = sources.find((s) => s.definition.name === name);
  if (!found) {
    const known = sources.map((s) => s.definition.name).join(', ') || 'none';
    throw new ConfigError([{ file: displayPath(dir), path: '', message: `no source named "${name}" (found: ${known})` }]);
  }
  return found;
}

/** Formats a path such as `['streams', 1, 'pagination', 'cursor']` as `streams[1].pagination.cursor`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function issueToProblems(issue: z.core.$ZodIssue, doc: Document, file: string, lineOf: (o?: number) => number | undefined): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => locate([...issue.path, key], `unknown key "${key}"`, doc, file, lineOf));
  }
  const union = unionReading(issue);
  if (union.kind === 'inside') return union.issues.flatMap((inner) => issueToProblems({ ...inner, path: [...issue.path, ...inner.path] }, doc, file, lineOf));
  if (union.kind === 'expected') {
    const received = doc.getIn(issue.path as (string | number)[]);
    return [locate(issue.path, received === undefined ? `required (expected ${union.expected})` : `Invalid input: expected ${union.expected}, got ${receivedKind(received)}`, doc, file, lineOf)];
  }
  return [locate(issue.path, describeIssue(issue, doc), doc, file, lineOf)];
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document): string {
  const received = doc.getIn(issue.path as (string | number)[]);
  if (issue.code === 'invalid_type' && received === undefined) return `required (expected ${issue.expected})`;
  const shown = received === undefined || isNode(received) ? '' : ` (got ${shownValue(received)})`;
  return `${issue.message}${shown}`;
}

/** A value as the YAML author sees it: `a list`, `a mapping`, or a scalar as JSON (`null`, `"eu"`). */
function receivedKind(received: unknown): string {
  if (isSeq(received)) return 'a list';
  if (isMap(received)) return 'a mapping';
  return isNode(received) ? 'a YAML node' : shownValue(received);
}

/** A value as a problem quotes it: JSON, a URL's user info masked (a credential, refused but not to be printed). */
function shownValue(received: unknown): string {
  return JSON.stringify(typeof received === 'string' ? maskUrlCredentials(received) : received);
}

function locate(path: readonly PropertyKey[], message: string, doc: Document, file: string, lineOf: (o?: number) => number | undefined): ConfigProblem {
  // Walk up to the nearest node that exists, so a missing key points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true);
    if (isNode(node) && node.range) return { file, path: formatPath(path), line: lineOf(keyOffset(doc, path.slice(0, depth)) ?? node.range[0]), message };
  }
  return { file, path: formatPath(path), message };
}

/** Offset of the key (not the value) of a mapping entry, which is where editors point. */
function keyOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  if (path.length === 0) return undefined;
  const parent = doc.getIn(path.slice(0, -1) as (string | number)[], true);
  const last = path[path.length - 1];
  if (isNode(parent) && 'items' in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as unknown[]) {
      const pair = item as { key?: { value?: unknown; range?: [number, number, number] } };
      if (pair.key && pair.key.value === last && pair.key.range) return pair.key.range[0];
    }
  }
  return undefined;
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** The first line of a YAML error, with the parser's stack exhaustion said plainly. */
function yamlReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Maximum call stack size exceeded/.test(message)) return 'nesting too deep to parse';
  return message.split('\n')[0]!;
}

function sortByLine(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Number.POSITIVE_INFINITY) - (b.p.line ?? Number.POSITIVE_INFINITY) || a.i - b.i)
    .map(({ p }) => p);
}
