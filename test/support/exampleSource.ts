/** Loads a source of `examples/` through the real loader, with changes a test needs (base URL, page size). */

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';

/** A document as YAML parses it, for patching. */
export type SourceDocument = Record<string, unknown> & { streams: Record<string, unknown>[] };

/** `examples/<file>` with `patch` applied to its document, validated like any source file. */
export async function exampleSource(file: string, patch: (doc: SourceDocument) => void): Promise<SourceDefinition> {
  const doc = parse(await readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as SourceDocument;
  patch(doc);
  return parseSource(JSON.stringify(doc), `examples/${file}`);
}
