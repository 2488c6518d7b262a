/**
 * A page is handed to the consumer only once every request it let start is written to its
 * socket: the landing of a page (synchronous JSON, gzip and Parquet work) must overlap the next
 * request's round trip, not delay it. Observed on the wire: every socket write of a request is
 * logged, beside the consumer's "landing" of each page, through the real engine path
 * (streamPages → paginate → HttpClient → nodeTransport).
 */

import { createServer } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { streamPages } from '../../functions/engine/streamPages.js';
import { HttpClient } from '../../functions/http/HttpClient.js';
import { nodeTransport } from '../../functions/http/nodeTransport.js';
import { Redactor } from '../../functions/http/redact.js';
import { listenOnLoopback, type Listening } from '../support/listenOnLoopback.js';
import { testSource } from '../support/sources.js';

const PAGES = 6;
const SIZE = 5;
let api: Listening;
let base: string;

beforeAll(async () => {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    // Cursor k (0-based) or page k + 1: records k*SIZE+1 … ; a total for page numbers.
    const at = url.searchParams.has('cursor') ? Number(url.searchParams.get('cursor')) : Number(url.searchParams.get('page') ?? 1) - 1;
    const data = at < PAGES ? Array.from({ length: SIZE }, (_, i) => ({ id: at * SIZE + i + 1 })) : [];
    const meta = url.pathname === '/cursor' ? { next_cursor: at + 1 < PAGES ? String(at + 1) : null } : { total_pages: PAGES };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, meta }));
  });
  api = await listenOnLoopback(server);
  base = `http://127.0.0.1:${api.port}`;
});
afterAll(() => api.close());
afterEach(() => vi.restoreAllMocks());

/** Lands the stream's window, logging `sent <path>` per request written and `landing <index>` per page handed over. */
async function land(stream: Record<string, unknown>, concurrency: number): Promise<string[]> {
  const log: string[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- taken unbound on purpose: called below with each socket as `this`
  const write = Socket.prototype.write;
  vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('latin1');
    const line = /^GET (\S+) HTTP/.exec(text);
    if (line) log.push(`sent ${new URL(line[1]!, base).searchParams.toString()}`);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  });
  const source = testSource(base, { ...stream, params: {} }, { rate_limit: { concurrency } });
  const client = new HttpClient({ retry: source.retry, timeoutMs: 5_000, redactor: new Redactor(), concurrency, transport: nodeTransport() });
  const window = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };
  const pages = streamPages({ source, window, client, stats: { requests: 0, retries: 0, throttled: 0, bytes: 0 }, tally: { pages: 0, parents: 0 } }, source.streams[0]!);
  for await (const page of pages) log.push(`landing ${page.page.index}`);
  return log;
}

describe('paging puts the next requests on the wire before a page lands', () => {
  it('sequential cursor paging: the request for page k + 1 is written before page k lands', async () => {
    const log = await land({ path: '/cursor', records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } }, 1);
    expect(log.filter((e) => e.startsWith('landing'))).toHaveLength(PAGES);
    for (let k = 0; k + 1 < PAGES; k++) {
      const sent = log.indexOf(`sent cursor=${k + 1}`);
      expect(sent, `request for page ${k + 2} in ${log.join(' | ')}`).toBeGreaterThanOrEqual(0);
      expect(sent, `page ${k + 1} landed before the request for page ${k + 2} left: ${log.join(' | ')}`).toBeLessThan(log.indexOf(`landing ${k}`));
    }
  });

  it('page numbers with a total, 3 at a time: the pages a landing lets start are written before it', async () => {
    const log = await land({ path: '/pages', records: 'data', pagination: { type: 'page_number', param: 'page', total_pages: 'meta.total_pages' } }, 3);
    expect(log.filter((e) => e.startsWith('landing'))).toHaveLength(PAGES);
    // Page 1 plans the rest: pages 2–4 go out before it lands; each later landing k lets page k + 4 start.
    const landingOf = (k: number) => log.indexOf(`landing ${k}`);
    for (const page of [2, 3, 4]) expect(log.indexOf(`sent page=${page}`), log.join(' | ')).toBeLessThan(landingOf(0));
    for (let k = 1; k + 4 <= PAGES; k++) expect(log.indexOf(`sent page=${k + 4}`), log.join(' | ')).toBeLessThan(landingOf(k));
  });
});
