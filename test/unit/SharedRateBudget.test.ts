import { describe, expect, it } from 'vitest';
import type { BudgetStore } from '../../functions/budget/BudgetStore.js';
import { SharedRateBudget, type BudgetChange } from '../../functions/budget/SharedRateBudget.js';
import { bookSlots, pauseQueue, type BookRequest, type SlotQueue } from '../../functions/budget/slotQueue.js';
import { ManualClock } from '../support/manualClock.js';

/** A store in memory that follows slotQueue.ts; `answerMs` moves the clock as a slow answer would; `failing` rejects. */
class MemoryStore implements BudgetStore {
  readonly location = 'memory';
  readonly calls = { writes: 0, reads: 0 };
  queue: SlotQueue = {};
  failing = false;
  answerMs = 0;
  constructor(private readonly clock: ManualClock) {}
  book(request: BookRequest) {
    this.calls.writes++;
    this.clock.advance(this.answerMs);
    if (this.failing) return Promise.reject(new Error('store unreachable'));
    const { queue, booking } = bookSlots(this.queue, request);
    this.queue = queue;
    return Promise.resolve(booking);
  }
  pause(untilMs: number) {
    this.calls.writes++;
    if (this.failing) return Promise.reject(new Error('store unreachable'));
    this.queue = pauseQueue(this.queue, untilMs);
    return Promise.resolve();
  }
}

function setup(tuning = {}, concurrency = 1) {
  const clock = new ManualClock(0);
  const store = new MemoryStore(clock);
  const changes: BudgetChange[] = [];
  const budget = new SharedRateBudget({ store, requestsPerSecond: 10, concurrency, expectedWorkers: 4, clock, random: () => 0, onChange: (c) => changes.push(c), tuning });
  const sends = async (n: number) => {
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      (await budget.acquire())();
      at.push(clock.now());
    }
    return at;
  };
  return { clock, store, budget, changes, sends };
}

describe('SharedRateBudget', () => {
  it('sends each request at a slot booked in the store, slots one interval apart', async () => {
    const { store, sends } = setup();
    const at = await sends(5);
    expect(at.slice(1).map((t, i) => t - at[i]!)).toEqual([105, 105, 105, 105]);
    expect(store.queue.tat).toBe(at[4]! + 105);
  });

  it('gives up a slot reached later than lateMs and sends at a fresh one', async () => {
    const { store, budget, sends } = setup({ lateMs: 30 });
    store.answerMs = 50; // the answer arrives after the slot booked 1.5 × 10 ms ahead
    const [first] = await sends(1);
    expect(budget.stats.missed).toBeGreaterThan(0);
    // Every send is within lateMs of the start of a slot the store handed out.
    expect(first! - (store.queue.tat! - 105)).toBeLessThanOrEqual(30);
    // The store was slow, not this run: each slot had passed when its answer came.
    expect(budget.stats.missedOnArrival).toBe(budget.stats.missed);
    expect(budget.stats.missedWaking).toBe(0);
  });

  it('counts a slot it woke up for too late apart from one the store handed out too late', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    // A busy machine: the first three sleeps overshoot by 40 ms, past lateMs.
    let overshoots = 3;
    const oversleeping = { now: () => clock.now(), sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms + (overshoots-- > 0 ? 40 : 0), signal) };
    const budget = new SharedRateBudget({ store, requestsPerSecond: 10, concurrency: 1, expectedWorkers: 1, clock: oversleeping, tuning: { lateMs: 30 } });
    (await budget.acquire())();
    expect(budget.stats).toMatchObject({ missed: 3, missedWaking: 3, missedOnArrival: 0, granted: 1 });
  });

  it('holds every request until the end of a pause the server asked for, and moves the shared queue past it', async () => {
    const { clock, store, budget, sends } = setup();
    await sends(1);
    const pausedAt = clock.now();
    budget.pauseUntil(pausedAt + 5_000);
    await budget.close();
    // Before this run books again: every other run's next slot is already past the pause.
    expect(store.queue.tat).toBeGreaterThanOrEqual(pausedAt + 5_000);
    const [next] = await sends(1);
    expect(next).toBeGreaterThanOrEqual(pausedAt + 5_000);
  });

  it('holds a request already sleeping until its slot when a server wait comes meanwhile (concurrency above 1)', async () => {
    const store = new MemoryStore(new ManualClock(0));
    const budget = new SharedRateBudget({ store, requestsPerSecond: 10, concurrency: 2, expectedWorkers: 1 });
    (await budget.acquire())();
    // The next request's slot is an interval away: it sleeps until then.
    const second = budget.acquire().then((release) => (release(), Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The first request's response was a 429 with Retry-After: the whole source waits.
    const pausedUntil = Date.now() + 400;
    budget.pauseUntil(pausedUntil);
    expect(await second).toBeGreaterThanOrEqual(pausedUntil);
    await budget.close();
  });

  it('falls back to its share of the rate when the store fails, after the slots booked before, never unlimited', async () => {
    const { clock, store, changes, sends } = setup({ retryStoreAfterMs: 60_000 });
    store.failing = true;
    const failedAt = clock.now();
    const at = await sends(4);
    expect(changes).toEqual([{ kind: 'fallback', reason: 'store unreachable', requestsPerSecond: 1000 / (105 * 4) }]);
    // The share starts once every slot anyone could have booked has passed: maxWaitMs plus one batch of 8.
    expect(at[0]).toBeGreaterThanOrEqual(failedAt + 2_000 + 8 * 105);
    for (const gap of at.slice(1).map((t, i) => t - at[i]!)) expect(gap).toBeGreaterThanOrEqual(420);
  });

  it('draws on the store again once retryStoreAfterMs has passed and the store answers', async () => {
    const { store, changes, sends } = setup({ retryStoreAfterMs: 1_000 });
    store.failing = true;
    await sends(2);
    store.failing = false;
    await sends(10);
    expect(changes.map((c) => c.kind)).toEqual(['fallback', 'shared']);
    expect(store.queue.tat).toBeDefined();
  });

  it('leaves the concurrency cap to this run: a second request waits for the first to end', async () => {
    const { budget } = setup();
    const release = await budget.acquire();
    let second = false;
    const next = budget.acquire().then((r) => ((second = true), r));
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe(false);
    release();
    (await next)();
    expect(second).toBe(true);
  });

  describe('booking ahead', () => {
    /** A queue another run keeps busy: booked until 500 ms from now. */
    const busy = (store: MemoryStore, clock: ManualClock) => (store.queue = { tat: clock.now() + 500 });

    it('books the slots of the requests in flight before they come back, on a busy queue', async () => {
      const { clock, store, budget, sends } = setup({ bookAhead: true }, 2);
      busy(store, clock);
      const [first] = await sends(1);
      await budget.close();
      // One slot on demand, then two ahead in one write.
      expect(budget.stats.booked).toBe(3);
      expect(store.calls.writes).toBe(2);
      // The next two requests never ask the store: they go at the slots booked ahead, even with the store gone.
      store.failing = true;
      expect(await sends(2)).toEqual([first! + 105, first! + 210]);
    });

    it('books nothing ahead on an idle queue, where such slots would start before the requests come back', async () => {
      const { store, budget } = setup({ bookAhead: true }, 2);
      (await budget.acquire())();
      await budget.close();
      expect(budget.stats.booked).toBe(1);
      expect(store.calls.writes).toBe(1);
    });

    it('holds no more slots booked and unspent than its concurrency, and spends each at its own slot', async () => {
      const { clock, store, budget } = setup({ bookAhead: true }, 2);
      busy(store, clock);
      const at: number[] = [];
      for (let i = 0; i < 20; i++) {
        (await budget.acquire())();
        at.push(clock.now());
        await budget.close();
        expect(budget.stats.booked - budget.stats.granted - budget.stats.missed).toBeLessThanOrEqual(2);
      }
      for (const gap of at.slice(1).map((t, i) => t - at[i]!)) expect(gap).toBeGreaterThanOrEqual(105);
    });

    it('falls back to its share when the store fails with slots booked ahead, and spends those first, one interval apart', async () => {
      const { clock, store, changes, budget, sends } = setup({ bookAhead: true, retryStoreAfterMs: 60_000 }, 2);
      busy(store, clock);
      await sends(3);
      await budget.close();
      store.failing = true;
      const failedAt = clock.now();
      const at = await sends(6);
      expect(changes).toEqual([{ kind: 'fallback', reason: 'store unreachable', requestsPerSecond: 1000 / (105 * 4) }]);
      for (const gap of at.slice(1).map((t, i) => t - at[i]!)) expect(gap).toBeGreaterThanOrEqual(105);
      // Past the slots booked before the failure, the share: after every slot anyone may hold, one share interval apart.
      const onShare = at.filter((t) => t >= failedAt + 2_000 + 8 * 105);
      expect(onShare.length).toBeGreaterThan(0);
      for (const gap of onShare.slice(1).map((t, i) => t - onShare[i]!)) expect(gap).toBeGreaterThanOrEqual(420);
    });
  });
});
