import { describe, expect, it } from 'vitest';
import { sliceReserveMs } from '../../functions/ingest/sliceReserve.js';

describe('sliceReserveMs', () => {
  it.each([
    { why: 'a fifth of the invocation before any part is measured', remaining: 60_000, longest: undefined, current: 1_000, reserve: 12_000 },
    { why: 'a fifth of the invocation while parts fill fast', remaining: 60_000, longest: 4_000, current: 1_000, reserve: 12_000 },
    { why: 'the slowest part, with half again to spare, plus the margin', remaining: 60_000, longest: 20_000, current: 1_000, reserve: 32_000 },
    { why: 'the part filling now, once it is slower than any before', remaining: 60_000, longest: 4_000, current: 30_000, reserve: 47_000 },
    { why: 'more than the invocation has, when one part takes most of it', remaining: 60_000, longest: 50_000, current: 0, reserve: 77_000 },
    { why: 'twice the margin in a short invocation', remaining: 8_000, longest: undefined, current: 0, reserve: 4_000 },
  ])('keeps $reserve ms: $why', ({ remaining, longest, current, reserve }) => {
    expect(sliceReserveMs({ sliceStartRemainingMs: remaining, deadlineMarginMs: 2_000, pace: { longestPartMs: longest, currentPartMs: current, boundaries: longest === undefined ? 0 : 1 } })).toBe(
      reserve,
    );
  });
});
