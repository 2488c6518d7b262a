/**
 * Shopify's GraphQL Admin API, the `orders` connection only, as its documentation describes it: a
 * POST of `{query, variables}` to `/admin/api/<version>/graphql.json` with the
 * `X-Shopify-Access-Token` header; `orders(first:, after:, query:)` answering `pageInfo {
 * hasNextPage endCursor }` and `nodes`, filtered by the search syntax `created_at:>='…' AND
 * created_at:<'…'`. Rate limiting is a leaky bucket of query cost per app and store: a query
 * runs only when the bucket holds its requested cost (a connection costs 2 plus one per node
 * asked for with `first`), the difference to its actual cost is refunded, and the bucket refills
 * at `restoreRate` points a second up to `maximumAvailable`. A query the bucket cannot afford is
 * answered HTTP 200 with `errors[].extensions.code: THROTTLED` and `data` absent; every answer
 * reports the bucket in `extensions.cost.throttleStatus`.
 * https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
 * https://shopify.dev/docs/api/usage/limits#the-leaky-bucket-algorithm
 * https://shopify.dev/docs/api/usage/search-syntax
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/orders
 */

import type { Clock } from '../../../functions/clock.js';
import { startJsonServer, type JsonServer } from '../jsonServer.js';

/** An order (the fields the tests need). */
export interface ShopifyOrder {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly totalPriceSet: { readonly shopMoney: { readonly amount: string; readonly currencyCode: string } };
}

/** The GraphQL path of the API version the example uses. */
export const SHOPIFY_GRAPHQL_PATH = '/admin/api/2024-04/graphql.json';

/** `count` orders, one every `spacingMs` from `from`. */
export function ordersEvery(from: string, spacingMs: number, count: number): ShopifyOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `gid://shopify/Order/${5_000_000 + i}`,
    name: `#${1001 + i}`,
    createdAt: new Date(Date.parse(from) + i * spacingMs).toISOString().replace('.000Z', 'Z'),
    totalPriceSet: { shopMoney: { amount: `${(10 + (i % 90)).toFixed(2)}`, currencyCode: 'EUR' } },
  }));
}

/** Options of {@link startShopifyGraphqlApi}. */
export interface ShopifyGraphqlOptions {
  readonly orders: readonly ShopifyOrder[];
  readonly token: string;
  /** The API's clock, which refills the bucket: the client's, so a wait the client sleeps refills it. */
  readonly clock: Clock;
  /** @default 1000 (points) */
  readonly maximumAvailable?: number;
  /** @default 50 (points a second) */
  readonly restoreRate?: number;
  /** What the bucket holds at the start (another app of the same store does not count; an earlier run does). @default maximumAvailable */
  readonly currentlyAvailable?: number;
}

/** What the simulation saw: each request's time on its clock and whether it was throttled. */
export interface ShopifyGraphqlApi extends JsonServer {
  /** Each answer: when (on the API's clock), throttled or not, the points left before it, and its actual cost. */
  readonly answers: readonly { readonly atMs: number; readonly throttled: boolean; readonly available: number; readonly cost: number }[];
}

/** Starts the API at {@link SHOPIFY_GRAPHQL_PATH}. */
export async function startShopifyGraphqlApi(options: ShopifyGraphqlOptions): Promise<ShopifyGraphqlApi> {
  const maximum = options.maximumAvailable ?? 1000;
  const restoreRate = options.restoreRate ?? 50;
  let available = options.currentlyAvailable ?? maximum;
  let refilledAt = options.clock.now();
  const answers: { atMs: number; throttled: boolean; available: number; cost: number }[] = [];
  const ordered = [...options.orders].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id.localeCompare(b.id));
  const server = await startJsonServer((request) => {
    if (request.url.pathname !== SHOPIFY_GRAPHQL_PATH) return { status: 404, body: { errors: 'Not Found' } };
    if (request.headers['x-shopify-access-token'] !== options.token) return { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
    const { query, variables = {} } = JSON.parse(request.body) as { query?: string; variables?: { first?: number; after?: string | null; q?: string } };
    if (typeof query !== 'string' || !/\borders\s*\(/.test(query)) return { body: { errors: [{ message: 'Parse error: only orders is simulated' }] } };
    const first = variables.first ?? 0;
    if (!Number.isInteger(first) || first < 1 || first > 250) {
      return { body: { errors: [{ message: 'The first argument must be between 1 and 250', extensions: { code: 'argumentLiteralsIncompatible' } }] } };
    }
    const now = options.clock.now();
    available = Math.min(maximum, available + ((now - refilledAt) / 1000) * restoreRate);
    refilledAt = now;
    const requested = first + 2;
    const cost = (actual: number | null) => ({
      requestedQueryCost: requested,
      actualQueryCost: actual,
      throttleStatus: { maximumAvailable: maximum, currentlyAvailable: Math.floor(available), restoreRate },
    });
    if (available < requested) {
      answers.push({ atMs: now, throttled: true, available, cost: 0 });
      return {
        body: {
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
          extensions: { cost: cost(null) },
        },
      };
    }
    const range = /created_at:>='([^']+)' AND created_at:<'([^']+)'/.exec(variables.q ?? '');
    if (!range) return { body: { errors: [{ message: "Simulated search: query must be created_at:>='…' AND created_at:<'…'" }] } };
    const [from, to] = [Date.parse(range[1]!), Date.parse(range[2]!)];
    const matching = ordered.filter((o) => Date.parse(o.createdAt) >= from && Date.parse(o.createdAt) < to);
    const offset = variables.after
      ? Number(
          Buffer.from(variables.after, 'base64')
            .toString()
            .replace(/^offset:/, ''),
        )
      : 0;
    const nodes = matching.slice(offset, offset + first);
    const actual = nodes.length + 2;
    answers.push({ atMs: now, throttled: false, available, cost: actual });
    available -= actual; // the requested cost is taken, the difference refunded at once
    const end = offset + nodes.length;
    return {
      body: {
        data: {
          orders: {
            nodes,
            pageInfo: { hasNextPage: end < matching.length, endCursor: nodes.length > 0 ? Buffer.from(`offset:${end}`).toString('base64') : null },
          },
        },
        extensions: { cost: cost(actual) },
      },
    };
  });
  return Object.assign(server, { answers });
}
