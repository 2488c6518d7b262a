import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { IncrementalFilter } from '../../functions/engine/IncrementalFilter.js';
import { parsePage } from '../../functions/body/RecordParser.js';
import { compileConverter } from '../../functions/tables/compileConverter.js';
import { between, seededRandom } from '../support/seededRandom.js';
import { EPOCH_UNITS, isPlausibleInstant, parseTimestamp, PLAUSIBLE_INSTANTS, type EpochUnit } from '../../functions/window/parseTimestamp.js';

const ms = (iso: string) => Date.parse(iso);
/** 2024-03-01T10:00:00Z, the instant the epoch rows below stand for. */
const AT = ms('2024-03-01T10:00:00Z');

describe('parseTimestamp', () => {
  it.each<[unknown, string, string]>([
    ['2024-01-01T10:00:00Z', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01T10:00:00z', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01t10:00:00Z', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01T10:00:00.123456789Z', '2024-01-01T10:00:00.123Z', 'iso'],
    ['2024-01-01T10:59:59.9999999Z', '2024-01-01T10:59:59.999Z', 'iso'], // cut, not rounded into the next hour
    ['2024-01-01T12:00:00+02:00', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01T05:30:00-0430', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01T12:00:00+02', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01 10:00:00', '2024-01-01T10:00:00.000Z', 'iso'], // RFC 3339's space; no offset is UTC
    ['2024-01-01T10:00', '2024-01-01T10:00:00.000Z', 'iso'],
    ['2024-01-01T10:00:00,5Z', '2024-01-01T10:00:00.500Z', 'iso'],
    [' 2024-01-01 ', '2024-01-01T00:00:00.000Z', 'iso'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z', 'iso'],
    ['1950-06-01T00:00:00Z', '1950-06-01T00:00:00.000Z', 'iso'], // read; whether a cursor may hold it is isPlausibleInstant's call
    [1709287200, '2024-03-01T10:00:00.000Z', 's'],
    [1709287200.5, '2024-03-01T10:00:00.500Z', 's'],
    ['1709287200', '2024-03-01T10:00:00.000Z', 's'],
    ['1709287200.000100', '2024-03-01T10:00:00.000Z', 's'], // Slack's ts
    ['1704106799.9999999999', '2024-01-01T10:59:59.999Z', 's'], // digit by digit: a float would say 11:00:00
    ['1.7092872e9', '2024-03-01T10:00:00.000Z', 's'],
    [1709287200123, '2024-03-01T10:00:00.123Z', 'ms'],
    ['1709287200123', '2024-03-01T10:00:00.123Z', 'ms'],
    ['1704106799999.999999999', '2024-01-01T10:59:59.999Z', 'ms'],
    [1709287200123456, '2024-03-01T10:00:00.123Z', 'us'],
    ['1709287200123456', '2024-03-01T10:00:00.123Z', 'us'],
    [new LosslessNumber('1709287200123456789'), '2024-03-01T10:00:00.123Z', 'ns'],
    ['1709287200123456789', '2024-03-01T10:00:00.123Z', 'ns'],
    [1709287200123456800, '2024-03-01T10:00:00.123Z', 'ns'], // a float past 2^53, still nanoseconds
    [-1.5, '1969-12-31T23:59:58.500Z', 's'],
    ['-100000000.0001', '1966-10-31T14:13:19.999Z', 's'],
  ])('reads %j as %s (%s)', (value, iso, form) => {
    expect(parseTimestamp(value)).toEqual({ ms: ms(iso), form });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a missing value', undefined],
    ['a boolean', true],
    ['an object', { at: '2024-01-01' }],
    ['text', 'yesterday'],
    ['a date that does not exist', '2024-02-30T00:00:00Z'],
    ['February 29th of a common year', '2023-02-29'],
    ['24:00', '2024-01-01T24:00:00Z'],
    ['a compact date, which would read as 1970', '20240101'],
    ['epoch text of fewer than 9 digits', '12345678'],
    ['an offset beyond 23 hours', '2024-01-01T10:00:00+25:00'],
    ['an infinite number', Number.POSITIVE_INFINITY],
    ['an empty string', ''],
    ['a number of 21 digits, too large for nanoseconds', 100_000_000_000_000_000_000],
    ['digits of 21', '170928720012345678901'],
    ['hexadecimal', '0x65e1a7a0'],
  ])('refuses %s', (_what, value) => {
    expect(parseTimestamp(value)).toBeUndefined();
  });

  // The integer part's digits tell the unit: each row is the last value of a band and the first of the next.
  it.each<[number | string, EpochUnit | undefined]>([
    [99_999_999_999, 's'],
    [100_000_000_000, 'ms'],
    [99_999_999_999_999, 'ms'],
    [100_000_000_000_000, 'us'],
    ['99999999999999999', 'us'],
    ['100000000000000000', 'ns'],
    ['99999999999999999999', 'ns'],
    ['100000000000000000000', undefined],
  ])('tells the unit of %s by magnitude: %s', (value, unit) => {
    expect(parseTimestamp(value)?.form).toBe(unit);
  });

  // Every unit reads 1970–2200 right from 1973-03-03T09:46:40Z (1e11 ms), and 2200 lies below the next band.
  it.each(EPOCH_UNITS)('reads every instant from 1973-03-03T09:46:40Z to 2200 in %s by magnitude', (unit) => {
    const scale = { s: 1e-3, ms: 1n, us: 1_000n, ns: 1_000_000n }[unit];
    const from = unit === 's' ? 0 : 100_000_000_000;
    for (const at of [from, ms('1999-12-31T23:59:59Z'), AT, PLAUSIBLE_INSTANTS.until - 1000]) {
      const value = typeof scale === 'number' ? String(Math.floor(at * scale)) : String(BigInt(at) * scale);
      expect(parseTimestamp(value.length >= 9 ? value : Number(value))).toEqual({ ms: at, form: unit });
    }
  });

  it.each<[number | string, EpochUnit, string]>([
    [1709287200, 's', '2024-03-01T10:00:00.000Z'],
    [1709287200123, 'ms', '2024-03-01T10:00:00.123Z'],
    ['1709287200123456', 'us', '2024-03-01T10:00:00.123Z'],
    ['1709287200123456789', 'ns', '2024-03-01T10:00:00.123Z'],
    // The overlap: by magnitude these would be seconds (2024 AD, year 2224) or milliseconds.
    [1_000_000_000, 'ms', '1970-01-12T13:46:40.000Z'],
    [9_000_000_000, 'ms', '1970-04-15T04:00:00.000Z'],
    ['50000000000000', 'us', '1971-08-02T16:53:20.000Z'],
    ['20000000000000000', 'ns', '1970-08-20T11:33:20.000Z'],
    ['12345678', 's', '1970-05-23T21:21:18.000Z'], // with a unit, short epoch text is a number
    ['2024-03-01T10:00:00Z', 'ms', '2024-03-01T10:00:00.000Z'], // ISO text stays ISO
  ])('reads %j in the declared unit %s as %s', (value, unit, iso) => {
    expect(parseTimestamp(value, { unit })?.ms).toBe(ms(iso));
  });

  it('reads the overlap by magnitude as the documented coarser unit: past 2200 from 1970-03-26T00:08:38.4Z, a wrong 1970s–2200 instant before', () => {
    // 9e9 ms is 1970-04-15: read as seconds, year 2255.
    expect(isPlausibleInstant(parseTimestamp(9_000_000_000)!.ms)).toBe(false);
    expect(isPlausibleInstant(parseTimestamp('50000000000000')!.ms)).toBe(false); // µs of 1971, read as ms
    // 7,258,118,399 ms is 1970-03-26T00:08:38.399Z: read as seconds it is 2199-12-31T23:59:59Z, plausible but wrong.
    expect(parseTimestamp(7_258_118_399)).toEqual({ ms: PLAUSIBLE_INSTANTS.until - 1000, form: 's' });
  });

  it('reads a whole number below 2^53 as its digits read: the same instant and unit, any unit declared', () => {
    const random = seededRandom(7);
    const edges = [0, 1, 999, 1000, 1001, 99_999_999_999, 100_000_000_000, 99_999_999_999_999, 100_000_000_000_000, Number.MAX_SAFE_INTEGER, 1709287200999999, 7_258_118_399_999];
    const values = [...edges, ...Array.from({ length: 2000 }, () => Math.floor(random() * 10 ** between(random, 1, 15)))].flatMap((v) => [v, -v]);
    for (const unit of [undefined, ...EPOCH_UNITS]) {
      for (const value of values) expect(parseTimestamp(value, { unit }), `${value} in ${unit}`).toEqual(parseTimestamp(new LosslessNumber(String(value)), { unit }));
    }
  });

  it.each<[number, boolean]>([
    [-1, false],
    [0, true],
    [PLAUSIBLE_INSTANTS.until - 1, true],
    [PLAUSIBLE_INSTANTS.until, false],
  ])('counts %d as a plausible cursor instant: %s', (at, plausible) => {
    expect(isPlausibleInstant(at)).toBe(plausible);
    expect(PLAUSIBLE_INSTANTS.until).toBe(ms('2200-01-01T00:00:00Z'));
  });
});

describe('the incremental cursor and timestamp columns', () => {
  const timestamp = compileConverter({ kind: 'timestamp' });

  /** The window of one millisecond a cursor falls in, asked of an IncrementalFilter. */
  const keptIn = (value: unknown, at: number) => {
    const batch = parsePage(Buffer.from(`[${JSON.stringify({ at: value instanceof LosslessNumber ? '§' : value }).replace('"§"', String(value))}]`), { records: '@' }).records;
    const select = (start: number) =>
      new IncrementalFilter({ cursor_field: 'at', order: 'none' }, { start: new Date(start), end: new Date(start + 1) }).select([batch], { label: 'page 1', request: 'GET https://api.test/x' }).kept;
    return [select(at - 1), select(at), select(at + 1)];
  };

  // One row per form the two read; each must give one instant, the same in both.
  it.each<[unknown, string]>([
    ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T12:00:00.9999+02:00', '2024-03-01T10:00:00.999Z'],
    ['2024-03-01 10:00', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01', '2024-03-01T00:00:00.000Z'],
    [1709287200, '2024-03-01T10:00:00.000Z'],
    [1709287200.25, '2024-03-01T10:00:00.250Z'],
    ['1709287200.000100', '2024-03-01T10:00:00.000Z'],
    [1709287200123, '2024-03-01T10:00:00.123Z'],
    [1709287200000000, '2024-03-01T10:00:00.000Z'],
    [1709287200999999, '2024-03-01T10:00:00.999Z'],
    ['1709287200000000', '2024-03-01T10:00:00.000Z'],
    [new LosslessNumber('1709287200123456789'), '2024-03-01T10:00:00.123Z'],
    ['1709287200123456789', '2024-03-01T10:00:00.123Z'],
    ['1704106799999.999999999', '2024-01-01T10:59:59.999Z'],
  ])('agree that %j is %s', (value, iso) => {
    expect(timestamp(value)).toBe(ms(iso));
    expect(keptIn(value, ms(iso))).toEqual([0, 1, 0]);
  });
});
