import { afterEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { exampleWorkspace, expectNoSecrets } from '../support/exampleWorkspace.js';
import { exampleSource } from '../support/exampleSource.js';
import { graphMailboxes, startMicrosoftGraphApi, type GraphApi, type GraphMessage } from '../support/apis/microsoftGraphApi.js';
import { landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TENANT = '11111111-2222-4333-8444-555555555555';
const CLIENT_ID = 'f0e1d2c3-app-registration';
const CLIENT_SECRET = 'Qx8~graph-client-secret-value-0123';
const ENV = { APILAKE_SECRET_APILAKE_GRAPH: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }) };
const H = 3_600_000;
const FROM = '2024-03-01T00:00:00Z';
// 5 users listed 2 a page (3 pages); 4 messages per user per hour, 3 a page (2 pages per user and hour).
const { users, messages } = graphMailboxes(5, FROM, 6, 4);

let api: GraphApi | undefined;
afterEach(() => api?.close());

const patch = (url: string, tokenUrl: string) => (doc: Record<string, unknown> & { streams: Record<string, unknown>[] }) => {
  doc.base_url = url;
  (doc.auth as Record<string, unknown>).token_url = tokenUrl;
  doc.rate_limit = { concurrency: 3 };
  doc.retry = { max_attempts: 1 };
  const [usersStream, messagesStream] = doc.streams as [Record<string, unknown>, Record<string, unknown>];
  usersStream.params = { ...(usersStream.params as object), $top: 2 };
  messagesStream.params = { ...(messagesStream.params as object), $top: 3 };
};

const usersRequests = (graph: GraphApi) => graph.requests.filter((r) => r.url.pathname === '/v1.0/users').length;

describe('examples/microsoft_graph.yaml against a simulation of Microsoft Graph', () => {
  it('lands each message once in the hour it was received, listing the users once per run, with no users table', async () => {
    api = await startMicrosoftGraphApi({ tenant: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, users, messages });
    const work = await exampleWorkspace('microsoft_graph.yaml', patch(api.url, api.tokenUrl));
    const args = ['--lake', work.lake, '--sources', work.sources];
    const backfill = await apilake(['backfill', 'microsoft_graph', '--from', FROM, '--to', '2024-03-01T06:00:00Z', '--concurrency', '3', ...args], { cwd: work.root, env: ENV });
    expect(backfill.code, backfill.stderr).toBe(0);

    const lines = await readCommittedRecords(work.lake);
    expect(lines).toHaveLength(6 * 5 * 4);
    expect(new Set(lines.map((l) => (l.data as GraphMessage).id)).size).toBe(lines.length);
    for (const line of lines) {
      const message = messages.find((m) => m.id === (line.data as GraphMessage).id)!;
      expect(Date.parse(message.receivedDateTime)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(Date.parse(message.receivedDateTime)).toBeLessThan(Date.parse(line._window_end));
      expect((line as unknown as { _parent: string })._parent).toBe(message.userId);
    }
    const commits = await readCurrentCommits(work.lake);
    expect(commits.map((m) => [m.stream, m.parents, m.totals.records])).toEqual(Array.from({ length: 6 }, () => ['messages', 5, 20]));
    // Requests bounded: the 3 pages of users once for the run's six windows (not 18), and 2 pages per user and hour.
    expect(usersRequests(api)).toBe(3);
    expect(api.requests.filter((r) => r.url.pathname.endsWith('/messages'))).toHaveLength(6 * 5 * 2);
    expect(api.requests.filter((r) => r.url.pathname.endsWith('/token'))).toHaveLength(1);
    expect((await listFiles(work.lake)).filter((k) => k.includes('stream=users'))).toEqual([]);

    const query = await apilake(['query', 'SELECT count(*) AS n FROM microsoft_graph_messages', '--format', 'csv', ...args], { cwd: work.root });
    expect(query.stdout.trim().split('\n').at(-1)).toBe('120');
    const noUsers = await apilake(['query', 'SELECT * FROM microsoft_graph_users', ...args], { cwd: work.root });
    expect(noUsers.code).not.toBe(0);
    expect(noUsers.stderr).toMatch(/microsoft_graph_users/);

    // Another run lists the users again, once.
    const again = await apilake(['run', 'microsoft_graph', '--from', '2024-03-01T04:00:00Z', '--to', '2024-03-01T06:00:00Z', '--force', ...args], { cwd: work.root, env: ENV });
    expect(again.code, again.stderr).toBe(0);
    expect(usersRequests(api)).toBe(6);

    await expectNoSecrets([CLIENT_SECRET, ...api.issuedTokens], [backfill.stdout, backfill.stderr, query.stdout, query.stderr, noUsers.stderr, again.stdout, again.stderr], work.lake);
  });

  it('refuses to run the parent-only stream, exit 2, naming its child', async () => {
    const work = await exampleWorkspace('microsoft_graph.yaml', () => undefined);
    const result = await apilake(['run', 'microsoft_graph', '--stream', 'users', '--lake', work.lake, '--sources', work.sources], { cwd: work.root, env: ENV });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stream "users" of source "microsoft_graph" is not landed (land: false): it only serves as the parent of "messages"; run those instead');
  });

  it('pages the users again in the next window after a window whose listing failed', async () => {
    api = await startMicrosoftGraphApi({ tenant: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, users, messages, failUsersRequests: [1] });
    const source = await exampleSource('microsoft_graph.yaml', (doc) => {
      patch(api!.url, api!.tokenUrl)(doc);
      doc.rate_limit = { concurrency: 1 };
    });
    const lake = await mkdtemp(join(tmpdir(), 'apilake-graph-'));
    const results = await landRange(source, lake, { from: FROM, to: new Date(Date.parse(FROM) + 3 * H).toISOString(), env: ENV });
    expect(results.map((r) => r.status)).toEqual(['failed', 'committed', 'committed']);
    expect(results[0]!.error!.message).toMatch(/^HTTP 503: .* \(parent stream "users" page 1, GET http:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?/);
    // The failed listing is not kept: the second window lists the users (3 pages), the third reuses them.
    expect(usersRequests(api)).toBe(1 + 3);
    expect((await readCurrentCommits(lake)).map((m) => m.window.start)).toEqual(['2024-03-01T01:00:00Z', '2024-03-01T02:00:00Z']);
  });
});
