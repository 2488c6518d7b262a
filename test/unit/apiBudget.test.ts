import { describe, expect, it } from 'vitest';
import { budgetFromBody, budgetFromHeaders, budgetInRequests, budgetWaitMs, parseTimeValue } from '../../functions/http/apiBudget.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('budgetFromHeaders', () => {
  it.each([
    ['X-RateLimit-*', { 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '30', 'x-ratelimit-limit': '60' }, { remaining: 12, cost: 1, resetAtMs: NOW + 30_000, limit: 60 }],
    ['a reset in epoch seconds', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 45) }, { remaining: 0, cost: 1, resetAtMs: NOW + 45_000 }],
    ['RateLimit-Remaining/-Reset', { 'ratelimit-remaining': '5', 'ratelimit-reset': '2' }, { remaining: 5, cost: 1, resetAtMs: NOW + 2_000 }],
    ['X-Rate-Limit-*', { 'x-rate-limit-remaining': '3', 'x-rate-limit-reset': '10' }, { remaining: 3, cost: 1, resetAtMs: NOW + 10_000 }],
    [
      'the structured RateLimit field, its least item, with the policy quota',
      { ratelimit: '"default";r=50;t=30, "burst";r=2;t=1', 'ratelimit-policy': '"default";q=100;w=60, "burst";q=5;w=1' },
      { remaining: 2, cost: 1, resetAtMs: NOW + 1_000, limit: 5 },
    ],
    [
      'the least of several headers',
      { 'x-ratelimit-remaining': '40', 'x-ratelimit-reset': '60', 'ratelimit-remaining': '4', 'ratelimit-reset': '5' },
      { remaining: 4, cost: 1, resetAtMs: NOW + 5_000 },
    ],
    ['a remaining without a reset', { 'x-ratelimit-remaining': '12' }, undefined],
    ['no headers', {}, undefined],
  ])('%s', (_what, headers, expected) => expect(budgetFromHeaders(new Headers(headers), NOW)).toEqual(expected));
});

describe('budgetFromBody', () => {
  const shopify = { remaining: 'c.available', restore_per_second: 'c.rate', cost: 'c.cost', maximum: 'c.max' };
  it.each([
    ['a leaky bucket with a cost', shopify, { c: { available: 52, rate: 50, cost: 102, max: 1000 } }, { remaining: 52, restorePerSecond: 50, cost: 102, maximum: 1000 }],
    ['a reset in seconds', { remaining: 'left', reset: 'reset_in' }, { left: 3, reset_in: 20 }, { remaining: 3, resetAtMs: NOW + 20_000, cost: 1 }],
    ['a reset as a date', { remaining: 'left', reset: 'reset_at' }, { left: 0, reset_at: '2025-01-01T00:01:00Z' }, { remaining: 0, resetAtMs: NOW + 60_000, cost: 1 }],
    ['a body without the budget (an error page)', shopify, 'Bad Gateway', undefined],
    ['a restore rate of 0', shopify, { c: { available: 1, rate: 0 } }, undefined],
  ])('%s', (_what, config, body, expected) => expect(budgetFromBody(config, body, NOW)).toEqual(expected));
});

describe('budgetWaitMs and budgetInRequests', () => {
  it.each([
    ['enough left', { remaining: 200, cost: 102, restorePerSecond: 50 }, 0],
    ['a leaky bucket short of the cost', { remaining: 52, cost: 102, restorePerSecond: 50 }, 1_000],
    ['a window spent until its reset', { remaining: 0, cost: 1, resetAtMs: NOW + 7_000 }, 7_000],
    ['neither', { remaining: 0, cost: 1 }, undefined],
  ])('waits for %s', (_what, reading, expected) => expect(budgetWaitMs(reading, NOW)).toBe(expected));

  it('counts the budget in requests of the given cost, less those in flight, a reset capped', () => {
    expect(budgetInRequests({ remaining: 510, cost: 102, restorePerSecond: 51, maximum: 1020 }, 1)).toEqual({ available: 4, refillPerSecond: 0.5, capacity: 10 });
    expect(budgetInRequests({ remaining: 3, cost: 1, resetAtMs: NOW + 90_000, limit: 60 }, 0, NOW + 60_000)).toEqual({ available: 3, resetAtMs: NOW + 60_000, afterReset: 60 });
  });

  it.each([
    [5, 's', 5_000],
    ['250', 'ms', 250],
    [NOW / 1000 + 3, 's', 3_000],
    [-4, 's', 0],
    ['Wed, 01 Jan 2025 00:00:09 GMT', 's', 9_000],
    [null, 's', undefined],
  ] as const)('reads the wait %j in %s as %s ms', (value, unit, expected) => expect(parseTimeValue(value, unit, NOW)).toBe(expected));
});
