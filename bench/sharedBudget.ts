/**
 * The shared rate budget under load: `workers` processes (test/support/budgetWorker.ts) flood one
 * API that answers 429 above `limit` requests in any second, all drawing on one budget in
 * DynamoDB (dynalite on loopback). Measures what the API saw (429s, the busiest second, the
 * requests served per second against the limit) and what the budget cost: DynamoDB writes and
 * reads per request, priced at DynamoDB's on-demand rates.
 */

import { startWorkers } from '../test/support/budgetWorkers.js';
import { createBudgetTable, startDynalite } from '../test/support/dynaliteServer.js';
import { startRateLimitedApi } from '../test/support/rateLimitedApi.js';

/** DynamoDB on-demand, us-east-1, USD per million request units, as published from 2024-11-01. */
export const DYNAMODB_PRICES = { writePerMillion: 0.625, readPerMillion: 0.125, date: '2024-11-01' } as const;

/** What one run measured. */
export interface SharedBudgetRun {
  /** Requests served per second over the run ÷ the limit. */
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
  readonly failed: number;
}

export async function measureSharedBudget(options: { workers: number; limit: number; durationMs: number; inFlight: number }): Promise<SharedBudgetRun> {
  const dynamo = await startDynalite();
  const api = await startRateLimitedApi({ limit: options.limit });
  try {
    const table = `bench-budget-${Date.now()}`;
    await createBudgetTable(dynamo.client, table);
    const run = await startWorkers(
      Array.from({ length: options.workers }, (_, worker) => ({
        worker,
        api: api.url,
        limits: { requestsPerSecond: options.limit, concurrency: options.inFlight, expectedWorkers: options.workers },
        budget: { kind: 'dynamodb', table, endpoint: dynamo.endpoint } as const,
        mode: { kind: 'flood', durationMs: options.durationMs, inFlight: options.inFlight } as const,
      })),
    );
    const reports = await run.reports;
    const sum = (f: (r: (typeof reports)[number]) => number) => reports.reduce((a, r) => a + f(r), 0);
    const answered = sum((r) => r.answered);
    const writes = sum((r) => r.storeWrites);
    const reads = sum((r) => r.storeReads);
    return {
      throughput: api.served() / (options.durationMs / 1000) / options.limit,
      throttled: api.throttled(),
      busiestSecond: api.maxInAny(1000) / options.limit,
      writesPerRequest: writes / answered,
      readsPerRequest: reads / answered,
      usdPerMillionRequests: (writes * DYNAMODB_PRICES.writePerMillion + reads * DYNAMODB_PRICES.readPerMillion) / answered,
      bookingMs:
        sum((r) => r.bookingMs) /
        Math.max(
          1,
          sum((r) => r.bookings),
        ),
      failed: sum((r) => r.failed),
    };
  } finally {
    await api.close();
    await dynamo.stop();
  }
}
