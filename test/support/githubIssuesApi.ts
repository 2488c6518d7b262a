/**
 * GitHub's "list repository issues" endpoint as it behaves: `since` is its only time filter
 * (updated at or after), `sort=updated` with `direction=asc|desc`, `per_page`/`page`, and a
 * `Link` header with `rel="next"`. Issues become visible `lagMs` after their update, as an
 * eventually consistent API shows them late.
 * https://docs.github.com/en/rest/issues/issues#list-repository-issues
 */

import { startJsonServer, type JsonServer } from './jsonServer.js';

/** An issue as GitHub returns it (the fields the tests need). */
export interface Issue {
  readonly id: number;
  readonly number: number;
  readonly title: string;
  readonly state: 'open' | 'closed';
  readonly created_at: string;
  readonly updated_at: string;
}

/** Options of {@link startGithubIssuesApi}. */
export interface GithubIssuesOptions {
  readonly issues: readonly Issue[];
  /** The API's clock, for `lagMs`. @default Date.now */
  readonly now?: () => number;
  /** An issue shows up this long after its update. @default 0 */
  readonly lagMs?: number;
  readonly latencyMs?: number;
}

/** `count` issues, one every `spacingMs` from `from`, numbered from 1. */
export function issuesEvery(from: string, spacingMs: number, count: number): Issue[] {
  return Array.from({ length: count }, (_, i) => {
    const updated = new Date(Date.parse(from) + i * spacingMs).toISOString().replace('.000Z', 'Z');
    return { id: 1_000_000 + i, number: i + 1, title: `issue ${i + 1}`, state: i % 3 === 0 ? 'closed' : 'open', created_at: '2023-06-01T00:00:00Z', updated_at: updated };
  });
}

/** Starts the API; issues live at `/repos/<owner>/<repo>/issues` for any owner and repo. */
export async function startGithubIssuesApi(options: GithubIssuesOptions): Promise<JsonServer> {
  const now = options.now ?? Date.now;
  return startJsonServer(
    (request, base) => {
      if (request.method !== 'GET' || !/^\/repos\/[^/]+\/[^/]+\/issues$/.test(request.url.pathname)) return { status: 404, body: { message: 'Not Found' } };
      const q = request.url.searchParams;
      const since = q.get('since');
      if (since !== null && Number.isNaN(Date.parse(since))) return { status: 422, body: { message: 'Validation Failed', errors: [{ field: 'since', code: 'invalid' }] } };
      const direction = q.get('direction') ?? 'desc';
      const perPage = Math.min(100, Number(q.get('per_page') ?? 30));
      const page = Number(q.get('page') ?? 1);
      const visible = options.issues.filter((i) => Date.parse(i.updated_at) + (options.lagMs ?? 0) <= now());
      const selected = visible
        .filter((i) => since === null || Date.parse(i.updated_at) >= Date.parse(since))
        .sort((a, b) => (Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.number - b.number) * (direction === 'asc' ? 1 : -1));
      const slice = selected.slice((page - 1) * perPage, page * perPage);
      const at = (p: number) => {
        const url = new URL(request.url.pathname + request.url.search, base);
        url.searchParams.set('page', String(p));
        return url.href;
      };
      const last = Math.max(1, Math.ceil(selected.length / perPage));
      const links = [...(page < last ? [`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`] : []), ...(page > 1 ? [`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`] : [])];
      return { headers: { link: links.length > 0 ? links.join(', ') : undefined }, body: slice };
    },
    { latencyMs: options.latencyMs },
  );
}
