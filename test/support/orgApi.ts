/**
 * A GitHub organisation for parent → child streams, shaped like GitHub's REST API: repositories
 * (`/orgs/<org>/repos`), each repository's issues (`/repos/<org>/<repo>/issues`, `since` only,
 * `sort=updated`, `direction`) and each issue's comments (`…/issues/<n>/comments`), every list a
 * JSON array paged by `per_page`/`page` with a `Link: rel="next"` header. One repository appears
 * on two pages of the list (as offset paging does when a repository is created mid-listing), and
 * some repositories have no issues at all.
 * https://docs.github.com/en/rest/repos/repos#list-organization-repositories
 */

import { startJsonServer, type JsonServer, type SeenRequest } from './jsonServer.js';

/** A repository of the organisation. */
export interface Repo {
  readonly id: number;
  readonly name: string;
}

/** An issue of a repository. */
export interface RepoIssue {
  readonly repo: string;
  readonly number: number;
  readonly updated_at: string;
}

/** A comment on an issue. */
export interface IssueComment {
  readonly repo: string;
  readonly issue: number;
  readonly id: number;
  readonly body: string;
}

/** The organisation's data. */
export interface OrgData {
  readonly repos: readonly Repo[];
  readonly issues: readonly RepoIssue[];
  readonly comments: readonly IssueComment[];
}

/**
 * An organisation: issues every `spacingMinutes` from `from`, dealt round-robin to the
 * repositories not in `emptyRepos`; issue i gets i mod (commentsPerIssue + 1) comments.
 */
export function orgData(options: { repos: readonly string[]; emptyRepos: readonly string[]; from: string; issues: number; spacingMinutes: number; commentsPerIssue: number }): OrgData {
  const repos = options.repos.map((name, i) => ({ id: 500 + i, name }));
  const busy = options.repos.filter((r) => !options.emptyRepos.includes(r));
  const counters = new Map<string, number>();
  const issues = Array.from({ length: options.issues }, (_, i) => {
    const repo = busy[i % busy.length]!;
    const number = (counters.get(repo) ?? 0) + 1;
    counters.set(repo, number);
    return { repo, number, updated_at: new Date(Date.parse(options.from) + i * options.spacingMinutes * 60_000).toISOString().replace('.000Z', 'Z') };
  });
  const comments = issues.flatMap((issue, i) =>
    Array.from({ length: i % (options.commentsPerIssue + 1) }, (_, k) => ({ repo: issue.repo, issue: issue.number, id: i * 100 + k, body: `comment ${k + 1} on ${issue.repo}#${issue.number}` })),
  );
  return { repos, issues, comments };
}

/** Starts the API. */
export async function startOrgApi(data: OrgData, options: { latencyMs?: number } = {}): Promise<JsonServer> {
  return startJsonServer((request, base) => {
    const path = request.url.pathname;
    if (/^\/orgs\/[^/]+\/repos$/.test(path)) {
      const { slice, page, perPage } = paged(request, data.repos);
      // The first repository of the next page is listed again at the end of this one, as shifting offsets do.
      const repeated = page === 1 && data.repos.length > perPage ? [...slice, data.repos[perPage]!] : slice;
      return { headers: { link: linkNext(request, base, data.repos.length, page, perPage) }, body: repeated };
    }
    const issuesOf = /^\/repos\/[^/]+\/([^/]+)\/issues$/.exec(path);
    if (issuesOf) {
      const repo = decodeURIComponent(issuesOf[1]!);
      if (!data.repos.some((r) => r.name === repo)) return { status: 404, body: { message: 'Not Found' } };
      const since = request.url.searchParams.get('since');
      const direction = request.url.searchParams.get('direction') ?? 'desc';
      const selected = data.issues
        .filter((i) => i.repo === repo && (since === null || Date.parse(i.updated_at) >= Date.parse(since)))
        .sort((a, b) => (Date.parse(a.updated_at) - Date.parse(b.updated_at)) * (direction === 'asc' ? 1 : -1));
      const { slice, page, perPage } = paged(request, selected);
      return { headers: { link: linkNext(request, base, selected.length, page, perPage) }, body: slice };
    }
    const commentsOf = /^\/repos\/[^/]+\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path);
    if (commentsOf) {
      const repo = decodeURIComponent(commentsOf[1]!);
      const selected = data.comments.filter((c) => c.repo === repo && c.issue === Number(commentsOf[2]));
      const { slice, page, perPage } = paged(request, selected);
      return { headers: { link: linkNext(request, base, selected.length, page, perPage) }, body: slice };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }, options);
}

function paged<T>(request: SeenRequest, list: readonly T[]): { slice: T[]; page: number; perPage: number } {
  const page = Number(request.url.searchParams.get('page') ?? 1);
  const perPage = Number(request.url.searchParams.get('per_page') ?? 30);
  return { slice: list.slice((page - 1) * perPage, page * perPage), page, perPage };
}

function linkNext(request: SeenRequest, base: string, total: number, page: number, perPage: number): string | undefined {
  if (page * perPage >= total) return undefined;
  const next = new URL(request.url.pathname + request.url.search, base);
  next.searchParams.set('page', String(page + 1));
  return `<${next.href}>; rel="next"`;
}
