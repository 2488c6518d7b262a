import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSources, parseSource } from '../../functions/config/loadSources.js';
import { streamWindowMs } from '../../functions/window/streamTiming.js';
import { ConfigError } from '../../functions/errors.js';
import { sourceJsonSchema } from '../../functions/config/writeJsonSchema.js';
import { configProblems } from '../support/configProblems.js';

const VALID = `
name: shop
schedule: rate(1 hour)
base_url: https://api.example.com
auth: { type: api_key, secret: apilake/shop, in: header, name: X-API-Key }
streams:
  - name: orders
    path: /v1/orders
    params: { since: "{window.start}" }
    records: data
    pagination: { type: cursor, cursor: meta.next, param: cursor }
`;

describe('source definitions', () => {
  it('fills defaults so the engine never sees undefined', () => {
    const source = parseSource(VALID, 'shop.yaml');
    expect(source.timezone).toBe('UTC');
    expect(source.retry).toMatchObject({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 60_000 });
    expect(source.rate_limit.concurrency).toBe(1);
    expect(source.streams[0]!.method).toBe('GET');
    expect(source.streams[0]!.pagination).toMatchObject({ type: 'cursor', max_pages: 10_000 });
    expect(streamWindowMs(source, source.streams[0]!)).toBe(3_600_000);
  });

  it('names the file, the path and the line of a missing pagination field', () => {
    const problems = configProblems(VALID.replace('cursor: meta.next, ', ''));
    expect(problems).toEqual([{ file: 'sources/shop.yaml', path: 'streams[0].pagination.cursor', line: 11, message: 'required (expected string)' }]);
    expect(new ConfigError(problems).message).toContain('sources/shop.yaml:11 streams[0].pagination.cursor: required');
  });

  it('fails on unknown keys instead of ignoring them', () => {
    const problems = configProblems(VALID.replace('records: data', 'records: data\n    recrods: data'));
    expect(problems).toMatchObject([{ path: 'streams[0].recrods', line: 11, message: 'unknown key "recrods"' }]);
  });

  it('reports every problem at once', () => {
    const text = VALID.replace('name: shop', 'name: Shop').replace('rate(1 hour)', 'rate(1 hours)').replace('type: cursor', 'type: scroll');
    const paths = configProblems(text).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'streams[0].pagination.type']));
  });

  it.each([
    ['an invalid schedule', VALID.replace('rate(1 hour)', 'every hour'), 'schedule', /not a Scheduler expression/],
    ['a rate of zero', VALID.replace('rate(1 hour)', 'rate(0 hours)'), 'schedule', /^"rate\(0 hours\)": the number of a rate must be at least 1$/],
    ['a cron schedule without window', VALID.replace('rate(1 hour)', 'cron(0 * * * ? *)'), 'streams[0].window', /required: schedule/],
    ['a bad window', VALID.replace('records: data', 'records: data\n    window: 1week'), 'streams[0].window', /not a duration/],
    ['invalid JMESPath', VALID.replace('records: data', 'records: "data["'), 'streams[0].records', /not valid JMESPath/],
    ['an unknown placeholder', VALID.replace('{window.start}', '{window.begin}'), 'streams[0].params.since', /unknown placeholder \{window.begin\}/],
    ['a literal credential header', VALID.replace('streams:', 'headers: { Authorization: "Bearer abc" }\nstreams:'), 'headers.Authorization', /credentials do not belong/],
    ['a body on GET', VALID.replace('records: data', 'records: data\n    body: { q: 1 }'), 'streams[0].body', /needs method: POST/],
    ['an unknown time zone', VALID.replace('schedule:', 'timezone: Mars/Olympus\nschedule:'), 'timezone', /not an IANA time zone/],
    ['an invalid auth type', VALID.replace('type: api_key', 'type: magic'), 'auth.type', /Invalid discriminator/],
    ['a non-http base_url', VALID.replace('https://api.example.com', 'ftp://x'), 'base_url', /Invalid URL/],
    ['a password in base_url', VALID.replace('https://api.example.com', 'https://admin:hunter2@api.example.com'), 'base_url', /holds a user name or password .*use auth \(type: basic\)/],
    ['a user name in base_url', VALID.replace('https://api.example.com', 'https://admin@api.example.com/v1'), 'base_url', /holds a user name or password/],
    [
      'a password in a token_url',
      VALID.replace('type: api_key, secret: apilake/shop, in: header, name: X-API-Key', 'type: oauth2_client_credentials, token_url: "https://id:pw@auth.example.com/token", secret: apilake/shop'),
      'auth.token_url',
      /holds a user name or password/,
    ],
  ])('fails on %s', (_what, text, path, message) => {
    const problems = configProblems(text);
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)!.message).toMatch(message);
  });

  it('never prints the password of a URL it refuses', () => {
    const problems = configProblems(VALID.replace('https://api.example.com', 'https://admin:hunter2@api.example.com'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('(got "https://***@api.example.com")');
    expect(JSON.stringify(problems)).not.toMatch(/hunter2|admin/);
  });

  it.each([
    ['vars of a list', VALID.replace('streams:', 'vars: { region: [eu, us] }\nstreams:'), 'vars.region', 'Invalid input: expected a string or number, got a list'],
    ['a param of a list', VALID.replace('params: { since', 'params: { limit: [1, 2], since'), 'streams[0].params.limit', 'Invalid input: expected a string, number or boolean, got a list'],
    ['a param of null', VALID.replace('params: { since', 'params: { flag: null, since'), 'streams[0].params.flag', 'Invalid input: expected a string, number or boolean, got null'],
    ['a param of a mapping', VALID.replace('params: { since', 'params: { q: { a: 1 }, since'), 'streams[0].params.q', 'Invalid input: expected a string, number or boolean, got a mapping'],
    [
      'a stop header of a number',
      VALID.replace('param: cursor }', 'param: cursor, stop_when_headers: { X-More: 0 } }'),
      'streams[0].pagination.stop_when_headers.X-More',
      'Invalid input: expected a string or boolean, got 0',
    ],
    ['an unknown format', VALID.replace('records: data', 'records: data\n    format: xmlx'), 'streams[0].format', 'Invalid input: expected "json", "jsonl", "csv" or a mapping, got "xmlx"'],
    ['max_results of text', VALID.replace('records: data', 'records: data\n    max_results: many'), 'streams[0].max_results', 'Invalid input: expected a number or mapping, got "many"'],
    [
      'a response status of text',
      VALID.replace('streams:', 'response_rules: [{ when: { status: often }, action: retry }]\nstreams:'),
      'response_rules[0].when.status',
      /^Invalid input: expected a number, "1xx", .* or list, got "often"$/,
    ],
  ])('says what a value of a union takes, and what it got: %s', (_what, text, path, message) => {
    const problem = configProblems(text).find((p) => p.path === path);
    expect(problem?.message).toMatch(message);
  });

  it('reports the problem inside the one option of a union a value has the shape of', () => {
    const problems = configProblems(VALID.replace('records: data', 'records: data\n    max_results: { limit: lots }'));
    expect(problems).toMatchObject([{ path: 'streams[0].max_results.limit', line: 11, message: 'Invalid input: expected number, received string (got "lots")' }]);
  });

  it('fails on broken YAML with the line', () => {
    expect(configProblems('name: shop\nstreams: [\n')[0]).toMatchObject({ file: 'sources/shop.yaml', path: '', message: expect.stringMatching(/^YAML:/) as string });
  });

  it('fails on duplicate stream names', () => {
    const text = VALID + `  - name: orders\n    path: /v2/orders\n`;
    expect(configProblems(text)).toMatchObject([{ path: 'streams[1].name', message: expect.stringMatching(/duplicate stream name/) as string }]);
  });

  it('loads a folder and reports problems of every file together, plus duplicate source names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-sources-'));
    await writeFile(join(dir, 'a.yaml'), VALID);
    await writeFile(join(dir, 'b.yaml'), VALID);
    await writeFile(join(dir, 'c.yml'), 'name: c\n');
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const error = await loadSources(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => p.file.endsWith('c.yml') && p.path === 'schedule')).toBe(true);
    expect(problems.some((p) => p.file.endsWith('b.yaml') && /also defined in/.test(p.message))).toBe(true);
  });

  it('keeps the committed sources/source.schema.json in step with the schema (npm run schema)', async () => {
    const committed: unknown = JSON.parse(await readFile(new URL('../../sources/source.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(sourceJsonSchema())));
  });

  it('exports a JSON Schema that editors can use', () => {
    const schema = sourceJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'schedule', 'base_url', 'streams']));
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['auth', 'rate_limit', 'retry', 'streams']));
  });
});
