/**
 * An example of `examples/` run as a user runs it: copied into a sources folder with the changes a
 * test needs (the simulation's URLs, small pages), beside an empty lake; and a check that no
 * credential reached any output or any file of the lake.
 */

import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SourceDocument } from './exampleSource.js';
import { listFiles } from './lakeReader.js';

/** A folder with `sources/<example>` and `lake/`. */
export interface ExampleWorkspace {
  readonly root: string;
  readonly sources: string;
  readonly lake: string;
}

/** Copies `examples/<file>` with `patch` applied into a new workspace's sources folder. */
export async function exampleWorkspace(file: string, patch: (doc: SourceDocument) => void): Promise<ExampleWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'apilake-example-'));
  const sources = join(root, 'sources');
  await mkdir(sources);
  const doc = parse(await readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as SourceDocument;
  patch(doc);
  await writeFile(join(sources, file), stringify(doc));
  return { root, sources, lake: join(root, 'lake') };
}

/**
 * Asserts that none of `secrets` appears in `outputs` or in any file of `lake` (gzip parts read
 * decompressed too), in any of the forms a value leaks in: as is, JSON-escaped, percent-encoded.
 */
export async function expectNoSecrets(secrets: readonly string[], outputs: readonly string[], lake: string): Promise<void> {
  const forms = secrets.filter((s) => s.length > 0).flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]);
  const texts = [...outputs];
  for (const key of await listFiles(lake)) {
    const bytes = await readFile(join(lake, key));
    texts.push(bytes.toString('latin1'));
    if (key.endsWith('.gz')) texts.push(gunzipSync(bytes).toString('utf8'));
  }
  expect(texts.length).toBeGreaterThan(outputs.length); // the lake holds files to search
  for (const text of texts) for (const form of forms) expect(text.includes(form), `a secret appears in output or lake: …${form.slice(0, 4)}…`).toBe(false);
}
