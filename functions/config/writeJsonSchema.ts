/** Writes `sources/source.schema.json` so editors validate and autocomplete source files. */

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { sourceSchema } from './sourceSchema.js';

/** The JSON Schema of a source file, as users write it (defaults optional). */
export function sourceJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(sourceSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://apilake.dev/schemas/source.schema.json',
    title: 'apilake source definition',
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = new URL('../../sources/source.schema.json', import.meta.url);
  await writeFile(target, `${JSON.stringify(sourceJsonSchema(), null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(target)}`);
}
