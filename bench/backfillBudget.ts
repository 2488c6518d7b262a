/**
 * A long backfill on one rate budget: `apilake backfill` lands `windows` hourly windows, N at
 * once, against an API (in a process of its own) that answers 429 above `limit` requests in any second, each window one
 * request. The budget is where a user's run keeps it: the local lake's folder, or DynamoDB
 * (dynalite on loopback, `APILAKE_BUDGET_TABLE`) as the deployed functions share it. Measures the
 * backfill's time against the least the budget allows (requests ÷ limit), what the API saw, and
 * that every window committed once.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentCommits, FsLakeStorage } from '../functions/index.js';
import { createBudgetTable, startDynalite } from '../test/support/dynaliteServer.js';
import { maxInAnySpan } from '../test/support/rateLimitedApi.js';
import { buildBench } from './buildBench.js';
import { startRateLimitedApiProcess } from './children.js';

const BIN = fileURLToPath(new URL('../bin/apilake.mjs', import.meta.url));
const HOUR_MS = 3_600_000;

/** What one backfill measured. */
export interface BackfillBudgetRun {
  readonly windows: number;
  readonly committed: number;
  /** Requests the API saw, 429s included. */
  readonly requests: number;
  readonly throttled: number;
  /** Wall time of the `apilake backfill` process, start to exit (ms). */
  readonly ms: number;
  /** `ms` ÷ (requests ÷ limit): 1 is a backfill as fast as the budget allows. */
  readonly overLeast: number;
  /** The most requests the API saw in any 1,000 ms ÷ the limit. */
  readonly busiestSecond: number;
  readonly exitCode: number;
}

/** Options of {@link measureBackfillBudget}. */
export interface BackfillBudgetOptions {
  readonly windows: number;
  readonly limit: number;
  readonly concurrency: number;
  readonly store: 'lake' | 'dynamodb';
  /** API latency per request (ms). @default 50 */
  readonly latencyMs?: number;
  /** The source's `rate_limit.concurrency`: requests in flight at once in the run. @default 1 */
  readonly inFlight?: number;
}

function sourceYaml(api: string, options: BackfillBudgetOptions): string {
  return `name: budget_backfill
schedule: rate(1 hour)
base_url: ${api}
rate_limit: { requests_per_second: ${options.limit}, concurrency: ${options.inFlight ?? 1}, expected_workers: ${options.concurrency} }
retry: { max_attempts: 10, base_delay_ms: 50, max_delay_ms: 5000, circuit_breaker_failures: 1000 }
streams:
  - name: items
    path: /items
    params: { since: "{window.start}", until: "{window.end}" }
    records: data
`;
}

/** Runs one backfill and reports what it measured. */
export async function measureBackfillBudget(options: BackfillBudgetOptions): Promise<BackfillBudgetRun> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-bench-backfill-'));
  const api = await startRateLimitedApiProcess((await buildBench()).rateLimitedServer, { limit: options.limit, perWindow: 20, latencyMs: options.latencyMs ?? 50 });
  const dynalite = options.store === 'dynamodb' ? await startDynalite() : undefined;
  try {
    await writeFile(join(dir, 'budget_backfill.yaml'), sourceYaml(api.url, options));
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: '1' };
    if (dynalite) {
      await createBudgetTable(dynalite.client, 'bench-budget');
      Object.assign(env, {
        APILAKE_BUDGET_TABLE: 'bench-budget',
        AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
    }
    const from = Date.UTC(2024, 0, 1);
    const to = from + options.windows * HOUR_MS;
    const args = [BIN, 'backfill', 'budget_backfill', '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString()];
    args.push('--concurrency', String(options.concurrency), '--sources', dir, '--lake', join(dir, 'lake'));
    // The bin rebuilds dist/cli when a source changed: a first `--version` keeps that out of the timing.
    await run([BIN, '--version'], env);
    const started = performance.now();
    const exitCode = await run(args, env);
    const ms = performance.now() - started;
    const committed = (await currentCommits(new FsLakeStorage(join(dir, 'lake')), 'budget_backfill', 'items')).size;
    const seen = await api.report();
    const requests = seen.arrivals.length;
    return {
      windows: options.windows,
      committed,
      requests,
      throttled: seen.throttled,
      ms,
      overLeast: ms / ((requests / options.limit) * 1000),
      busiestSecond: maxInAnySpan(seen.arrivals, 1000) / options.limit,
      exitCode,
    };
  } finally {
    api.stop();
    await dynalite?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function run(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`apilake ${args.slice(1, 3).join(' ')} exited ${code}: ${stderr}`));
      else resolve(code);
    });
  });
}
