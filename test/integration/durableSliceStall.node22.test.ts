/**
 * A slice that runs into its deadline after earlier slices of the window finished parts is tried
 * again from its checkpoint: a one-off slowdown of the API is not a part too slow for the function.
 */
import { expect, it } from 'vitest';
import { systemClock, type Clock } from '../../functions/clock.js';
import { DAY, dailyCursorSource, durableDeps, durableRunner, useDurableTestbed } from '../support/durableTestbed.js';

const PAGE_MS = 2_000;
const PAGES = 200;
const INVOCATION_MS = 120_000;
const bed = useDurableTestbed({ api: { count: PAGES, spacingMs: 86_400_000 / PAGES } });

it('tries a resumed slice again when a one-off stall makes it miss its deadline, and lands the window', async () => {
  const { api } = bed;
  const STALL_AT = 50; // a request of the second slice (the first lands about 35 pages)
  const STALL_MS = 60_000;
  const base = api.requests.length;
  const stall = (from: number, to: number) => (from - base < STALL_AT && to - base >= STALL_AT ? STALL_MS : 0);
  const epoch = Date.parse('2024-02-01T00:00:00Z');
  const clock: Clock = { now: () => epoch + api.requests.length * PAGE_MS + (api.requests.length - base >= STALL_AT ? STALL_MS : 0), sleep: (ms, s) => systemClock.sleep(ms, s) };
  const { deps } = await durableDeps(bed, dailyCursorSource(api.url, 1, { lake: { part_size_mb: 0.0105, parquet: true } }), { clock });
  const runner = durableRunner(deps, {
    deadline: () => {
      const from = api.requests.length;
      return () => INVOCATION_MS - (api.requests.length - from) * PAGE_MS - stall(from, api.requests.length);
    },
  });
  const execution = await runner.run({ payload: { source: 'testapi', window: DAY } });
  expect(execution.getStatus()).toBe('SUCCEEDED');
  expect(execution.getResult()?.streams[0]).toMatchObject({ status: 'committed', records: PAGES });
  // More slices than pages ÷ a slice's share: the stalled one ended without a part and was tried again.
  expect(execution.getOperations().filter((o) => / slice \d+$/.test(o.getName() ?? '')).length).toBeGreaterThan(1);
}, 300_000);
