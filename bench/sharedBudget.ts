/**
 * The shared rate budget under load: `workers` processes (test/support/budgetWorker.ts) flood one
 * API that answers 429 above `limit` requests in any second, all drawing on one budget in
 * DynamoDB (dynalite on loopback). Measures what the API saw (429s, the busiest second, the
 * requests served per second against the limit) and what the budget cost: DynamoDB writes and
 * reads per request, priced at DynamoDB's on-demand rates. With `store: 'memory'` the budget is
 * kept in memoryBudgetServer.ts instead (same rules, answers in loopback time), to tell what the
 * store's latency costs; each run reports the store's answer times and the workers' event-loop
 * delays, and why booked slots went unused.
 */

import type { SharedBudgetTuning } from '../functions/budget/SharedRateBudget.js';
import { startWorkers } from '../test/support/budgetWorkers.js';
import { createBudgetTable, startDynalite } from '../test/support/dynaliteServer.js';
import { startMemoryBudgetServer } from '../test/support/memoryBudgetServer.js';
import { maxInAnySpan } from '../test/support/rateLimitedApi.js';
import { buildBench } from './buildBench.js';
import { median, startRateLimitedApiProcess } from './children.js';

/** DynamoDB on-demand, us-east-1, USD per million request units, as published from 2024-11-01. */
export const DYNAMODB_PRICES = { writePerMillion: 0.625, readPerMillion: 0.125, date: '2024-11-01' } as const;

/** What one run measured. */
export interface SharedBudgetRun {
  /** Requests the API admitted per second ÷ the limit, from the workers' common start for the run's duration. */
  readonly throughput: number;
  readonly throttled: number;
  /** The most requests the API saw in any 1,000 ms ÷ the limit. */
  readonly busiestSecond: number;
  readonly writesPerRequest: number;
  readonly readsPerRequest: number;
  /** USD of DynamoDB request units per million API requests. */
  readonly usdPerMillionRequests: number;
  /** Mean time of one booking (ms). */
  readonly bookingMs: number;
  /** The store's answer times over every booking of every worker (ms). */
  readonly storeLatencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** The workers' event-loop delay: the median of their p99s, and the worst max (ms). */
  readonly eventLoopDelayMs: { readonly p99: number; readonly max: number };
  /** Booked slots never sent ÷ booked: already past when the store answered, and woken up for too late. */
  readonly missedOnArrival: number;
  readonly missedWaking: number;
  /** Times a worker fell back to its share because the store failed or timed out. */
  readonly fallbacks: number;
  readonly failed: number;
}

/** The `q`-quantile of `values` (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function measureSharedBudget(options: {
  workers: number;
  limit: number;
  durationMs: number;
  inFlight: number;
  store: 'dynamodb' | 'memory';
  tuning?: Partial<SharedBudgetTuning>;
}): Promise<SharedBudgetRun> {
  const dynamo = await startDynalite();
  const memory = await startMemoryBudgetServer();
  const api = await startRateLimitedApiProcess((await buildBench()).rateLimitedServer, { limit: options.limit });
  try {
    const table = `bench-budget-${Date.now()}`;
    await createBudgetTable(dynamo.client, table);
    const budget = options.store === 'memory' ? ({ kind: 'memory', endpoint: memory.endpoint } as const) : ({ kind: 'dynamodb', table, endpoint: dynamo.endpoint } as const);
    const run = await startWorkers(
      Array.from({ length: options.workers }, (_, worker) => ({
        worker,
        api: api.url,
        limits: { requestsPerSecond: options.limit, concurrency: options.inFlight, expectedWorkers: options.workers },
        budget,
        ...(options.tuning ? { tuning: options.tuning } : {}),
        mode: { kind: 'flood', durationMs: options.durationMs, inFlight: options.inFlight } as const,
      })),
    );
    const reports = await run.reports;
    const seen = await api.report();
    const sum = (f: (r: (typeof reports)[number]) => number) => reports.reduce((a, r) => a + f(r), 0);
    const answered = sum((r) => r.answered);
    const writes = sum((r) => r.storeWrites);
    const reads = sum((r) => r.storeReads);
    const booked = Math.max(
      1,
      sum((r) => r.booked),
    );
    const latencies = reports.flatMap((r) => r.storeLatenciesMs);
    return {
      // Requests the API admitted while every worker floods, from the common start for `durationMs`:
      // the requests still queued at the end, served after it, are not counted.
      throughput: seen.admittedArrivals.filter((t) => t >= run.startAt && t < run.startAt + options.durationMs).length / (options.durationMs / 1000) / options.limit,
      throttled: seen.throttled,
      busiestSecond: maxInAnySpan(seen.arrivals, 1000) / options.limit,
      writesPerRequest: writes / answered,
      readsPerRequest: reads / answered,
      usdPerMillionRequests: (writes * DYNAMODB_PRICES.writePerMillion + reads * DYNAMODB_PRICES.readPerMillion) / answered,
      bookingMs:
        sum((r) => r.bookingMs) /
        Math.max(
          1,
          sum((r) => r.bookings),
        ),
      storeLatencyMs: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: Math.max(...latencies) },
      eventLoopDelayMs: { p99: median(reports.map((r) => r.eventLoopDelayMs.p99)), max: Math.max(...reports.map((r) => r.eventLoopDelayMs.max)) },
      missedOnArrival: sum((r) => r.missedOnArrival) / booked,
      missedWaking: sum((r) => r.missedWaking) / booked,
      fallbacks: sum((r) => r.fallbacks),
      failed: sum((r) => r.failed),
    };
  } finally {
    api.stop();
    await memory.close();
    await dynamo.stop();
  }
}
