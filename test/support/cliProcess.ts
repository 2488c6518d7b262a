import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/apilake.mjs', import.meta.url));

/** A running `apilake` whose stdout can be awaited line by line (to interrupt it mid-run). */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves once `count` stdout lines match `pattern`. */
  waitForLines(pattern: RegExp, count: number): Promise<void>;
  /** Resolves with the exit code and everything printed. */
  done(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function spawnApilake(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; count: number; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (stdout.split('\n').filter((l) => w.pattern.test(l)).length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    waitForLines: (pattern, count) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, count, resolve });
        check();
        void exited.then(({ stdout: out, stderr: err }) => reject(new Error(`apilake exited before ${count} lines matched ${pattern}:\n${out}\n${err}`)));
      }),
    done: () => exited,
  };
}
