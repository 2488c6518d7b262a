import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { ConfigError, type ConfigProblem } from '../../functions/errors.js';

/** A source whose lines the tests below change; line numbers are those of the YAML text. */
const SOURCE = `name: jira
schedule: rate(1 hour)
timezone: Europe/Berlin
base_url: https://example.atlassian.net
streams:
  - name: issues
    path: /rest/api/3/search/jql
    params:
      jql: 'updated >= "{window.start:yyyy-MM-dd HH:mm}" AND updated < "{window.end:yyyy-MM-dd HH:mm}"'
      until: "{window.end-1s:epoch_ms}"
    records: issues
    incremental: { cursor_field: fields.updated }
    columns:
      - { name: updated, path: fields.updated, type: timestamp }
  - name: events
    path: /events
    method: POST
    body: { query: { value: ["{window.start-1s:epoch}"] } }
`;

function problemsOf(text: string): readonly ConfigProblem[] {
  try {
    parseSource(text, 'sources/jira.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const replace = (from: string, to: string) => {
  if (!SOURCE.includes(from)) throw new Error(`the test source has no ${from}`);
  return SOURCE.replace(from, to);
};

describe('validating placeholders, offsets and formats', () => {
  it('accepts formatted placeholders with offsets, in params and a body', () => {
    expect(problemsOf(SOURCE)).toEqual([]);
  });

  it.each<[string, string, string, number, string]>([
    ['a format token that does not exist', '{window.start:yyyy-MM-dd HH:mm}', '{window.start:YYYY-MM-dd HH:mm}', 9, 'streams[0].params.jql'],
    ['a 12-hour clock', '{window.end:yyyy-MM-dd HH:mm}', '{window.end:yyyy-MM-dd hh:mm}', 9, 'streams[0].params.jql'],
    ['an offset in weeks', '{window.end-1s:epoch_ms}', '{window.end-1w:epoch_ms}', 10, 'streams[0].params.until'],
    ['an unknown named format', '{window.end-1s:epoch_ms}', '{window.end-1s:epoch_us}', 10, 'streams[0].params.until'],
    ['an offset on a fixed form', '{window.end-1s:epoch_ms}', '{window.end_epoch-1s}', 10, 'streams[0].params.until'],
    ['a format in a body', '{window.start-1s:epoch}', '{window.start-1s:epoc}', 18, 'streams[1].body.query.value[0]'],
    ['text that is almost a placeholder', '{window.start-1s:epoch}', '{window.start -1s:epoch}', 18, 'streams[1].body.query.value[0]'],
    ['a format in the path', 'path: /events', 'path: /events/{window.start:dd/MM/yyy}', 16, 'streams[1].path'],
  ])('fails on %s, naming the file, the line and the field', (_what, from, to, line, path) => {
    const problems = problemsOf(replace(from, to));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'sources/jira.yaml', line, path });
    expect(new ConfigError(problems).message).toContain(`sources/jira.yaml:${line} ${path}: `);
  });

  it('says what is wrong and what is allowed', () => {
    expect(problemsOf(replace('{window.start:yyyy-MM-dd HH:mm}', '{window.start:YYYY-MM-dd HH:mm}'))[0]!.message).toBe(
      `{window.start:YYYY-MM-dd HH:mm}: format "YYYY-MM-dd HH:mm": "YYYY" is not a token: write yyyy for the year (Y is the week-based year elsewhere) ` +
        `(tokens: yyyy MM MMM dd EEE HH mm ss S…SSSSSSSSS XXX xxx XX xx Z; literal text goes in single quotes, e.g. 'T')`,
    );
    expect(problemsOf(replace('{window.end-1s:epoch_ms}', '{window.end-1w:epoch_ms}'))[0]!.message).toBe(
      '{window.end-1w:epoch_ms}: "-1w" is not an offset: expected + or - then a duration in ms, s, m, h or d (e.g. -1s, +1d)',
    );
  });

  it.each<[string, string, string, number, string, string]>([
    [
      'an incremental format that does not compile',
      '{ cursor_field: fields.updated }',
      '{ cursor_field: fields.updated, format: "dd/MM/yyyy HH:MM" }',
      12,
      'streams[0].incremental.format',
      'the month appears twice (MM and MM)',
    ],
    [
      'an incremental format without a date',
      '{ cursor_field: fields.updated }',
      '{ cursor_field: fields.updated, format: "HH:mm" }',
      12,
      'streams[0].incremental.format',
      'format "HH:mm": it cannot read timestamps: it needs yyyy, MM (or MMM) and dd',
    ],
    [
      'unit and format together',
      '{ cursor_field: fields.updated }',
      '{ cursor_field: fields.updated, unit: ms, format: epoch_ms }',
      12,
      'streams[0].incremental.format',
      'give unit or format, not both',
    ],
    ['a column format that does not compile', 'type: timestamp }', 'type: timestamp, format: "dd/MM/yyyy hh:mm" }', 14, 'streams[0].columns[0].format', '"hh" is not a token'],
    [
      'a format on a string column',
      'type: timestamp }',
      'type: string, format: "dd/MM/yyyy" }',
      14,
      'streams[0].columns[0].format',
      'a format applies to timestamp and date columns (and arrays of them), not string',
    ],
  ])('fails on %s', (_what, from, to, line, path, message) => {
    const problems = problemsOf(replace(from, to));
    expect(problems).toEqual([{ file: 'sources/jira.yaml', line, path, message: expect.stringContaining(message) as string }]);
  });

  it.each([
    ['type: timestamp }', 'type: timestamp, format: "dd/MM/yyyy HH:mm" }'],
    ['type: timestamp }', 'type: date, format: "dd/MM/yyyy" }'],
    ['type: timestamp }', 'type: "array<timestamp>", format: epoch_ms }'],
    ['{ cursor_field: fields.updated }', '{ cursor_field: fields.updated, format: "EEE, dd MMM yyyy HH:mm:ss xx" }'],
    ['{ cursor_field: fields.updated }', '{ cursor_field: fields.updated, format: "utc:yyyy-MM-dd HH:mm:ss" }'],
  ])('accepts %j as %j', (from, to) => {
    expect(problemsOf(replace(from, to))).toEqual([]);
  });

  it.each<[string, string, string, number, string]>([
    ['a stream header', 'records: issues', 'records: issues\n    headers: { X-Since: "{window.start:epoch}" }', 12, 'streams[0].headers.X-Since'],
    ['a source header', 'timezone: Europe/Berlin', 'timezone: Europe/Berlin\nheaders: { X-Until: "{window.end}" }', 4, 'headers.X-Until'],
    ['the base URL', 'base_url: https://example.atlassian.net', 'base_url: "https://example.atlassian.net/{window.start_date}"', 4, 'base_url'],
    ['a vars value', 'timezone: Europe/Berlin', 'timezone: Europe/Berlin\nvars: { since: "{window.start:date}" }', 4, 'vars.since'],
    ['a vars value naming another var', 'timezone: Europe/Berlin', 'timezone: Europe/Berlin\nvars: { project: OPS, q: "project = {project}" }', 4, 'vars.q'],
    ['text meant as a placeholder in a header', 'records: issues', 'records: issues\n    headers: { X-Since: "{ window.start }" }', 12, 'streams[0].headers.X-Since'],
  ])('fails on a placeholder in %s, which nothing fills', (_what, from, to, line, path) => {
    const problems = problemsOf(replace(from, to));
    expect(problems).toEqual([
      { file: 'sources/jira.yaml', line, path, message: expect.stringContaining('would be sent as written: placeholders are filled only in path, params and body') as string },
    ]);
  });

  it('accepts braces in a header that name no placeholder', () => {
    expect(problemsOf(replace('records: issues', 'records: issues\n    headers: { X-Filter: \'{"a":1} {other}\' }'))).toEqual([]);
  });

  it('reports every problem of every placeholder at once', () => {
    const text = replace('{window.start:yyyy-MM-dd HH:mm}', '{window.start:YYYY}').replace('{window.end-1s:epoch_ms}', '{window.end+1x}').replace('{window.start-1s:epoch}', '{nope}');
    expect(problemsOf(text).map((p) => `${p.line} ${p.path}`)).toEqual(['9 streams[0].params.jql', '10 streams[0].params.until', '18 streams[1].body.query.value[0]']);
  });
});
