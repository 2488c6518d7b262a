import { describe, expect, it } from 'vitest';
import { formatDuration, isScheduleExpression, parseDuration, rateIntervalMs, scheduleExpressionProblem } from '../../functions/window/duration.js';
import { describeWindow, isAligned, splitIntoWindows, windowBefore } from '../../functions/window/TimeWindow.js';

const H = 3_600_000;
const d = (iso: string) => new Date(iso);

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', H],
    ['2d', 48 * H],
    [' 6h ', 6 * H],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1', 'h', '1.5h', '1w', '-1h', '1 h'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    [90 * 60_000, '90m'],
    [H, '1h'],
    [86_400_000, '1d'],
    [1_500, '1500ms'],
  ])('formats %i as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('schedule expressions', () => {
  it.each([
    ['rate(1 hour)', H],
    ['rate(5 minutes)', 300_000],
    ['rate(1 day)', 86_400_000],
    ['cron(0 * * * ? *)', undefined],
  ])('interval of %s', (expr, ms) => expect(rateIntervalMs(expr)).toBe(ms));

  it.each(['rate(1 hour)', 'rate(2 hours)', 'cron(0 12 * * ? *)', 'cron(15 0 ? * MON-FRI *)'])('accepts %s', (e) => expect(isScheduleExpression(e)).toBe(true));
  it.each(['rate(1 hours)', 'rate(2 hour)', 'rate(0 hours)', 'cron(0 * * * *)', 'every hour', 'rate(1 week)'])('rejects %s', (e) => expect(isScheduleExpression(e)).toBe(false));
  it.each([
    ['rate(0 hours)', '"rate(0 hours)": the number of a rate must be at least 1'],
    ['rate(00 minutes)', '"rate(00 minutes)": the number of a rate must be at least 1'],
    ['rate(1 hours)', '"rate(1 hours)": write rate(1 hour) for one, rate(2 hours) for more'],
    ['rate(5 day)', '"rate(5 day)": write rate(1 day) for one, rate(5 days) for more'],
    ['rate(1 week)', '"rate(1 week)" is not a Scheduler expression: expected rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)'],
  ])('says what is wrong with %s', (e, problem) => expect(scheduleExpressionProblem(e)).toBe(problem));
});

describe('splitIntoWindows', () => {
  it('splits a day into 24 aligned hourly windows', () => {
    const windows = splitIntoWindows(d('2024-01-01T00:00:00Z'), d('2024-01-02T00:00:00Z'), H);
    expect(windows).toHaveLength(24);
    expect(windows[0]).toEqual({ start: d('2024-01-01T00:00:00Z'), end: d('2024-01-01T01:00:00Z') });
    expect(windows.at(-1)!.end).toEqual(d('2024-01-02T00:00:00Z'));
    expect(windows.every((w) => isAligned(w, H))).toBe(true);
  });

  it('widens a ragged range to the windows that contain its edges, so keys stay deterministic', () => {
    const windows = splitIntoWindows(d('2024-01-01T00:30:00Z'), d('2024-01-01T02:10:00Z'), H);
    expect(windows.map((w) => w.start.toISOString())).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z']);
  });

  it('fails if the range is empty', () => {
    expect(() => splitIntoWindows(d('2024-01-02T00:00:00Z'), d('2024-01-01T00:00:00Z'), H)).toThrow(/must be before/);
  });
});

describe('windowBefore', () => {
  it.each([
    ['2024-01-01T10:00:00Z', '2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z'],
    ['2024-01-01T10:00:07Z', '2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z'],
    ['2024-01-01T10:59:59Z', '2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z'],
  ])('a tick at %s covers [%s, %s)', (tick, start, end) => {
    expect(windowBefore(d(tick), H)).toEqual({ start: d(start), end: d(end) });
  });
});

describe('describeWindow', () => {
  const window = { start: d('2024-03-05T06:00:00Z'), end: d('2024-03-05T07:00:00Z') };
  it('describes a window', () => expect(describeWindow(window)).toBe('[2024-03-05T06:00:00Z, 2024-03-05T07:00:00Z) (1h)'));
});
