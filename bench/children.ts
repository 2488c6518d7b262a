/** Process helpers of the benchmark: JSON-speaking children, servers in their own process, statistics. */

import { execFile, fork, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { RateLimitedApiOptions } from '../test/support/rateLimitedApi.js';
import type { BenchApiOptions } from './benchApi.js';

const execFileAsync = promisify(execFile);

/** Runs `command args…`, parses the last line of its stdout as JSON. */
export async function runJson<T>(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<T> {
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 16 * 1024 * 1024, env: options.env ?? process.env, timeout: options.timeoutMs ?? 30 * 60_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${[command, ...args.map((a) => (a.length > 80 ? `${a.slice(0, 77)}...` : a))].join(' ')} failed: ${(stderr || stdout || (error as Error).message).trim().slice(-2000)}`);
  }
}

/** A bench API in its own process. */
export interface ApiProcess {
  readonly url: string;
  stop(): void;
}

/** Starts bench/benchServer.mjs with `options`; resolves once it listens. */
export async function startApi(serverScript: string, options: BenchApiOptions): Promise<ApiProcess> {
  const child: ChildProcess = fork(serverScript, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`bench API exited with ${code}`)));
  });
  return {
    url,
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}

/** What the rate-limited API saw: arrival times (its clock, ms), and the requests refused and served. */
export interface RateLimitedApiReport {
  readonly arrivals: readonly number[];
  /** Arrival times of the requests it admitted (not answered 429). */
  readonly admittedArrivals: readonly number[];
  readonly throttled: number;
  readonly served: number;
}

/** The rate-limited API (test/support/rateLimitedApi.ts) in its own process. */
export interface RateLimitedApiProcess {
  readonly url: string;
  /** What it saw so far. */
  report(): Promise<RateLimitedApiReport>;
  stop(): void;
}

/** Starts bench/rateLimitedServer.mjs with `options`; resolves once it listens. */
export async function startRateLimitedApiProcess(serverScript: string, options: RateLimitedApiOptions): Promise<RateLimitedApiProcess> {
  const child: ChildProcess = fork(serverScript, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`rate-limited API exited with ${code}`)));
  });
  return {
    url,
    report: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as RateLimitedApiReport));
        child.send('report');
      }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}

/** Median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `[min, max]` of `values`. */
export function spread(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** `items` rotated left by `by`: round r runs the variants in another order, so no variant always goes first. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
