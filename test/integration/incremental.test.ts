import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { exampleSource } from '../support/exampleSource.js';
import { issuesEvery, startGithubIssuesApi, type Issue } from '../support/githubIssuesApi.js';
import type { JsonServer } from '../support/jsonServer.js';
import { GITHUB_TOKEN_ENV, landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits, type StoredLine } from '../support/lakeReader.js';
import { startJsonServer } from '../support/jsonServer.js';
import { startZendeskApi, ticketsEvery, type Ticket } from '../support/zendeskApi.js';

const H = 3_600_000;
const PER_PAGE = 5;
let lake: string;
const servers: JsonServer[] = [];
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-incremental-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
const started = <T extends JsonServer>(server: T) => (servers.push(server), server);

/** The example GitHub source pointed at the local API, with small pages and `params` changed. */
const githubSource = (url: string, params: Record<string, unknown> = {}, incremental: Record<string, unknown> = { cursor_field: 'updated_at', order: 'asc' }) =>
  exampleSource('github_issues.yaml', (doc) => {
    doc.base_url = url;
    const stream = doc.streams[0]!;
    stream.params = { ...(stream.params as object), per_page: PER_PAGE, ...params };
    stream.incremental = incremental;
  });

/** Every record once, each in the window its cursor falls in; returns the lines per window start. */
function expectEachOnceInItsWindow<T>(lines: readonly StoredLine[], all: readonly T[], id: (record: T) => number, at: (record: T) => number, windows: { from: string; to: string }) {
  const expected = all.filter((r) => at(r) >= Date.parse(windows.from) && at(r) < Date.parse(windows.to));
  const ids = lines.map((l) => id(l.data as T));
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort((a, b) => a - b)).toEqual(expected.map(id).sort((a, b) => a - b));
  for (const line of lines) {
    const t = at(line.data as T);
    expect(t).toBeGreaterThanOrEqual(Date.parse(line._window_start));
    expect(t).toBeLessThan(Date.parse(line._window_end));
    expect(line.data).toEqual(all.find((r) => id(r) === id(line.data as T))); // the record as the API sent it
  }
}

describe('incremental on a since-only API (GitHub issues)', () => {
  // One issue every 5 minutes from midnight, so one lies exactly on each hour boundary.
  const issues = issuesEvery('2024-03-01T00:00:00Z', 5 * 60_000, 200);
  const updated = (i: Issue) => Date.parse(i.updated_at);
  const range = { from: '2024-03-01T01:00:00Z', to: '2024-03-01T05:00:00Z' };
  const windowStarts = [1, 2, 3, 4].map((h) => Date.parse('2024-03-01T00:00:00Z') + h * H);

  it('lands each issue once, in the hour of its update, and stops at the first issue past the window (asc)', async () => {
    const api = started(await startGithubIssuesApi({ issues }));
    const results = await landRange(await githubSource(api.url), lake, { ...range, env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => [r.status, r.records])).toEqual(windowStarts.map(() => ['committed', 12]));
    expectEachOnceInItsWindow(await readCommittedRecords(lake), issues, (i) => i.id, updated, range);

    // since = the window start, oldest first: 12 issues of the hour, then the first of the next
    // hour on page 3 stops paging. Without the early stop each window would page to the end (40 pages).
    for (const start of windowStarts) {
      const inOrAfter = issues.filter((i) => updated(i) >= start).length;
      const inWindow = issues.filter((i) => updated(i) >= start && updated(i) < start + H).length;
      const pages = Math.min(Math.floor(inWindow / PER_PAGE) + 1, Math.ceil(inOrAfter / PER_PAGE));
      const since = new Date(start).toISOString().replace('.000Z', 'Z');
      expect(api.requests.filter((r) => r.url.searchParams.get('since') === since)).toHaveLength(pages);
    }
    expect(api.requests).toHaveLength(12);
    const manifests = await readCurrentCommits(lake);
    expect(manifests.map((m) => [m.window.start, m.totals.records, m.filtered, m.pages])).toEqual(windowStarts.map((s) => [new Date(s).toISOString().replace('.000Z', 'Z'), 12, 3, 3]));
    expect(api.requests.every((r) => r.headers.authorization === 'Bearer ghp_test_token_0123456789')).toBe(true);
  });

  it('stops at the first issue before the window when the API lists newest first (desc, no since)', async () => {
    const api = started(await startGithubIssuesApi({ issues }));
    const source = await githubSource(api.url, { direction: 'desc', since: undefined }, { cursor_field: 'updated_at', order: 'desc' });
    expect(source.streams[0]!.params.since).toBeUndefined();
    const results = await landRange(source, lake, { ...range, env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => r.records)).toEqual([12, 12, 12, 12]);
    expectEachOnceInItsWindow(await readCommittedRecords(lake), issues, (i) => i.id, updated, range);
    // Newest first: the first issue older than the window sits after every issue from the window start on.
    const expected = windowStarts.map((start) => Math.floor(issues.filter((i) => updated(i) >= start).length / PER_PAGE) + 1);
    expect(api.requests).toHaveLength(expected.reduce((a, b) => a + b, 0));
    expect(api.requests.length).toBeLessThan(4 * Math.ceil(issues.length / PER_PAGE));
  });

  it('filters a since-only API read newest first without stopping early, since nothing older comes (desc with since)', async () => {
    const api = started(await startGithubIssuesApi({ issues }));
    const source = await githubSource(api.url, { direction: 'desc' }, { cursor_field: 'updated_at', order: 'desc' });
    await landRange(source, lake, { ...range, env: GITHUB_TOKEN_ENV });
    expectEachOnceInItsWindow(await readCommittedRecords(lake), issues, (i) => i.id, updated, range);
    const expected = windowStarts.map((start) => Math.ceil(issues.filter((i) => updated(i) >= start).length / PER_PAGE));
    expect(api.requests).toHaveLength(expected.reduce((a, b) => a + b, 0));
    const manifests = await readCurrentCommits(lake);
    expect(manifests.map((m) => m.filtered)).toEqual(windowStarts.map((start) => issues.filter((i) => updated(i) >= start + H).length));
  });

  it('fails if the API breaks the declared order, landing nothing, instead of stopping early on it', async () => {
    // asc declared, the API asked for desc: the second record is older than the first.
    const api = started(await startGithubIssuesApi({ issues }));
    const source = await githubSource(api.url, { direction: 'desc', since: undefined });
    const [result] = await landRange(source, lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z', env: GITHUB_TOKEN_ENV });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(
      /^page 1: record 2 has 2024-03-01T16:30:00\.000Z after record 1's 2024-03-01T16:35:00\.000Z, so the API does not return records in ascending order of incremental\.cursor_field "updated_at"; order: asc stops paging early/,
    );
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
    expect(api.requests).toHaveLength(1);
  });
});

describe("incremental on Zendesk's incremental export", () => {
  // A ticket every 2 minutes for 5 hours; generated_timestamp is epoch seconds.
  const tickets = ticketsEvery('2024-03-01T00:00:00Z', 120, 150);
  const changed = (t: Ticket) => t.generated_timestamp * 1000;
  const zendesk = (url: string) =>
    exampleSource('zendesk.yaml', (doc) => {
      doc.base_url = url;
      doc.streams[0]!.params = { ...(doc.streams[0]!.params as object), per_page: 10 };
    });
  const env = { APILAKE_SECRET_APILAKE_ZENDESK: '{"username":"agent@example.com/token","password":"zd-token-0123456789"}' };

  it('lands each ticket once in the hour of its last change, stopping at the first ticket past the hour', async () => {
    const api = started(await startZendeskApi({ tickets }));
    const range = { from: '2024-03-01T00:00:00Z', to: '2024-03-01T05:00:00Z' };
    const results = await landRange(await zendesk(api.url), lake, { ...range, env });
    expect(results.map((r) => [r.status, r.records])).toEqual([0, 1, 2, 3, 4].map(() => ['committed', 30]));
    expectEachOnceInItsWindow(await readCommittedRecords(lake), tickets, (t) => t.id, changed, range);
    // 30 tickets an hour in pages of 10: pages 1–3, then page 4 starts with the next hour and
    // stops paging; the last hour ends with the export (end_of_stream) on page 3.
    expect(api.requests).toHaveLength(4 * 4 + 3);
    expect(api.requests.filter((r) => r.url.searchParams.has('start_time')).map((r) => Number(r.url.searchParams.get('start_time')))).toEqual(
      [0, 1, 2, 3, 4].map((h) => Date.parse('2024-03-01T00:00:00Z') / 1000 + h * 3600),
    );
    expect((await readCurrentCommits(lake)).map((m) => m.filtered)).toEqual([10, 10, 10, 10, 0]);
  });
});

describe('records without a usable cursor', () => {
  const pages = [
    [
      { id: 1, updated_at: '2024-03-01T01:00:00Z' },
      { id: 2, updated_at: '2024-03-01T01:10:00+01:00' },
    ],
    [{ id: 3, updated_at: '2024-03-01T01:20:00Z' }, { id: 4, updated_at: '2024-03-01T01:30:00Z' }, { id: 5 }],
  ];
  const source = (url: string, records: unknown[][]) => {
    void records;
    return parseSource(
      JSON.stringify({
        name: 'feed',
        schedule: 'rate(1 hour)',
        base_url: url,
        streams: [{ name: 'events', path: '/events', records: 'data', pagination: { type: 'cursor', cursor: 'next', param: 'page' }, incremental: { cursor_field: 'updated_at', order: 'none' } }],
      }),
      'feed.yaml',
    );
  };

  it.each([
    ['missing', pages, 'page 2, record 3: incremental.cursor_field "updated_at" is missing (or null)'],
    ['unparseable', [pages[0]!, [{ id: 3, updated_at: 'yesterday' }]], 'page 2, record 1: incremental.cursor_field "updated_at" is "yesterday"'],
    ['a date that does not exist', [[{ id: 3, updated_at: '2024-02-30T10:00:00Z' }]], 'page 1, record 1: incremental.cursor_field "updated_at" is "2024-02-30T10:00:00Z"'],
    ['an object', [[{ id: 3, updated_at: { at: 1 } }]], 'page 1, record 1: incremental.cursor_field "updated_at" is an object'],
  ])('fails the window, naming the page, the record and the field, when the cursor is %s', async (_what, served, message) => {
    const api = started(
      await startJsonServer((request) => {
        const page = Number(request.url.searchParams.get('page') ?? 0);
        return { body: { data: served[page], next: page + 1 < served.length ? page + 1 : null } };
      }),
    );
    const [result] = await landRange(source(api.url, served), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result!.status).toBe('failed');
    expect(result!.error!.name).toBe('RecordFieldError');
    expect(result!.error!.message.startsWith(message)).toBe(true);
    expect(result!.error!.message).toMatch(/expected ISO 8601 or RFC 2822 text or an epoch number in s, ms, us or ns .*\(GET http:\/\/127\.0\.0\.1:\d+\/events/);
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
  });

  it('reads ISO 8601 with offsets: 01:10+01:00 is 00:10Z and lands in the midnight window', async () => {
    const api = started(await startJsonServer(() => ({ body: { data: pages[0], next: null } })));
    const [result] = await landRange(source(api.url, pages), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result!.status).toBe('committed');
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual([2]);
    expect((await readCurrentCommits(lake))[0]!.filtered).toBe(1);
  });
});

describe('epoch cursors in every unit', () => {
  // One event every 7 minutes from midnight; each window [01:00, 04:00) hour holds 8 or 9 of them.
  const BASE = Date.parse('2024-03-01T00:00:00Z');
  const events = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, at: BASE + i * 7 * 60_000 + (i % 3) * 123 }));
  const range = { from: '2024-03-01T01:00:00Z', to: '2024-03-01T04:00:00Z' };
  const starts = [1, 2, 3].map((h) => BASE + h * H);

  /** A feed that serves every event (no server-side window), 5 a page, with `ts` written by `cursor` as raw JSON. */
  const feed = (cursor: (ms: number) => string) =>
    startJsonServer((request) => {
      const page = Number(request.url.searchParams.get('page') ?? 0);
      const slice = events.slice(page * 5, page * 5 + 5);
      const data = slice.map((e) => `{"id":${e.id},"ts":${cursor(e.at)}}`).join(',');
      return { body: `{"data":[${data}],"next":${page * 5 + 5 < events.length ? page + 1 : null}}` };
    });
  const feedSource = (url: string, incremental: Record<string, unknown>) =>
    parseSource(
      JSON.stringify({
        name: 'feed',
        schedule: 'rate(1 hour)',
        base_url: url,
        streams: [
          { name: 'events', path: '/events', records: 'data', pagination: { type: 'cursor', cursor: 'next', param: 'page' }, incremental: { cursor_field: 'ts', order: 'none', ...incremental } },
        ],
      }),
      'feed.yaml',
    );

  it.each<[string, (ms: number) => string, Record<string, unknown>]>([
    ['microseconds (a JSON number)', (ms) => `${ms}456`, {}],
    ['nanoseconds (a JSON number past 2^53)', (ms) => `${ms}456789`, {}],
    ['nanoseconds (digits in a string)', (ms) => `"${ms}456789"`, {}],
    ['microseconds declared with unit: us', (ms) => `${ms}000`, { unit: 'us' }],
    ['seconds with a fraction, declared with unit: s', (ms) => `${ms / 1000}`, { unit: 's' }],
  ])('lands every record once, in the window its cursor falls in, for a cursor in %s', async (_what, cursor, incremental) => {
    const api = started(await feed(cursor));
    const results = await landRange(feedSource(api.url, incremental), lake, range);
    const inWindow = (start: number) => events.filter((e) => e.at >= start && e.at < start + H);
    expect(results.map((r) => [r.status, r.records])).toEqual(starts.map((s) => ['committed', inWindow(s).length]));
    // Each event once, in the window of its instant (the landed `ts` is in the API's unit; the id says the instant).
    const landed = (await readCommittedRecords(lake)).map((l) => [(l.data as { id: number }).id, Date.parse(l._window_start)]);
    expect(landed).toEqual(starts.flatMap((s) => inWindow(s).map((e) => [e.id, s])));
    expect((await readCurrentCommits(lake)).map((m) => m.filtered)).toEqual(starts.map((s) => events.length - inWindow(s).length));
  });

  it('reads milliseconds of the first hours of 1970 as declared (unit: ms), which by magnitude would be seconds', async () => {
    // 01:00–04:00 on 1970-01-01 is 3,600,000–14,400,000 ms: read as seconds these would be February–June 1970.
    const api = started(await feed((ms) => `${ms - BASE}`));
    const early = { from: '1970-01-01T01:00:00Z', to: '1970-01-01T04:00:00Z' };
    const results = await landRange(feedSource(api.url, { unit: 'ms' }), lake, early);
    expect(results.map((r) => r.records)).toEqual([1, 2, 3].map((h) => events.filter((e) => e.at - BASE >= h * H && e.at - BASE < (h + 1) * H).length));
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual(events.filter((e) => e.at - BASE >= H && e.at - BASE < 4 * H).map((e) => e.id));
  });

  it.each<[string, (ms: number) => string, Record<string, unknown>, string]>([
    [
      'epoch seconds past 2200',
      (ms) => (ms === events[7]!.at ? '9000000000' : `${ms}`),
      {},
      'page 2, record 3: incremental.cursor_field "ts" is 9000000000, read as epoch seconds by its magnitude 2255-03-14T16:00:00.000Z, outside 1970–2200 where a cursor must lie; if the API sends another unit, declare it with incremental.unit (s, ms, us or ns)',
    ],
    [
      'a zero date',
      (ms) => (ms === events[7]!.at ? '"0001-01-01T00:00:00Z"' : `${ms}`),
      {},
      'page 2, record 3: incremental.cursor_field "ts" is "0001-01-01T00:00:00Z", read as ISO 8601 0001-01-01T00:00:00.000Z, outside 1970–2200',
    ],
    [
      'microseconds declared as seconds',
      (ms) => `${ms}000`,
      { unit: 's' },
      'page 1, record 1: incremental.cursor_field "ts" is 1709251200000000; expected ISO 8601 or RFC 2822 text or an epoch number in s (incremental.unit)',
    ],
  ])('fails the window on %s, naming the page, the record, the field and the value, committing nothing', async (_what, cursor, incremental, message) => {
    const api = started(await feed(cursor));
    const [result] = await landRange(feedSource(api.url, incremental), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result).toMatchObject({ stream: 'events', status: 'failed' });
    expect(result!.error!.name).toBe('RecordFieldError');
    expect(result!.error!.message).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* \\(GET http://127\\.0\\.0\\.1:\\d+/events`));
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
  });
});
