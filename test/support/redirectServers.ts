/**
 * Two APIs on loopback, on different ports (so different origins): the source's own ("home"),
 * which redirects as told, and a foreign one that records every request it receives, to prove
 * what reached it and what did not.
 *
 * Home routes:
 * - `/data`: one record `{id: "home-1"}` (the request's method and body are echoed in `meta`).
 * - `/to-foreign/<status>`: redirects with `<status>` to the foreign `/data`, keeping the query string
 *   (as naive servers do, so a query api_key rides along in the Location).
 * - `/to-home/<status>`: redirects with `<status>` to `/data` without the query string.
 * - `/loop?n=<n>`: redirects to `/loop?n=<n+1>`, forever.
 * - `/to-foreign-with/<param>/<value>`: redirects (302) to the foreign `/data?<param>=<value>`.
 * - `/via-foreign`: redirects (302) to the foreign `/back-home`, which redirects back to the home `/data`.
 * - `/to-signed`: redirects (302) to the foreign `/signed`, presigned with {@link PRESIGNED}.
 * Foreign routes: `/data` serves one record `{id: "foreign-1"}`; `/back-home` redirects (302) to the home `/data`;
 * `/signed` refuses its presigned query as S3 does (403 `SignatureDoesNotMatch`, echoing the
 * signature provided and the canonical request with its query string, abridged to those:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { asyncListener, listenOnLoopback } from './listenOnLoopback.js';

/** The presigned query of the foreign `/signed` that `/to-signed` redirects to, as S3's query authentication writes it. */
export const PRESIGNED = {
  'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
  'X-Amz-Credential': 'AKIAEXAMPLE7Q/20240101/us-east-1/s3/aws4_request',
  'X-Amz-Signature': '9f2c4e7a1b3d5f60718293a4b5c6d7e8f9012345',
} as const;

/** A request as a server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One of the two servers. */
export interface RecordingServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
}

/** The pair; `close()` stops both. */
export interface RedirectServers {
  readonly home: RecordingServer;
  readonly foreign: RecordingServer;
  close(): Promise<void>;
}

/** Starts both servers on 127.0.0.1 with free ports. */
export async function startRedirectServers(): Promise<RedirectServers> {
  const homeRequests: RecordedRequest[] = [];
  const foreignRequests: RecordedRequest[] = [];
  let homeUrl = '';
  let foreignUrl = '';

  const home = await listen(homeRequests, (url, req, body, res) => {
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/data') return json(res, 200, { data: [{ id: 'home-1' }], meta: { method: req.method, body } });
    if (parts[0] === 'to-foreign' && parts[1]) return redirect(res, Number(parts[1]), `${foreignUrl}/data${url.search}`);
    if (parts[0] === 'to-home' && parts[1]) return redirect(res, Number(parts[1]), '/data');
    if (url.pathname === '/loop') return redirect(res, 302, `/loop?n=${Number(url.searchParams.get('n') ?? 0) + 1}`);
    if (url.pathname === '/via-foreign') return redirect(res, 302, `${foreignUrl}/back-home`);
    if (url.pathname === '/to-signed') return redirect(res, 302, `${foreignUrl}/signed?${new URLSearchParams(PRESIGNED).toString()}`);
    if (parts[0] === 'to-foreign-with' && parts[1] && parts[2]) return redirect(res, 302, `${foreignUrl}/data?${parts[1]}=${parts[2]}`);
    json(res, 404, { error: `no route ${url.pathname}` });
  });
  const foreign = await listen(foreignRequests, (url, req, body, res) => {
    if (url.pathname === '/data') return json(res, 200, { data: [{ id: 'foreign-1' }], meta: { method: req.method, body } });
    if (url.pathname === '/back-home') return redirect(res, 302, `${homeUrl}/data`);
    if (url.pathname === '/signed') {
      res.writeHead(403, { 'content-type': 'application/xml' });
      const query = (req.url ?? '').split('?')[1] ?? '';
      return res.end(
        `<Error><Code>SignatureDoesNotMatch</Code>` +
          `<SignatureProvided>${url.searchParams.get('X-Amz-Signature') ?? ''}</SignatureProvided><CanonicalRequest>GET\n/signed\n${query.replaceAll('&', '&amp;')}</CanonicalRequest></Error>`,
      );
    }
    json(res, 404, { error: `no route ${url.pathname}` });
  });
  homeUrl = home.url;
  foreignUrl = foreign.url;
  return {
    home: { url: home.url, requests: homeRequests },
    foreign: { url: foreign.url, requests: foreignRequests },
    close: async () => {
      await Promise.all([home.close(), foreign.close()]);
    },
  };
}

type Handler = (url: URL, req: IncomingMessage, body: string, res: ServerResponse) => void;

async function listen(requests: RecordedRequest[], handle: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      handle(new URL(req.url ?? '/', 'http://local'), req, body, res);
    }),
  );
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close,
  };
}

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location, 'content-type': 'text/plain' });
  res.end(`moved to ${location}`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
