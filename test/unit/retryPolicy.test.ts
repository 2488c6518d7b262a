import { describe, expect, it } from 'vitest';
import { backoffDelayMs, decideRetry, isRetryableStatus, parseResetHeader, parseRetryAfter, serverRequestedDelayMs } from '../../functions/http/retryPolicy.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const policy = { max_attempts: 5, base_delay_ms: 100, max_delay_ms: 10_000 };

describe('isRetryableStatus', () => {
  it.each([408, 425, 429, 500, 502, 503, 504, 599])('retries %i', (status) => expect(isRetryableStatus(status, new Headers())).toBe(true));
  it.each([400, 401, 403, 404, 409, 422, 501, 505])('does not retry %i', (status) => expect(isRetryableStatus(status, new Headers())).toBe(false));
  it('retries a 403 that reports an exhausted rate limit', () => {
    expect(isRetryableStatus(403, new Headers({ 'x-ratelimit-remaining': '0' }))).toBe(true);
  });
});

describe('Retry-After and reset headers', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    ['1.5', 1_500],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['soon', undefined],
  ])('Retry-After %j → %s ms', (value, ms) => expect(parseRetryAfter(value, NOW)).toBe(ms));

  it.each([
    ['30', 30_000],
    [String(NOW / 1000 + 45), 45_000],
    [String(NOW / 1000 - 10), 0],
    ['x', undefined],
  ])('reset %s → %s ms', (value, ms) => expect(parseResetHeader(value, NOW)).toBe(ms));

  it('prefers Retry-After over rate-limit reset headers', () => {
    expect(serverRequestedDelayMs(new Headers({ 'retry-after': '2', 'x-ratelimit-reset': '60' }), NOW)).toBe(2_000);
  });

  it.each(['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset'])('reads %s', (name) => {
    expect(serverRequestedDelayMs(new Headers({ [name]: '7' }), NOW)).toBe(7_000);
  });

  it('is undefined without headers', () => expect(serverRequestedDelayMs(new Headers(), NOW)).toBeUndefined());
});

describe('backoffDelayMs (full jitter)', () => {
  it.each([
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.5, 200],
    [10, 0.999, 9_990],
    [30, 1 - 1e-9, 9_999],
    [4, 0, 0],
  ])('retry %i with draw %d waits %i ms', (retry, random, ms) => expect(backoffDelayMs(retry, policy, random)).toBe(ms));

  it('never exceeds the cap nor the exponential ceiling', () => {
    for (let retry = 1; retry < 40; retry++) {
      const ceiling = Math.min(policy.max_delay_ms, policy.base_delay_ms * 2 ** (retry - 1));
      for (const r of [0, 0.3, 0.999999]) {
        const delay = backoffDelayMs(retry, policy, r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});

describe('decideRetry', () => {
  it('does not retry a non-retryable failure', () => {
    expect(decideRetry({ attempt: 1, retryable: false, nowMs: NOW, random: 0.5, policy })).toEqual({ retry: false, why: 'not_retryable' });
  });

  it('stops when attempts are exhausted', () => {
    expect(decideRetry({ attempt: 5, retryable: true, nowMs: NOW, random: 0.5, policy })).toEqual({ retry: false, why: 'attempts_exhausted' });
  });

  it('waits exactly what the server asked for', () => {
    const headers = new Headers({ 'retry-after': '3' });
    expect(decideRetry({ attempt: 1, retryable: true, headers, nowMs: NOW, random: 0.5, policy })).toEqual({ retry: true, delayMs: 3_000, serverRequested: true });
  });

  it('gives up instead of waiting longer than max_delay_ms', () => {
    const headers = new Headers({ 'retry-after': '3600' });
    expect(decideRetry({ attempt: 1, retryable: true, headers, nowMs: NOW, random: 0.5, policy })).toMatchObject({ retry: false, why: 'wait_too_long' });
  });

  it('backs off with jitter when the server is silent', () => {
    expect(decideRetry({ attempt: 3, retryable: true, headers: new Headers(), nowMs: NOW, random: 0.5, policy })).toEqual({
      retry: true,
      delayMs: 200,
      serverRequested: false,
    });
  });
});
