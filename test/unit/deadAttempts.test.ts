import { describe, expect, it } from 'vitest';
import { stopwatch, type Clock } from '../../functions/clock.js';
import { attemptExpired, MAX_ATTEMPT_MS, ORPHAN_HORIZON_MS } from '../../functions/sink/commitProtocol.js';
import { attemptOf, deadAttempts } from '../../functions/sink/windowGarbage.js';
import { partKey } from '../../functions/sink/lakeLayout.js';

const H = 3_600_000;
const NOW = Date.parse('2024-06-01T12:00:00Z');
const ref = { source: 's', stream: 't', window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') } };
const A = '20240101T000000Z-00000000000a';
const B = '20990101T000000Z-00000000000b';
const at = (hoursAgo: number) => new Date(NOW - hoursAgo * H);

describe('deadAttempts', () => {
  it.each([
    ['an attempt whose only file is 13 h old', [[partKey(ref, A, 0), 13]], [`run ${A}`]],
    ['an attempt whose only file is 11 h old', [[partKey(ref, A, 0), 11]], []],
    [
      'an attempt with a 13 h old part and a part written now',
      [
        [partKey(ref, A, 0), 13],
        [partKey(ref, A, 1), 0],
      ],
      [],
    ],
    [
      'an attempt with an old raw part and a recent curated file',
      [
        [partKey(ref, A, 0), 30],
        [partKey(ref, A, 0, 'curated'), 1],
      ],
      [],
    ],
    [
      'two attempts, one old and one recent',
      [
        [partKey(ref, A, 0), 13],
        [partKey(ref, B, 0), 1],
      ],
      [`run ${A}`],
    ],
    ['a file dated ahead of the storage clock', [[partKey(ref, A, 0), -5]], []],
    ['a file exactly at the horizon', [[partKey(ref, A, 0), 12]], []],
    ['a temp file of a commit, 13 h old', [['manifests/source=s/stream=t/dt=2024-01-01/x.000001.json', 13]], ['file manifests/source=s/stream=t/dt=2024-01-01/x.000001.json']],
  ] as const)('%s', (_what, files, dead) => {
    expect([
      ...deadAttempts(
        files.map(([key, hoursAgo]) => ({ key, at: at(hoursAgo) })),
        NOW,
        ORPHAN_HORIZON_MS,
      ),
    ]).toEqual(dead);
  });

  it('reads a missing storage date as now, never as old', () => {
    expect(deadAttempts([{ key: partKey(ref, A, 0), at: new Date(Number.NaN) }], NOW, ORPHAN_HORIZON_MS).size).toBe(0);
  });

  it('groups by run id, whatever time the run id names', () => {
    expect(attemptOf(partKey(ref, B, 3))).toBe(attemptOf(partKey(ref, B, 0, 'curated')));
    expect(attemptOf(partKey(ref, A, 0))).not.toBe(attemptOf(partKey(ref, B, 0)));
  });
});

describe("a run's age", () => {
  const clockOf = (state: { wall: number; mono: number }): Clock => ({ now: () => state.wall, monotonic: () => state.mono, sleep: () => Promise.resolve() });

  it.each([
    ['both clocks move 1 h', 1, 1, H],
    ['the wall clock is set 13 h back while 1 h passes', -13, 1, H],
    ['the monotonic clock stands still while the wall clock moves 7 h (sleep)', 7, 0, 7 * H],
    ['the wall clock jumps 7 h ahead', 7, 1, 7 * H],
  ])('is the longer reading when %s', (_what, wallHours, monoHours, expected) => {
    const state = { wall: NOW, mono: 1_000 };
    const age = stopwatch(clockOf(state));
    state.wall += wallHours * H;
    state.mono += monoHours * H;
    expect(age()).toBe(expected);
  });

  it('lets a run commit up to the limit and not past it', () => {
    expect(attemptExpired(MAX_ATTEMPT_MS)).toBeUndefined();
    expect(attemptExpired(MAX_ATTEMPT_MS + 60_000)).toMatch(/more than the 6h a run may take before committing/);
  });
});
