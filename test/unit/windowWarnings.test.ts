import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { windowWarnings } from '../../cli/progress/windowWarnings.js';

const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
const result = (h: number, stream: string, warnings?: string[]): WindowResult => ({
  ...{ source: 'shop', stream, window: hour(h), status: 'committed', records: 1, pages: 1, parts: 1, bytes: 1 },
  ...{ requests: 1, retries: 0, throttled: 0, durationMs: 1, manifestKey: 'k', runId: 'r' },
  ...(warnings ? { warnings } : {}),
});

describe('windowWarnings', () => {
  it('gives one line per stream and warning, with the range of windows, redacted, in the order they first came', () => {
    const lines = windowWarnings(
      [result(2, 'items', ['left for gc: token=SECRET']), result(0, 'items', ['left for gc: token=SECRET', 'symlink']), result(1, 'orders', ['left for gc: token=SECRET']), result(3, 'items')],
      (text) => text.replace('SECRET', '***'),
    );
    expect(lines).toEqual([
      'stream items, 2 windows, from [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h) to [2024-01-01T02:00:00Z, 2024-01-01T03:00:00Z) (1h): left for gc: token=***',
      'stream items, window [2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z) (1h): symlink',
      'stream orders, window [2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z) (1h): left for gc: token=***',
    ]);
  });

  it('gives nothing when no window warned', () => {
    expect(windowWarnings([result(0, 'items'), result(1, 'items', [])])).toEqual([]);
  });
});
