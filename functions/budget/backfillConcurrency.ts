/**
 * How many windows a backfill in AWS runs at once, derived from the source's rate budget so that
 * nobody has to guess a number: the map's limit is part of the deployed definition.
 */

import type { SourceDefinition } from '../config/sourceSchema.js';

/** Step Functions' ceiling on a Distributed Map's concurrency. */
export const MAX_BACKFILL_CONCURRENCY = 10_000;

/**
 * Windows of one source a backfill in AWS lands at once:
 * `max(1, min(expected_workers − 1, ceil(requests_per_second / concurrency)))`.
 *
 * - `expected_workers − 1`: every run falls back to `requests_per_second / expected_workers` while
 *   the shared budget store is unreachable, so more backfill workers than that would exceed the
 *   API's limit during an outage; one worker's share is left for the schedule's ticks.
 * - `ceil(requests_per_second / concurrency)`: a window has at most `concurrency` requests in flight
 *   and each takes a while, so more windows than the budget's requests per second over that would
 *   only wait for the budget while their function is billed.
 * - At least one window, so a backfill always progresses.
 */
export function backfillConcurrency(source: Pick<SourceDefinition, 'rate_limit'>): number {
  const { requests_per_second: rate, concurrency, expected_workers: workers } = source.rate_limit;
  const byWorkers = workers - 1;
  const byRate = rate === undefined ? Number.POSITIVE_INFINITY : Math.ceil(rate / concurrency);
  return Math.max(1, Math.min(byWorkers, byRate, MAX_BACKFILL_CONCURRENCY));
}
