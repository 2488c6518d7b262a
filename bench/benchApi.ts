/** A paged API for benchmarks: fixed latency per response, page_number with a total, records of a fixed shape. */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startBenchApi}. */
export interface BenchApiOptions {
  readonly records: number;
  readonly pageSize: number;
  /** Delay before each response, as a remote API's round trip. */
  readonly latencyMs: number;
  /** Render all pages up front (CPU benchmarks) or per request (memory benchmarks). @default true */
  readonly prerender?: boolean;
}

/** A record of about 300 bytes of JSON, like a typical order or event. */
export function benchRecord(id: number) {
  return {
    id,
    created_at: new Date(1_700_000_000_000 + id * 1000).toISOString(),
    customer: { id: id % 997, name: `Customer ${id % 997}`, country: ['FR', 'DE', 'US'][id % 3] },
    amount: (id % 10_000) / 100,
    status: ['paid', 'shipped', 'refunded'][id % 3],
    items: [{ sku: `SKU-${id % 50}`, qty: 1 + (id % 3) }, { sku: `SKU-${(id + 7) % 50}`, qty: 1 }],
    note: 'lorem ipsum dolor sit amet, consectetur adipiscing elit',
  };
}

/** Starts the API; pages are pre-rendered so the server costs little CPU during the measurement. */
export async function startBenchApi(options: BenchApiOptions) {
  const pages = Math.ceil(options.records / options.pageSize);
  const render = (p: number) => {
    const items = [];
    for (let id = p * options.pageSize + 1; id <= Math.min(options.records, (p + 1) * options.pageSize); id++) items.push(benchRecord(id));
    return JSON.stringify({ items, total: options.records, page: p + 1 });
  };
  const bodies = options.prerender === false ? [] : Array.from({ length: pages }, (_, p) => render(p));
  const server = createServer((req, res) => {
    const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? 1);
    const body = page > pages ? JSON.stringify({ items: [], total: options.records, page }) : (bodies[page - 1] ?? render(page - 1));
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    }, options.latencyMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pages,
    bodies,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
