/**
 * The paged API every benchmark lands from, run in its own process (bench/benchServer.ts) so its
 * CPU never counts against the client measured. Records are ~1 KB events (recordFixtures.ts).
 *
 * Routes (all `GET`, `data` holds the records, ids count from 1 in page order):
 * - `/cursor?cursor=N`: cursor paging, `meta.next_cursor` absent on the last page;
 * - `/pages?page=N`: page numbers from 1, `meta.total_pages` in every body, `[]` past the end;
 * - `/big`: one page of `bigPageRecords` records, generated as it is sent (memory benchmarks);
 * - `/_stats`: `{requests, cpuMs, turnaroundsMs}` since the last `/_reset`: requests served, the
 *   CPU time this process spent (every thread), so a CPU-bound benchmark can count what serving
 *   cost, and each turnaround: from a response handed to the socket to the next request arriving
 *   on the same connection, the part of a sequential page's time the client spends;
 * - `/_fetches`: {@link PageFetches} since the last `/_reset`: how often each page was requested.
 *
 * A response goes out `latencyMs` after its request arrived, to the sub-millisecond (see replyAt).
 */

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneKbRecord } from './recordFixtures.js';

/** Options of {@link startBenchApi}. */
export interface BenchApiOptions {
  readonly pages: number;
  readonly recordsPerPage: number;
  /** Delay before each response, from its request's arrival, as a remote API's round trip. @default 0 */
  readonly latencyMs?: number;
  /**
   * Bodies rendered up front and served in turn (page p gets body p % templates), so a large
   * window costs the server no rendering. Ids then repeat; with 0 every page is distinct.
   * @default 0
   */
  readonly templates?: number;
  /** Records of the `/big` page. @default 0 */
  readonly bigPageRecords?: number;
}

/** How often the pages of `/cursor` and `/pages` were requested since the last `/_reset`. */
export interface PageFetches {
  /** Distinct pages requested. */
  readonly pages: number;
  /** Requests of those pages. */
  readonly requests: number;
  /** The most any one page was requested. */
  readonly max: number;
  /** Pages requested exactly twice. */
  readonly twice: number;
  /** Pages requested more than twice. */
  readonly moreThanTwice: number;
}

/** Record ids are `RECORD_ID_BASE + n`, n counting from 1 in page order. */
export const RECORD_ID_BASE = 30_000_000_000;

/** Starts the API on a free loopback port. */
export async function startBenchApi(options: BenchApiOptions) {
  const { pages, recordsPerPage } = options;
  const latencyMs = options.latencyMs ?? 0;
  const records = (page: number) => {
    const out: string[] = [];
    for (let i = 0; i < recordsPerPage; i++) out.push(oneKbRecord(page * recordsPerPage + i + 1));
    return out.join(',');
  };
  const cursorBody = (page: number) => Buffer.from(`{"data":[${records(page)}],"meta":{${page + 1 < pages ? `"next_cursor":"${page + 1}"` : '"next_cursor":null'}}}`);
  const pagesBody = (page: number) => Buffer.from(`{"data":[${page < pages ? records(page) : ''}],"meta":{"page":${page + 1},"total_pages":${pages}}}`);
  const cache = new Map<string, Buffer>();
  const templates = options.templates ?? 0;
  const body = (route: 'cursor' | 'pages', page: number): Buffer => {
    if (route === 'pages' && page >= pages) return pagesBody(page);
    const key = `${route}:${templates > 0 ? page % templates : page}`;
    let cached = cache.get(key);
    if (!cached) {
      // Templated bodies differ only in the page they name, so paging still ends where it should.
      cached = route === 'cursor' ? cursorBody(page) : pagesBody(page);
      if (templates > 0 || pages * recordsPerPage <= 200_000) cache.set(key, cached);
    }
    if (templates > 0 && route === 'cursor') return Buffer.from(cached.toString().replace(/"next_cursor":(?:"\d+"|null)/, page + 1 < pages ? `"next_cursor":"${page + 1}"` : '"next_cursor":null'));
    return cached;
  };
  // Warm the cache before any client measures anything.
  for (let p = 0; p < Math.min(pages, templates > 0 ? templates : pages); p++) {
    body('pages', p);
    if (templates === 0 || p < templates) body('cursor', p);
  }

  let requests = 0;
  let cpuAtReset = process.cpuUsage();
  let turnarounds: number[] = [];
  let fetches = new Map<string, number>();
  const fetchSummary = (): PageFetches => {
    const counts = [...fetches.values()];
    return {
      pages: counts.length,
      requests: counts.reduce((a, b) => a + b, 0),
      max: Math.max(0, ...counts),
      twice: counts.filter((n) => n === 2).length,
      moreThanTwice: counts.filter((n) => n > 2).length,
    };
  };
  const answeredAt = new WeakMap<object, number>();
  const send = (res: ServerResponse, bytes: Buffer) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/_stats') {
      const cpu = process.cpuUsage(cpuAtReset);
      return send(res, Buffer.from(JSON.stringify({ requests, cpuMs: (cpu.user + cpu.system) / 1000, turnaroundsMs: turnarounds })));
    }
    if (url.pathname === '/_fetches') return send(res, Buffer.from(JSON.stringify(fetchSummary())));
    if (url.pathname === '/_reset') {
      requests = 0;
      turnarounds = [];
      fetches = new Map();
      cpuAtReset = process.cpuUsage();
      return send(res, Buffer.from('{}'));
    }
    requests++;
    if (url.pathname === '/cursor' || url.pathname === '/pages') {
      const page = `${url.pathname}:${url.searchParams.get(url.pathname === '/cursor' ? 'cursor' : 'page') ?? ''}`;
      fetches.set(page, (fetches.get(page) ?? 0) + 1);
    }
    const arrived = performance.now();
    const previous = answeredAt.get(req.socket);
    if (previous !== undefined) turnarounds.push(arrived - previous);
    res.once('finish', () => answeredAt.set(req.socket, performance.now()));
    const reply = () => {
      if (url.pathname === '/cursor') return send(res, body('cursor', Number(url.searchParams.get('cursor') ?? 0)));
      if (url.pathname === '/pages') return send(res, body('pages', Number(url.searchParams.get('page') ?? 1) - 1));
      if (url.pathname === '/big') return streamBigPage(res, options.bigPageRecords ?? 0);
      res.writeHead(404).end();
    };
    if (latencyMs > 0) replyAt(arrived + latencyMs, reply);
    else reply();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Calls `reply` at `due` (performance.now() time), not later: setTimeout fires up to a
 * millisecond or more after its delay (libuv timers have millisecond resolution and run once per
 * loop turn), which would add to every page a latency the limit does not count. The timer is set
 * to fire early; setImmediate turns then wait out the rest.
 */
function replyAt(due: number, reply: () => void): void {
  const wait = () => (performance.now() >= due ? reply() : setImmediate(wait));
  setTimeout(wait, Math.max(0, due - performance.now() - 2));
}

/** One page of `count` records, rendered as the socket drains so the server holds little of it. */
function streamBigPage(res: ServerResponse, count: number): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"data":[');
  let id = 0;
  const pump = () => {
    while (id < count) {
      const chunk: string[] = [];
      for (let k = 0; k < 64 && id < count; k++, id++) chunk.push(oneKbRecord(id + 1));
      const more = res.write(`${id > chunk.length ? ',' : ''}${chunk.join(',')}`);
      if (!more) return void res.once('drain', pump);
    }
    res.end('],"meta":{}}');
  };
  pump();
}
