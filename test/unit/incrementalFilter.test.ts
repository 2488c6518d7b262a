import { describe, expect, it } from 'vitest';
import type { IncrementalConfig } from '../../functions/config/sourceSchema.js';
import { RecordFieldError } from '../../functions/errors.js';
import { IncrementalFilter } from '../../functions/engine/IncrementalFilter.js';
import { parsePage } from '../../functions/body/RecordParser.js';
import { RecordBatch } from '../../functions/body/RecordBatch.js';

const window = { start: new Date('2024-01-01T10:00:00Z'), end: new Date('2024-01-01T11:00:00Z') };
const origin = (index = 0) => ({ label: `page ${index + 1}`, request: 'GET https://api.test/x' });

/** The batches of a page whose records arrive in several batches (as chunks of a streamed body do). */
function page(records: unknown[][], _index = 0) {
  const batches = records.map((chunk) => parsePage(Buffer.from(JSON.stringify(chunk)), { records: '@' }).records);
  return batches;
}
const texts = (batches: readonly RecordBatch[]) => batches.flatMap((b) => Array.from({ length: b.count }, (_, i) => b.text(i)));
const filter = (order: IncrementalConfig['order'], cursor_field = 'at') => new IncrementalFilter({ cursor_field, order }, window);
const r = (id: number, at: unknown) => ({ id, at });

describe('IncrementalFilter', () => {
  it('keeps the records in [start, end) as slices of the original bytes, counting the rest', () => {
    const p = page([
      [r(1, '2024-01-01T09:59:59Z'), r(2, '2024-01-01T10:00:00Z'), r(3, '2024-01-01T10:30:00.5+00:00')],
      [r(4, 1704106799), r(5, '2024-01-01T11:00:00Z'), r(6, '2024-01-01T10:59:59.999Z')],
    ]);
    const selected = filter('none').select(p, origin());
    expect(texts(selected.batches)).toEqual([
      '{"id":2,"at":"2024-01-01T10:00:00Z"}',
      '{"id":3,"at":"2024-01-01T10:30:00.5+00:00"}',
      '{"id":4,"at":1704106799}',
      '{"id":6,"at":"2024-01-01T10:59:59.999Z"}',
    ]);
    expect(selected).toMatchObject({ kept: 4, filtered: 2, pastWindow: false, offsets: [1, 3, 5] });
    // Views of the page's buffers, not copies.
    expect(selected.batches[0]!.source).toBe(p[0]!.source);
  });

  it('says paging may stop at the first record at or after the end (asc) or before the start (desc)', () => {
    expect(filter('asc').select(page([[r(1, '2024-01-01T10:10:00Z'), r(2, '2024-01-01T10:50:00Z')]]), origin()).pastWindow).toBe(false);
    expect(filter('asc').select(page([[r(1, '2024-01-01T10:50:00Z'), r(2, '2024-01-01T11:00:00Z')]]), origin()).pastWindow).toBe(true);
    expect(filter('desc').select(page([[r(1, '2024-01-01T10:50:00Z'), r(2, '2024-01-01T10:00:00Z')]]), origin()).pastWindow).toBe(false);
    expect(filter('desc').select(page([[r(1, '2024-01-01T10:50:00Z'), r(2, '2024-01-01T09:59:59Z')]]), origin()).pastWindow).toBe(true);
    expect(filter('none').select(page([[r(1, '2024-01-01T12:00:00Z')]]), origin()).pastWindow).toBe(false);
  });

  it('reads nested and JMESPath cursor fields, and exact big numbers', () => {
    const nested = new IncrementalFilter({ cursor_field: 'meta.updated', order: 'none' }, window);
    expect(nested.select(page([[{ meta: { updated: '2024-01-01T10:00:00Z' } }]]), origin()).kept).toBe(1);
    const expression = new IncrementalFilter({ cursor_field: 'times[-1]', order: 'none' }, window);
    expect(expression.select(page([[{ times: ['2020-01-01', '2024-01-01T10:05:00Z'] }]]), origin()).kept).toBe(1);
    // A float would round 10:59:59.999 and a bit up to 11:00:00, out of the window: the exact text keeps it in.
    const exact = parsePage(Buffer.from('[{"at":1704106799999.999999999},{"at":"1704106799.9999999999"}]'), { records: '@' }).records;
    expect(filter('none').select([exact], origin()).kept).toBe(2);
  });

  it('fails on a record out of the declared order within a page, naming both records', () => {
    const f = filter('asc');
    expect(() => f.select(page([[r(1, '2024-01-01T10:10:00Z')], [r(2, '2024-01-01T10:05:00Z')]], 2), origin(2))).toThrow(
      new RecordFieldError(
        'page 3: record 2 has 2024-01-01T10:05:00.000Z after record 1\'s 2024-01-01T10:10:00.000Z, so the API does not return records in ascending order of incremental.cursor_field "at"; order: asc stops paging early, which on another order could lose records: fix the request\'s sort or set order: none',
        'GET https://api.test/x',
      ),
    );
  });

  it('fails on a page that starts out of order with the page before', () => {
    const f = filter('desc');
    f.follow(f.select(page([[r(1, '2024-01-01T10:30:00Z'), r(2, '2024-01-01T10:20:00Z')]]), origin()), origin());
    const second = f.select(page([[r(3, '2024-01-01T10:25:00Z')]], 1), origin(1));
    expect(() => f.follow(second, origin(1))).toThrow(
      /^page 2: its record 1 has 2024-01-01T10:25:00\.000Z after 2024-01-01T10:20:00\.000Z, the last of page 1, so the API does not return records in descending order/,
    );
  });

  it('accepts equal cursors in either order, and any order with order: none', () => {
    const same = page([[r(1, '2024-01-01T10:10:00Z'), r(2, '2024-01-01T10:10:00Z')]]);
    expect(filter('asc').select(same, origin()).kept).toBe(2);
    expect(filter('desc').select(same, origin()).kept).toBe(2);
    expect(filter('none').select(page([[r(1, '2024-01-01T10:10:00Z'), r(2, '2024-01-01T10:05:00Z')]]), origin()).kept).toBe(2);
  });

  it('fails on a missing cursor, naming the page, the record and the field', () => {
    expect(() => filter('none').select(page([[r(1, '2024-01-01T10:10:00Z')], [{ id: 2 }]], 4), origin(4))).toThrow(
      /^page 5, record 2: incremental\.cursor_field "at" is missing \(or null\); expected ISO 8601 text or an epoch number in s, ms, us or ns/,
    );
  });

  it.each<[string, unknown, Partial<IncrementalConfig>, string]>([
    [
      'epoch seconds past 2200',
      9_000_000_000,
      {},
      'is 9000000000, read as epoch seconds by its magnitude 2255-03-14T16:00:00.000Z, outside 1970–2200 where a cursor must lie; if the API sends another unit, declare it with incremental.unit (s, ms, us or ns)',
    ],
    ['a negative epoch', -1, {}, 'is -1, read as epoch seconds by its magnitude 1969-12-31T23:59:59.000Z, outside 1970–2200'],
    ['ISO text before 1970', '0001-01-01T00:00:00Z', {}, 'is "0001-01-01T00:00:00Z", read as ISO 8601 0001-01-01T00:00:00.000Z, outside 1970–2200 where a cursor must lie (a record'],
    ['microseconds declared as seconds', 1709287200000000, { unit: 's' }, 'is 1709287200000000; expected ISO 8601 text or an epoch number in s (incremental.unit)'],
    [
      'a cursor past 2200 in the declared unit',
      9_000_000_000,
      { unit: 's' },
      'is 9000000000, read as epoch seconds 2255-03-14T16:00:00.000Z, outside 1970–2200 where a cursor must lie; check incremental.unit',
    ],
    ['nanoseconds past 1e20', '170928720000000000000', {}, 'is "170928720000000000000"; expected ISO 8601 text or an epoch number in s, ms, us or ns'],
  ])('fails on %s, naming the page, the record, the field and the value, instead of filtering it', (_what, at, config, message) => {
    const f = new IncrementalFilter({ cursor_field: 'at', order: 'none', ...config }, window);
    expect(() => f.select(page([[r(1, '2024-01-01T10:10:00Z'), r(2, at)]], 2), origin(2))).toThrow(`page 3, record 2: incremental.cursor_field "at" ${message}`);
  });

  it('names a cursor past 2^53 by its digits, as the API sent it', () => {
    const batch = parsePage(Buffer.from('[{"at":12345678901234567890123}]'), { records: '@' }).records;
    expect(() => filter('none').select([batch], origin())).toThrow('page 1, record 1: incremental.cursor_field "at" is 12345678901234567890123; expected');
  });

  it.each<[IncrementalConfig['unit'], unknown]>([
    [undefined, 1704103200000000],
    ['us', 1704103200000000],
    [undefined, '1704103200000000000'],
    ['ns', '1704103200000000000'],
    ['ms', 1704103200000],
    ['s', 1704103200],
    ['ms', 7_200_000], // 02:00 on 1970-01-01, seconds by magnitude
  ])('keeps a cursor in unit %s in its window (%j)', (unit, at) => {
    const w = typeof at === 'number' && at < 1e8 ? { start: new Date(0), end: new Date(3 * 3_600_000) } : window;
    const f = new IncrementalFilter({ cursor_field: 'at', order: 'none', ...(unit ? { unit } : {}) }, w);
    expect(f.select(page([[r(1, at)]]), origin()).kept).toBe(1);
  });

  it('selects an empty page as nothing', () => {
    expect(filter('asc').select(page([]), origin())).toEqual({ batches: [], offsets: [], kept: 0, filtered: 0, pastWindow: false });
  });
});
