/**
 * Runs the CLI in a real pseudo-terminal, as a user's terminal runs it, with no native module:
 * util-linux `script` allocates the PTY (`stty cols N` sets its width), keyboard input is written
 * to script's stdin (so `\x03` is a real Ctrl-C, turned into SIGINT by the terminal driver), and
 * everything the terminal shows comes back from script's stdout.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/apilake.mjs', import.meta.url));

/** A CLI process running in a pseudo-terminal. */
export interface PtyProcess {
  /** Everything written to the terminal so far (stdout and stderr interleaved, as a user sees them). */
  output(): string;
  /** Types on the keyboard: `\x03` is Ctrl-C. */
  type(text: string): void;
  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Resolves with the exit code once the command ends. */
  done(): Promise<number | null>;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Starts `apilake <args>` in a `columns`-wide terminal. */
export function spawnInPty(args: readonly string[], options: { cwd: string; columns: number; env?: Record<string, string> }): PtyProcess {
  const command = `stty cols ${options.columns} rows 40 && exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`;
  // -q quiet, -f flush each write, -e return the command's exit code, -c run this command; no typescript file.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, env: { ...process.env, ...options.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const w of [...waiters]) {
      if (w.pattern.test(output)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    output: () => output,
    type: (text) => child.stdin.write(text),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        if (pattern.test(output)) return resolve();
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`the command ended before its output matched ${pattern}:\n${output}`)));
      }),
    done: () => {
      child.stdin.end();
      return exited;
    },
  };
}

/** What a terminal of `columns` shows after `output`, and every place a line would have wrapped. */
export function renderTerminal(output: string, columns: number): { rows: string[]; overflows: string[] } {
  const rows: string[] = [''];
  const overflows: string[] = [];
  let col = 0;
  const row = () => rows.length - 1;
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex -- an ANSI escape sequence starts with ESC, the control character this must match
      const match = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(output.slice(i));
      if (match) {
        if (match[2] === 'K') rows[row()] = rows[row()]!.slice(0, col);
        i += match[0].length - 1;
      }
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      rows.push('');
      col = 0;
    } else {
      if (col >= columns) overflows.push(rows[row()]!);
      const line = rows[row()]!.padEnd(col);
      rows[row()] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return { rows: rows.map((r) => r.trimEnd()), overflows };
}

/** A CLI process in a pseudo-terminal that the test can hang up, from {@link spawnInHangupPty}. */
export interface HangupPtyProcess {
  /** Resolves once the terminal runs the command. */
  readonly ready: Promise<void>;
  /** Closes the terminal (writes to it then fail with EIO), then sends the command SIGHUP, as closing a terminal window does. */
  hangUp(): void;
  /** Resolves once the command ends: its exit code (negative: the signal that killed it) and what the terminal showed before it went away. */
  done(): Promise<{ code: number; terminal: string }>;
}

const HANGUP_PTY = fileURLToPath(new URL('./hangupPty.py', import.meta.url));

/**
 * Starts `apilake <args>` in a pseudo-terminal held by a Python helper (`hangupPty.py`): `script`
 * cannot close its terminal and still report the command's exit code.
 */
export function spawnInHangupPty(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): HangupPtyProcess {
  const child = spawn('python3', [HANGUP_PTY, process.execPath, BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number; terminal: string }>((resolve, reject) =>
    child.on('close', (code) => {
      const last = stdout.trimEnd().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`the terminal helper ended with ${code}: ${stderr || stdout}`));
      resolve(JSON.parse(last) as { code: number; terminal: string });
    }),
  );
  return { ready, hangUp: () => child.kill('SIGUSR1'), done: () => exited };
}
