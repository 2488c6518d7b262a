import { describe, expect, it } from 'vitest';
import { pollDelayMs } from '../../cli/redrive/pollDelay.js';

describe('pollDelayMs', () => {
  it.each([
    [0, 2_000],
    [1, 4_000],
    [2, 8_000],
    [3, 16_000],
    [4, 30_000],
    [50, 30_000],
    [5_000, 30_000],
  ])('waits after read %i for %i ms', (poll, ms) => expect(pollDelayMs(poll)).toBe(ms));
});
