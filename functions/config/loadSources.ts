/**
 * Reads source definitions from YAML and validates them completely: YAML syntax, the zod schema
 * and the semantic checks, with every problem reported at once by file, path and line.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { checkSource } from './checkSource.js';
import { sourceSchema, type SourceDefinition } from './sourceSchema.js';

/** A validated source and the file it came from. */
export interface LoadedSource {
  readonly file: string;
  readonly definition: SourceDefinition;
}

/**
 * Parses and validates one source file's text.
 * @param file shown in error messages; not read.
 * @throws ConfigError listing every problem in the file.
 */
export function parseSource(text: string, file: string): SourceDefinition {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);

  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, path: '', line: lineOf(e.pos[0]), message: `YAML: ${firstLine(e.message)}` })));
  }
  const parsed = sourceSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.flatMap((issue) => issueToProblems(issue, doc, file, lineOf)));
  }
  const problems = checkSource(parsed.data).map((p) => locate(p.path, p.message, doc, file, lineOf));
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** Reads and validates one file. @throws ConfigError */
export async function loadSourceFile(file: string): Promise<SourceDefinition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: `cannot read file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }], { cause: error });
  }
  return parseSource(text, file);
}

/**
 * Loads every `*.yaml` / `*.yml` file of a folder. Problems of all files are gathered and
 * thrown together, so one `apilake validate` shows everything that needs fixing.
 * @throws ConfigError
 */
export async function loadSources(dir: string): Promise<LoadedSource[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  } catch (error) {
    throw new ConfigError([{ file: dir, path: '', message: `cannot read the sources folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }], { cause: error });
  }
  const problems: ConfigProblem[] = [];
  const loaded: LoadedSource[] = [];
  for (const name of names) {
    const file = displayPath(join(dir, name));
    try {
      loaded.push({ file, definition: await loadSourceFile(file) });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  const byName = new Map<string, string>();
  for (const { file, definition } of loaded) {
    const other = byName.get(definition.name);
    if (other) problems.push({ file, path: 'name', message: `source "${definition.name}" is also defined in ${other}` });
    byName.set(definition.name, file);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded;
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
  return [locate(issue.path, describeIssue(issue, doc), doc, file, lineOf)];
}

function describeIssue(issue: z.core.$ZodIssue, doc: Document): string {
  const received = doc.getIn(issue.path as (string | number)[]);
  if (issue.code === 'invalid_type' && received === undefined) return `required (expected ${issue.expected})`;
  const shown = received === undefined || isNode(received) ? '' : ` (got ${JSON.stringify(received)})`;
  return `${issue.message}${shown}`;
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

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
