import { HttpStatusError } from '../../functions/errors.js';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../functions/http/CircuitBreaker.js';
import { ConcurrencyLimiter } from '../../functions/commons/ConcurrencyLimiter.js';
import { TokenBucket } from '../../functions/http/TokenBucket.js';
import { ManualClock } from '../support/manualClock.js';

describe('TokenBucket', () => {
  it('allows a burst of capacity, then paces at the rate', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ ratePerSecond: 4, capacity: 2, clock });
    const start = clock.now();
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      times.push(clock.now() - start);
    }
    expect(times).toEqual([0, 0, 250, 500, 750, 1000]);
  });

  it('holds every request until a pause ends', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ ratePerSecond: Number.POSITIVE_INFINITY, clock });
    bucket.pauseUntil(clock.now() + 5_000);
    const start = clock.now();
    await bucket.take();
    expect(clock.now() - start).toBe(5_000);
  });

  it('serves concurrent callers in order without exceeding the rate', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 1, clock });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it('rejects a waiter whose signal aborts', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 1 });
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});

describe('ConcurrencyLimiter', () => {
  it('never runs more than the limit at once', async () => {
    const limiter = new ConcurrencyLimiter(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(limiter.run(() => Promise.resolve(42))).resolves.toBe(42);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and fails fast with the last error', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ threshold: 3, cooldownMs: 10_000, clock });
    breaker.recordFailure(new Error('one'));
    breaker.recordFailure(new Error('two'));
    expect(() => breaker.check('GET /x')).not.toThrow();
    breaker.recordFailure(new Error('HTTP 503'));
    expect(() => breaker.check('GET /x')).toThrow(/circuit open after 3 consecutive failed requests of this source; last error: HTTP 503/);
  });

  it("never quotes another request's URL as this request's: the breaker is shared by the source's streams", () => {
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10_000, clock: new ManualClock() });
    breaker.recordFailure(new HttpStatusError(503, 'down', 'page 2, GET https://api.test/orders?page=2'));
    expect(() => breaker.check('page 1, GET https://api.test/customers')).toThrow(
      'circuit open after 1 consecutive failed requests of this source; last error, on another request of this source: HTTP 503: down (page 1, GET https://api.test/customers)',
    );
  });

  it('lets a probe through after the cool-down and closes on success', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 1_000, clock });
    breaker.recordFailure(new Error('a'));
    breaker.recordFailure(new Error('b'));
    expect(breaker.isOpen).toBe(true);
    clock.advance(1_000);
    expect(() => breaker.check('probe')).not.toThrow();
    breaker.recordSuccess();
    breaker.recordFailure(new Error('c'));
    expect(breaker.isOpen).toBe(false);
  });

  it('a success in between resets the count', () => {
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 1_000 });
    breaker.recordFailure(new Error('a'));
    breaker.recordSuccess();
    breaker.recordFailure(new Error('b'));
    expect(breaker.isOpen).toBe(false);
  });
});
