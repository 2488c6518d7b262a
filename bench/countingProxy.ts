/**
 * A pass-through HTTP proxy in front of a local AWS server (moto, dynalite) that counts every
 * request by operation ({@link awsOperation}): what a landing sends to AWS, retries included,
 * counted where it leaves the process rather than where the code means to send it.
 */

import { createServer, request as httpRequest } from 'node:http';
import { listenOnLoopback } from '../test/support/listenOnLoopback.js';
import { awsOperation } from './awsRequests.js';

/** A running proxy. */
export interface CountingProxy {
  /** Point clients here instead of at the server. */
  readonly endpoint: string;
  /** Requests by operation since the last reset. */
  counts(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`http://127.0.0.1:port`) on a free loopback port. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  let counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    const operation = awsOperation({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    counts[operation] = (counts[operation] ?? 0) + 1;
    const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(error.message);
    });
    req.pipe(upstream);
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${listening.port}`,
    counts: () => ({ ...counts }),
    reset: () => void (counts = {}),
    close: listening.close,
  };
}
