import { describe, expect, it } from 'vitest';
import { countWindows, windowsFor } from '../../functions/engine/windowSelection.js';
import { windowBefore } from '../../functions/window/TimeWindow.js';
import { testSource } from '../support/sources.js';

const H = 3_600_000;
const M = 60_000;
const d = (iso: string) => new Date(iso);

describe('windowBefore with a settle time', () => {
  it.each([
    ['2024-01-01T10:00:03Z', 0, '2024-01-01T09:00:00Z'],
    ['2024-01-01T10:00:03Z', 10 * M, '2024-01-01T08:00:00Z'],
    ['2024-01-01T10:09:59Z', 10 * M, '2024-01-01T08:00:00Z'],
    ['2024-01-01T10:10:00Z', 10 * M, '2024-01-01T09:00:00Z'], // end + settle has just passed
    ['2024-01-01T11:05:00Z', 2 * H, '2024-01-01T08:00:00Z'],
  ])('a tick at %s with settle %i ms lands the window starting %s', (tick, settle, start) => {
    expect(windowBefore(d(tick), H, settle)).toEqual({ start: d(start), end: new Date(d(start).getTime() + H) });
  });
});

describe('window selection with settle', () => {
  const source = testSource('http://127.0.0.1:9', { path: '/items', settle: '10m' });
  const stream = source.streams[0]!;

  it('leaves out of a range the windows that have not settled by now', () => {
    const selection = { kind: 'range', from: d('2024-01-01T06:00:00Z'), to: d('2024-01-01T12:00:00Z'), completeBy: d('2024-01-01T10:05:00Z') } as const;
    expect(windowsFor(source, stream, selection).map((w) => w.start.toISOString().slice(11, 16))).toEqual(['06:00', '07:00', '08:00']);
    expect(countWindows(source, [stream], selection)).toBe(3);
    const settled = { ...selection, completeBy: d('2024-01-01T10:10:00Z') };
    expect(windowsFor(source, stream, settled)).toHaveLength(4);
    expect(countWindows(source, [stream], settled)).toBe(4);
  });

  it('picks the latest settled window for run without --from', () => {
    expect(windowsFor(source, stream, { kind: 'latest', at: d('2024-01-01T10:05:00Z') })).toEqual([{ start: d('2024-01-01T08:00:00Z'), end: d('2024-01-01T09:00:00Z') }]);
  });

  it('keeps explicit windows as asked (runWindow refuses those not settled)', () => {
    const windows = [{ start: d('2024-01-01T09:00:00Z'), end: d('2024-01-01T10:00:00Z') }];
    expect(windowsFor(source, stream, { kind: 'windows', windows })).toEqual(windows);
  });
});
