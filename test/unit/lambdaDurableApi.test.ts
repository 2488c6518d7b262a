/**
 * The function bundle takes bin/lambdaDurableApi.mjs for `@aws-sdk/client-lambda`: every name of
 * that package the durable execution SDK or the function's own code uses must be exported there,
 * or the deployed function would fail on its first checkpoint with "is not a constructor".
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Names of `@aws-sdk/client-lambda`'s classes that `text` takes from a module (`module.X`,
 * `new X`, or `import { X }`), not those it only mentions (error names compared as strings).
 */
function lambdaNamesIn(text: string): Set<string> {
  const names = new Set<string>();
  const uses = [/\.([A-Z][A-Za-z0-9]+)\b/g, /\bnew ([A-Z][A-Za-z0-9]+)\b/g, /\bimport\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-lambda'/g];
  for (const pattern of uses) {
    for (const match of text.matchAll(pattern)) {
      for (const word of match[1]!.split(/[\s,]+/)) if (typeof (lambda as Record<string, unknown>)[word] === 'function') names.add(word);
    }
  }
  return names;
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath, e.name));
}

describe('bin/lambdaDurableApi.mjs', () => {
  it("exports every Lambda client class the durable execution SDK and the function's code name", async () => {
    const slim = (await import(join(ROOT, 'bin/lambdaDurableApi.mjs'))) as Record<string, unknown>;
    const sdk = await readFile(join(ROOT, 'node_modules/@aws/durable-execution-sdk-js/dist/index.mjs'), 'utf8');
    const used = lambdaNamesIn(sdk);
    for (const file of await filesUnder(join(ROOT, 'functions'), '.ts')) {
      const text = await readFile(file, 'utf8');
      if (text.includes("'@aws-sdk/client-lambda'")) for (const name of lambdaNamesIn(text)) used.add(name);
    }
    // The SDK's client and the commands it sends: a scan that found none would prove nothing.
    expect(used).toContain('LambdaClient');
    expect(used).toContain('CheckpointDurableExecutionCommand');
    const missing = [...used].filter((name) => typeof slim[name] !== 'function');
    expect(missing).toEqual([]);
    // The package's own ES module classes (the test imports its CommonJS build, so not the same objects).
    for (const name of used) expect((slim[name] as { name: string }).name).toBe(name);
  });
});
