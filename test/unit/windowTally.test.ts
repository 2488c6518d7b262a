import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { NOTHING_LANDED } from '../../functions/engine/windowRun.js';
import { AbortedError } from '../../functions/errors.js';
import { formatStopped, formatSummary, formatWindowLine } from '../../cli/format.js';
import { WindowTally } from '../../cli/progress/WindowTally.js';

const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
const result = (h: number, status: WindowResult['status'], figures: Partial<WindowResult> = {}): WindowResult => ({
  source: 'shop',
  stream: 'items',
  window: hour(h),
  status,
  ...NOTHING_LANDED,
  durationMs: 100,
  manifestKey: 'k',
  runId: 'r',
  ...figures,
});

describe('WindowTally and the run summary', () => {
  it('sums pages and retries of every window that ran, so the summary agrees with the lines', () => {
    const tally = new WindowTally();
    const results = [
      result(0, 'committed', { records: 60, pages: 3, retries: 1, throttled: 1, bytes: 1000, parts: 1 }),
      result(1, 'failed', { pages: 2, retries: 2, error: new Error('HTTP 503 after 2 attempts') }),
      result(2, 'skipped', { records: 60 }),
    ];
    const lines = results.map((r) => formatWindowLine(r, undefined, tally.add(r)));
    expect(lines[1]).toMatch(/FAILED after 2 pages, 2 retries, 0\.1 s: HTTP 503/);
    const summary = formatSummary('shop', tally, './lake');
    expect(summary).toBe('shop: 1 committed, 1 skipped, 1 failed · 60 records landed (1000 B) · 5 pages, 3 retries, 1 throttled response → ./lake');
    // The figures of the lines add up to the summary's.
    const sum = (pattern: RegExp) => lines.reduce((n, l) => n + Number(pattern.exec(l)?.[1] ?? 0), 0);
    expect(sum(/(\d+) pages?/)).toBe(5);
    expect(sum(/(\d+) retr/)).toBe(3);
    expect(formatStopped(tally)).toBeUndefined();
  });

  it('tells a window another run committed first from one committed before, counting the pages it fetched anyway', () => {
    const tally = new WindowTally();
    const results = [
      result(0, 'skipped', { records: 60, pages: 20 }),
      result(1, 'skipped', { records: 60, pages: 20, retries: 1, skipReason: 'concurrent_commit' }),
      // A table rebuilt from raw parts fetches nothing.
      result(2, 'skipped', { records: 60, skipReason: 'concurrent_commit' }),
    ];
    const lines = results.map((r) => formatWindowLine(r, undefined, tally.add(r)));
    expect(lines).toEqual([
      '  - items [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h) already committed (60 records); --force re-runs it',
      '  - items [2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z) (1h) committed by a concurrent run (60 records) after this one had fetched 20 pages, 1 retry; its parts are removed',
      '  - items [2024-01-01T02:00:00Z, 2024-01-01T03:00:00Z) (1h) committed by a concurrent run (60 records)',
    ]);
    expect(formatSummary('shop', tally, './lake')).toBe('shop: 0 committed, 3 skipped, 0 failed · 0 records landed (0 B) · 20 pages, 1 retry, 0 throttled responses → ./lake');
  });

  it('tells windows never started from windows interrupted in flight and from real failures after Ctrl-C', () => {
    const controller = new AbortController();
    const tally = new WindowTally(controller.signal);
    tally.started('items', hour(0));
    tally.started('items', hour(1));
    tally.started('items', hour(2));
    controller.abort('interrupted');
    // The rate limiter rejects with the abort reason, which the engine wraps in a plain Error.
    expect(tally.add(result(0, 'failed', { pages: 1, requests: 1, error: new Error('interrupted') }))).toBe('interrupted');
    expect(tally.add(result(1, 'failed', { pages: 1, requests: 2, error: new AbortedError('interrupted') }))).toBe('interrupted');
    expect(tally.add(result(2, 'failed', { pages: 1, requests: 3, error: new Error('HTTP 500') }))).toBe('failed');
    for (let h = 3; h < 697; h++) expect(tally.add(result(h, 'failed', { error: new AbortedError('interrupted') }))).toBe('not_started');
    expect(tally.add(result(697, 'skipped', { records: 5 }))).toBe('skipped');
    expect(tally.counts).toEqual({ committed: 0, skipped: 1, failed: 1, interrupted: 2, not_started: 694 });
    expect(formatStopped(tally)).toBe('694 windows not started, 2 windows interrupted in flight (nothing of them is visible); re-run the same command to continue');
    expect(formatSummary('shop', tally, './lake')).toMatch(/^shop: 0 committed, 1 skipped, 1 failed, 2 interrupted, 694 not started · /);
  });
});
