import { afterEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { shopProject } from '../support/shopProject.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

// Deployed with a 30 s timeout, a slice has 10 s before its 20 s deadline margin, and lands parts
// that fill within 6.7 s (room for one 1.5 times as slow).
const FIELDS = ['lambda: { timeout_seconds: 30 }', 'lake: { part_size_mb: 0.001 }'];
const HOUR = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T01:00:00Z'];
const SLICE = 'a slice has 10.0 s before its deadline and lands parts that fill within 6.7 s';

let api: TestApi;
afterEach(() => api.close());

async function runShop(latencyMs: number, command: 'run' | 'backfill' = 'run') {
  // 5 records in the hour: one page, `latencyMs` slow, in a part of its own (not full: it ends with the window).
  api = await startTestApi({ count: 5, latencyMs });
  const cwd = await shopProject('apilake-slow-parts-', api.url, { paging: { type: 'cursor', limit: 5 }, fields: FIELDS });
  return apilake([command, 'shop', ...HOUR], { cwd });
}

describe('apilake run and backfill, and the pace of their parts', () => {
  it.each(['run', 'backfill'] as const)(
    '%s warns that a part filled slower than the deployed function allows, says by how much and what to change, and still exits 0',
    async (command) => {
      const run = await runShop(7_000, command);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('shop: 1 committed, 0 skipped, 0 failed');
      const warnings = run.stderr.split('\n').filter((line) => line.startsWith('apilake: warning:'));
      expect(warnings).toHaveLength(1);
      const took = Number(/^apilake: warning: stream items: its slowest part took (\d+\.\d) s to fill \(window \[2024-01-01T00:00:00Z, /.exec(warnings[0]!)?.[1]);
      // A page's latency, and what landing it took on a busy machine.
      expect(took).toBeGreaterThanOrEqual(7);
      expect(took).toBeLessThan(15);
      expect(warnings[0]).toContain(`deployed with lambda.timeout_seconds 30, ${SLICE}`);
      expect(warnings[0]).toContain('Raise lambda.timeout_seconds (at most 900), or lower lake.part_size_mb (now 0.001) so a part fills within a fifth of an invocation (6.0 s)');
      expect(warnings[0]).toContain('ask for smaller pages');
    },
    60_000,
  );

  it('run says nothing of the deployed function when the parts fill fast', async () => {
    const run = await runShop(0);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('shop: 1 committed, 0 skipped, 0 failed');
    expect(run.stderr).not.toContain('warning');
  }, 60_000);
});
