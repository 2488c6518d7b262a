import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { curateRange } from '../../functions/engine/curateWindow.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { exampleSource } from '../support/exampleSource.js';
import { startJsonServer, type JsonServer } from '../support/jsonServer.js';
import { GITHUB_TOKEN_ENV, landRange } from '../support/landRange.js';
import { listFiles, readCommittedRecords, readCurrentCommits, type StoredLine } from '../support/lakeReader.js';
import { orgData, startOrgApi, type IssueComment, type RepoIssue } from '../support/orgApi.js';

const H = 3_600_000;
const REPOS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'empty'];
// 50 issues, one every 7 minutes from midnight, dealt to every repository but "empty".
const data = orgData({ repos: REPOS, emptyRepos: ['empty'], from: '2024-03-01T00:00:00Z', issues: 50, spacingMinutes: 7, commentsPerIssue: 3 });
const updated = (i: RepoIssue) => Date.parse(i.updated_at);

let lake: string;
let api: JsonServer;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-parents-'));
  api = await startOrgApi(data, { latencyMs: 15 });
});
afterEach(() => api.close());

/** The example organisation source on the local API: small pages on both levels, three parents at once, and a comments grandchild. */
function orgSource(patch: (streams: Record<string, unknown>[]) => void = () => undefined): Promise<SourceDefinition> {
  return exampleSource('github_org.yaml', (doc) => {
    doc.base_url = api.url;
    doc.vars = { org: 'acme' };
    doc.rate_limit = { concurrency: 3 };
    const [repos, issues] = doc.streams as [Record<string, unknown>, Record<string, unknown>];
    repos.params = { per_page: 2 };
    issues.params = { ...(issues.params as object), per_page: 3 };
    doc.streams.push({
      name: 'comments',
      parent: { stream: 'issues', key: 'number', as: 'number' },
      path: '/repos/{org}/{repo}/issues/{number}/comments',
      params: { per_page: 2 },
      records: '@',
      pagination: { type: 'link_header' },
      window: '1h',
    });
    patch(doc.streams);
  });
}

const inWindow = (start: number) => data.issues.filter((i) => updated(i) >= start && updated(i) < start + H);
const windowsOf = (lines: readonly StoredLine[]) => [...new Set(lines.map((l) => l._window_start))].sort();

describe('a child stream run per parent record', () => {
  it('lands each issue once with its repository as _parent, grouped by repository in list order, parents deduplicated', async () => {
    const source = await orgSource();
    const results = await landRange(source, lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T04:00:00Z', stream: 'issues', env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);

    const lines = await readCommittedRecords(lake);
    const starts = [1, 2, 3].map((h) => Date.parse('2024-03-01T00:00:00Z') + h * H);
    const expected = starts.flatMap(inWindow);
    expect(lines.map((l) => `${(l.data as RepoIssue).repo}#${(l.data as RepoIssue).number}`).sort()).toEqual(expected.map((i) => `${i.repo}#${i.number}`).sort());
    for (const line of lines) {
      const issue = line.data as RepoIssue;
      expect((line as unknown as { _parent: string })._parent).toBe(issue.repo);
      expect(updated(issue)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(updated(issue)).toBeLessThan(Date.parse(line._window_end));
    }
    for (const window of windowsOf(lines)) {
      const parents = lines.filter((l) => l._window_start === window).map((l) => (l as unknown as { _parent: string })._parent);
      // Grouped: each repository's issues in one run, the runs in the order the repositories were listed.
      const runs = parents.filter((p, i) => i === 0 || parents[i - 1] !== p);
      expect(runs).toEqual(REPOS.filter((r) => parents.includes(r)));
      for (const repo of runs) {
        const numbers = lines.filter((l) => l._window_start === window && (l.data as RepoIssue).repo === repo).map((l) => (l.data as RepoIssue).number);
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b)); // API order within a parent
      }
    }

    const manifests = await readCurrentCommits(lake);
    expect(manifests.map((m) => [m.stream, m.parents, m.totals.records])).toEqual(starts.map((s) => ['issues', REPOS.length, inWindow(s).length]));
    // The parent stream is never landed by its child.
    expect((await listFiles(lake)).some((k) => k.includes('stream=repos'))).toBe(false);
    for (const start of starts) {
      const since = new Date(start).toISOString().replace('.000Z', 'Z');
      const firstPages = api.requests.filter((r) => r.url.searchParams.get('since') === since && !r.url.searchParams.has('page'));
      // One first request per repository: "gamma", listed twice, ran once; "empty" ran and found nothing.
      expect(firstPages.map((r) => r.url.pathname).sort()).toEqual(REPOS.map((r) => `/repos/acme/${r}/issues`).sort());
    }
    // Its request has no window placeholder: its 3 pages are fetched once for the run's 3 windows.
    expect(api.requests.filter((r) => r.url.pathname === '/orgs/acme/repos')).toHaveLength(3);
    // Parents run concurrently, within the source's cap.
    expect(api.peak('/repos/')).toBeGreaterThan(1);
    expect(api.peak('/')).toBeLessThanOrEqual(3);
  });

  it('pages a parent whose request depends on the window once per window', async () => {
    const source = await orgSource(([repos]) => {
      repos!.params = { per_page: 2, since: '{window.start}' };
    });
    const results = await landRange(source, lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T04:00:00Z', stream: 'issues', env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);
    expect(api.requests.filter((r) => r.url.pathname === '/orgs/acme/repos')).toHaveLength(3 * 3);
    expect(new Set(api.requests.filter((r) => r.url.pathname === '/orgs/acme/repos').map((r) => r.url.searchParams.get('since'))).size).toBe(3);
  });

  it('writes _parent between _run_id and data', async () => {
    await landRange(await orgSource(), lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z', stream: 'issues', env: GITHUB_TOKEN_ENV });
    const part = (await listFiles(lake)).find((k) => k.endsWith('.jsonl.gz'))!;
    const first = gunzipSync(await readFile(join(lake, part)))
      .toString('utf8')
      .split('\n')[0]!;
    expect(first).toMatch(/"_run_id":"[^"]+","_parent":"alpha","data":\{"repo":"alpha","number":\d+,"updated_at":"2024-03-01T01:\d\d:00Z"\}\}$/);
  });

  it('runs a parent of a parent: comments per issue per repository, with both placeholders', async () => {
    const results = await landRange(await orgSource(), lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T03:00:00Z', stream: 'comments', env: GITHUB_TOKEN_ENV });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    const lines = await readCommittedRecords(lake);
    const starts = [1, 2].map((h) => Date.parse('2024-03-01T00:00:00Z') + h * H);
    const expected = starts.flatMap((s) => inWindow(s).flatMap((i) => data.comments.filter((c) => c.repo === i.repo && c.issue === i.number)));
    expect(lines.map((l) => (l.data as IssueComment).id).sort((a, b) => a - b)).toEqual(expected.map((c) => c.id).sort((a, b) => a - b));
    for (const line of lines) {
      const comment = line.data as IssueComment;
      expect((line as unknown as { _parent: number })._parent).toBe(comment.issue);
      const issue = data.issues.find((i) => i.repo === comment.repo && i.number === comment.issue)!;
      expect(updated(issue)).toBeGreaterThanOrEqual(Date.parse(line._window_start));
      expect(updated(issue)).toBeLessThan(Date.parse(line._window_end));
    }
    const manifests = await readCurrentCommits(lake);
    expect(manifests.map((m) => m.parents)).toEqual(starts.map((s) => inWindow(s).length));
    // Every issue of the window asked for its comments exactly once, with its repository in the path.
    const commentRequests = api.requests.filter((r) => r.url.pathname.endsWith('/comments') && !r.url.searchParams.has('page'));
    expect(commentRequests.map((r) => r.url.pathname).sort()).toEqual(
      starts
        .flatMap(inWindow)
        .map((i) => `/repos/acme/${i.repo}/issues/${i.number}/comments`)
        .sort(),
    );
    // Issues with three comments page on to a second page of two.
    expect(api.requests.filter((r) => r.url.pathname.endsWith('/comments') && r.url.searchParams.get('page') === '2').length).toBeGreaterThan(0);
    expect((await listFiles(lake)).some((k) => k.includes('stream=issues') || k.includes('stream=repos'))).toBe(false);
  });

  it('commits an empty window when the parent has no records in it', async () => {
    const [result] = await landRange(await orgSource(), lake, { from: '2024-03-01T10:00:00Z', to: '2024-03-01T11:00:00Z', stream: 'comments', env: GITHUB_TOKEN_ENV });
    expect(result).toMatchObject({ status: 'committed', records: 0 });
    expect((await readCurrentCommits(lake)).map((m) => [m.parents, m.totals.records])).toEqual([[0, 0]]);
    expect(api.requests.some((r) => r.url.pathname.endsWith('/comments'))).toBe(false);
  });

  it('fails the window, naming the parent record, when its key is missing', async () => {
    const source = await orgSource((streams) => {
      streams[1]!.parent = { stream: 'repos', key: 'slug', as: 'repo' };
    });
    const [result] = await landRange(source, lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z', stream: 'issues', env: GITHUB_TOKEN_ENV });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(
      /^parent stream "repos" page 1, record 1: parent\.key "slug" is missing \(or null\); expected a string or a number \(GET http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/repos\?/,
    );
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
  });

  it('fails the whole window when one parent fails, landing nothing of the others', async () => {
    const source = await orgSource((streams) => {
      // Repository ids are not names: every child request is a 404.
      streams[1]!.parent = { stream: 'repos', key: 'id', as: 'repo' };
    });
    const [result] = await landRange(source, lake, { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z', stream: 'issues', env: GITHUB_TOKEN_ENV });
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(/^HTTP 404/);
    expect(result!.error!.message).toMatch(/page 1 for repo=50\d/);
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
  });
});

describe('parent keys as the API sent them', () => {
  const H_RANGE = { from: '2024-03-01T01:00:00Z', to: '2024-03-01T02:00:00Z' };
  let catalog: JsonServer;
  afterEach(() => catalog?.close());

  /** Categories whose `id`s are the raw JSON texts given, each with two items. */
  const startCatalog = (ids: readonly string[]) =>
    startJsonServer((request) => {
      if (request.url.pathname === '/categories') return { body: `[${ids.map((id, i) => `{"id":${id},"n":${i}}`).join(',')}]` };
      const of = /^\/categories\/(.*)\/items$/.exec(request.url.pathname);
      if (!of) return { status: 404, body: { message: 'Not Found' } };
      return { body: [1, 2].map((k) => ({ sku: `${of[1]}-${k}` })) };
    });
  const catalogSource = (url: string, parent: Record<string, unknown> = {}, lakeOptions: Record<string, unknown> = {}) =>
    parseSource(
      JSON.stringify({
        name: 'catalog',
        schedule: 'rate(1 hour)',
        base_url: url,
        lake: lakeOptions,
        streams: [
          { name: 'categories', path: '/categories' },
          { name: 'items', path: '/categories/{category}/items', parent: { stream: 'categories', key: 'id', as: 'category', ...parent } },
        ],
      }),
      'catalog.yaml',
    );
  const landed = async () => (await readCommittedRecords(lake)).map((l) => [(l as unknown as { _parent: unknown })._parent, (l.data as { sku: string }).sku]);

  it('fails the window, naming the parent record, when a key that fills the path is empty, committing nothing', async () => {
    catalog = await startCatalog(['"books"', '""', '"games"']);
    const [result] = await landRange(catalogSource(catalog.url), lake, { ...H_RANGE, stream: 'items' });
    expect(result).toMatchObject({ stream: 'items', status: 'failed' });
    expect(result!.error!.message).toMatch(
      /^parent stream "categories" page 1, record 2: parent key "" cannot fill \{category\} in the path \/categories\/\{category\}\/items of stream "items": an empty key leaves "\/\/" in the path, which servers that merge slashes route to another endpoint \(parent\.skip_empty: true skips such parents\) \(GET http:\/\/127\.0\.0\.1:\d+\/categories\)$/,
    );
    expect(catalog.requests.some((r) => r.url.pathname.includes('//'))).toBe(false);
    expect((await listFiles(lake)).filter((k) => k.startsWith('raw/') || k.startsWith('manifests/'))).toEqual([]);
  });

  it('skips parents with an empty key where parent.skip_empty says so', async () => {
    catalog = await startCatalog(['"books"', '""', '"games"', '""']);
    const [result] = await landRange(catalogSource(catalog.url, { skip_empty: true }), lake, { ...H_RANGE, stream: 'items' });
    expect(result).toMatchObject({ status: 'committed', records: 4 });
    expect(await landed()).toEqual([
      ['books', 'books-1'],
      ['books', 'books-2'],
      ['games', 'games-1'],
      ['games', 'games-2'],
    ]);
    expect((await readCurrentCommits(lake)).map((m) => m.parents)).toEqual([2]);
    expect(catalog.requests.map((r) => r.url.pathname).sort()).toEqual(['/categories', '/categories/books/items', '/categories/games/items']);
  });

  it.each([
    ['raw parts and Parquet written together', {}],
    ['Parquet curated later from the raw parts', { parquet: false }],
  ])('fills number keys as the exact text the API sent, in the child URL, in _parent and its column (%s)', async (_how, lakeOptions) => {
    const ids = ['0.1000', '-0', '7', '1E2', '12345678901234567890'];
    catalog = await startCatalog(ids);
    const source = catalogSource(catalog.url, {}, lakeOptions);
    const [result] = await landRange(source, lake, { ...H_RANGE, stream: 'items' });
    expect(result).toMatchObject({ status: 'committed', records: 10 });
    expect((await readCurrentCommits(lake)).map((m) => m.parents)).toEqual([5]);
    expect(
      catalog.requests
        .filter((r) => r.url.pathname !== '/categories')
        .map((r) => r.url.pathname)
        .sort(),
    ).toEqual(ids.map((id) => `/categories/${id}/items`).sort());
    // The envelope carries each key's JSON text verbatim.
    const texts = (await Promise.all((await listFiles(lake)).filter((k) => k.endsWith('.jsonl.gz')).map(async (k) => gunzipSync(await readFile(join(lake, k))).toString('utf8')))).join('');
    for (const id of ids) expect(texts).toContain(`"_parent":${id},"data":{"sku":"${id}-1"}`);
    if ('parquet' in lakeOptions)
      await curateRange({ source, stream: 'items', selection: { kind: 'range', from: new Date(H_RANGE.from), to: new Date(H_RANGE.to) }, storage: new FsLakeStorage(lake) });
    const { rows } = await runLocalQuery("SELECT _parent, json_extract_string(data, '$.sku') FROM catalog_items ORDER BY 2", lake, { specs: source.streams.map((s) => tableSpec(source, s)) });
    expect(rows).toEqual(
      ids
        .flatMap((id) => [
          [id, `${id}-1`],
          [id, `${id}-2`],
        ])
        .sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    );
  });
});
