/**
 * A small shop API on loopback for `apilake demo`: cursor-paged orders filtered by update time,
 * page-numbered customers with a total, an API key, and a few 429s and a 503 on purpose so the
 * retry path shows in the demo's output.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Seconds between two demo orders: 40 orders an hour, 960 a day. */
export const ORDER_INTERVAL_S = 90;
/** Customers in the demo shop. */
export const CUSTOMER_COUNT = 240;

/** Options of {@link startDemoApi}. */
export interface DemoApiOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The key clients must send in X-API-Key. */
  readonly apiKey: string;
  /** Answer some requests with 429 and 503. @default true */
  readonly faults?: boolean;
}

/** A running demo API. */
export interface DemoApi {
  readonly url: string;
  /** Requests served so far, faults included. */
  requests(): number;
  close(): Promise<void>;
}

/** Starts the demo API on 127.0.0.1. */
export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    handle(req, res, served, options);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, n: number, options: DemoApiOptions): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.headers['x-api-key'] !== options.apiKey) return send(res, 401, { error: 'missing or wrong X-API-Key' });
  if (options.faults !== false) {
    if (n === 3 || n === 12) return send(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
    if (n === 7) return send(res, 503, { error: 'upstream unavailable' });
  }
  if (url.pathname === '/v1/orders') return orders(url, res);
  if (url.pathname === '/v1/customers') return customers(url, res);
  send(res, 404, { error: `no route ${url.pathname}` });
}

function orders(url: URL, res: ServerResponse): void {
  const since = Date.parse(url.searchParams.get('updated_since') ?? '');
  const until = Date.parse(url.searchParams.get('updated_until') ?? '');
  const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 25));
  if (Number.isNaN(since) || Number.isNaN(until)) return send(res, 400, { error: 'updated_since and updated_until are required (ISO 8601)' });
  const cursor = url.searchParams.get('cursor');
  const first = cursor ? Number(cursor) + 1 : Math.ceil(since / 1000 / ORDER_INTERVAL_S);
  const end = Math.ceil(until / 1000 / ORDER_INTERVAL_S); // exclusive
  const ids: number[] = [];
  for (let id = first; id < end && ids.length < limit; id++) ids.push(id);
  const last = ids.at(-1);
  send(res, 200, { data: ids.map(order), meta: { next_cursor: last !== undefined && last + 1 < end ? String(last) : null } });
}

function order(id: number) {
  const statuses = ['paid', 'shipped', 'delivered', 'refunded'] as const;
  return {
    id,
    customer_id: ((id * 7919) % CUSTOMER_COUNT) + 1,
    amount: Math.round((((id * 104_729) % 20_000) / 100 + 5) * 100) / 100,
    currency: 'EUR',
    status: statuses[id % statuses.length],
    updated_at: new Date(id * ORDER_INTERVAL_S * 1000).toISOString(),
    items: Array.from({ length: (id % 3) + 1 }, (_, i) => ({ sku: `SKU-${(id + i) % 50}`, quantity: (i % 2) + 1 })),
  };
}

function customers(url: URL, res: ServerResponse): void {
  const page = Number(url.searchParams.get('page') ?? 1);
  const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 50));
  const start = (page - 1) * perPage;
  const list = [];
  for (let id = start + 1; id <= Math.min(CUSTOMER_COUNT, start + perPage); id++) {
    list.push({ id, name: `Customer ${id}`, country: ['FR', 'DE', 'ES', 'IT', 'NL'][id % 5], since: `20${10 + (id % 14)}-01-01` });
  }
  send(res, 200, { customers: list, page, per_page: perPage, total: CUSTOMER_COUNT });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
