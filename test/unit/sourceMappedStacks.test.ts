import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const INSTALLER = fileURLToPath(new URL('../../functions/ingest/sourceMappedStacks.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  // GIVEN a minified bundle, as the function's, with its linked source map beside it
  dir = await mkdtemp(join(tmpdir(), 'apilake-stacks-'));
  await writeFile(join(dir, 'thrower.ts'), ['export function fail(): never {', "  throw new Error('boom');", '}', ''].join('\n'));
  await writeFile(
    join(dir, 'entry.ts'),
    [
      `import { installSourceMappedStacks } from ${JSON.stringify(INSTALLER)};`,
      "import { fail } from './thrower.js';",
      'installSourceMappedStacks(import.meta.url);',
      'try { fail(); } catch (error) { console.log((error as Error).stack); }',
      '',
    ].join('\n'),
  );
  await build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, minify: true, sourcemap: true, platform: 'node', format: 'esm', outfile: join(dir, 'index.mjs'), logLevel: 'silent' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (...flags: string[]) => spawnSync(process.execPath, [...flags, join(dir, 'index.mjs')], { encoding: 'utf8' }).stdout;

describe('installSourceMappedStacks', () => {
  it('maps frames of the bundle to the TypeScript sources when a stack is formatted', () => {
    const stack = run();
    expect(stack.split('\n')[0]).toBe('Error: boom');
    expect(stack).toMatch(/at \S+ \(.*thrower\.ts:2:9\)/);
    expect(stack).not.toContain('index.mjs:');
  });

  it('leaves stacks to Node when it was started with --enable-source-maps', () => {
    expect(run('--enable-source-maps')).toMatch(/thrower\.ts:2:9/);
  });

  it('falls back to the bundle positions when the map is missing', async () => {
    await rm(join(dir, 'index.mjs.map'));
    const stack = run();
    expect(stack).toMatch(/index\.mjs:\d+:\d+/);
    expect(stack).not.toContain('thrower.ts');
  });
});
