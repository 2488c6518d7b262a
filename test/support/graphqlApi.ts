/**
 * GitHub's GraphQL API, search connection only, as it behaves: a POST of `{query, variables}`,
 * `search(query: $q, type: ISSUE, first: $first, after: $after)` answering `issueCount`,
 * `pageInfo { hasNextPage endCursor }` and `nodes`; the `updated:A..B` qualifier is inclusive at
 * both ends; a malformed cursor is a GraphQL error (HTTP 200, `errors`, `data: null`).
 * https://docs.github.com/en/graphql/guides/using-pagination-in-the-graphql-api
 */

import { startJsonServer, type JsonServer } from './jsonServer.js';

/** A search result node (the fields the tests need). */
export interface IssueNode {
  readonly id: string;
  readonly number: number;
  readonly title: string;
  readonly updatedAt: string;
}

/** `count` nodes, one every `spacingMs` from `from`. */
export function nodesEvery(from: string, spacingMs: number, count: number): IssueNode[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `I_kwDO${(1000 + i).toString(36)}`,
    number: i + 1,
    title: `issue ${i + 1}`,
    updatedAt: new Date(Date.parse(from) + i * spacingMs).toISOString().replace('.000Z', 'Z'),
  }));
}

/** Starts the API at `/graphql`. */
export async function startGraphqlApi(nodes: readonly IssueNode[]): Promise<JsonServer> {
  return startJsonServer((request) => {
    if (request.url.pathname !== '/graphql' || request.method !== 'POST') return { status: 404, body: { message: 'Not Found' } };
    const { query, variables } = JSON.parse(request.body) as { query?: string; variables?: { q?: string; first?: number; after?: string | null } };
    if (typeof query !== 'string' || !query.includes('search(')) return { body: { errors: [{ message: 'query must select search' }], data: null } };
    const range = /updated:(\S+)\.\.(\S+)/.exec(variables?.q ?? '');
    if (!range) return { body: { errors: [{ message: 'expected an updated:A..B qualifier' }], data: null } };
    const [from, to] = [Date.parse(range[1]!), Date.parse(range[2]!)];
    const first = Math.min(100, variables?.first ?? 10);
    let offset = 0;
    if (variables?.after !== undefined && variables.after !== null) {
      const decoded = /^cursor:(\d+)$/.exec(Buffer.from(variables.after, 'base64').toString());
      if (!decoded) return { body: { errors: [{ type: 'INVALID_CURSOR_ARGUMENTS', message: `\`${variables.after}\` does not appear to be a valid cursor.` }], data: null } };
      offset = Number(decoded[1]);
    }
    const matching = nodes.filter((n) => Date.parse(n.updatedAt) >= from && Date.parse(n.updatedAt) <= to);
    const page = matching.slice(offset, offset + first);
    const end = offset + page.length;
    return {
      body: {
        data: {
          search: {
            issueCount: matching.length,
            pageInfo: { hasNextPage: end < matching.length, endCursor: page.length > 0 ? Buffer.from(`cursor:${end}`).toString('base64') : null },
            nodes: page,
          },
        },
      },
    };
  });
}
