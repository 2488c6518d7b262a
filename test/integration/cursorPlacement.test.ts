import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { exampleSource } from '../support/exampleSource.js';
import { nodesEvery, startGraphqlApi, type IssueNode } from '../support/graphqlApi.js';
import type { JsonServer } from '../support/jsonServer.js';
import { GITHUB_TOKEN_ENV, landRange } from '../support/landRange.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { startSparseFeedApi } from '../support/sparseFeedApi.js';

let lake: string;
const servers: JsonServer[] = [];
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-cursors-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("a cursor in a GraphQL body (GitHub's search connection)", () => {
  // One node every 6 minutes: one lies on each hour, which updated:A..B finds in two windows.
  const nodes = nodesEvery('2024-03-01T00:00:00Z', 6 * 60_000, 30);
  const at = (n: IssueNode) => Date.parse(n.updatedAt);

  it('pages with variables.after until hasNextPage is false, and lands each node once in its window', async () => {
    const api = await startGraphqlApi(nodes);
    servers.push(api);
    const source = await exampleSource('github_graphql.yaml', (doc) => {
      doc.base_url = api.url;
      const body = doc.streams[0]!.body as { variables: Record<string, unknown> };
      body.variables.first = 4;
    });
    const results = await landRange(source, lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T03:00:00Z', env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => [r.status, r.records])).toEqual([
      ['committed', 10],
      ['committed', 10],
      ['committed', 10],
    ]);

    const lines = await readCommittedRecords(lake);
    expect(lines.map((l) => (l.data as IssueNode).number).sort((a, b) => a - b)).toEqual(nodes.map((n) => n.number));
    for (const line of lines) {
      expect(at(line.data as IssueNode)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(at(line.data as IssueNode)).toBeLessThan(Date.parse(line._window_end));
    }
    // The inclusive end brings the next hour's first node into each window but the last, where it is dropped.
    expect((await readCurrentCommits(lake)).map((m) => m.filtered)).toEqual([1, 1, 0]);

    // Windows of 11, 11 and 10 matches in pages of 4: 3 POSTs each, the cursor in the body.
    expect(api.requests).toHaveLength(9);
    const bodies = api.requests.map((r) => JSON.parse(r.body) as { query: string; variables: { q: string; first: number; after: string | null } });
    expect(bodies.map((b) => b.variables.after)).toEqual([0, 1, 2].flatMap(() => [null, Buffer.from('cursor:4').toString('base64'), Buffer.from('cursor:8').toString('base64')]));
    expect(bodies[0]!.variables.q).toBe('repo:aws/aws-cdk updated:2024-03-01T00:00:00Z..2024-03-01T01:00:00Z');
    expect(new Set(bodies.map((b) => b.query)).size).toBe(1);
    expect(api.requests.every((r) => r.method === 'POST' && r.headers['content-type'] === 'application/json' && r.url.search === '')).toBe(true);
  });

  it('fails the window on a GraphQL error (HTTP 200 with errors and no data) instead of landing an empty page', async () => {
    const api = await startGraphqlApi(nodes);
    servers.push(api);
    const source = await exampleSource('github_graphql.yaml', (doc) => {
      doc.base_url = api.url;
      (doc.streams[0]!.body as { variables: Record<string, unknown> }).variables.after = 'not-a-cursor';
    });
    const [result] = await landRange(source, lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z', env: GITHUB_TOKEN_ENV });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(/records path "data\.search\.nodes"/);
  });
});

describe('empty pages in the middle of a stream', () => {
  // Pages 2, 4, 5 and 7 are empty but for the way to the next page.
  const pages = [[1, 2], [], [3], [], [], [4, 5], []];
  const source = (url: string, path: string, pagination: Record<string, unknown>, records = 'data') =>
    parseSource(JSON.stringify({ name: 'feed', schedule: 'rate(1 hour)', base_url: url, streams: [{ name: 'events', path, records, pagination }] }), 'feed.yaml');

  it.each([
    ['cursor in a query parameter', '/feed', { type: 'cursor', cursor: 'next', param: 'cursor' }, 'data'],
    ['cursor in a header', '/feed', { type: 'cursor', cursor: 'next', param: 'X-Page-Cursor', in: 'header' }, 'data'],
    ['next_url', '/feed-next', { type: 'next_url', next: 'next' }, 'data'],
    ['link_header', '/feed-link', { type: 'link_header' }, '@'],
  ])('follows the %s past empty pages to the last record', async (_how, path, pagination, records) => {
    const api = await startSparseFeedApi(pages);
    servers.push(api);
    const [result] = await landRange(source(api.url, path, pagination, records), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result).toMatchObject({ status: 'committed', records: 5, pages: 7 });
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { id: number }).id)).toEqual([1, 2, 3, 4, 5]);
    expect(api.requests).toHaveLength(7);
    if (path === '/feed' && (pagination as { in?: string }).in === 'header') {
      expect(api.requests.map((r) => r.headers['x-page-cursor'])).toEqual([undefined, '1', '2', '3', '4', '5', '6']);
      expect(api.requests.every((r) => r.url.search === '')).toBe(true);
    }
  });

  it('still stops page_number paging at the first empty page, its only end signal', async () => {
    const api = await startSparseFeedApi(pages);
    servers.push(api);
    const [result] = await landRange(source(api.url, '/feed-link', { type: 'page_number', param: 'p', start: 0 }, '@'), lake, {
      from: '2024-03-01T00:00:00Z',
      to: '2024-03-01T01:00:00Z',
    });
    expect(result).toMatchObject({ status: 'committed', records: 2, pages: 2 });
  });

  it('ends a cursor that stays put on an empty page (a caught-up feed) without calling it a loop', async () => {
    const { startJsonServer } = await import('../support/jsonServer.js');
    const api = await startJsonServer((request) => {
      const cursor = request.url.searchParams.get('cursor') ?? 'a';
      return { body: cursor === 'a' ? { data: [{ id: 1 }], next: 'b' } : { data: [], next: 'b' } };
    });
    servers.push(api);
    const [result] = await landRange(source(api.url, '/tail', { type: 'cursor', cursor: 'next', param: 'cursor' }), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result).toMatchObject({ status: 'committed', records: 1, pages: 2 });
    expect(api.requests).toHaveLength(2);
  });

  it('still fails a cursor that stays put on a page with records', async () => {
    const { startJsonServer } = await import('../support/jsonServer.js');
    const api = await startJsonServer(() => ({ body: { data: [{ id: 1 }], next: 'same' } }));
    servers.push(api);
    const [result] = await landRange(source(api.url, '/stuck', { type: 'cursor', cursor: 'next', param: 'cursor' }), lake, { from: '2024-03-01T00:00:00Z', to: '2024-03-01T01:00:00Z' });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(/^page 3 would repeat the request of page 2 \(the cursor did not advance\)/);
  });
});
