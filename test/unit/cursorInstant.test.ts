import { describe, expect, it } from 'vitest';
import { cursorInstant, EPOCH_MILLIS_FROM } from '../../functions/window/cursorInstant.js';

const ms = (iso: string) => Date.parse(iso);

describe('cursorInstant', () => {
  it.each<[unknown, string]>([
    ['2024-01-01T10:00:00Z', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T10:00:00z', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T10:00:00.123456789Z', '2024-01-01T10:00:00.123Z'],
    ['2024-01-01T10:59:59.9999999Z', '2024-01-01T10:59:59.999Z'], // cut, not rounded into the next hour
    ['2024-01-01T12:00:00+02:00', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T05:30:00-0430', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T12:00:00+02', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01 10:00:00', '2024-01-01T10:00:00.000Z'], // RFC 3339's space; no offset is UTC
    ['2024-01-01T10:00', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T10:00:00,5Z', '2024-01-01T10:00:00.500Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    [1704103200, '2024-01-01T10:00:00.000Z'], // epoch seconds
    [1704103200.5, '2024-01-01T10:00:00.500Z'],
    [1704103200123, '2024-01-01T10:00:00.123Z'], // epoch milliseconds
    ['1704103200', '2024-01-01T10:00:00.000Z'],
    ['1704103200.000100', '2024-01-01T10:00:00.000Z'], // Slack's ts
    ['1704103200123', '2024-01-01T10:00:00.123Z'],
    ['1704106799.9999999999', '2024-01-01T10:59:59.999Z'], // digit by digit: a float would say 11:00:00
    ['1704106799999.999999999', '2024-01-01T10:59:59.999Z'],
    [-1.5, '1969-12-31T23:59:58.500Z'],
    ['-100000000.0001', '1966-10-31T14:13:19.999Z'],
    [99_999_999_999, '5138-11-16T09:46:39.000Z'], // the largest value read as seconds
    [EPOCH_MILLIS_FROM, '1973-03-03T09:46:40.000Z'], // the smallest read as milliseconds
  ])('reads %j as %s', (value, iso) => {
    expect(cursorInstant(value)).toBe(ms(iso));
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
    ['an offset beyond 23 hours', '2024-01-01T10:00:00+25:00'],
    ['an infinite number', Number.POSITIVE_INFINITY],
    ['an empty string', ''],
  ])('refuses %s', (_what, value) => {
    expect(cursorInstant(value)).toBeUndefined();
  });
});
