import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifests } from '../support/lakeReader.js';
import { renderTerminal, spawnInPty } from '../support/pty.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const COLUMNS = 80;
let api: TestApi;
let cwd: string;

beforeEach(async () => {
  // Items every 6 minutes for 30 hours; later windows are empty pages. Latency keeps a long backfill running.
  api = await startTestApi({ count: 300, spacingMs: 360_000, latencyMs: 30 });
  cwd = await shopProject('apilake-tty-', api.url, {
    paging: { type: 'page_number', perPage: 4 },
    fields: ['retry: { max_attempts: 2, base_delay_ms: 5, max_delay_ms: 1000 }', 'rate_limit: { concurrency: 8 }'],
  });
});
afterEach(() => api.close());

describe('backfill in an 80-column terminal', () => {
  it('redraws one progress line in place and never wraps, failures and summary included', async () => {
    api.failWhen((url) => url.searchParams.get('since') === '2024-01-01T07:00:00Z', { kind: 'status', status: 503 }, 2);
    const run = spawnInPty(['backfill', 'shop', '--from', '2024-01-01', '--to', '2024-01-05T04:00', '--concurrency', '4'], { cwd, columns: COLUMNS });
    const code = await run.done();
    expect(code).toBe(1);
    const { rows, overflows } = renderTerminal(run.output(), COLUMNS);
    expect(overflows).toEqual([]);
    // 100 windows, yet a handful of rows: the status line is redrawn, not repeated.
    const shown = rows.filter(Boolean);
    expect(shown.length).toBeLessThan(20);
    expect(shown.filter((r) => /\d+\/100 windows/.test(r))).toHaveLength(1);
    expect(shown.join('\n')).toContain('100/100 windows');
    expect(shown.filter((r) => r.includes('FAILED'))).toHaveLength(1);
    expect(shown.some((r) => /^shop: 99 committed, 0 skipped, 1 failed · /.test(r))).toBe(true);
    expect(shown.join('\n')).toMatch(/failed windows \(run the same command again to retry only these\):\n {2}✗ items \[2024-01-01T07:00:00Z, 2024-01-01T08:00:00Z\) \(1h\): HTTP 503/);
  }, 60_000);

  it('on Ctrl-C prints one line for the windows not started, and no failure for them', async () => {
    // 694 hourly windows at 2 at a time: far more than land before the interrupt.
    const run = spawnInPty(['backfill', 'shop', '--from', '2024-01-01', '--to', '2024-01-29T22:00', '--concurrency', '2'], { cwd, columns: COLUMNS });
    await run.waitFor(/\b[1-9]\d*\/694 windows/);
    run.type('\x03');
    const code = await run.done();
    expect(code).toBe(130);
    const output = run.output();
    const { rows, overflows } = renderTerminal(output, COLUMNS);
    expect(overflows).toEqual([]);
    const shown = rows.filter(Boolean);
    const afterInterrupt = shown.slice(shown.findIndex((r) => r.startsWith('interrupted: ')));
    // A line per window not started would be hundreds of rows; the summary wraps over three here (the lake's absolute path is long).
    expect(afterInterrupt.length).toBeLessThan(12);
    expect(shown.filter((r) => r.includes('re-run the same command to continue'))).toHaveLength(1);
    expect(shown.filter((r) => r.startsWith('shop: '))).toHaveLength(1);
    expect(output).not.toContain('FAILED');
    expect(output).not.toContain('failed windows');
    const landed = (await readManifests(join(cwd, 'lake'))).length;
    const notStarted = Number(/(\d+) windows not started/.exec(shown.join(' '))?.[1]);
    expect(notStarted).toBeGreaterThan(600);
    expect(landed + notStarted).toBeLessThanOrEqual(694);
  }, 60_000);
});
