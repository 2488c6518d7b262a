/**
 * The durable function on the durable execution SDK's own local runner, with moto's S3 and
 * dynalite's idempotency table: a window longer than one invocation continues across
 * invocations from its checkpoint and lands exactly once. Every invocation has a simulated
 * 120-second deadline, spent at 500 ms a page: 1,000 pages are 500 s of paging, the proportions of
 * 5,000 pages of 50 ms in invocations of 60 s. (The simulated time is long so that the real timers
 * of the invocation's deadlines never fire on a loaded machine.) The runner runs without
 * `skipTime`: its fake timers replace `process.nextTick` and `queueMicrotask` in the whole test
 * worker, so every socket and stream of the handler advances only on the fake clock's 20 ms ticks,
 * and vitest's RPC puts the fake `nextTick` back after the runner removes it, which leaves the
 * servers' `close` callbacks unfired and the file never ends. The waits between slices are real
 * seconds instead.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../functions/clock.js';
import type { DurableIngestDeps, SliceStep } from '../../functions/ingest/durableIngest.js';
import { LocalRateBudget } from '../../functions/http/LocalRateBudget.js';
import type { RateBudget } from '../../functions/http/RateBudget.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import type { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { DAY, dailyCursorSource, durableDeps, durableRunner, pagedDeadline, useDurableTestbed } from '../support/durableTestbed.js';
import { startTestApi, type TestApi } from '../support/testApi.js';

const PAGES = Number(process.env.DURABLE_PAGES ?? 1_000);
const PAGE_MS = 500;
const INVOCATION_MS = 120_000;

// 5,000 records in the day, one a page.
const bed = useDurableTestbed({ api: { count: PAGES, spacingMs: 86_400_000 / PAGES } });

/** What the handler did, in order: each invocation's start and each close of the source's rate budget. */
type Trace = ('invocation' | 'budget closed')[];

/** The invocation's own budget, telling the trace when the HTTP client closes it (a shared budget's lease releases end there). */
function tracedBudget(trace: Trace): RateBudget {
  const budget = new LocalRateBudget();
  return {
    acquire: (signal) => budget.acquire(signal),
    pauseUntil: (epochMs) => budget.pauseUntil(epochMs),
    close: async () => {
      trace.push('budget closed');
      await budget.close();
    },
  };
}

async function setUp(trace: Trace = []): Promise<{ deps: DurableIngestDeps; storage: S3LakeStorage }> {
  // About 38 pages a part: a slice reaches a part boundary within a fifth of its invocation.
  const source = dailyCursorSource(bed.api.url, 1, { lake: { part_size_mb: 0.006, parquet: true } });
  return durableDeps(bed, source, { logger: new Logger({ serviceName: 'apilake', logLevel: 'ERROR' }), budget: tracedBudget(trace) });
}

/** The runner, each invocation's remaining time spent by the pages the API serves. */
function runner(deps: DurableIngestDeps, trace: Trace = []) {
  return durableRunner(deps, {
    deadline: () => {
      trace.push('invocation');
      return pagedDeadline(bed.api, PAGE_MS, INVOCATION_MS);
    },
  });
}

describe('the durable function', () => {
  it('lands a window of 500 s of paging across invocations of 120 s, once, fetching each page at most twice', async () => {
    const trace: Trace = [];
    const { deps, storage } = await setUp(trace);
    const from = bed.api.requests.length;
    const started = performance.now();
    const execution = await runner(deps, trace).run({ payload: { source: 'testapi', window: DAY } });
    const elapsedMs = performance.now() - started;
    expect(execution.getStatus()).toBe('SUCCEEDED');
    const result = execution.getResult()!;
    expect(result.streams).toMatchObject([{ stream: 'items', status: 'committed', records: PAGES, pages: PAGES }]);

    const invocations = execution.getInvocations().length;
    // No invocation pages past its deadline: 500 s of paging need at least 5 invocations of 120 s.
    expect(invocations).toBeGreaterThanOrEqual(Math.ceil((PAGES * PAGE_MS) / INVOCATION_MS));
    // A suspended invocation's handler never returns: each one closes its client before its wait ends it.
    expect(trace).toEqual(Array.from({ length: invocations }, () => ['invocation', 'budget closed']).flat());
    const fetches = new Map<string, number>();
    for (const request of bed.api.requests.slice(from)) {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? 'first';
      fetches.set(cursor, (fetches.get(cursor) ?? 0) + 1);
    }
    expect(fetches.size).toBe(PAGES);
    expect(Math.max(...fetches.values())).toBeLessThanOrEqual(2);

    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed).toHaveLength(1);
    expect(snapshot.committed[0]!.manifest.totals.records).toBe(PAGES);
    expect(snapshot.orphanParts).toEqual([]);
    const operations = execution.getOperations();
    const slices = operations.filter((o) => / slice \d+$/.test(o.getName() ?? ''));
    for (const slice of slices) {
      const step = slice.getStepDetails()?.result as SliceStep | undefined;
      if (step?.kind === 'paused') expect(step.pages * PAGE_MS).toBeLessThan(INVOCATION_MS - 2_000);
    }
    const largest = Math.max(...slices.map((o) => JSON.stringify(o.getStepDetails()?.result ?? null).length));
    console.log(
      `durable window: ${PAGES} pages in ${invocations} invocations, ${slices.length} slices, ${operations.length} durable operations, ${[...fetches.values()].filter((n) => n === 2).length} pages fetched twice, largest step result ${largest} B, ${Math.round(elapsedMs)} ms`,
    );
    expect(largest).toBeLessThan(64 * 1024);
  }, 300_000);

  it('reports a second delivery of the same event as a duplicate, landing nothing', async () => {
    const { deps, storage } = await setUp();
    const first = await runner(deps).run({ payload: { source: 'testapi', window: DAY } });
    expect(first.getResult()!.streams[0]!.status).toBe('committed');
    const before = bed.api.requests.length;
    const second = await runner(deps).run({ payload: { source: 'testapi', window: DAY } });
    expect(second.getStatus()).toBe('SUCCEEDED');
    expect(second.getResult()!.streams).toMatchObject([{ status: 'duplicate', records: PAGES }]);
    expect(bed.api.requests.length).toBe(before);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
  }, 300_000);

  it('rejects an event for another source without failing the execution, landing nothing', async () => {
    const { deps, storage } = await setUp();
    const before = bed.api.requests.length;
    const execution = await runner(deps).run({ payload: { source: 'othersource', window: DAY } });
    // Retrying an invalid event could never succeed: the execution ends with the rejection as its result.
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getResult()).toEqual({ source: 'testapi', trigger: 'rejected', streams: [], error: 'invalid event: this function lands source "testapi", not "othersource"' });
    expect(bed.api.requests.length).toBe(before);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
  }, 60_000);
});

describe('the durable function against a slow API', () => {
  /** Simulated time a page takes: a part of 0.0105 MB (about 35 pages) fills in 70 s, more than a fifth of an invocation. */
  const SLOW_PAGE_MS = 2_000;
  const SLOW_PAGES = 200;
  let slowApi: TestApi;
  beforeAll(async () => {
    slowApi = await startTestApi({ count: SLOW_PAGES, spacingMs: 86_400_000 / SLOW_PAGES });
  });
  afterAll(async () => {
    await slowApi.close();
  });

  /** A runner whose clock and Lambda deadline both move by the pages the slow API serves. */
  async function slowSetUp(partSizeMb: number): Promise<{ storage: S3LakeStorage; runner: ReturnType<typeof durableRunner> }> {
    const { deps, storage } = await setUp();
    const epoch = Date.parse('2024-02-01T00:00:00Z');
    const clock: Clock = { now: () => epoch + slowApi.requests.length * SLOW_PAGE_MS, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
    const slowDeps: DurableIngestDeps = { ...deps, clock, source: dailyCursorSource(slowApi.url, 1, { lake: { part_size_mb: partSizeMb, parquet: true } }) };
    return { storage, runner: durableRunner(slowDeps, { deadline: () => pagedDeadline(slowApi, SLOW_PAGE_MS, INVOCATION_MS) }) };
  }

  it('lands a window whose parts fill slower than a fifth of an invocation, stopping each slice in time', async () => {
    const { storage, runner: slowRunner } = await slowSetUp(0.0105);
    const from = slowApi.requests.length;
    const execution = await slowRunner.run({ payload: { source: 'testapi', window: DAY } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getResult()!.streams).toMatchObject([{ stream: 'items', status: 'committed', records: SLOW_PAGES, pages: SLOW_PAGES }]);
    const slices = execution.getOperations().filter((o) => / slice \d+$/.test(o.getName() ?? ''));
    const paused = slices.map((o) => o.getStepDetails()?.result as SliceStep | undefined).filter((step) => step?.kind === 'paused');
    // Each slice stopped at a part boundary before its deadline, and learnt how long a part takes.
    for (const step of paused) expect(step.pages * SLOW_PAGE_MS).toBeLessThan(INVOCATION_MS - 2_000);
    expect(paused.at(-1)!.checkpoint.longestPartMs).toBeGreaterThan(0.2 * INVOCATION_MS);
    // No slice ran into its deadline: each page was fetched at most twice.
    const fetched = new Map<string, number>();
    for (const request of slowApi.requests.slice(from)) {
      const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? 'first';
      fetched.set(cursor, (fetched.get(cursor) ?? 0) + 1);
    }
    expect(Math.max(...fetched.values())).toBeLessThanOrEqual(2);
    const snapshot = await snapshotStream(storage, 'testapi', 'items', { audit: true });
    expect(snapshot.committed[0]!.manifest.totals.records).toBe(SLOW_PAGES);
    expect(snapshot.orphanParts).toEqual([]);
  }, 300_000);

  it('fails the window at once, saying what to change, when a part cannot fill within an invocation', async () => {
    // The whole window is one part of 400 s of paging: no invocation of 120 s reaches its end.
    const { storage, runner: slowRunner } = await slowSetUp(1);
    const from = slowApi.requests.length;
    const execution = await slowRunner.run({ payload: { source: 'testapi', window: DAY } });
    expect(execution.getStatus()).toBe('FAILED');
    const message = execution.getError().errorMessage ?? '';
    expect(message).toMatch(/reached no part boundary/);
    expect(message).toMatch(/raise the function's timeout, or lower lake\.part_size_mb \(now 1\)/);
    // One try: the slice is not run again from the same checkpoint to the same end.
    expect(slowApi.requests.length - from).toBeLessThanOrEqual(INVOCATION_MS / SLOW_PAGE_MS);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
  }, 300_000);
});
