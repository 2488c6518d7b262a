/**
 * examples/jira.yaml against a simulation of Jira Cloud's issue search: JQL dates in Jira's own
 * format and in the user's time zone, startAt/maxResults/total paging, each issue landed once in
 * the hour of its last update.
 */

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { jiraIssuesEvery, startJiraApi, JIRA_SEARCH_PATH, type JiraIssue } from '../support/apis/jiraApi.js';
import { exampleSource } from '../support/exampleSource.js';
import type { JsonServer } from '../support/jsonServer.js';
import { landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const H = 3_600_000;
const EMAIL = 'etl@example.com';
const API_TOKEN = 'ATATT3xFfGF0-jira-token-0123456789';
const ENV = { APILAKE_SECRET_APILAKE_JIRA: JSON.stringify({ username: EMAIL, password: API_TOKEN }) };
const PAGE = 10;

let lake: string;
let api: JsonServer | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-jira-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The example pointed at the simulation, with pages of {@link PAGE}; `jql` replaces its JQL. */
const jiraSource = (url: string, jql?: string) =>
  exampleSource('jira.yaml', (doc) => {
    doc.base_url = url;
    const stream = doc.streams[0]!;
    stream.pagination = { ...(stream.pagination as object), limit: PAGE };
    if (jql !== undefined) stream.params = { ...(stream.params as object), jql };
  });

/** Issues every 150 s from `from`, plus some on and just inside the hour boundaries. */
function issuesAround(from: string, hours: number): JiraIssue[] {
  const regular = jiraIssuesEvery('OPS', from, 150_000, (hours * H) / 150_000);
  const edges = [1, 2, 3].flatMap((h) => [Date.parse(from) + h * H - 1, Date.parse(from) + h * H + 30_000]);
  // Another project's issues in the same hours are never asked for.
  const other = jiraIssuesEvery('WEB', from, 600_000, (hours * H) / 600_000);
  return [
    ...regular,
    ...edges.map((updatedMs, i) => ({ id: String(20_000 + i), key: `OPS-${900 + i}`, summary: `edge ${i}`, updatedMs })),
    ...other.map((issue, i) => ({ ...issue, id: String(30_000 + i) })),
  ];
}

const searches = (server: JsonServer) => server.requests.filter((r) => r.url.pathname === JIRA_SEARCH_PATH);

/** No file of the lake holds the token or the basic auth header. */
async function expectNoSecretIn(root: string, extra: readonly string[]) {
  const basic = Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64');
  for (const key of await listFiles(root)) {
    const bytes = await readFile(join(root, key));
    const text = (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
    expect(text).not.toContain(API_TOKEN);
    expect(text).not.toContain(basic);
  }
  for (const text of extra) {
    expect(text).not.toContain(API_TOKEN);
    expect(text).not.toContain(basic);
  }
}

describe('the Jira example', () => {
  it('lands each OPS issue once, in the hour of its last update, asking JQL for each hour in the user zone to the minute', async () => {
    const issues = issuesAround('2024-03-01T08:00:00Z', 4);
    const server = (api = await startJiraApi({ issues, email: EMAIL, apiToken: API_TOKEN, userTimeZone: 'Europe/Berlin' }));
    const source = await jiraSource(server.url);
    const range = { from: '2024-03-01T08:00:00Z', to: '2024-03-01T12:00:00Z' };
    const results = await landRange(source, lake, { ...range, env: ENV });

    const ops = issues.filter((i) => i.key.startsWith('OPS-'));
    const inHour = (start: number) => ops.filter((i) => i.updatedMs >= start && i.updatedMs < start + H);
    const starts = [0, 1, 2, 3].map((h) => Date.parse(range.from) + h * H);
    expect(results.map((r) => [r.status, r.records])).toEqual(starts.map((s) => ['committed', inHour(s).length]));
    expect(starts.map((s) => inHour(s).length)).toEqual([25, 26, 26, 25]); // 24 regular, plus the edges of each side

    const lines = await readCommittedRecords(lake);
    const keys = lines.map((l) => (l.data as { key: string }).key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(ops.map((i) => i.key).sort());
    for (const line of lines) {
      const issue = ops.find((i) => i.key === (line.data as { key: string }).key)!;
      expect(issue.updatedMs).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(issue.updatedMs).toBeLessThan(Date.parse(line._window_end));
    }

    // Each hour in Berlin's wall-clock time (+01:00 in March), paged by startAt with the first page's total.
    const jqls = [...new Set(searches(server).map((r) => r.url.searchParams.get('jql')))];
    expect(jqls).toEqual(
      ['09:00', '10:00', '11:00', '12:00'].map((h, i) => `project = OPS AND updated >= "2024-03-01 ${h}" AND updated < "2024-03-01 ${['10:00', '11:00', '12:00', '13:00'][i]}" ORDER BY updated ASC`),
    );
    for (const [i, jql] of jqls.entries()) {
      const startAts = searches(server)
        .filter((r) => r.url.searchParams.get('jql') === jql)
        .map((r) => [Number(r.url.searchParams.get('startAt')), Number(r.url.searchParams.get('maxResults'))]);
      expect(startAts.sort((a, b) => a[0]! - b[0]!)).toEqual([0, 10, 20].map((at) => [at, PAGE]));
      expect(Math.ceil(inHour(starts[i]!).length / PAGE)).toBe(3);
    }
    expect(searches(server)).toHaveLength(12);

    // The typed table reads Jira's 2024-03-01T10:04:05.123+0100 with the column's format: no NULLs.
    const manifests = await readCurrentCommits(lake);
    expect(manifests.map((m) => m.type_errors)).toEqual([undefined, undefined, undefined, undefined]);
    const { rows } = await runLocalQuery(`SELECT key, CAST(updated AS VARCHAR) FROM jira_issues WHERE key IN ('OPS-1', 'OPS-901') ORDER BY key`, lake, {
      specs: source.streams.map((s) => tableSpec(source, s)),
    });
    expect(rows).toEqual([
      ['OPS-1', '2024-03-01 08:00:00'],
      ['OPS-901', '2024-03-01 09:00:30'],
    ]);
    await expectNoSecretIn(
      lake,
      results.map((r) => JSON.stringify(r)),
    );
  });

  it("fails the window with Jira's own message if the JQL carries ISO 8601 times, landing nothing", async () => {
    const server = (api = await startJiraApi({ issues: issuesAround('2024-03-01T08:00:00Z', 1), email: EMAIL, apiToken: API_TOKEN, userTimeZone: 'Europe/Berlin' }));
    const source = await jiraSource(server.url, 'project = OPS AND updated >= "{window.start}" AND updated < "{window.end}"');
    const [result] = await landRange(source, lake, { from: '2024-03-01T08:00:00Z', to: '2024-03-01T09:00:00Z', env: ENV });
    expect(result!.status).toBe('failed');
    expect(searches(server)).toHaveLength(1);
    expect(searches(server)[0]!.url.searchParams.get('jql')).toContain('"2024-03-01T08:00:00Z"');
    expect(result!.error!.message).toContain('400');
    expect(result!.error!.message).toContain("Date value '2024-03-01T08:00:00Z' for field 'updated' is invalid");
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
    await expectNoSecretIn(lake, [JSON.stringify(result)]);
  });

  it('lands the hours around both of Berlin clock changes once, and fails the hours that would start or end in a time shown twice, sending nothing for them', async () => {
    // 2024-03-31 01:00Z: 02:00 becomes 03:00 (one hour is 01:00–03:00 on the clock).
    // 2024-10-27 01:00Z: 03:00 becomes 02:00 again, so 02:00–02:59 is shown twice.
    const spring = issuesAround('2024-03-30T23:00:00Z', 3);
    const autumn = issuesAround('2024-10-26T23:00:00Z', 3).map((i) => ({ ...i, id: `9${i.id}`, key: i.key.replace('-', '-9') }));
    const server = (api = await startJiraApi({ issues: [...spring, ...autumn], email: EMAIL, apiToken: API_TOKEN, userTimeZone: 'Europe/Berlin' }));
    const source = await jiraSource(server.url);
    const springResults = await landRange(source, lake, { from: '2024-03-30T23:00:00Z', to: '2024-03-31T02:00:00Z', env: ENV });
    const autumnResults = await landRange(source, lake, { from: '2024-10-26T23:00:00Z', to: '2024-10-27T02:00:00Z', env: ENV });

    expect(springResults.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);
    // 23:00Z–00:00Z ends at 02:00 on the clock, 00:00Z–01:00Z starts there, 01:00Z–02:00Z starts at 02:00 (the second time).
    expect(autumnResults.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(autumnResults[1]!.error!.message).toContain('renders "2024-10-27 02:00" for 2024-10-27T00:00:00Z, a time Europe/Berlin shows twice');
    expect(
      searches(server).map((r) =>
        r.url.searchParams
          .get('jql')!
          .match(/"[^"]+"/g)!
          .join(' '),
      ),
    ).toEqual(expect.arrayContaining(['"2024-03-31 00:00" "2024-03-31 01:00"', '"2024-03-31 01:00" "2024-03-31 03:00"', '"2024-03-31 03:00" "2024-03-31 04:00"']));
    expect(searches(server).every((r) => r.url.searchParams.get('jql')!.includes('2024-03-3'))).toBe(true);

    const ops = spring.filter((i) => i.key.startsWith('OPS-') && i.updatedMs < Date.parse('2024-03-31T02:00:00Z'));
    const keys = (await readCommittedRecords(lake)).map((l) => (l.data as { key: string }).key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(ops.map((i) => i.key).sort());
  });
});
