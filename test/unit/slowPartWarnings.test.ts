import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { slowPartWarnings } from '../../cli/progress/slowPartWarnings.js';
import { exampleSource } from '../support/exampleSource.js';
import { testSource } from '../support/sources.js';

const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
const landed = (h: number, slowestPartMs: number | undefined, stream = 'items'): WindowResult => ({
  source: 'testapi',
  stream,
  window: hour(h),
  status: 'committed',
  records: 60,
  pages: 3,
  parts: 2,
  bytes: 1000,
  requests: 3,
  retries: 0,
  throttled: 0,
  durationMs: 100,
  manifestKey: 'k',
  runId: 'r',
  ...(slowestPartMs === undefined ? {} : { slowestPartMs }),
});
/** A source deployed with this timeout; the deadline margin is the function's default, 20 s. */
const deployed = (timeoutSeconds: number) => testSource('http://api.test', { path: '/items', records: '@' }, { lambda: { timeout_seconds: timeoutSeconds }, lake: { part_size_mb: 2 } });

describe('slowPartWarnings', () => {
  it.each([
    { why: 'parts fill within a fifth of the default 900 s', timeout: 900, slowest: 179_000 },
    { why: 'parts fill within a fifth of a 60 s invocation', timeout: 60, slowest: 12_000 },
    { why: 'no window measured its parts (skipped, failed)', timeout: 30, slowest: undefined },
  ])('says nothing when $why', ({ timeout, slowest }) => {
    expect(slowPartWarnings(deployed(timeout), [landed(0, 1_000), landed(1, slowest)])).toEqual([]);
  });

  it('warns, softly, when the slowest part takes more than a fifth of an invocation', () => {
    // 60 s: a fifth is 12 s; a slice has 40 s and lands parts of up to 26.7 s.
    expect(slowPartWarnings(deployed(60), [landed(0, 5_000), landed(1, 12_400), landed(2, 9_000)])).toEqual([
      'stream items: its slowest part took 12.4 s to fill (window [2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z) (1h)), more than a fifth of lambda.timeout_seconds 60 (12.0 s): ' +
        'deployed, its windows take more invocations than they need, down to one a part. Lower lake.part_size_mb (now 2) or raise lambda.timeout_seconds for fewer.',
    ]);
  });

  it('warns when the slowest part leaves a deployed slice no room for a slower one, with the three remedies', () => {
    const [warning, ...more] = slowPartWarnings(deployed(60), [landed(3, 30_000)]);
    expect(more).toEqual([]);
    expect(warning).toBe(
      'stream items: its slowest part took 30.0 s to fill (window [2024-01-01T03:00:00Z, 2024-01-01T04:00:00Z) (1h)); deployed with lambda.timeout_seconds 60, ' +
        'a slice has 40.0 s before its deadline and lands parts that fill within 26.7 s (with room for one 1.5 times as slow), so a part slower than this one fails its window. ' +
        'Raise lambda.timeout_seconds (at most 900), or lower lake.part_size_mb (now 2) so a part fills within a fifth of an invocation (12.0 s), ' +
        "or, if a single page takes that long, ask for smaller pages (the stream's page size parameter).",
    );
  });

  it('says the deployed window fails at once when no part fits in a slice', () => {
    const [warning] = slowPartWarnings(deployed(60), [landed(0, 41_000)]);
    expect(warning).toMatch(/^stream items: its slowest part took 41\.0 s to fill .*a slice has 40\.0 s before its deadline and lands parts that fill within 26\.7 s/);
    expect(warning).toContain('so no part reaches its boundary within an invocation and its windows fail at once (PartTooSlowError)');
  });

  it('has no deployed timeout to warn about that leaves no time: such a source is refused', () => {
    expect(() => deployed(15)).toThrow(/lambda\.timeout_seconds.*at least 30: the deployed function stops landing 20 s before its deadline/);
  });

  it('warns once per stream, for its slowest window, and not for a fast stream', () => {
    const warnings = slowPartWarnings(deployed(60), [landed(0, 30_000, 'orders'), landed(0, 1_000, 'items'), landed(1, 35_000, 'orders'), landed(2, 20_000, 'orders')]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^stream orders: its slowest part took 35\.0 s to fill \(window \[2024-01-01T01:00:00Z,/);
  });

  it('judges a stream landed whole deployed (max_results or a parent) by its window, not its parts', () => {
    const whole = testSource(
      'http://api.test',
      { path: '/items', records: 'items', max_results: 1000, pagination: { type: 'offset', limit: 100, total_records: 'total_count' } },
      { lambda: { timeout_seconds: 60 } },
    );
    const window = (h: number, durationMs: number, slowestPartMs: number): WindowResult => ({ ...landed(h, slowestPartMs), durationMs });
    // Parts that would warn for a sliced stream say nothing here; the window's 45 s is past the 40 s a deployed invocation has.
    const [warning, ...more] = slowPartWarnings(whole, [window(0, 30_000, 30_000), window(1, 45_000, 14_000), window(2, 39_000, 39_000)]);
    expect(more).toEqual([]);
    expect(warning).toBe(
      'stream items: a window took 45.0 s to land (window [2024-01-01T01:00:00Z, 2024-01-01T02:00:00Z) (1h)); it has a parent or max_results, so deployed each window lands in one invocation, ' +
        'which has 40.0 s before its deadline with lambda.timeout_seconds 60: such a window fails there. Raise lambda.timeout_seconds (at most 900), or give the stream a shorter window.',
    );
    expect(slowPartWarnings(whole, [window(0, 39_000, 39_000)])).toEqual([]);
  });

  it("says nothing of a job stream's long window: deployed, its wait for the job pauses between invocations", async () => {
    const bulk = await exampleSource('salesforce_bulk.yaml', (doc) => {
      doc.lambda = { timeout_seconds: 60 };
    });
    const long: WindowResult = { ...landed(0, 1_000, 'accounts'), durationMs: 3_600_000 };
    expect(slowPartWarnings(bulk, [long])).toEqual([]);
  });

  it("warns of a job stream's download whose parts fill slower than a slice allows: deployed, it lands a part at a time", async () => {
    const bulk = await exampleSource('salesforce_bulk.yaml', (doc) => {
      doc.lambda = { timeout_seconds: 60 };
    });
    const [warning, ...more] = slowPartWarnings(bulk, [landed(0, 45_000, 'accounts')]);
    expect(more).toEqual([]);
    expect(warning).toMatch(/^stream accounts: its slowest part took 45\.0 s to fill .*so no part reaches its boundary within an invocation/);
  });
});
