/**
 * An API that enforces a rate limit the strict way (a sliding log: a request is refused with
 * 429 and `Retry-After: 1` when `limit` requests were already admitted in the 1,000 ms before it),
 * and serves windowed items: `GET /items?since=&until=` answers `{data: [...], meta: {next_cursor:
 * null}}` with `perWindow` items. Every arrival is timed on the server's clock, so a test counts
 * the requests of any second exactly as the API saw them.
 */

import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from './listenOnLoopback.js';

/** Options of {@link startRateLimitedApi}. */
export interface RateLimitedApiOptions {
  /** Requests admitted in any 1,000 ms. */
  readonly limit: number;
  /** Items per window on /items. @default 3 */
  readonly perWindow?: number;
  /** Delay before each answer. @default 0 */
  readonly latencyMs?: number;
}

/** A running rate-limited API. */
export interface RateLimitedApi {
  readonly url: string;
  /** Arrival times (ms, the server's `performance.now()` plus its start epoch) of every request. */
  readonly arrivals: number[];
  /** Arrival times of the requests admitted (not answered 429), on the same clock. */
  readonly admittedArrivals: number[];
  /** Requests refused with 429. */
  throttled(): number;
  /** Requests answered 200. */
  served(): number;
  /** The most requests that arrived in any `spanMs` (a sliding window), between `from` and `to` when given. */
  maxInAny(spanMs: number, from?: number, to?: number): number;
  /** Forgets every arrival and count. */
  reset(): void;
  close(): Promise<void>;
}

/** The items of one window: `perWindow` of them, spread over it, ids derived from the window start. */
export function windowItems(since: number, until: number, perWindow: number): { id: number; ts: string }[] {
  return Array.from({ length: perWindow }, (_, i) => ({ id: Math.floor(since / 1000) * 10 + i, ts: new Date(since + Math.floor(((until - since) * i) / perWindow)).toISOString() }));
}

/** The most timestamps of `times` (sorted) within any `spanMs`. */
export function maxInAnySpan(times: readonly number[], spanMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= spanMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

export async function startRateLimitedApi(options: RateLimitedApiOptions): Promise<RateLimitedApi> {
  const origin = Date.now() - performance.now();
  const arrivals: number[] = [];
  const admittedArrivals: number[] = [];
  let admitted: number[] = [];
  let throttled = 0;
  let served = 0;
  const perWindow = options.perWindow ?? 3;
  const server: Server = createServer((req, res) => {
    const now = origin + performance.now();
    arrivals.push(now);
    admitted = admitted.filter((t) => now - t < 1000);
    if (admitted.length >= options.limit) {
      throttled++;
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"error":"rate limit exceeded"}');
      return;
    }
    admitted.push(now);
    admittedArrivals.push(now);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const since = Date.parse(url.searchParams.get('since') ?? '');
    const until = Date.parse(url.searchParams.get('until') ?? '');
    const body = JSON.stringify({ data: Number.isFinite(since) && Number.isFinite(until) ? windowItems(since, until, perWindow) : [], meta: { next_cursor: null } });
    const answer = () => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (options.latencyMs) setTimeout(answer, options.latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  const listening = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${listening.port}`,
    arrivals,
    admittedArrivals,
    throttled: () => throttled,
    served: () => served,
    maxInAny: (spanMs, from = -Infinity, to = Infinity) =>
      maxInAnySpan(
        arrivals.filter((t) => t >= from && t <= to),
        spanMs,
      ),
    reset: () => {
      arrivals.length = 0;
      admittedArrivals.length = 0;
      admitted = [];
      throttled = 0;
      served = 0;
    },
    close: () => listening.close(),
  };
}
