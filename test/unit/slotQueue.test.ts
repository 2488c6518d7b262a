import { describe, expect, it } from 'vitest';
import { bookSlots, pauseQueue, slotIntervalMs, type SlotQueue } from '../../functions/budget/slotQueue.js';

const request = { count: 3, intervalMs: 100, earliest: 1_000, latest: 3_000 };

describe('bookSlots', () => {
  it.each<[string, SlotQueue, SlotQueue, unknown]>([
    ['books from earliest on a queue never used', {}, { tat: 1_300 }, { kind: 'booked', first: 1_000 }],
    ['books from earliest on an idle queue, leaving the passed slots unbooked', { tat: 400 }, { tat: 1_300 }, { kind: 'booked', first: 1_000 }],
    ['books at the end of a busy queue', { tat: 1_500 }, { tat: 1_800 }, { kind: 'booked', first: 1_500 }],
    ['books at the end of a queue that reaches exactly to latest', { tat: 3_000 }, { tat: 3_300 }, { kind: 'booked', first: 3_000 }],
    ['books nothing on a queue past latest, and says where it ends', { tat: 3_001 }, { tat: 3_001 }, { kind: 'behind', nextFree: 3_001 }],
  ])('%s', (_title, queue, after, booking) => {
    expect(bookSlots(queue, request)).toEqual({ queue: after, booking });
  });

  it('never hands out a slot twice or closer than the interval, whatever the order of bookings', () => {
    let queue: SlotQueue = {};
    const slots: number[] = [];
    for (const [count, earliest] of [
      [2, 0],
      [1, 50],
      [3, 100],
      [1, 5_000],
      [2, 4_000],
    ] as const) {
      const { queue: next, booking } = bookSlots(queue, { count, intervalMs: 100, earliest, latest: earliest + 10_000 });
      if (booking.kind === 'booked') for (let i = 0; i < count; i++) slots.push(booking.first + i * 100);
      queue = next;
    }
    slots.sort((a, b) => a - b);
    expect(slots.slice(1).every((slot, i) => slot - slots[i]! >= 100)).toBe(true);
    expect(slots).toHaveLength(9);
  });
});

describe('pauseQueue', () => {
  it.each<[string, SlotQueue, SlotQueue]>([
    ['moves an earlier queue to the end of the pause', { tat: 1_000 }, { tat: 2_000 }],
    ['starts a queue never used at the end of the pause', {}, { tat: 2_000 }],
    ['leaves a queue that already reaches past the pause', { tat: 2_500 }, { tat: 2_500 }],
  ])('%s', (_title, queue, after) => {
    expect(pauseQueue(queue, 2_000)).toEqual(after);
  });
});

describe('slotIntervalMs', () => {
  it.each([
    [50, 50, 21],
    [10, 0, 100],
    [0.5, 50, 2_100],
  ])('spaces %d requests/s with %d ms of jitter %d ms apart', (rate, jitter, interval) => {
    expect(slotIntervalMs(rate, jitter)).toBeCloseTo(interval);
  });
});
