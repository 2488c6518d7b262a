/** A small HTTP server on loopback for the API simulations of window tests: records every request, answers JSON. */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { asyncListener, listenOnLoopback } from './listenOnLoopback.js';

/** A request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a route answers. */
export interface JsonAnswer {
  readonly status?: number;
  /** Undefined values are not sent. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** A string or bytes are sent as they are, anything else as JSON. */
  readonly body: unknown;
}

/** A running server. */
export interface JsonServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number;
  /** Most requests whose path starts with `prefix` that were ever in flight at once. */
  peak(prefix: string): number;
  /** Stops the server; needs no `this` (`afterAll(api.close)`). */
  readonly close: () => Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (free port) answering with `route`. `latencyMs` delays every
 * answer so concurrent clients overlap. `hold` keeps a request from the route until it settles;
 * `holdAnswer` keeps the route's answer from the client (the server applied the request, the
 * client dies before it hears so).
 */
export async function startJsonServer(
  route: (request: SeenRequest, base: string) => JsonAnswer,
  options: { latencyMs?: number; hold?: (request: SeenRequest) => Promise<void> | undefined; holdAnswer?: (request: SeenRequest) => Promise<void> | undefined } = {},
): Promise<JsonServer> {
  const requests: SeenRequest[] = [];
  // Arrivals (+1) and departures (-1) in order, replayed to find the peak of any path prefix.
  const events: { path: string; delta: 1 | -1 }[] = [];
  const server = createServer(
    asyncListener(async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const seen: SeenRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://local'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      events.push({ path: seen.url.pathname, delta: 1 });
      res.on('close', () => events.push({ path: seen.url.pathname, delta: -1 }));
      if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      // A test holds a request unanswered (to kill its client mid-request) until it lets it go.
      await options.hold?.(seen);
      let answer: JsonAnswer;
      try {
        answer = route(seen, `http://${req.headers.host}`);
      } catch (error) {
        answer = { status: 500, body: { error: (error as Error).message } };
      }
      await options.holdAnswer?.(seen);
      const headers = Object.fromEntries(Object.entries(answer.headers ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...headers });
      res.end(typeof answer.body === 'string' || Buffer.isBuffer(answer.body) ? answer.body : JSON.stringify(answer.body));
    }),
  );
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (prefix) => requests.filter((r) => r.url.pathname.startsWith(prefix)).length,
    peak: (prefix) => {
      let now = 0;
      let most = 0;
      for (const event of events) {
        if (!event.path.startsWith(prefix)) continue;
        now += event.delta;
        most = Math.max(most, now);
      }
      return most;
    },
    close,
  };
}
