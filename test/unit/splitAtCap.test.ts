import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { splitAtCap, splitInHalves } from '../../functions/engine/splitAtCap.js';
import { ConfigError, PaginationError } from '../../functions/errors.js';
import type { TimeWindow } from '../../functions/window/TimeWindow.js';

const T0 = Date.parse('2024-03-01T00:00:00Z');
const w = (startS: number, endS: number): TimeWindow => ({ start: new Date(T0 + startS * 1000), end: new Date(T0 + endS * 1000) });
const seconds = (part: TimeWindow) => [(part.start.getTime() - T0) / 1000, (part.end.getTime() - T0) / 1000];

describe('splitInHalves', () => {
  it.each([
    [
      w(0, 3600),
      1000,
      [
        [0, 1800],
        [1800, 3600],
      ],
    ],
    [
      w(0, 3),
      1000,
      [
        [0, 1],
        [1, 3],
      ],
    ],
    [w(0, 1), 1000, undefined],
    [
      w(0, 120),
      60_000,
      [
        [0, 60],
        [60, 120],
      ],
    ],
    [w(0, 119), 60_000, undefined],
  ])('splits %j (min span %d ms) into %j', (part, minSpanMs, expected) => {
    expect(splitInHalves(part, minSpanMs)?.map(seconds)).toEqual(expected);
  });
});

/** A search over results at the given seconds: each part's one page holds its results and their total. */
function search(at: number[], cap: number) {
  const asked: number[][] = [];
  let open = 0;
  const pagesOf = async function* (part: TimeWindow) {
    await Promise.resolve();
    asked.push(seconds(part));
    open++;
    try {
      const inPart = at.filter((s) => s >= seconds(part)[0]! && s < seconds(part)[1]!);
      yield { total: inPart.length, results: inPart.slice(0, cap) };
    } finally {
      open--;
    }
  };
  return { asked, pagesOf, open: () => open };
}

const collect = async <T>(pages: AsyncIterable<T>) => {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
};

describe('splitAtCap', () => {
  it('pages a window within the cap once, as it is', async () => {
    const api = search([1, 2, 3], 5);
    const pages = await collect(splitAtCap(w(0, 60), { limit: 5, minSpanMs: 1000 }, api.pagesOf, (p) => ({ total: p.total, expression: 'total', request: 'POST x' })));
    expect(pages.flatMap((p) => p.results)).toEqual([1, 2, 3]);
    expect(api.asked).toEqual([[0, 60]]);
  });

  it('halves parts over the cap until each fits, yielding every result once in time order', async () => {
    const at = [0, 1, 2, 3, 10, 11, 40, 41, 42, 59];
    const api = search(at, 3);
    const pages = await collect(splitAtCap(w(0, 60), { limit: 3, minSpanMs: 1000 }, api.pagesOf, (p) => ({ total: p.total, expression: 'total', request: 'POST x' })));
    expect(pages.flatMap((p) => p.results)).toEqual(at);
    expect(api.asked).toEqual([
      [0, 60],
      [0, 30],
      [0, 15],
      [0, 7],
      [0, 3],
      [3, 7],
      [7, 15],
      [15, 30],
      [30, 60],
      [30, 45],
      [45, 60],
    ]);
    expect(api.open()).toBe(0);
  });

  it('fails if a part of the minimum span still has more results than the cap, landing nothing of it', async () => {
    const api = search([5, 5, 5, 5], 3);
    const pages = splitAtCap(w(0, 60), { limit: 3, minSpanMs: 1000 }, api.pagesOf, (p) => ({ total: p.total, expression: 'total', request: 'POST https://api.test/search' }));
    await expect(collect(pages)).rejects.toThrow(
      new PaginationError(
        '[2024-03-01T00:00:05Z, 2024-03-01T00:00:06Z) (1s) has 4 results, more than max_results 3, and cannot be split below 1s (max_results.min_span): the search would return only the first 3, so nothing of the window is landed',
        'POST https://api.test/search',
      ),
    );
    expect(api.open()).toBe(0);
  });

  it.each([[undefined], ['12'], [-1], [1.5]])('fails if the total is %j, not a count', async (total) => {
    const pages = splitAtCap(w(0, 60), { limit: 3, minSpanMs: 1000 }, search([1], 3).pagesOf, () => ({ total, expression: 'total', request: 'POST x' }));
    await expect(collect(pages)).rejects.toThrow(/^max_results: total "total" of the first page is .*, expected a count of results \(POST x\)$/);
  });
});

describe('max_results in a source', () => {
  const stream = (extra: Record<string, unknown>) => ({
    name: 'contacts',
    path: '/search',
    method: 'POST',
    body: { from: '{window.start_epoch}000', to: '{window.end_epoch}000' },
    pagination: { type: 'cursor', cursor: 'paging.next.after', param: 'after', in: 'body' },
    ...extra,
  });
  const problems = (extra: Record<string, unknown>): string[] => {
    try {
      parseSource(JSON.stringify({ name: 'h', schedule: 'rate(1 hour)', base_url: 'https://api.test', streams: [stream(extra)] }), 'h.yaml');
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
      throw error;
    }
  };

  it('takes a limit with a total, and normalises a bare number', () => {
    expect(problems({ max_results: { limit: 10000, total: 'total' } })).toEqual([]);
    const source = parseSource(
      JSON.stringify({
        name: 'h',
        schedule: 'rate(1 hour)',
        base_url: 'https://api.test',
        streams: [stream({ max_results: 1000, pagination: { type: 'offset', limit: 100, total_records: 'total_count' } })],
      }),
      'h.yaml',
    );
    expect(source.streams[0]!.max_results).toEqual({ limit: 1000, min_span: '1s' });
  });

  it.each([
    ['no total to read', { max_results: 10000 }, /^streams\[0\]\.max_results: needs the total number of results the first page reports/],
    ['a min_span that is not whole seconds', { max_results: { limit: 10, total: 'total', min_span: '500ms' } }, /^streams\[0\]\.max_results\.min_span: "500ms" is not a duration of whole seconds/],
    [
      'a request without window bounds',
      { body: { q: 'x' }, max_results: { limit: 10, total: 'total' } },
      /^streams\[0\]\.max_results: splitting a window needs its bounds in the request .*; the request has no window placeholder$/,
    ],
    ['only date placeholders', { body: { from: '{window.start_date}' }, max_results: { limit: 10, total: 'total' } }, /the request has only \{window\.start_date\}$/],
  ])('fails on %s', (_what, extra, message) => {
    const found = problems(extra);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});
