import { describe, expect, it } from 'vitest';
import type { IncrementalConfig } from '../../functions/config/sourceSchema.js';
import { RecordFieldError } from '../../functions/errors.js';
import type { PageContext } from '../../functions/pagination/PaginationStrategy.js';
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
    const p = page([[r(1, '2024-01-01T09:59:59Z'), r(2, '2024-01-01T10:00:00Z'), r(3, '2024-01-01T10:30:00.5+00:00')], [r(4, 1704106799), r(5, '2024-01-01T11:00:00Z'), r(6, '2024-01-01T10:59:59.999Z')]]);
    const selected = filter('none').select(p, origin());
    expect(texts(selected.batches)).toEqual(['{"id":2,"at":"2024-01-01T10:00:00Z"}', '{"id":3,"at":"2024-01-01T10:30:00.5+00:00"}', '{"id":4,"at":1704106799}', '{"id":6,"at":"2024-01-01T10:59:59.999Z"}']);
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
      new RecordFieldError('page 3: record 2 has 2024-01-01T10:05:00.000Z after record 1\'s 2024-01-01T10:10:00.000Z, so the API does not return records in ascending order of incremental.cursor_field "at"; order: asc stops paging early, which on another order could lose records: fix the request\'s sort or set order: none', 'GET https://api.test/x'),
    );
  });

  it('fails on a page that starts out of order with the page before', () => {
    const f = filter('desc');
    f.follow(f.select(page([[r(1, '2024-01-01T10:30:00Z'), r(2, '2024-01-01T10:20:00Z')]]), origin()), origin());
    const second = f.select(page([[r(3, '2024-01-01T10:25:00Z')]], 1), origin(1));
    expect(() => f.follow(second, origin(1))).toThrow(/^page 2: its record 1 has 2024-01-01T10:25:00\.000Z after 2024-01-01T10:20:00\.000Z, the last of page 1, so the API does not return records in descending order/);
  });

  it('accepts equal cursors in either order, and any order with order: none', () => {
    const same = page([[r(1, '2024-01-01T10:10:00Z'), r(2, '2024-01-01T10:10:00Z')]]);
    expect(filter('asc').select(same, origin()).kept).toBe(2);
    expect(filter('desc').select(same, origin()).kept).toBe(2);
    expect(filter('none').select(page([[r(1, '2024-01-01T10:10:00Z'), r(2, '2024-01-01T10:05:00Z')]]), origin()).kept).toBe(2);
  });

  it('fails on a missing cursor, naming the page, the record and the field', () => {
    expect(() => filter('none').select(page([[r(1, '2024-01-01T10:10:00Z')], [{ id: 2 }]], 4), origin(4))).toThrow(
      /^page 5, record 2: incremental\.cursor_field "at" is missing \(or null\); expected ISO 8601 text or epoch seconds\/milliseconds/,
    );
  });

  it('selects an empty page as nothing', () => {
    expect(filter('asc').select(page([]), origin())).toEqual({ batches: [], offsets: [], kept: 0, filtered: 0, pastWindow: false });
  });
});
