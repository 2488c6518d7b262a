import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { AbortedError } from '../../functions/errors.js';
import { BackfillProgress, formatClock } from '../../cli/backfill/BackfillProgress.js';
import { TerminalOutput } from '../../cli/terminal/TerminalOutput.js';
import { visibleWidth } from '../../cli/terminal/fitText.js';

const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });

const result = (status: WindowResult['status'], records = 10, h = 0, extra: Partial<WindowResult> = {}): WindowResult => ({
  source: 's',
  stream: 'orders',
  window: hour(h),
  status,
  records,
  pages: 1,
  parts: 1,
  bytes: 100,
  requests: 1,
  retries: 0,
  throttled: 0,
  durationMs: 5,
  manifestKey: 'k',
  runId: 'r',
  ...(status === 'failed' ? { error: new Error('HTTP 500') } : {}),
  ...extra,
});

/** A fake terminal (or pipe) recording every write. */
function screen(columns?: number) {
  const writes: string[] = [];
  const output = new TerminalOutput({ isTTY: columns !== undefined, columns, write: (t: string) => writes.push(t) });
  return { output, writes, text: () => writes.join('') };
}

describe('BackfillProgress', () => {
  it('redraws one line on a terminal, with counts and an ETA from the pace so far', () => {
    let now = 0;
    const { output, writes } = screen(200);
    const progress = new BackfillProgress({ total: 4, output, now: () => now });
    now = 10_000;
    progress.windowDone(result('committed', 7));
    expect(writes.at(-1)).toBe('\r\x1b[K[=====>                  ] 1/4 windows · 1 committed · 0 skipped · 0 failed · 7 records · ETA 0:30');
    now = 20_000;
    progress.windowDone(result('failed', 0, 1));
    // Failures stay on screen: the status line is cleared, the failure printed, the status redrawn below.
    expect(writes.slice(-4, -1)).toEqual(['\r\x1b[K', expect.stringMatching(/^ {2}✗ orders .* FAILED after 1 page, 0 retries, .*HTTP 500\n$/), expect.stringContaining('1/4 windows')]);
    progress.windowDone(result('skipped', 10, 2));
    progress.windowDone(result('committed', 3, 3));
    progress.finish();
    expect(writes.slice(-2)).toEqual(['\r\x1b[K[========================] 4/4 windows · 2 committed · 1 skipped · 1 failed · 10 records', '\n']);
  });

  it.each([20, 40, 60, 80, 100, 132])('fits a %i-column terminal without wrapping', (columns) => {
    let now = 0;
    const { output, text } = screen(columns);
    const progress = new BackfillProgress({ total: 12_345, output, now: () => (now += 1_000) });
    for (let h = 0; h < 30; h++) progress.windowDone(result(h % 7 === 3 ? 'failed' : 'committed', 1_234_567, h));
    progress.finish();
    // What a terminal shows: every segment between carriage returns and newlines is one row.
    const rows = text()
      .split(/\r|\n/)
      .map((row) => row.replace('\x1b[K', ''));
    for (const row of rows) expect(visibleWidth(row), row).toBeLessThan(columns);
    // One row per failure, cut to the width (the reasons in full come in the final list).
    expect(rows.filter((r) => r.startsWith('  ✗'))).toHaveLength(4);
  });

  it('keeps the count, failures and ETA longest when the line must shrink', () => {
    let now = 0;
    const progress = new BackfillProgress({ total: 700, output: screen(80).output, now: () => (now += 1_000) });
    for (let h = 0; h < 6; h++) progress.windowDone(result(h === 2 ? 'failed' : 'committed', 123_456, h));
    const wide = progress.statusLine(200);
    expect(wide).toContain('skipped');
    const narrow = progress.statusLine(50);
    expect(visibleWidth(narrow)).toBeLessThanOrEqual(50);
    expect(narrow).toMatch(/6\/700 windows · 1 failed · ETA \d+:\d+/);
    expect(narrow).not.toContain('skipped');
    expect(progress.statusLine(25)).toBe('6/700 windows · 1 failed');
  });

  it('after Ctrl-C, counts windows that never started apart and prints no line for them', () => {
    const controller = new AbortController();
    const { output, text } = screen();
    const progress = new BackfillProgress({ total: 5, output, interrupt: controller.signal });
    progress.windowStarted('orders', hour(0));
    progress.windowStarted('orders', hour(1));
    progress.windowDone(result('committed', 10, 0));
    controller.abort('interrupted');
    // In flight when interrupted: stopped between pages.
    progress.windowDone(result('failed', 0, 1, { error: new AbortedError('interrupted'), pages: 2, retries: 1 }));
    // Started after the interrupt: the engine reports them failed; they were never run.
    for (const h of [2, 3, 4]) {
      progress.windowStarted('orders', hour(h));
      progress.windowDone(result('failed', 0, h, { error: new AbortedError('interrupted'), pages: 0, requests: 0 }));
    }
    progress.finish();
    expect(progress.tally.counts).toEqual({ committed: 1, skipped: 0, failed: 0, interrupted: 1, not_started: 3 });
    expect(text().split('\n').filter(Boolean)).toEqual([expect.stringMatching(/✓ orders/), expect.stringMatching(/! orders .* interrupted after 2 pages, 1 retry/)]);
    expect(progress.tally.failures).toEqual([]);
  });

  it('prints a line per window when not on a terminal', () => {
    const { output, writes } = screen();
    const progress = new BackfillProgress({ total: 2, output });
    progress.windowDone(result('committed'));
    progress.finish();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^ {2}✓ orders \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\) 10 records/);
  });

  it.each([
    [0, '0:00'],
    [59_400, '0:59'],
    [83_000, '1:23'],
    [3_723_000, '1:02:03'],
  ])('formats %i ms as %s', (ms, text) => expect(formatClock(ms)).toBe(text));
});
