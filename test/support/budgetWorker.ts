/**
 * One worker process of the shared-budget tests and benchmark: a run of a source whose rate
 * budget lives in DynamoDB (dynalite, possibly behind a fault proxy), in a lake folder, or in the
 * process. It says `ready` once warm, reads the common start time from stdin, floods the API with
 * `inFlight` request loops for `durationMs`, and prints a JSON {@link WorkerReport} as its last
 * stdout line.
 *
 * Run: `node budgetWorker.mjs '<WorkerConfig JSON>'` (bundled by budgetWorkers.ts).
 */

import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BudgetStore } from '../../functions/budget/BudgetStore.js';
import { createRateBudget, type BudgetPlace } from '../../functions/budget/createRateBudget.js';
import { budgetDynamoClient, DynamoBudgetStore } from '../../functions/budget/DynamoBudgetStore.js';
import { SharedRateBudget, type SharedBudgetTuning } from '../../functions/budget/SharedRateBudget.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { readJson } from '../../functions/http/readJson.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { HttpBudgetStore } from './memoryBudgetServer.js';

/** What a worker is told. */
export interface WorkerConfig {
  readonly worker: number;
  readonly api: string;
  readonly limits: { readonly requestsPerSecond: number; readonly concurrency: number; readonly expectedWorkers: number };
  readonly budget:
    | { readonly kind: 'dynamodb'; readonly table: string; readonly endpoint: string }
    | { readonly kind: 'lake'; readonly folder: string }
    | { readonly kind: 'process' }
    /** The in-memory store of memoryBudgetServer.ts. */
    | { readonly kind: 'memory'; readonly endpoint: string };
  /** Timings of a shared budget. @default the budget's own */
  readonly tuning?: Partial<SharedBudgetTuning>;
  readonly mode: { readonly kind: 'flood'; readonly durationMs: number; readonly inFlight: number };
}

/** What a worker reports. */
export interface WorkerReport {
  readonly worker: number;
  /** Requests answered (after the client's own retries). */
  readonly answered: number;
  /** Requests that failed for good. */
  readonly failed: number;
  readonly errors: string[];
  readonly retries: number;
  readonly throttled: number;
  /** Budget store writes and reads, and the budget's own counters. */
  readonly storeWrites: number;
  readonly storeReads: number;
  readonly fallbacks: number;
  readonly onShare: number;
  readonly missed: number;
  readonly missedOnArrival: number;
  readonly missedWaking: number;
  readonly booked: number;
  readonly bookings: number;
  readonly bookingMs: number;
  readonly startedLateMs: number;
  /** The time of each answered booking of the store (ms), as this process saw it. */
  readonly storeLatenciesMs: number[];
  /** This process's event-loop delay over the run (ms): p50, p99, max. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Times each booking of `store`. */
function timed(store: BudgetStore, latencies: number[]): BudgetStore {
  return {
    location: store.location,
    calls: store.calls,
    book: async (request) => {
      const started = performance.now();
      const booking = await store.book(request);
      latencies.push(performance.now() - started);
      return booking;
    },
    pause: (untilMs) => store.pause(untilMs),
  };
}

/** The source every worker requests for. */
function budgetSourceYaml(api: string, limits: WorkerConfig['limits']): string {
  return `name: budget_bench
schedule: rate(1 hour)
base_url: ${api}
rate_limit: { requests_per_second: ${limits.requestsPerSecond}, concurrency: ${limits.concurrency}, expected_workers: ${limits.expectedWorkers} }
retry: { max_attempts: 10, base_delay_ms: 50, max_delay_ms: 5000, circuit_breaker_failures: 1000 }
timeout_ms: 10000
streams:
  - name: items
    path: /items
    records: data
`;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as WorkerConfig;
  const source = parseSource(budgetSourceYaml(config.api, config.limits), 'budget_bench.yaml');
  const dynamo =
    config.budget.kind === 'dynamodb' ? budgetDynamoClient({ endpoint: config.budget.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }) : undefined;
  const storeLatenciesMs: number[] = [];
  const place: BudgetPlace =
    config.budget.kind === 'dynamodb'
      ? { kind: 'store', store: timed(new DynamoBudgetStore({ table: config.budget.table, source: source.name, client: dynamo! }), storeLatenciesMs) }
      : config.budget.kind === 'memory'
        ? { kind: 'store', store: timed(new HttpBudgetStore(config.budget.endpoint), storeLatenciesMs) }
        : config.budget.kind === 'lake'
          ? { kind: 'lake', folder: config.budget.folder }
          : { kind: 'process' };
  const budget = createRateBudget(source, place, { ...(config.tuning ? { tuning: config.tuning } : {}) });
  // Warm up what the first request of a process pays for (SDK loading, connections), then wait for the start.
  if (dynamo && config.budget.kind === 'dynamodb') await dynamo.send(new GetItemCommand({ TableName: config.budget.table, Key: { source: { S: 'warm-up' } } }));
  await fetch(`${config.api}/warm-up`).then((r) => r.text());
  const client = await createSourceClient(source, new EnvSecretProvider(), { budget });
  process.stdout.write('ready\n');
  const startAt = await new Promise<number>((resolve) => process.stdin.once('data', (d) => resolve(Number(String(d).trim()))));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const startedLateMs = Date.now() - startAt;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  let answered = 0;
  let failed = 0;
  const errors: string[] = [];
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
  loopDelay.disable();
  await client.close();
  const shared = budget instanceof SharedRateBudget ? budget : undefined;
  const report: WorkerReport = {
    worker: config.worker,
    answered,
    failed,
    errors,
    retries: client.stats.retries,
    throttled: client.stats.throttled,
    storeWrites: shared?.storeCalls.writes ?? 0,
    storeReads: shared?.storeCalls.reads ?? 0,
    fallbacks: shared?.stats.fallbacks ?? 0,
    onShare: shared?.stats.onShare ?? 0,
    missed: shared?.stats.missed ?? 0,
    missedOnArrival: shared?.stats.missedOnArrival ?? 0,
    missedWaking: shared?.stats.missedWaking ?? 0,
    booked: shared?.stats.booked ?? 0,
    bookings: shared?.stats.bookings ?? 0,
    bookingMs: shared?.stats.bookingMs ?? 0,
    startedLateMs,
    storeLatenciesMs,
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  };
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
  process.exit(0);
}

await main();
