import { describe, expect, it } from 'vitest';
import { Masker } from '../../functions/cassettes/Masker.js';
import type { Cassette } from '../../functions/cassettes/cassette.js';
import { cursorShape, trafficFacts } from '../../functions/cassettes/trafficFacts.js';
import type { StreamDefinition } from '../../functions/config/sourceSchema.js';
import { describeDifferences, matchKey } from '../../functions/cassettes/requestDiff.js';
import { junitXml } from '../../cli/cassettes/junitReport.js';
import { secretSpellings } from '../support/secretSpellings.js';

const SECRET = 'sk/live+secret&42é';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Masker', () => {
  const masker = () => new Masker({ secret: { client_id: 'c1', password: SECRET, user: 'agent@example.com' } });

  it.each([
    ['raw, in a header', { method: 'GET', url: 'https://api.test/x', headers: { 'x-key': SECRET } }],
    ['percent-encoded, in the query', { method: 'GET', url: `https://api.test/x?key=${encodeURIComponent(SECRET)}`, headers: {} }],
    ['form-encoded, in a body', { method: 'POST', url: 'https://api.test/t', headers: {}, body: new URLSearchParams({ grant_type: 'password', password: SECRET }).toString() }],
    ['JSON-escaped, in a body', { method: 'POST', url: 'https://api.test/t', headers: {}, body: JSON.stringify({ password: SECRET }).replaceAll('/', '\\/') }],
    ['base64, in a Basic header', { method: 'GET', url: 'https://api.test/x', headers: { authorization: basic('agent@example.com', SECRET) } }],
  ])('replaces a secret %s by its placeholder, in no spelling left', (_, request) => {
    const m = masker();
    m.learnRequest(request);
    const text = JSON.stringify(m.maskRequest(request));
    expect(secretSpellings(SECRET).filter((form) => text.includes(form))).toEqual([]);
    expect(text).toMatch(/REDACTED\.secret\.password|UkVEQUNURUQuc2VjcmV0LnVzZXI6UkVEQUNURUQuc2VjcmV0LnBhc3N3b3Jk/);
  });

  // The pair's base64 may need no padding while the masked pair's does: replay sends it padded, as every client encodes Basic.
  it.each([
    ['ends in padding', 'agent@example.com', SECRET],
    ['needs no padding', 'etl@example.com', 'ATATT3xFfGF0-ExampleCassette0123456789'],
  ])('masks a Basic header whose base64 %s as the padded base64 of the masked pair, which replay computes from the placeholders', (_, user, password) => {
    const m = new Masker({ secret: { client_id: 'c1', password, username: user } });
    const request = { method: 'GET', url: 'https://api.test/x', headers: { authorization: basic(user, password) } };
    m.learnRequest(request);
    expect(m.maskRequest(request).headers.authorization).toBe(basic('REDACTED.secret.username', 'REDACTED.secret.password'));
    expect(m.secret).toEqual({ client_id: 'c1', password: 'REDACTED.secret.password', username: 'REDACTED.secret.username' });
  });

  it('masks a credential rendered in an auth template as the template around its placeholder, as recorded and as replayed', () => {
    const recording = new Masker({ secret: { token: 'ghp_0123456789abcdefghij' } });
    recording.addValues(['ghp_0123456789abcdefghij', 'Bearer ghp_0123456789abcdefghij']);
    const recorded = recording.maskRequest({ method: 'GET', url: 'https://api.test/x', headers: { authorization: 'Bearer ghp_0123456789abcdefghij' } });
    const replay = new Masker({ secret: recording.secret });
    replay.addValues(['REDACTED.secret.token', 'Bearer REDACTED.secret.token']);
    const sent = { method: 'GET', url: 'https://api.test/x', headers: { authorization: 'Bearer REDACTED.secret.token' } };
    replay.learnRequest(sent);
    expect([recorded.headers.authorization, replay.maskRequest(sent).headers.authorization]).toEqual(['Bearer REDACTED.secret.token', 'Bearer REDACTED.secret.token']);
  });

  it('numbers tokens a token endpoint issued, and masks them wherever they travel next', () => {
    const m = masker();
    const tokenRequest = { method: 'POST', url: 'https://api.test/token', headers: {}, body: 'grant_type=refresh_token&refresh_token=rt-0123456789' };
    const response = {
      headers: [['content-type', 'application/json']] as [string, string][],
      body: JSON.stringify({ access_token: 'at-abcdefghij', refresh_token: 'rt-9876543210', expires_in: 3600 }),
    };
    m.learnRequest(tokenRequest);
    m.learnResponse(response, tokenRequest);
    expect(JSON.parse(m.maskResponse(response).body)).toEqual({ access_token: 'REDACTED.issued.1', refresh_token: 'REDACTED.issued.2', expires_in: 3600 });
    expect(m.maskRequest({ method: 'GET', url: 'https://api.test/x', headers: { authorization: 'Bearer at-abcdefghij' } }).headers.authorization).toBe('Bearer REDACTED.issued.1');
  });

  it('replaces a credential header that holds no known value whole', () => {
    const m = new Masker();
    expect(m.maskRequest({ method: 'GET', url: 'https://api.test/x', headers: { cookie: 'x' } }).headers.cookie).toBe('REDACTED.header.cookie');
  });
});

describe('request matching', () => {
  const recorded = { method: 'POST', url: 'https://api.test/q?a=1&nonce=x', headers: { 'x-request-id': '1' }, body: '{"variables":{"after":"abc"}}' };

  it('matches a request whose ignored parameter and header differ', () => {
    const ignore = { params: ['nonce'], headers: ['X-Request-Id'] };
    expect(matchKey({ ...recorded, url: 'https://api.test/q?a=1&nonce=y', headers: { 'x-request-id': '2' } }, ignore)).toBe(matchKey(recorded, ignore));
    expect(matchKey({ ...recorded, url: 'https://api.test/q?a=2&nonce=y' }, ignore)).not.toBe(matchKey(recorded, ignore));
  });

  it.each([
    ['a query parameter', { url: 'https://api.test/q?a=2&nonce=x' }, 'query a: recorded "1", sent "2"'],
    ['a header', { headers: { 'x-request-id': '9' } }, 'header x-request-id: recorded "1", sent "9"'],
    ['a JSON body field, by its path', { body: '{"variables":{"after":"abd"}}' }, 'body variables.after: recorded "abc", sent "abd"'],
    ['the path', { url: 'https://api.test/r?a=1&nonce=x' }, 'path: recorded "/q", sent "/r"'],
  ])('names %s that differs', (_, change, line) => {
    expect(describeDifferences(recorded, { ...recorded, ...change }, { params: [], headers: [] })).toEqual([line]);
  });
});

describe('cursorShape', () => {
  it.each([
    ['12345', 'integer'],
    ['0f8fad5b-d9cb-469f-a165-70867728950e', 'uuid'],
    ['2024-03-01T10:00:00Z', 'timestamp'],
    ['https://api.test/x?page=2&per_page=100', 'url(page,per_page)'],
    ['Y3Vyc29yOjEwMA==', 'base64'],
    ['p2', 'text'],
  ])('reads %s as %s', (cursor, shape) => {
    expect(cursorShape(cursor)).toBe(shape);
  });
});

describe('junitXml', () => {
  it('writes a failed case with its differences, escaped, and a passed case empty', () => {
    const xml = junitXml('shop', [
      { classname: 'shop.orders', name: 'w1', seconds: 0.25, failures: [] },
      { classname: 'shop.orders', name: 'w2', seconds: 0.5, failures: ['query a: recorded "<1>", sent "2" & more', 'pages: expected 2, landed 3'], file: 'c.json.gz' },
    ]);
    expect(xml).toContain('<testsuite name="shop" tests="2" failures="1" errors="0" skipped="0" time="0.750">');
    expect(xml).toContain('<testcase classname="shop.orders" name="w1" time="0.250"/>');
    expect(xml).toContain(
      '<failure message="query a: recorded &quot;&lt;1&gt;&quot;, sent &quot;2&quot; &amp; more">query a: recorded &quot;&lt;1&gt;&quot;, sent &quot;2&quot; &amp; more&#10;pages: expected 2, landed 3</failure>',
    );
  });
});

describe('trafficFacts', () => {
  const stream = { name: 'items', records: 'data', pagination: { type: 'cursor', cursor: 'next', param: 'after' } } as unknown as StreamDefinition;
  const response = (status: number, body: unknown) => ({
    request: { method: 'GET', url: 'https://api.test/x', headers: {} },
    response: { status, headers: [] as [string, string][], body: JSON.stringify(body) },
  });
  const cassette = (interactions: ReturnType<typeof response>[], pages: number, records: number) =>
    ({ interactions, expected: { records, pages, sha256: '0'.repeat(64), type_errors: {} } }) as unknown as Cassette;

  it('collects status codes, cursor shapes and the largest page, never a cursor value', () => {
    const facts = trafficFacts(
      [
        cassette([response(429, { error: 'slow down' }), response(200, { data: [1, 2, 3], next: '17' }), response(200, { data: [4], next: null })], 2, 4),
        cassette([response(200, { data: [5, 6], next: 'Y3Vyc29yOjEwMA==' }), response(503, {}), response(200, { data: [], next: null })], 2, 2),
      ],
      stream,
    );
    expect(facts).toEqual({ statuses: [200, 429, 503], cursorShapes: ['base64', 'integer'], pages: 4, records: 6, largestPage: 3 });
  });
});
