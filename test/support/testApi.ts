/**
 * A local API that behaves like real ones: every pagination style, window filters, API keys,
 * bearer and OAuth2 tokens, and scripted faults (429 with Retry-After, 5xx, resets mid-body,
 * slow bodies, invalid JSON, error bodies served with 200).
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { asyncListener, listenOnLoopback } from './listenOnLoopback.js';

/** One record of the test data set. */
export interface Item {
  readonly id: number;
  readonly ts: string;
  readonly name: string;
  readonly nested: { readonly tags: string[]; readonly score: number | null };
}

/** A scripted misbehaviour for one upcoming request. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: 'reset' } // headers sent, connection destroyed mid-body
  | { readonly kind: 'slow-body'; readonly ms: number } // body trickles for `ms`
  | { readonly kind: 'invalid-json' }
  | { readonly kind: 'error-body-200' } // {"error": ...} with status 200, as some APIs do
  | { readonly kind: 'pass' }; // served normally: lets a script fail the n-th request

/** A request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Options of {@link startTestApi}. */
export interface TestApiOptions {
  /** Records in the data set, one every `spacingMs` from `epoch`. @default 250 */
  readonly count?: number;
  readonly epoch?: Date;
  /** @default 60_000 */
  readonly spacingMs?: number;
  /** Require `X-API-Key: <key>` (header) or `?api_key=<key>` (query). */
  readonly apiKey?: string;
  /** Delay before each data response, so concurrent clients overlap. @default 0 */
  readonly latencyMs?: number;
  /** Require `Authorization: Bearer <token>` from the OAuth2 endpoint. */
  readonly oauth?: { readonly clientId: string; readonly clientSecret: string; readonly expiresIn?: number };
}

/** A running test API. */
export interface TestApi {
  readonly url: string;
  readonly items: readonly Item[];
  readonly requests: SeenRequest[];
  /** Requests to the token endpoint. */
  tokenRequests(): number;
  /** Most data requests that were ever in flight at once. */
  peakConcurrency(): number;
  /** Applies `fault` to the next `times` data requests whose URL matches `predicate`. */
  failWhen(predicate: (url: URL) => boolean, fault: Fault, times: number): void;
  /** Applies these faults to the next requests to data routes, in order. */
  fail(...faults: Fault[]): void;
  /** Invalidates every issued OAuth2 token (the next data request gets 401). */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** Items whose `ts` lies in `[since, until)` when both are given. */
function inWindow(items: readonly Item[], url: URL): Item[] {
  const since = url.searchParams.get('since');
  const until = url.searchParams.get('until');
  if (!since || !until) return [...items];
  const s = Date.parse(since);
  const u = Date.parse(until);
  return items.filter((item) => Date.parse(item.ts) >= s && Date.parse(item.ts) < u);
}

/** Starts the API on 127.0.0.1 with a free port. */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const epoch = (options.epoch ?? new Date('2024-01-01T00:00:00Z')).getTime();
  const spacing = options.spacingMs ?? 60_000;
  const items: Item[] = Array.from({ length: options.count ?? 250 }, (_, i) => ({
    id: i + 1,
    ts: new Date(epoch + i * spacing).toISOString(),
    name: `item ${i + 1} "quoted" ✓`,
    nested: { tags: i % 2 ? ['odd'] : ['even', 'x'], score: i % 5 === 0 ? null : i / 3 },
  }));
  const faults: Fault[] = [];
  const requests: SeenRequest[] = [];
  const validTokens = new Set<string>();
  let tokenCount = 0;
  const targeted: { predicate: (url: URL) => boolean; fault: Fault; left: number }[] = [];
  let inFlight = 0;
  let peak = 0;

  const server = createServer(
    asyncListener(async (req, res) => {
      const body = await readBody(req);
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://test');

      if (url.pathname === '/oauth/token') {
        tokenCount++;
        return token(req, body, res);
      }
      if (options.apiKey && req.headers['x-api-key'] !== options.apiKey && url.searchParams.get('api_key') !== options.apiKey) {
        return json(res, 401, { error: 'invalid api key' });
      }
      if (options.oauth) {
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !validTokens.has(auth.slice(7))) return json(res, 401, { error: 'invalid token' });
      }
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.on('close', () => inFlight--);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const target = targeted.find((t) => t.left > 0 && t.predicate(url));
      if (target) {
        target.left--;
        return applyFault(target.fault, res);
      }
      const fault = faults.shift();
      if (fault && fault.kind !== 'pass') return applyFault(fault, res);
      route(url, req, body, res);
    }),
  );

  function token(req: IncomingMessage, body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = req.headers.authorization;
    if (basic?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(basic.slice(6), 'base64').toString().split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(p ?? '');
    }
    if (form.get('grant_type') !== 'client_credentials' || id !== options.oauth?.clientId || secret !== options.oauth?.clientSecret) {
      return json(res, 401, { error: 'invalid_client' });
    }
    const value = `tok-${tokenCount}-${Math.random().toString(36).slice(2)}`;
    validTokens.add(value);
    json(res, 200, { access_token: value, token_type: 'bearer', expires_in: options.oauth.expiresIn ?? 3600 });
  }

  function route(url: URL, req: IncomingMessage, body: string, res: ServerResponse): void {
    const base = `http://${req.headers.host}`;
    const selected = inWindow(items, url);
    const limit = Number(url.searchParams.get('limit') ?? url.searchParams.get('per_page') ?? 10);
    switch (url.pathname) {
      case '/items': // no pagination: everything at once, as a bare array
        return json(res, 200, selected);
      case '/page': {
        const page = Number(url.searchParams.get('page') ?? 1);
        return json(res, 200, { items: selected.slice((page - 1) * limit, page * limit), total: selected.length, pages: Math.ceil(selected.length / limit) });
      }
      case '/offset': {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        return json(res, 200, { results: selected.slice(offset, offset + limit), count: selected.length });
      }
      case '/cursor': {
        const after = Number(url.searchParams.get('cursor') ?? 0);
        const page = selected.filter((i) => i.id > after).slice(0, limit);
        const more = selected.some((i) => i.id > (page.at(-1)?.id ?? Infinity));
        return json(res, 200, { data: page, meta: { next_cursor: more ? String(page.at(-1)!.id) : null }, has_more: more });
      }
      case '/next': {
        const after = Number(url.searchParams.get('after') ?? 0);
        const page = selected.filter((i) => i.id > after).slice(0, limit);
        const more = selected.some((i) => i.id > (page.at(-1)?.id ?? Infinity));
        const next = new URL(url.pathname + url.search, base);
        next.searchParams.set('after', String(page.at(-1)?.id ?? 0));
        // Alternate relative and absolute links, as real APIs do both.
        const link = after % 2 === 0 ? `${next.pathname}${next.search}` : next.toString();
        return json(res, 200, { results: page, next: more ? link : null });
      }
      case '/link': {
        const page = Number(url.searchParams.get('page') ?? 1);
        const slice = selected.slice((page - 1) * limit, page * limit);
        const links: string[] = [];
        const at = (p: number) => {
          const u = new URL(url.pathname + url.search, base);
          u.searchParams.set('page', String(p));
          return u.toString();
        };
        if (page * limit < selected.length) links.push(`<${at(page + 1)}>; rel="next"`);
        links.push(`<${at(1)}>; rel="first"`);
        res.setHeader('link', links.join(', '));
        return json(res, 200, slice);
      }
      case '/big': {
        // Ids past 2^53: a float-parsing client rounds the cursor and gets a 400 here.
        const cursor = url.searchParams.get('cursor');
        res.writeHead(cursor === null || cursor === '9007199254740993' ? 200 : 400, { 'content-type': 'application/json' });
        if (cursor === null) return void res.end('{"data":[{"id":9007199254740993,"amount":12345678901234567.25,"n":1.5}],"next":9007199254740993}');
        if (cursor === '9007199254740993') return void res.end('{"data":[{"id":18446744073709551615}],"next":null}');
        return void res.end(`{"error":"unknown cursor ${cursor}"}`);
      }
      case '/blobs': {
        // Incompressible pages of ~5 MiB, so a part grows past S3's multipart threshold. The same
        // page has the same bytes every time, as a real API's would: a body that breaks while the
        // client is busy uploading a part is read again and continued (resumableBody.ts).
        const page = Number(url.searchParams.get('page') ?? 1);
        const pages = Number(url.searchParams.get('pages') ?? 3);
        const blob = (id: number) =>
          createHash('shake256', { outputLength: 96 * 1024 })
            .update(`blob ${id}`)
            .digest('base64');
        const list = page > pages ? [] : Array.from({ length: 40 }, (_, i) => ({ id: (page - 1) * 40 + i + 1, blob: blob((page - 1) * 40 + i + 1) }));
        return json(res, 200, { items: list });
      }
      case '/graphql': {
        const query = JSON.parse(body || '{}') as { variables?: { since?: string; until?: string } };
        const s = Date.parse(query.variables?.since ?? '');
        const u = Date.parse(query.variables?.until ?? '');
        return json(res, 200, { data: { items: items.filter((i) => Date.parse(i.ts) >= s && Date.parse(i.ts) < u) } });
      }
      default:
        return json(res, 404, { error: `no route ${url.pathname}` });
    }
  }

  function applyFault(fault: Fault, res: ServerResponse): void {
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        return void res.end(fault.body ?? JSON.stringify({ error: `status ${fault.status}` }));
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"items": [{"id": 1,');
        return void setTimeout(() => res.socket?.destroy(), 10);
      case 'slow-body': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"items": [');
        const timer = setTimeout(() => res.end(']}'), fault.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'invalid-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('<html><body>Bad Gateway</body></html>');
      case 'error-body-200':
        return json(res, 200, { error: { code: 'quota', message: 'daily quota exceeded' } });
    }
  }

  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    items,
    requests,
    tokenRequests: () => tokenCount,
    fail: (...more) => faults.push(...more),
    failWhen: (predicate, fault, times) => targeted.push({ predicate, fault, left: times }),
    peakConcurrency: () => peak,
    revokeTokens: () => validTokens.clear(),
    close,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
