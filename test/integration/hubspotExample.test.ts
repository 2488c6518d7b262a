import { afterEach, describe, expect, it } from 'vitest';
import { hubspotContact, startHubspotSearchApi, type HubspotContact, type HubspotSearchApi } from '../support/apis/hubspotSearchApi.js';
import { apilake } from '../support/cli.js';
import { exampleWorkspace, expectNoSecrets } from '../support/exampleWorkspace.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';
const ENV = { APILAKE_SECRET_APILAKE_HUBSPOT: JSON.stringify({ token: TOKEN }) };
const H = 3_600_000;
const T0 = Date.parse('2024-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
// Scaled down 100×: the search returns at most 100 results (10,000 in HubSpot), 20 a page (200).
const CAP = 100;
// Hour 0: 250 contacts evenly (more than the cap: split into quarters of 63, 62, 63 and 62);
// hour 1: 50 (within the cap); hour 2: 150 changed in the same millisecond (cannot be split).
const contacts: HubspotContact[] = [
  ...Array.from({ length: 250 }, (_, k) => hubspotContact(k + 1, iso(T0 + k * 14_400))),
  ...Array.from({ length: 50 }, (_, k) => hubspotContact(1000 + k, iso(T0 + H + k * 72_000))),
  ...Array.from({ length: 150 }, (_, k) => hubspotContact(2000 + k, iso(T0 + 2 * H + 500))),
];

let api: HubspotSearchApi | undefined;
afterEach(() => api?.close());

const patch = (url: string) => (doc: Record<string, unknown> & { streams: Record<string, unknown>[] }) => {
  doc.base_url = url;
  doc.rate_limit = { concurrency: 1 };
  doc.retry = { max_attempts: 1 };
  const contactsStream = doc.streams[0]!;
  contactsStream.max_results = { limit: CAP, total: 'total' };
  contactsStream.body = { ...(contactsStream.body as object), limit: 20 };
};

describe('examples/hubspot.yaml against a simulation of HubSpot search', () => {
  it('splits an hour with more results than the cap into parts that each fit, landing every contact once; fails an hour it cannot split, naming the cap', async () => {
    api = await startHubspotSearchApi({ token: TOKEN, contacts, cap: CAP });
    const work = await exampleWorkspace('hubspot.yaml', patch(api.url));
    const args = ['--lake', work.lake, '--sources', work.sources];
    const run = await apilake(['backfill', 'hubspot', '--from', iso(T0), '--to', iso(T0 + 3 * H), ...args], { cwd: work.root, env: ENV });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /✗ contacts \[2024-03-01T02:00:00Z, 2024-03-01T03:00:00Z\) \(1h\) FAILED after 12 pages, 0 retries, [\d.]+ s: \[2024-03-01T02:00:00Z, 2024-03-01T02:00:01Z\) \(1s\) has 150 results, more than max_results 100, and cannot be split below 1s \(max_results\.min_span\): the search would return only the first 100, so nothing of the window is landed \(POST http:\/\/127\.0\.0\.1:\d+\/crm\/v3\/objects\/contacts\/search\)/,
    );

    // Hours 0 and 1 committed, each contact once in the hour it changed; nothing of hour 2.
    const commits = await readCurrentCommits(work.lake);
    expect(commits.map((m) => [m.window.start, m.totals.records])).toEqual([
      ['2024-03-01T00:00:00Z', 250],
      ['2024-03-01T01:00:00Z', 50],
    ]);
    const lines = await readCommittedRecords(work.lake);
    const landed = lines.map((l) => (l.data as HubspotContact).id);
    expect(landed).toEqual(contacts.filter((c) => Date.parse(c.updatedAt) < T0 + 2 * H).map((c) => c.id));
    for (const line of lines) {
      const changed = Date.parse((line.data as HubspotContact).updatedAt);
      expect(changed).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(changed).toBeLessThan(Date.parse(line._window_end));
    }

    // Requests bounded: hour 0 asks the hour (1), its halves (2), then pages its quarters (4 pages each).
    const hour0 = api.searches.filter((s) => s.from >= T0 && s.from < T0 + H);
    const quarter = H / 4;
    expect(hour0.filter((s) => s.after === 0).map((s) => [s.from - T0, s.to - T0])).toEqual([
      [0, H],
      [0, H / 2],
      [0, quarter],
      [quarter, 2 * quarter],
      [H / 2, H],
      [2 * quarter, 3 * quarter],
      [3 * quarter, H],
    ]);
    expect(hour0).toHaveLength(3 + 4 * 4);
    expect(api.searches.filter((s) => s.from >= T0 + H && s.from < T0 + 2 * H)).toHaveLength(3);
    // Hour 2 halves its first part down to a second: 1h, 30m, 15m, … 3s, 1s; never a page past the cap.
    expect(api.searches.filter((s) => s.from >= T0 + 2 * H).map((s) => (s.to - s.from) / 1000)).toEqual([3600, 1800, 900, 450, 225, 112, 56, 28, 14, 7, 3, 1]);
    expect(api.searches.every((s) => s.after < CAP)).toBe(true);

    await expectNoSecrets([TOKEN], [run.stdout, run.stderr], work.lake);
  });
});
