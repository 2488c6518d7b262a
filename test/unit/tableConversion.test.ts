import { LosslessNumber } from 'lossless-json';
import { search } from '@aws-lambda-powertools/jmespath';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../functions/body/preciseJson.js';
import { ColumnExtractor } from '../../functions/tables/ColumnExtractor.js';
import { formatColumnType, parseColumnType, type ColumnType } from '../../functions/config/columnType.js';
import { compileConverter, INVALID } from '../../functions/tables/compileConverter.js';
import { compilePath } from '../../functions/expressions/compilePath.js';
import { decimalParts, floorDiv, toUnscaled } from '../../functions/commons/decimalText.js';
import { daysFromCivil, parseEpoch, parseIsoTimestamp } from '../../functions/window/parseTimestamp.js';
import type { TypedColumn } from '../../functions/tables/tableSpec.js';

function type(text: string): ColumnType {
  const parsed = parseColumnType(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.type;
}

const ms = (iso: string) => Date.parse(iso);

describe('parseColumnType', () => {
  it.each([
    ['string', 'string'],
    ['BIGINT', 'bigint'],
    [' decimal( 12 , 2 ) ', 'decimal(12,2)'],
    ['array<string>', 'array<string>'],
    ['array< array<bigint> >', 'array<array<bigint>>'],
    ['array<decimal(38,0)>', 'array<decimal(38,0)>'],
    ['json', 'json'],
    ['timestamp', 'timestamp'],
    ['date', 'date'],
  ])('reads %j as %s', (text, canonical) => {
    expect(formatColumnType(type(text))).toBe(canonical);
  });

  it.each([
    ['int', 'unknown type name "int"'],
    ['decimal', 'decimal needs (precision, scale)'],
    ['decimal(39,2)', 'outside 1..38'],
    ['decimal(4,5)', 'scale 5 is larger than its precision 4'],
    ['array<>', 'expected a type name'],
    ['array<string', 'expected ">"'],
    ['array<string>>', 'unexpected ">"'],
    ['array<array<array<array<array<bigint>>>>>', 'nest at most 4 deep'],
    ['', 'expected a type name'],
  ])('fails on %j', (text, message) => {
    const parsed = parseColumnType(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});

describe('parseIsoTimestamp', () => {
  it.each([
    ['2024-01-31T12:34:56Z', ms('2024-01-31T12:34:56Z')],
    ['2024-01-31T12:34:56.789Z', ms('2024-01-31T12:34:56.789Z')],
    ['2024-01-31T12:34:56.789999+02:00', ms('2024-01-31T10:34:56.789Z')],
    ['2024-01-31T12:34:56-0530', ms('2024-01-31T18:04:56Z')],
    ['2024-01-31T12:34:56+01', ms('2024-01-31T11:34:56Z')],
    ['2024-01-31 12:34:56', ms('2024-01-31T12:34:56Z')],
    ['2024-01-31T12:34', ms('2024-01-31T12:34:00Z')],
    ['2024-02-29', ms('2024-02-29T00:00:00Z')],
    ['0001-01-01T00:00:00Z', -62_135_596_800_000],
    ['1969-12-31T23:59:59.999Z', -1],
  ])('reads %s', (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-01-31T24:00:00Z', '2024-01-31T12:60:00Z', '2024-01-31T12:00:00+25:00', 'Jan 5 2024', '2024-1-5', '1700000000', '0000-01-01', ''])('rejects %j', (text) => {
    expect(parseIsoTimestamp(text)).toBeUndefined();
  });

  it('agrees with the calendar on every first of the month from 1600 to 2400', () => {
    for (let year = 1600; year <= 2400; year += 7) {
      for (let month = 1; month <= 12; month++) {
        expect(daysFromCivil(year, month, 1) * 86_400_000).toBe(Date.UTC(year, month - 1, 1));
      }
    }
  });
});

describe('parseEpoch', () => {
  it.each<[number | string, number]>([
    [1_700_000_000, 1_700_000_000_000],
    [1_700_000_000.5, 1_700_000_000_500],
    ['1700000000.1239', 1_700_000_000_123],
    [1_700_000_000_123, 1_700_000_000_123],
    ['1700000000123456', 1_700_000_000_123],
    ['1700000000123456789', 1_700_000_000_123],
    [99_999_999_999, 99_999_999_999_000],
    [100_000_000_000, 100_000_000_000],
    [0, 0],
    [-1.5, -1500],
    ['-0.0001', -1],
    ['-1000001', -1_000_001_000],
    [1.005, 1005],
    ['1.7e9', 1_700_000_000_000],
  ])('reads %j as %d ms', (value, expected) => {
    expect(parseEpoch(value)).toBe(expected);
  });

  it.each<number | string>([Number.NaN, Infinity, '12a', '', '123456789012345678901', '1e400', 1e16 * 1e6])('rejects %j', (value) => {
    expect(parseEpoch(value)).toBeUndefined();
  });
});

describe('decimal text', () => {
  it.each([
    ['12.345', 2, 1235n],
    ['-12.345', 2, -1235n],
    ['12.344', 2, 1234n],
    ['1.5e3', 0, 1500n],
    ['1E-2', 2, 1n],
    ['0.005', 2, 1n],
    ['-0.004', 2, 0n],
    ['+7', 1, 70n],
    ['.5', 0, 1n],
    ['123456789012345678901234567890.12', 2, 12345678901234567890123456789012n],
  ])('scales %s to %i places as %s', (text, scale, expected) => {
    expect(toUnscaled(decimalParts(text)!, scale)).toBe(expected);
  });

  it.each(['', '-', '.', '1,5', '0x10', 'NaN', 'Infinity', '1e', ' 1', '1e401'])('rejects %j', (text) => {
    expect(decimalParts(text)).toBeUndefined();
  });

  it('floors toward minus infinity', () => {
    expect([floorDiv(-7n, 2n), floorDiv(7n, 2n), floorDiv(-8n, 2n), floorDiv(7n, -2n)]).toEqual([-4n, 3n, -4n, -4n]);
  });
});

describe('compileConverter', () => {
  const big = new LosslessNumber('12345678901234567890');
  it.each<[string, unknown, unknown]>([
    ['string', 'a', 'a'],
    ['string', 42, '42'],
    ['string', true, 'true'],
    ['string', big, '12345678901234567890'],
    ['string', { a: 1 }, INVALID],
    ['string', [1], INVALID],
    ['bigint', 42, 42n],
    ['bigint', -42, -42n],
    ['bigint', '9007199254740993', 9_007_199_254_740_993n],
    ['bigint', new LosslessNumber('9223372036854775807'), 9_223_372_036_854_775_807n],
    ['bigint', '9223372036854775808', INVALID],
    ['bigint', 1.5, INVALID],
    ['bigint', '12.0', 12n],
    ['bigint', '1e3', 1000n],
    ['bigint', 'abc', INVALID],
    ['bigint', true, INVALID],
    ['double', 1.25, 1.25],
    ['double', '1.25', 1.25],
    ['double', big, 12345678901234567000],
    ['double', 'NaN', INVALID],
    ['double', '', INVALID],
    ['double', false, INVALID],
    ['boolean', true, true],
    ['boolean', 'false', false],
    ['boolean', 1, INVALID],
    ['boolean', 'yes', INVALID],
    ['timestamp', '2024-01-01T00:00:00Z', ms('2024-01-01T00:00:00Z')],
    ['timestamp', 1_704_067_200, ms('2024-01-01T00:00:00Z')],
    ['timestamp', 1_704_067_200_000, ms('2024-01-01T00:00:00Z')],
    ['timestamp', '1704067200', ms('2024-01-01T00:00:00Z')],
    ['timestamp', 'yesterday', INVALID],
    ['timestamp', {}, INVALID],
    ['date', '2024-03-01', 19_783],
    ['date', '2024-03-01T23:30:00-01:00', 19_784],
    ['date', 1_709_251_200, 19_783],
    ['date', 'March 1', INVALID],
    ['decimal(5,2)', 123.456, 12_346n],
    ['decimal(5,2)', '-999.994', -99_999n],
    ['decimal(5,2)', 999.995, INVALID],
    ['decimal(38,0)', big, 12_345_678_901_234_567_890n],
    ['decimal(5,2)', 'x', INVALID],
    ['json', { a: [1, 'x'] }, '{"a":[1,"x"]}'],
    ['json', 'text', '"text"'],
    ['json', { id: big }, '{"id":12345678901234567890}'],
    ['array<string>', ['a', null, 'b'], ['a', null, 'b']],
    ['array<bigint>', [1, '2'], [1n, 2n]],
    ['array<bigint>', [1, 'two'], INVALID],
    ['array<bigint>', 'not an array', INVALID],
    ['array<array<bigint>>', [[1], [], null], [[1n], [], null]],
  ])('converts to %s: %j', (typeText, value, expected) => {
    expect(compileConverter(type(typeText))(value)).toEqual(expected);
  });

  it.each(['string', 'bigint', 'json', 'array<string>'])('maps null and missing to NULL for %s, not a failure', (typeText) => {
    const convert = compileConverter(type(typeText));
    expect([convert(null), convert(undefined)]).toEqual([null, null]);
  });
});

describe('compilePath', () => {
  const record = { id: 1, user: { login: 'ada', tags: ['x'] }, labels: [{ name: 'bug' }, { name: 'p1' }], n: null };
  it.each<[string, unknown]>([
    ['id', 1],
    ['user.login', 'ada'],
    ['user.missing', null],
    ['id.deeper', null],
    ['n.x', null],
    ['constructor', null],
    ['user.tags', ['x']],
    ['labels[].name', ['bug', 'p1']],
    ['labels[0].name', 'bug'],
    ['length(labels)', 2],
  ])('evaluates %s like JMESPath', (expression, expected) => {
    expect(compilePath(expression)(record)).toEqual(expected);
  });
});

describe('compilePath fast paths', () => {
  const records: unknown[] = [
    { a: { b: [{ c: 1 }, { c: null }, {}, { c: { d: 2 } }, 5, null, [1]] } },
    { a: { b: { c: 1 } } },
    { a: { b: [] } },
    { a: [{ b: [{ c: 1 }] }] },
    { a: null },
    { a: 'text' },
    [],
    null,
    'x',
    { a: { b: [{ c: [1, 2] }, { c: false }, { c: 0 }, { c: '' }] } },
  ];
  it.each(['a', 'a.b', 'a.b.c', 'a.b[].c', 'a.b[].c.d', 'a[].b', 'a.b[].x'])('agrees with the JMESPath interpreter on %s', (expression) => {
    for (const record of records) expect(compilePath(expression)(record)).toEqual(search(expression, record as never));
  });
});

describe('ColumnExtractor', () => {
  const column = (name: string, written: string, path = name): TypedColumn => ({ name, path, type: type(written), comment: '' });
  const columns = [column('id', 'bigint'), column('updated_at', 'timestamp'), column('labels', 'array<string>', 'labels[].name'), column('size', 'double', 'abs(size)')];

  it('extracts typed values and counts each failure per column, never throwing', () => {
    const extractor = new ColumnExtractor(columns);
    expect(extractor.extract({ id: 7, updated_at: '2024-01-01T00:00:00Z', labels: [{ name: 'bug' }], size: -2 })).toEqual([7n, ms('2024-01-01T00:00:00Z'), ['bug'], 2]);
    // `abs` of a string is a JMESPath runtime type error: counted, not thrown.
    expect(extractor.extract({ id: 'x', updated_at: 'soon', labels: [{ name: 3 }], size: 'big' })).toEqual([null, null, ['3'], null]);
    // A missing path is NULL without a failure (but `abs` of a missing value is a JMESPath type error).
    expect(extractor.extract({ size: 3 })).toEqual([null, null, null, 3]);
    expect(extractor.typeErrors).toEqual({ id: 1, updated_at: 1, size: 1 });
  });

  it('reads an empty text of a CSV or XML record as NULL in a typed column, not as a failure; a string column keeps it', () => {
    const textColumns = [column('id', 'bigint'), column('amount', 'decimal(10,2)'), column('seen', 'timestamp'), column('note', 'string')];
    const record = { id: '', amount: '', seen: '', note: '' };
    const text = new ColumnExtractor(textColumns, { textRecords: true });
    expect(text.extract(record)).toEqual([null, null, null, '']);
    expect(text.extract({ id: ' ', amount: '1,5', seen: 'x', note: '' })).toEqual([null, null, null, '']);
    expect(text.typeErrors).toEqual({ id: 1, amount: 1, seen: 1 });
    // A JSON API that sends "" for a number sent something that does not convert.
    const json = new ColumnExtractor(textColumns);
    expect(json.extract(record)).toEqual([null, null, null, '']);
    expect(json.typeErrors).toEqual({ id: 1, amount: 1, seen: 1 });
  });

  it('keeps every digit of an id past 2^53 parsed by the precise JSON parser', () => {
    const { value } = parseJson('[{"id": 1234567890123456789, "updated_at": 1704067200123, "labels": [], "size": 1.5}]');
    const extractor = new ColumnExtractor(columns);
    expect(extractor.extract((value as unknown[])[0])).toEqual([1_234_567_890_123_456_789n, 1_704_067_200_123, [], 1.5]);
    expect(extractor.typeErrors).toEqual({});
  });
});
