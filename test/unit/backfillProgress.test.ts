import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { BackfillProgress, formatClock } from '../../cli/backfill/BackfillProgress.js';

const result = (status: WindowResult['status'], records = 10): WindowResult => ({
  source: 's',
  stream: 'orders',
  window: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') },
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
});

describe('BackfillProgress', () => {
  it('redraws one line on a terminal, with counts and an ETA from the pace so far', () => {
    let now = 0;
    const out: string[] = [];
    const progress = new BackfillProgress({ total: 4, tty: true, write: (t) => out.push(t), now: () => now });
    now = 10_000;
    progress.windowDone(result('committed', 7));
    expect(out.at(-1)).toBe('\r\x1b[K[=====>                  ] 1/4 windows · 1 committed · 0 skipped · 0 failed · 7 records · ETA 0:30');
    now = 20_000;
    progress.windowDone(result('failed'));
    expect(out.at(-2)).toMatch(/^\r\x1b\[K  ✗ orders .* FAILED .*HTTP 500\n$/); // failures stay on screen
    progress.windowDone(result('skipped'));
    progress.windowDone(result('committed', 3));
    progress.finish();
    expect(out.at(-1)).toBe('\r\x1b[K[========================] 4/4 windows · 2 committed · 1 skipped · 1 failed · 10 records\n');
  });

  it('prints a line per window when not on a terminal', () => {
    const out: string[] = [];
    const progress = new BackfillProgress({ total: 2, tty: false, write: (t) => out.push(t) });
    progress.windowDone(result('committed'));
    progress.finish();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^  ✓ orders \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\) 10 records/);
  });

  it.each([
    [0, '0:00'],
    [59_400, '0:59'],
    [83_000, '1:23'],
    [3_723_000, '1:02:03'],
  ])('formats %i ms as %s', (ms, text) => expect(formatClock(ms)).toBe(text));
});
