import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// The bin runs a build in dist/cli; it must never run a stale one. Exercised on a copy of the
// project, so editing sources here cannot disturb the other tests.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let copy: string;

const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(copy, 'bin', 'apilake.mjs'), ...args], { cwd: copy, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
const edit = async (file: string, from: string, to: string) => {
  const path = join(copy, file);
  const text = await readFile(path, 'utf8');
  expect(text).toContain(from);
  await writeFile(path, text.replace(from, to));
};

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'apilake-bin-'));
  for (const entry of ['bin', 'cli', 'functions', 'infra', 'examples', 'package.json', 'tsconfig.json']) await cp(join(ROOT, entry), join(copy, entry), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
});

describe('the apilake bin', () => {
  it('builds on first use, reuses a fresh build, and rebuilds when any source file changes', async () => {
    const first = await run(['--help']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Land HTTP APIs as exactly-once windows');
    const built = (await stat(join(copy, 'dist', 'cli', 'main.js'))).mtimeMs;

    expect((await run(['--version'])).code).toBe(0);
    expect((await stat(join(copy, 'dist', 'cli', 'main.js'))).mtimeMs).toBe(built); // fresh: not rebuilt

    // An edit to the entry point shows at once.
    await edit('cli/main.ts', 'Land HTTP APIs as exactly-once windows', 'EDITED: land HTTP APIs');
    expect((await run(['--help'])).stdout).toContain('EDITED: land HTTP APIs');

    // So does an edit deep in a lazily loaded command chunk, and in the engine.
    await edit('cli/commands/validate.ts', 'valid`);', 'valid (edited)`);');
    const validate = await run(['validate', '--sources', 'examples']);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('17 sources valid (edited)');
    await edit('functions/config/loadSources.ts', 'no source named', 'EDITED no source named');
    expect((await run(['run', 'nope', '--sources', 'examples'])).stderr).toContain('EDITED no source named "nope"');
  }, 120_000);
});
