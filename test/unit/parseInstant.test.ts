import { describe, expect, it } from 'vitest';
import { parseTimeFlag } from '../../cli/parseTime.js';
import { InputError } from '../../functions/errors.js';
import { parseIngestEvent } from '../../functions/ingest/event.js';
import { parseInstant } from '../../functions/window/parseInstant.js';

describe('parseInstant', () => {
  it.each([
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01T06:00', '2024-01-01T06:00:00.000Z'],
    ['2024-01-01T06:00:07', '2024-01-01T06:00:07.000Z'],
    ['2024-01-01T06:00:07.5Z', '2024-01-01T06:00:07.500Z'],
    ['2024-01-01T06:00:07.123456Z', '2024-01-01T06:00:07.123Z'],
    ['2024-01-01T06:00:00+02:00', '2024-01-01T04:00:00.000Z'],
    ['2024-01-01T01:00:00-0130', '2024-01-01T02:30:00.000Z'],
    ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['0050-06-01', '0050-06-01T00:00:00.000Z'],
    ['9999-12-31', '9999-12-31T00:00:00.000Z'],
  ])('parses %s', (text, iso) => expect(parseInstant(text)?.toISOString()).toBe(iso));

  it.each([
    '2024-02-30',
    '2023-02-29',
    '1900-02-29',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    '2024-01-00',
    '2024-01-01T24:00',
    '2024-01-01T23:60',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00:00+01:60',
    'yesterday',
    '2024-1-1',
    '2024-01-01T6:00',
    '2024-01-01 06:00',
    '2024-01-01Z',
    '',
  ])('rejects %j', (text) => expect(parseInstant(text)).toBeUndefined());
});

describe('impossible dates are malformed dates, with the same message', () => {
  const malformed = (value: string) => `--from "${value}" is not a date-time: expected ISO 8601 such as 2024-01-01 or 2024-01-01T06:00:00Z`;

  it.each(['2024-02-30', '2023-02-29', '2024-02-30T22:00', '2024-01-01T24:00', '2024-01-01T10:60', 'yesterday'])('--from %s', (value) => {
    expect(() => parseTimeFlag('--from', value)).toThrow(InputError);
    expect(() => parseTimeFlag('--from', value)).toThrow(malformed(value));
  });

  it.each(['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', 'not a date'])('in a Lambda event window: %s', (start) => {
    const event = { source: 's', window: { start, end: '2024-03-02T00:00:00Z' } };
    expect(() => parseIngestEvent(event)).toThrow(
      'invalid event, expected {source, stream?, window: {start, end}, force?, taskToken?}: window.start: must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z',
    );
  });

  it('in a scheduled event', () => {
    expect(() => parseIngestEvent({ source: 's', scheduledTime: '2023-02-29T10:00:00Z' })).toThrow(
      'invalid event, expected {source, scheduledTime}: scheduledTime: must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z',
    );
  });
});
