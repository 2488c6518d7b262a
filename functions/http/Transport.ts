/**
 * What HttpClient needs from the network: one request, one response whose body arrives as
 * decoded byte chunks. Redirects, retries, auth and timeouts are the client's, never the
 * transport's, so every transport behaves alike under them.
 */

import type { HeaderFields } from './RequestHeaders.js';

/** One hop of a request, as sent. */
export interface TransportRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: HeaderFields;
  readonly body: string | undefined;
  /** Aborts the request and its body: the client's timeout or the run's abort. */
  readonly signal: AbortSignal;
}

/**
 * A response's headers as the client reads them: by name, case-insensitively, a repeated field
 * joined with ", " (what fetch's `Headers.get` returns, so a `Headers` is one).
 */
export interface ResponseHeaders {
  get(name: string): string | null;
  /** Every field as received, in order (what a recording of the response keeps). */
  entries?(): IterableIterator<[string, string]>;
}

/** A response whose body has not been read yet. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The body as it arrives, decoded per `content-encoding`; read it once. */
  readonly body: AsyncIterable<Uint8Array>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** Discards the body (a redirect's or a refused page's), keeping the connection when it can. */
  discard(): void;
}

/** Sends one hop; rejects on a network failure or an abort, never on an HTTP status. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * A transport over a `fetch` function: what tests inject to script responses or stall
 * connections. Redirects are returned, not followed (`redirect: 'manual'`).
 */
export function fetchTransport(fetchFn: typeof fetch): Transport {
  return async ({ method, url, headers, body, signal }) => {
    // Node's fetch (undici) returns the real 3xx response under 'manual' (nodejs/undici#1193).
    const response = await fetchFn(url, { method, headers: Object.fromEntries(headers), body, signal, redirect: 'manual' });
    return {
      status: response.status,
      headers: response.headers,
      body: (response.body ?? emptyBody()) as unknown as AsyncIterable<Uint8Array>,
      text: () => response.text(),
      discard: () => void response.body?.cancel().catch(() => undefined),
    };
  };
}

/**
 * A body read to its end as UTF-8 text, as fetch's `text()` reads it (WHATWG "UTF-8 decode"):
 * a leading byte order mark is not part of the text.
 */
export async function bodyText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
