/**
 * One worker process of the shared-budget tests and benchmark: an invocation of a source whose
 * rate budget lives in DynamoDB (dynalite, possibly behind a fault proxy), in a lake folder, or in
 * the process. It says `ready` once warm, reads the common start time from stdin, then either
 * floods the API for a while (`flood`) or lands its share of a backfill's windows into a local
 * lake, one fresh client per window as one Lambda invocation per window would (`windows`). Its
 * last stdout line is a JSON {@link WorkerReport}.
 *
 * Run: `node budgetWorker.mjs '<WorkerConfig JSON>'` (bundled by budgetWorkers.ts).
 */

import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { budgetDynamoClient } from '../../functions/budget/DynamoBudgetStore.js';
import type { BudgetPlace } from '../../functions/budget/createRateBudget.js';
import { SharedRateBudget, type SharedBudgetTuning } from '../../functions/budget/SharedRateBudget.js';
import type { RateBudget } from '../../functions/http/RateBudget.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { readJson } from '../../functions/http/readJson.js';
import { createRateBudget } from '../../functions/budget/createRateBudget.js';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';

/** What a worker is told. */
export interface WorkerConfig {
  readonly worker: number;
  readonly api: string;
  readonly limits: { readonly requestsPerSecond: number; readonly concurrency: number; readonly expectedWorkers: number };
  readonly budget: { readonly kind: 'dynamodb'; readonly table: string; readonly endpoint: string } | { readonly kind: 'lake'; readonly folder: string } | { readonly kind: 'process' };
  /** Timings of a shared budget. @default the budget's own */
  readonly tuning?: Partial<SharedBudgetTuning>;
  readonly mode:
    | { readonly kind: 'flood'; readonly durationMs: number; readonly inFlight: number }
    | { readonly kind: 'windows'; readonly lake: string; readonly windows: readonly { start: string; end: string }[] };
}

/** What a worker reports. */
export interface WorkerReport {
  readonly worker: number;
  /** Requests answered (after the client's own retries). */
  readonly answered: number;
  /** Requests that failed for good. */
  readonly failed: number;
  readonly errors: string[];
  /** Windows committed (windows mode). */
  readonly committed: number;
  /** Milliseconds each window's invocation took (windows mode). */
  readonly windowMs: number[];
  readonly retries: number;
  readonly throttled: number;
  /** Budget store writes and reads, and the budget's own counters. */
  readonly storeWrites: number;
  readonly storeReads: number;
  readonly fallbacks: number;
  readonly onShare: number;
  readonly missed: number;
  /** Slots booked in the store. */
  readonly booked: number;
  readonly bookings: number;
  readonly bookingMs: number;
  /** Lake calls priced like S3 requests: PUTs (and LIST, DELETE), GETs. */
  readonly lakePuts: number;
  readonly lakeGets: number;
  readonly startedLateMs: number;
}

/** The source every worker lands: one small page per window. */
export function budgetSourceYaml(api: string, limits: WorkerConfig['limits']): string {
  return `name: budget_bench
schedule: rate(1 hour)
base_url: ${api}
rate_limit: { requests_per_second: ${limits.requestsPerSecond}, concurrency: ${limits.concurrency}, expected_workers: ${limits.expectedWorkers} }
retry: { max_attempts: 10, base_delay_ms: 50, max_delay_ms: 5000, circuit_breaker_failures: 1000 }
timeout_ms: 10000
lake: { parquet: false }
streams:
  - name: items
    path: /items
    params: { since: "{window.start}", until: "{window.end}" }
    records: data
    window: 1h
`;
}

/** Counts a lake's calls the way S3 bills them. */
function counted(storage: LakeStorage, counts: { puts: number; gets: number }): LakeStorage {
  return new Proxy(storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === 'read') counts.gets++;
        else if (['writeStream', 'putIfAbsent', 'writeBytes', 'list', 'delete', 'listIncomplete', 'abortIncomplete'].includes(String(name))) counts.puts++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as WorkerConfig;
  const source = parseSource(budgetSourceYaml(config.api, config.limits), 'budget_bench.yaml');
  const dynamo =
    config.budget.kind === 'dynamodb' ? budgetDynamoClient({ endpoint: config.budget.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }) : undefined;
  const place: BudgetPlace =
    config.budget.kind === 'dynamodb'
      ? { kind: 'dynamodb', table: config.budget.table, client: dynamo! }
      : config.budget.kind === 'lake'
        ? { kind: 'lake', folder: config.budget.folder }
        : { kind: 'process' };
  const budgets: RateBudget[] = [];
  const newBudget = () => {
    const budget = createRateBudget(source, place, { ...(config.tuning ? { tuning: config.tuning } : {}) });
    budgets.push(budget);
    return budget;
  };
  // Warm up what the first request of a process pays for (SDK loading, connections), then wait for the start.
  if (dynamo && config.budget.kind === 'dynamodb') await dynamo.send(new GetItemCommand({ TableName: config.budget.table, Key: { source: { S: 'warm-up' } } }));
  await fetch(`${config.api}/warm-up`).then((r) => r.text());
  process.stdout.write('ready\n');
  const startAt = await new Promise<number>((resolve) => process.stdin.once('data', (d) => resolve(Number(String(d).trim()))));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const startedLateMs = Date.now() - startAt;

  let answered = 0;
  let failed = 0;
  let committed = 0;
  const errors: string[] = [];
  const windowMs: number[] = [];
  const lake = { puts: 0, gets: 0 };
  const http = { retries: 0, throttled: 0 };
  if (config.mode.kind === 'flood') {
    const client = await createSourceClient(source, new EnvSecretProvider(), { budget: newBudget() });
    const end = startAt + config.mode.durationMs;
    const loop = async () => {
      while (Date.now() < end) {
        try {
          await client.request({ method: 'GET', url: new URL(`${config.api}/hit?w=${config.worker}`) }, { read: readJson });
          answered++;
        } catch (error) {
          failed++;
          if (errors.length < 5) errors.push((error as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: config.mode.inFlight }, loop));
    await client.close();
    Object.assign(http, { retries: client.stats.retries, throttled: client.stats.throttled });
  } else {
    const storage = counted(new FsLakeStorage(config.mode.lake), lake);
    const stream = source.streams[0]!;
    for (const w of config.mode.windows) {
      const started = performance.now();
      const client = await createSourceClient(source, new EnvSecretProvider(), { budget: newBudget() });
      const result = await runWindow({ source, stream, window: { start: new Date(w.start), end: new Date(w.end) }, client, storage });
      await client.close();
      windowMs.push(performance.now() - started);
      http.retries += result.retries;
      http.throttled += result.throttled;
      if (result.status === 'committed') committed++;
      else {
        failed++;
        if (errors.length < 5) errors.push(result.error?.message ?? result.status);
      }
      answered += result.requests;
    }
  }
  const shared = budgets.filter((b): b is SharedRateBudget => b instanceof SharedRateBudget);
  const sum = (f: (b: SharedRateBudget) => number) => shared.reduce((a, b) => a + f(b), 0);
  const report: WorkerReport = {
    worker: config.worker,
    answered,
    failed,
    errors,
    committed,
    windowMs,
    retries: http.retries,
    throttled: http.throttled,
    storeWrites: sum((b) => b.storeCalls.writes),
    storeReads: sum((b) => b.storeCalls.reads),
    fallbacks: sum((b) => b.stats.fallbacks),
    onShare: sum((b) => b.stats.onShare),
    missed: sum((b) => b.stats.missed),
    booked: sum((b) => b.stats.booked),
    bookings: sum((b) => b.stats.bookings),
    bookingMs: sum((b) => b.stats.bookingMs),
    lakePuts: lake.puts,
    lakeGets: lake.gets,
    startedLateMs,
  };
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
  process.exit(0);
}

await main();
