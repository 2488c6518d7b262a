import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { describe, expect, it, vi } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import { countWindows, MAX_WINDOWS_PER_COMMAND, windowsFor } from '../../functions/engine/windowSelection.js';
import { InputError } from '../../functions/errors.js';
import { ingest } from '../../functions/ingest/ingest.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { describeMisalignment, formatSpan } from '../../functions/window/alignment.js';
import { countWindowsIn, splitIntoWindows, windowsIn } from '../../functions/window/TimeWindow.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { testSource } from '../support/sources.js';

const H = 3_600_000;
const d = (iso: string) => new Date(iso);

describe('windows of a range, generated lazily', () => {
  it('yields the first windows of a range to year 9999 without building the rest', () => {
    const generator = windowsIn(d('2024-01-01T00:00:00Z'), d('9999-12-31T00:00:00Z'), 60_000);
    expect([generator.next().value, generator.next().value]).toEqual([
      { start: d('2024-01-01T00:00:00Z'), end: d('2024-01-01T00:01:00Z') },
      { start: d('2024-01-01T00:01:00Z'), end: d('2024-01-01T00:02:00Z') },
    ]);
  });

  it('never yields a window that has not ended by completeBy', () => {
    const windows = [...windowsIn(d('2026-11-20T00:00:00Z'), d('9999-12-31T00:00:00Z'), H, d('2026-11-20T03:30:00Z'))];
    expect(windows.map((w) => w.end.toISOString())).toEqual(['2026-11-20T01:00:00.000Z', '2026-11-20T02:00:00.000Z', '2026-11-20T03:00:00.000Z']);
  });

  it.each([
    ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', H, undefined],
    ['2024-01-01T00:30:00Z', '2024-01-01T02:10:00Z', H, undefined],
    ['2024-01-01T00:30:00Z', '2024-01-03T02:10:00Z', 86_400_000, undefined],
    ['2024-01-01T00:30:00Z', '2024-01-03T02:10:00Z', 15 * 60_000, '2024-01-02T07:59:59Z'],
    ['2024-01-01T00:30:00Z', '2024-01-03T02:10:00Z', H, '2023-12-01T00:00:00Z'],
  ])('counts [%s, %s) in %i ms windows (complete by %s) as many as it yields', (from, to, size, by) => {
    const completeBy = by === undefined ? undefined : d(by);
    expect(countWindowsIn(d(from), d(to), size, completeBy)).toBe([...windowsIn(d(from), d(to), size, completeBy)].length);
  });

  it('keeps splitIntoWindows as the eager form', () => {
    expect(splitIntoWindows(d('2024-01-01T00:30:00Z'), d('2024-01-01T02:10:00Z'), H)).toHaveLength(3);
  });
});

describe('the window cap of one command', () => {
  const source = testSource('http://127.0.0.1:9', { path: '/items', window: '1m' });
  const range = (from: string, to: string, completeBy = d('2026-11-25T12:00:00Z')) => ({ kind: 'range', from: d(from), to: d(to), completeBy }) as const;

  it('counts a far-future range only up to now, by arithmetic', () => {
    expect(countWindows(source, source.streams, range('2026-11-25T00:00:00Z', '9999-12-31T00:00:00Z'))).toBe(12 * 60);
  });

  it(`fails past ${MAX_WINDOWS_PER_COMMAND.toLocaleString('en-US')} windows, saying how many it would have been, before any request`, async () => {
    const selection = range('1970-01-01T00:00:00Z', '9999-12-31T00:00:00Z');
    const minutes = Date.parse('2026-11-25T12:00:00Z') / 60_000;
    const message = `the range [1970-01-01T00:00:00Z, 9999-12-31T00:00:00Z) holds ${minutes.toLocaleString('en-US')} complete windows (${minutes.toLocaleString('en-US')} 1m windows of stream "items"), more than the 250,000 one command may run: narrow --from/--to, or run the range in parts`;
    expect(() => windowsFor(source, source.streams[0]!, selection)).toThrow(message);
    const fetch = vi.fn<typeof globalThis.fetch>();
    const client = await createSourceClient(source, new EnvSecretProvider({}), { fetch });
    const error = await runSource({ source, selection, client, storage: new FsLakeStorage('/nonexistent/never-written') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(message);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('accepts a leap year of 5-minute windows of two streams', () => {
    const two = { ...source, streams: [source.streams[0]!, { ...source.streams[0]!, name: 'more' }].map((s) => ({ ...s, window: '5m' })) } as typeof source;
    expect(countWindows(two, two.streams, range('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'))).toBe(2 * 105_408);
  });

  it('accepts exactly the cap', () => {
    const from = '2026-01-01T00:00:00Z';
    const to = new Date(Date.parse(from) + MAX_WINDOWS_PER_COMMAND * 60_000).toISOString();
    expect(countWindows(source, source.streams, range(from, to))).toBe(MAX_WINDOWS_PER_COMMAND);
  });
});

describe('describeMisalignment', () => {
  const w = (start: string, end: string) => ({ start: d(start), end: d(end) });
  it.each([
    [w('2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z'), H, undefined],
    [w('2024-01-01T09:00:00.500Z', '2024-01-01T10:00:00.500Z'), H, 'starts 500 ms after a 1h boundary'],
    [w('2024-01-01T08:59:59.500Z', '2024-01-01T09:59:59.500Z'), H, 'starts 500 ms before a 1h boundary'],
    [w('2024-01-01T09:30:00Z', '2024-01-01T10:30:00Z'), H, 'starts 30m after a 1h boundary'],
    [w('2024-01-01T09:00:00Z', '2024-01-01T10:00:00.500Z'), H, 'lasts 1h 500 ms, not 1h'],
    [w('2024-01-01T09:10:00Z', '2024-01-01T09:40:00Z'), H, 'starts 10m after a 1h boundary and lasts 30m, not 1h'],
    [w('2024-01-01T06:00:00Z', '2024-01-02T06:00:00Z'), 86_400_000, 'starts 6h after a 1d boundary'],
  ])('%j in %i ms windows: %s', (window, size, text) => expect(describeMisalignment(window, size)).toBe(text));

  it.each([
    [500, '500 ms'],
    [61_250, '1m 1s 250 ms'],
    [90 * 60_000, '1h 30m'],
    [86_400_000 + 1, '1d 1 ms'],
  ])('formatSpan(%i) = %s', (ms, text) => expect(formatSpan(ms)).toBe(text));
});

describe('a Lambda event with a window off the grid', () => {
  it('is rejected saying by how much', async () => {
    const source = testSource('http://127.0.0.1:9', { path: '/items' });
    const logger = new Logger({ logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'apilake-test', serviceName: 'test' });
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    const summary = await ingest({ source: 'testapi', window: { start: '2024-01-01T09:00:00.500Z', end: '2024-01-01T10:00:00.500Z' } }, lambdaContext(), {
      source,
      storage: new FsLakeStorage('/nonexistent/never-written'),
      secrets: new EnvSecretProvider({}),
      persistenceStore: {} as BasePersistenceLayer,
      logger,
      metrics,
      deadlineMarginMs: 1_000,
    });
    expect(summary).toEqual({
      source: 'testapi',
      trigger: 'rejected',
      streams: [],
      error:
        'invalid event: window [2024-01-01T09:00:00.500Z, 2024-01-01T10:00:00.500Z) is not one 1h window of stream "items": it starts 500 ms after a 1h boundary (windows start at multiples of 1h since 1970-01-01T00:00Z)',
    });
  });
});
