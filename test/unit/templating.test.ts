import { describe, expect, it } from 'vitest';
import { PlaceholderError } from '../../functions/errors.js';
import { parseOffset, placeholdersIn, renderString, renderValue, templateProblems, type TemplateScope } from '../../functions/window/templating.js';

const d = (iso: string) => new Date(iso);
/** A Tuesday hour: Berlin is +01:00, New York -05:00. */
const WINDOW = { start: d('2024-03-05T06:00:00Z'), end: d('2024-03-05T07:00:00Z') };
const scope = (timeZone = 'UTC', window = WINDOW): TemplateScope => ({ window, timeZone, values: { org: 'aws', count: 5 } });

describe('rendering placeholders', () => {
  it.each<[string, string, string]>([
    ['{window.start}', 'UTC', '2024-03-05T06:00:00Z'],
    ['{window.end}', 'Europe/Berlin', '2024-03-05T07:00:00Z'], // ISO UTC whatever the zone, as always
    ['{window.start_epoch}', 'UTC', '1709618400'],
    ['{window.end_epoch}', 'UTC', '1709622000'],
    ['{window.start_date}', 'Pacific/Kiritimati', '2024-03-05'], // the UTC date, as always
    ['{window.end_date}', 'UTC', '2024-03-05'],
    ['{window.start:yyyy-MM-dd HH:mm}', 'UTC', '2024-03-05 06:00'],
    ['{window.start:yyyy-MM-dd HH:mm}', 'Europe/Berlin', '2024-03-05 07:00'],
    ['updated >= "{window.start:yyyy-MM-dd HH:mm}" AND updated < "{window.end:yyyy-MM-dd HH:mm}"', 'Europe/Berlin', 'updated >= "2024-03-05 07:00" AND updated < "2024-03-05 08:00"'],
    ['{window.start:utc:yyyy-MM-dd HH:mm}', 'Europe/Berlin', '2024-03-05 06:00'],
    ["{window.start:yyyy-MM-dd'T'HH:mm:ssXXX}", 'America/New_York', '2024-03-05T01:00:00-05:00'],
    ['{window.start:iso}', 'Europe/Berlin', '2024-03-05T06:00:00Z'],
    ['{window.start:epoch}', 'UTC', '1709618400'],
    ['{window.end:epoch_ms}', 'UTC', '1709622000000'],
    ['{window.start-1s:epoch}', 'UTC', '1709618399'],
    ['{window.end-1s:epoch_ms}', 'UTC', '1709621999000'],
    ['{window.end-1ms:epoch_ms}', 'UTC', '1709621999999'],
    ['{window.end-1s:date}', 'UTC', '2024-03-05'],
    ['{window.end+1d:date}', 'UTC', '2024-03-06'],
    ['{window.start+90m}', 'UTC', '2024-03-05T07:30:00Z'],
    ['{window.start-2h:yyyy-MM-dd HH:mm:ss}', 'UTC', '2024-03-05 04:00:00'],
    ['/orgs/{org}/since/{window.start}?n={count}', 'UTC', '/orgs/aws/since/2024-03-05T06:00:00Z?n=5'],
    ['{window.start:dd}{window.start:MM}', 'UTC', '0503'],
  ])('renders %j in %s as %j', (text, zone, expected) => {
    expect(renderString(text, scope(zone), 'params.q')).toBe(expected);
  });

  it('encodes each rendered value, never the text around it', () => {
    expect(renderString('/reports/{window.start:yyyy-MM-dd HH:mm}/{org}', scope(), 'path', encodeURIComponent)).toBe('/reports/2024-03-05%2006%3A00/aws');
  });

  it('keeps a body value that is exactly one placeholder of a number a JSON number, and everything else text', () => {
    const body = {
      query: { operator: 'AND', value: [{ field: 'updated_at', operator: '>', value: '{window.start-1s:epoch}' }] },
      until: '{window.end-1ms:epoch_ms}',
      legacy: '{window.start_epoch}',
      count: '{count}',
      text: 'at {window.start:epoch}',
      day: '{window.start:date}',
      jql: 'updated >= "{window.start:yyyy-MM-dd HH:mm}"',
      list: ['{org}', 7, null, true],
    };
    expect(renderValue(body, scope())).toEqual({
      query: { operator: 'AND', value: [{ field: 'updated_at', operator: '>', value: 1709618399 }] },
      until: 1709621999999,
      legacy: 1709618400,
      count: 5,
      text: 'at 1709618400',
      day: '2024-03-05',
      jql: 'updated >= "2024-03-05 06:00"',
      list: ['aws', 7, null, true],
    });
  });

  it("gives a lone parent placeholder the value its parent's record holds", () => {
    const withKey: TemplateScope = { ...scope(), values: { id: '0.1000' } };
    expect(renderValue({ a: '{id}', b: 'x{id}' }, withKey, 'body', { id: 0.1 })).toEqual({ a: 0.1, b: 'x0.1000' });
  });

  it('lists placeholder names in order', () => expect(placeholdersIn('{a}/{window.end-1s:epoch}')).toEqual(['a', 'window.end']));

  it.each([
    ['-1s', -1000],
    ['+1d', 86_400_000],
    ['-15m', -900_000],
    ['+2h', 7_200_000],
    ['-1ms', -1],
    ['+366d', 366 * 86_400_000],
  ])('reads the offset %j as %d ms', (text, expected) => {
    expect(parseOffset(text)).toEqual({ ok: true, ms: expected });
  });
});

/** Every way a placeholder can be wrong: validation reports it, and rendering refuses it. */
const WRONG: readonly [string, string][] = [
  ['{window.begin}', 'unknown placeholder {window.begin}: expected one of {window.start}, {window.end} (with an offset and a format'],
  ['{nope}', 'unknown placeholder {nope}'],
  ['{window.start:YYYY-MM-dd}', '{window.start:YYYY-MM-dd}: format "YYYY-MM-dd": "YYYY" is not a token: write yyyy'],
  ['{window.start:yyyy-MM-dd hh:mm}', '"hh" is not a token'],
  ['{window.start:}', 'format "": empty'],
  ['{window.end:epoch_us}', `format "epoch_us": "epoch" is not a token: put literal text in single quotes ('epoch')`],
  ['{window.start-1}', '{window.start-1}: "-1" is not an offset: expected + or - then a duration in ms, s, m, h or d (e.g. -1s, +1d)'],
  ['{window.start-1w:date}', '"-1w" is not an offset'],
  ['{window.start+1.5h}', '"+1.5h" is not an offset'],
  ['{window.start+367d}', 'offset "+367d" is longer than 366d'],
  ['{window.start_epoch-1s}', '{window.start_epoch-1s}: {window.start_epoch} takes no offset or format; write {window.start-1s:epoch}'],
  ['{window.end_date:dd/MM/yyyy}', '{window.end_date} takes no offset or format; write {window.end:dd/MM/yyyy}'],
  ['{org:yyyy}', '{org:yyyy}: only {window.start} and {window.end} take an offset or a format'],
  ['{org-1s}', 'only {window.start} and {window.end} take an offset or a format'],
  ['{window.start - 1s}', '"{window.start - 1s}" is not a placeholder: expected {window.start}'],
  ['{ window.start }', '"{ window.start }" is not a placeholder'],
  ['since={window.start:yyyy-MM-dd', '"{window.start:yyyy-MM-dd" is not a placeholder'],
  ['{window.start:yyyy-MM-dd{HH}}', 'unknown placeholder {HH}'],
];

describe('placeholder problems', () => {
  const known = new Set(['org', 'count']);

  it.each(WRONG)('reports %j: %s', (text, message) => {
    expect(templateProblems(text, known)[0]).toContain(message);
  });

  it.each([
    '{window.start}',
    '{window.end-1s:epoch_ms}',
    '{window.start:utc:epoch}',
    "{window.end+1d:EEE, dd MMM yyyy HH:mm:ss 'GMT'}",
    '{org}/{count}',
    '{ windows }',
    'query { window { start } }',
    '{}',
  ])('accepts %j', (text) => {
    expect(templateProblems(text, known)).toEqual([]);
  });

  it.each(WRONG)('refuses to render %j instead of sending it as text', (text, message) => {
    let thrown: unknown;
    try {
      renderString(text, scope(), 'stream "issues" params.jql');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PlaceholderError);
    expect((thrown as Error).message).toMatch(/^stream "issues" params\.jql: /);
    expect((thrown as Error).message).toContain(message);
  });

  it.each(WRONG)('refuses to render %j in a JSON body, naming the body path', (text, message) => {
    expect(() => renderValue({ query: { value: [text] } }, scope(), 'body')).toThrow(new RegExp(`^body\\.query\\.value\\[0\\]: .*${message.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});

describe('placeholders across a change of the clocks', () => {
  const JQL = 'updated >= "{window.start:yyyy-MM-dd HH:mm}" AND updated < "{window.end:yyyy-MM-dd HH:mm}"';
  const hour = (start: string) => ({ start: d(start), end: new Date(d(start).getTime() + 3_600_000) });

  // Berlin repeats 02:00–02:59 on 2024-10-27 (00:00Z–01:59Z) and skips it on 2024-03-31.
  it.each<[string, string, string]>([
    ['Europe/Berlin', '2024-03-31T00:00:00Z', 'updated >= "2024-03-31 01:00" AND updated < "2024-03-31 03:00"'],
    ['Europe/Berlin', '2024-03-31T01:00:00Z', 'updated >= "2024-03-31 03:00" AND updated < "2024-03-31 04:00"'],
    ['Europe/Berlin', '2024-10-26T22:00:00Z', 'updated >= "2024-10-27 00:00" AND updated < "2024-10-27 01:00"'],
    ['Europe/Berlin', '2024-10-26T23:00:00Z', 'fails: {window.end:yyyy-MM-dd HH:mm} renders "2024-10-27 02:00" for 2024-10-27T00:00:00Z'],
    ['Europe/Berlin', '2024-10-27T00:00:00Z', 'fails: {window.start:yyyy-MM-dd HH:mm} renders "2024-10-27 02:00" for 2024-10-27T00:00:00Z'],
    ['Europe/Berlin', '2024-10-27T01:00:00Z', 'fails: {window.start:yyyy-MM-dd HH:mm} renders "2024-10-27 02:00" for 2024-10-27T01:00:00Z'],
    ['Europe/Berlin', '2024-10-27T02:00:00Z', 'updated >= "2024-10-27 03:00" AND updated < "2024-10-27 04:00"'],
    ['America/New_York', '2024-11-03T03:00:00Z', 'updated >= "2024-11-02 23:00" AND updated < "2024-11-03 00:00"'],
    ['America/New_York', '2024-11-03T04:00:00Z', 'fails: {window.end:yyyy-MM-dd HH:mm} renders "2024-11-03 01:00" for 2024-11-03T05:00:00Z'],
    ['America/New_York', '2024-11-03T07:00:00Z', 'updated >= "2024-11-03 02:00" AND updated < "2024-11-03 03:00"'],
  ])('in %s, the hour from %s gives %s', (zone, start, expected) => {
    const render = () => renderString(JQL, scope(zone, hour(start)), 'params.jql');
    if (expected.startsWith('fails: ')) expect(render).toThrow(expected.slice('fails: '.length));
    else expect(render()).toBe(expected);
  });

  it('says why a time named twice fails, and what to do instead', () => {
    expect(() => renderString('{window.end:yyyy-MM-dd HH:mm}', scope('Europe/Berlin', hour('2024-10-27T00:00:00Z')), 'stream "issues" params.jql')).toThrow(
      new PlaceholderError(
        'stream "issues" params.jql: {window.end:yyyy-MM-dd HH:mm} renders "2024-10-27 02:00" for 2024-10-27T01:00:00Z, a time Europe/Berlin shows twice ' +
          '(at 2024-10-27T00:00:00Z and 2024-10-27T01:00:00Z, when the clocks go back), so the API cannot tell which is meant; ' +
          "a format without an offset cannot name this instant: add XXX if the API reads offsets, or set timezone: UTC (with the API's user or account in UTC too), " +
          'or choose windows that do not start or end in that hour',
      ),
    );
  });

  it.each(['{window.end:yyyy-MM-dd HH:mmXXX}', '{window.end:utc:yyyy-MM-dd HH:mm}', '{window.end:date}', '{window.end:epoch}'])('renders %j in that hour, which names one instant', (text) => {
    expect(() => renderString(text, scope('Europe/Berlin', hour('2024-10-27T00:00:00Z')), 'params.q')).not.toThrow();
  });
});
