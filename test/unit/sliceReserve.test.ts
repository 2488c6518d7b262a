import { describe, expect, it } from 'vitest';
import { partTimeLimits, sliceReserveMs } from '../../functions/ingest/sliceReserve.js';

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

describe('partTimeLimits', () => {
  it.each([
    { why: 'the default 15-minute function', invocation: 900_000, margin: 20_000, slice: 880_000, fewest: 180_000 },
    { why: 'a 60-second function', invocation: 60_000, margin: 20_000, slice: 40_000, fewest: 12_000 },
    { why: 'a function barely longer than its margin', invocation: 23_000, margin: 20_000, slice: 3_000, fewest: 4_600 },
  ])("gives a part of $why the time before the deadline, with the reserve's spare", ({ invocation, margin, slice, fewest }) => {
    const limits = partTimeLimits(invocation, margin);
    expect(limits).toEqual({ invocationMs: invocation, sliceMs: slice, partMs: expect.closeTo(slice / 1.5, 6) as number, fewestInvocationsMs: fewest });
  });

  it.each([900_000, 60_000, 45_000])('allows the slowest part whose reserve is the whole invocation of %i ms, no more', (invocation) => {
    // The limit and the reserve are one rule: a slice that starts with the whole invocation keeps all of it for a part this slow.
    const { partMs } = partTimeLimits(invocation, 20_000);
    const reserve = (longest: number) => sliceReserveMs({ sliceStartRemainingMs: invocation, deadlineMarginMs: 20_000, pace: { longestPartMs: longest, currentPartMs: 0, boundaries: 1 } });
    expect(reserve(partMs)).toBeCloseTo(invocation, 6);
    expect(reserve(partMs + 1)).toBeGreaterThan(invocation);
  });

  it('gives no time to a part when the invocation is no longer than the deadline margin', () => {
    expect(partTimeLimits(10_000, 20_000)).toMatchObject({ sliceMs: 0, partMs: 0 });
  });
});
