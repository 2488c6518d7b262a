import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLinks } from '../../functions/pagination/strategies/LinkHeaderPagination.js';
import { SENTRY_PAGE_SIZE, sentryEventsEvery, startSentryApi, type SentryEvent } from '../support/apis/sentryApi.js';
import { exampleSource } from '../support/exampleSource.js';
import type { JsonServer } from '../support/jsonServer.js';
import { landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';

const TOKEN = 'sntryu_0123456789abcdef0123456789abcdef';
const ENV = { APILAKE_SECRET_APILAKE_SENTRY: JSON.stringify({ token: TOKEN }) };
const H = 3_600_000;
const at = (e: SentryEvent) => Date.parse(e.dateCreated);

let lake: string;
let api: JsonServer | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-sentry-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('examples/sentry.yaml against Sentry’s project events', () => {
  // 520 events in the hour from 01:00 (one every 6.9 s), 30 in the hour before, none in the hour after.
  const busy = sentryEventsEvery('2024-03-01T01:00:00Z', 6_900, 520);
  const before = sentryEventsEvery('2024-03-01T00:00:00Z', 120_000, 30).map((e, i) => ({ ...e, id: `b${i}`, eventID: `b${i}` }));
  const events = [...before, ...busy];
  const range = { from: '2024-03-01T00:00:00Z', to: '2024-03-01T03:00:00Z', env: ENV };

  it('lands each of the 520 events once, in its hour, and stops at the next link that says results="false"', async () => {
    api = await startSentryApi({ events, org: 'acme', project: 'web', token: TOKEN });
    const source = await exampleSource('sentry.yaml', (doc) => {
      doc.base_url = api!.url;
    });
    const results = await landRange(source, lake, range);
    expect(results.map((r) => [r.status, r.records])).toEqual([
      ['committed', 30],
      ['committed', 520],
      ['committed', 0],
    ]);

    const lines = await readCommittedRecords(lake);
    const ids = lines.map((l) => (l.data as SentryEvent).eventID);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(events.map((e) => e.eventID).sort());
    for (const line of lines) {
      const event = line.data as SentryEvent;
      expect(at(event)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(at(event)).toBeLessThan(Date.parse(line._window_end));
      expect(event).toEqual(events.find((e) => e.eventID === event.eventID));
    }

    // One request a page: 1 + 6 (100 × 5 + 20) + 1; the last page of each window says results="false" for its next link.
    const perWindow = [30, 520, 0].map((n) => Math.max(1, Math.ceil(n / SENTRY_PAGE_SIZE)));
    expect(api.requests).toHaveLength(perWindow.reduce((a, b) => a + b));
    expect((await readCurrentCommits(lake)).map((m) => [m.window.start, m.pages])).toEqual([
      ['2024-03-01T00:00:00Z', 1],
      ['2024-03-01T01:00:00Z', 6],
      ['2024-03-01T02:00:00Z', 1],
    ]);
    const busyWindow = api.requests.filter((r) => r.url.searchParams.get('start') === '2024-03-01T01:00:00Z');
    expect(busyWindow.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, '0:100:0', '0:200:0', '0:300:0', '0:400:0', '0:500:0']);
    expect(api.requests.every((r) => r.url.searchParams.get('end') === new Date(Date.parse(r.url.searchParams.get('start')!) + H).toISOString().replace('.000Z', 'Z'))).toBe(true);

    for (const file of await listFiles(lake)) expect(await readFile(join(lake, file), 'utf8')).not.toContain(TOKEN);
  });

  it('the simulation keeps a next link past the last page, marked results="false"', async () => {
    api = await startSentryApi({ events: busy, org: 'acme', project: 'web', token: TOKEN });
    const response = await fetch(`${api.url}/api/0/projects/acme/web/events/?start=2024-03-01T01:00:00Z&end=2024-03-01T02:00:00Z&cursor=0:500:0`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await response.json()) as unknown[]).length).toBe(20);
    expect(parseLinks(response.headers.get('link') ?? '').get('next')?.params).toMatchObject({ results: 'false', cursor: '0:600:0' });
  });
});
