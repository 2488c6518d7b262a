import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { activitiesEvery, startGoogleReportsApi, type Activity, type GoogleApi } from '../support/apis/googleApi.js';
import { landRange } from '../support/landRange.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const TOKEN = 'ya29.a0AfH6SMBx-test-token-0123456789';
const ENV = { APILAKE_SECRET_APILAKE_GOOGLE: JSON.stringify({ token: TOKEN }) };

/** Admin activities by hour; Google's 403 userRateLimitExceeded retried, a deleted user's 404 ignored. */
const source = (url: string, userKey = 'all') =>
  parseSource(
    `
name: google_reports
schedule: rate(1 hour)
base_url: ${url}
auth: { type: bearer, secret: apilake/google }
retry: { max_attempts: 8, base_delay_ms: 500, max_delay_ms: 30000 }
response_rules:
  - when: { status: 403, body: "error.errors[?reason=='userRateLimitExceeded' || reason=='rateLimitExceeded']" }
    action: retry
streams:
  - name: admin_activities
    path: /admin/reports/v1/activity/users/${userKey}/applications/admin
    params: { startTime: "{window.start}", endTime: "{window.end}", maxResults: 50 }
    records: "items || \`[]\`"
    pagination: { type: cursor, cursor: nextPageToken, param: pageToken }
    window: 1h
    response_rules:
      - when: { status: 404, body: "error.errors[?reason=='notFound']" }
        action: ignore
`,
    'sources/google_reports.yaml',
  );

let lake: string;
let api: GoogleApi | undefined;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-google-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('response rules against a Google API (Admin SDK Reports)', () => {
  const activities = activitiesEvery('2024-03-01T00:00:00Z', 14_000, 250);
  const range = { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z', env: ENV, random: () => 0.5 };

  it('retries 403 userRateLimitExceeded with backoff and lands every activity once', async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    api = await startGoogleReportsApi({ activities, token: TOKEN, clock, perSecond: 2 });
    const [result] = await landRange(source(api.url), lake, { ...range, clock });
    const limited = api.statuses.filter((s) => s === 403).length;
    expect(limited).toBeGreaterThan(0);
    expect(api.statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(result).toMatchObject({ status: 'committed', records: 250, pages: 5, requests: 5 + limited, retries: limited, throttled: limited });
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as Activity).id.uniqueQualifier);
    expect(new Set(ids).size).toBe(250);
    expect([...ids].sort()).toEqual(activities.map((a) => a.id.uniqueQualifier).sort());
    // Each retry waited its backoff on the clock.
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(limited);
  });

  it('fails at once on a 403 that is not a rate limit, quoting Google’s message', async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    api = await startGoogleReportsApi({ activities, token: 'another-token', unscopedToken: TOKEN, clock, perSecond: 2 });
    const [result] = await landRange(source(api.url), lake, { ...range, clock });
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/HTTP 403.*Request had insufficient authentication scopes/);
    expect(api.requests).toHaveLength(1);
    expect(result!.error?.message).not.toContain(TOKEN);
  });

  it('commits a window whose answer a rule ignores as empty, counted in the manifest', async () => {
    const clock = new ManualClock(Date.parse('2024-03-02T00:00:00Z'));
    api = await startGoogleReportsApi({ activities, token: TOKEN, clock, perSecond: 10 });
    const [result] = await landRange(source(api.url, 'gone@example.com'), lake, { ...range, clock });
    expect(result).toMatchObject({ status: 'committed', records: 0, pages: 1, requests: 1 });
    const [manifest] = await readCurrentCommits(lake);
    expect(manifest!.ignored_pages).toBe(1);
  });
});
