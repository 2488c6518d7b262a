/**
 * Shopify bulk operations on loopback, as documented:
 * https://shopify.dev/docs/api/usage/bulk-operations/queries
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/BulkOperation
 * https://shopify.dev/docs/api/admin-graphql/latest/enums/BulkOperationStatus
 *
 * Two origins, as in production: the Admin API (`POST /admin/api/2024-10/graphql.json`, which needs
 * `X-Shopify-Access-Token`) and the storage that serves the result file on a signed URL (which
 * needs the signature only, and records whether a token came along).
 * - A `bulkOperationRunQuery` mutation creates an operation (`gid://shopify/BulkOperation/<n>`,
 *   status `CREATED`); its inner query's `updated_at:>='…' AND updated_at:<'…'` picks the products.
 * - `node(id: "<gid>") { … on BulkOperation { id status errorCode objectCount url } }` polls it:
 *   `RUNNING` for the first `pollsUntilDone` polls, then `COMPLETED` with `url` (or `FAILED` with
 *   `errorCode`, `url` null). A poll answer carries `Retry-After` when `retryAfterSeconds` is set.
 * - The file is JSON Lines, one product a line.
 */

import { startJsonServer, type JsonServer, type SeenRequest } from '../jsonServer.js';

/** A product as the simulation holds it. */
export interface Product {
  readonly id: string;
  readonly title: string;
  readonly updatedAt: string;
}

/** One product every `stepMs` from `from`. */
export function productsEvery(from: string, stepMs: number, count: number): Product[] {
  return Array.from({ length: count }, (_, i) => ({ id: `gid://shopify/Product/${1000 + i}`, title: `Product ${i} "✓"`, updatedAt: new Date(Date.parse(from) + i * stepMs).toISOString() }));
}

/** Options of {@link startShopifyBulkApi}. */
export interface ShopifyBulkOptions {
  readonly products: readonly Product[];
  readonly token: string;
  /** Polls answered `RUNNING` before the end. @default 2 */
  readonly pollsUntilDone?: number;
  /** The operation fails with this errorCode (e.g. ACCESS_DENIED). */
  readonly failWith?: string;
  /** Sent as Retry-After on every poll answer. */
  readonly retryAfterSeconds?: number;
  /** Answers nothing until the promise it returns settles (a test hook, to kill a client mid-request). */
  readonly hold?: (request: SeenRequest) => Promise<void> | undefined;
}

/** A running simulation: the Admin API and the file storage. */
export interface ShopifyBulkApi {
  readonly api: JsonServer;
  readonly files: JsonServer;
  /** Bulk operations created, in order. */
  readonly created: readonly string[];
  /**
   * Lets the signed URLs of every operation created so far expire: their files answer as Google
   * Cloud Storage answers an expired signed URL (400, `ExpiredToken`), though the operations still
   * poll COMPLETED with the same URL.
   */
  expireFiles(): void;
  close(): Promise<void>;
}

interface Operation {
  readonly id: string;
  readonly products: readonly Product[];
  polls: number;
}

/** Starts both servers on free loopback ports. */
export async function startShopifyBulkApi(options: ShopifyBulkOptions): Promise<ShopifyBulkApi> {
  const holdOption = options.hold ? { hold: options.hold } : {};
  const operations = new Map<string, Operation>();
  const created: string[] = [];
  const expired = new Set<string>();
  const signature = 'GoogleAccessId=bulk&Signature=c2lnbmVk';
  const files = await startJsonServer((request) => {
    const n = /^\/bulk\/(\d+)\.jsonl$/.exec(request.url.pathname)?.[1];
    const operation = n && operations.get(`gid://shopify/BulkOperation/${n}`);
    if (!operation || !request.url.search.includes(signature)) return { status: 403, body: '<Error><Code>AccessDenied</Code></Error>' };
    if (expired.has(operation.id)) return { status: 400, body: '<Error><Code>ExpiredToken</Code><Message>Invalid argument.</Message></Error>' };
    return { headers: { 'content-type': 'application/jsonl' }, body: operation.products.map((p) => JSON.stringify(p)).join('\n') + (operation.products.length ? '\n' : '') };
  }, holdOption);
  const pollsUntilDone = options.pollsUntilDone ?? 2;
  const api = await startJsonServer((request) => {
    if (request.url.pathname !== '/admin/api/2024-10/graphql.json' || request.method !== 'POST') return { status: 404, body: { errors: 'Not Found' } };
    if (request.headers['x-shopify-access-token'] !== options.token) return { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
    const { query } = JSON.parse(request.body) as { query: string };
    if (query.includes('bulkOperationRunQuery')) {
      const range = /updated_at:>='([^']+)' AND updated_at:<'([^']+)'/.exec(query);
      if (!range) return { body: { data: { bulkOperationRunQuery: { bulkOperation: null, userErrors: [{ field: ['query'], message: 'Invalid bulk query' }] } } } };
      const [from, to] = [Date.parse(range[1]!), Date.parse(range[2]!)];
      const id = `gid://shopify/BulkOperation/${created.length + 1}`;
      operations.set(id, { id, products: options.products.filter((p) => Date.parse(p.updatedAt) >= from && Date.parse(p.updatedAt) < to), polls: 0 });
      created.push(id);
      return { body: { data: { bulkOperationRunQuery: { bulkOperation: { id, status: 'CREATED' }, userErrors: [] } } } };
    }
    const id = /node\(id: "([^"]+)"\)/.exec(query)?.[1];
    const operation = id && operations.get(id);
    if (!operation) return { body: { data: { node: null } } };
    operation.polls++;
    const done = operation.polls > pollsUntilDone;
    const status = !done ? 'RUNNING' : options.failWith !== undefined ? 'FAILED' : 'COMPLETED';
    const n = id.split('/').pop()!;
    const node = {
      id,
      status,
      errorCode: status === 'FAILED' ? options.failWith : null,
      objectCount: String(done ? operation.products.length : 0),
      url: status === 'COMPLETED' ? `${files.url}/bulk/${n}.jsonl?${signature}` : null,
    };
    return { headers: { 'retry-after': options.retryAfterSeconds === undefined ? undefined : String(options.retryAfterSeconds) }, body: { data: { node } } };
  }, holdOption);
  return { api, files, created, expireFiles: () => created.forEach((id) => expired.add(id)), close: async () => void (await Promise.all([api.close(), files.close()])) };
}
