import { describe, expect, it } from 'vitest';
import { backfillConcurrency } from '../../functions/budget/backfillConcurrency.js';

const limits = (rate_limit: { requests_per_second?: number; concurrency?: number; expected_workers?: number }) => ({
  rate_limit: { concurrency: 1, expected_workers: 4, ...rate_limit },
});

describe('backfillConcurrency', () => {
  it.each([
    // [requests_per_second, concurrency, expected_workers, windows at once]
    [undefined, 1, 4, 3], // no rate: one worker's share left for the schedule
    [undefined, 1, 1, 1], // never below one
    [undefined, 1, 21, 20],
    [10, 1, 4, 3], // the fallback share bounds it
    [10, 1, 50, 10], // the rate bounds it
    [10, 4, 50, 3], // a window sends up to 4 at once: ceil(10 / 4)
    [0.2, 1, 8, 1], // a slow API: one window at a time
    [2.5, 1, 8, 3],
    [undefined, 1, 1000, 999],
  ] as const)('requests_per_second %s, concurrency %s, expected_workers %s → %s windows at once', (rate, concurrency, workers, expected) => {
    expect(backfillConcurrency(limits({ requests_per_second: rate, concurrency, expected_workers: workers }))).toBe(expected);
  });
});
