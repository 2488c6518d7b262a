import { describe, expect, it } from 'vitest';
import { MIN_PAUSED_WAIT_MS, pausedWaitFromMs, pausesForJob } from '../../functions/ingest/jobWait.js';

describe('pausedWaitFromMs', () => {
  it.each<[number | undefined, number]>([
    [undefined, MIN_PAUSED_WAIT_MS],
    [Number.NaN, MIN_PAUSED_WAIT_MS],
    [512, MIN_PAUSED_WAIT_MS],
    [10_240, MIN_PAUSED_WAIT_MS],
    // 2.4 GB-s over an eighth of a GB, and the next invocation's 0.3 s.
    [128, 19_500],
    [192, 13_100],
  ])('at %s MB pauses for waits of %i ms and longer', (memoryMb, ms) => {
    expect(pausedWaitFromMs(memoryMb)).toBe(ms);
  });
});

describe('pausesForJob', () => {
  const room = { leftMs: 600_000, reserveMs: 120_000, memoryMb: 512 };
  it.each<[string, Parameters<typeof pausesForJob>[0], boolean]>([
    ['waits 2 s inside an invocation with room for it', { ...room, waitMs: 2_000 }, false],
    ['waits 9.9 s inside an invocation with room for it', { ...room, waitMs: 9_900 }, false],
    ['pauses for a wait of 10 s, cheaper suspended', { ...room, waitMs: 10_000 }, true],
    ['waits 15 s inside an invocation of 128 MB, where waiting awake costs less than a pause', { ...room, memoryMb: 128, waitMs: 15_000 }, false],
    ['pauses when the wait would end inside the reserve', { ...room, leftMs: 121_000, waitMs: 2_000 }, true],
    ['waits when it ends exactly at the reserve', { ...room, leftMs: 122_000, waitMs: 2_000 }, false],
    ['pauses with no time left at all', { ...room, leftMs: 0, waitMs: 0 }, true],
  ])('%s', (_, input, pauses) => {
    expect(pausesForJob(input)).toBe(pauses);
  });
});
