/**
 * Vitest global setup: every temp folder the tests make (lakes, workspaces, caches, the CLI
 * children's) goes under one folder of this run, removed when the run ends. Test files call
 * `mkdtemp(join(tmpdir(), …))` and many never remove what they made; `os.tmpdir()` reads TMPDIR
 * when called, and the test workers and every process they start inherit it from here.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'apilake-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
