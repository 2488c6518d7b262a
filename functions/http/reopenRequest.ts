/**
 * A request sent again for the rest of a body whose connection broke (resumableBody.ts): the same
 * prepared request with a few headers added (Range, If-Range), through the same redirect chain and
 * so the same credential rule, under a timeout of its own.
 */

import { Deadline } from './Deadline.js';
import { followRedirects, type RedirectChain } from './followRedirects.js';
import type { PreparedRequest } from './prepareRequest.js';
import { RequestHeaders } from './RequestHeaders.js';
import type { TransportResponse } from './Transport.js';

/** How the first request was sent, and what the client counts. */
export interface ReopenOptions extends Omit<RedirectChain, 'signal' | 'authHeaders' | 'authParams'> {
  /** `timeout_ms`: one for the chain and the body of this request. */
  readonly timeoutMs: number;
  /** The run's abort. */
  readonly signal?: AbortSignal;
  /** Counts the requests the chain sent, redirects included. */
  readonly sent: (hops: number) => void;
}

/**
 * Sends `prepared` again with `extra` headers; the response's body is left unread, its timeout
 * cleared once the body ends, fails, is dropped or discarded.
 * @throws the network failure, or the ApilakeError of a redirect the source may not follow
 */
export async function reopenRequest(prepared: PreparedRequest, extra: Readonly<Record<string, string>>, options: ReopenOptions): Promise<TransportResponse> {
  const headers = new RequestHeaders(prepared.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  const deadline = new Deadline(options.timeoutMs, options.signal);
  const chain = await followRedirects({ ...prepared, headers }, { ...options, authHeaders: prepared.authHeaders, authParams: prepared.authParams, signal: deadline.signal });
  options.sent(chain.hops);
  if (chain.kind !== 'response') {
    deadline.clear();
    throw chain.error;
  }
  const { response } = chain;
  return {
    ...response,
    body: until(response.body, () => deadline.clear()),
    discard: () => {
      deadline.clear();
      response.discard();
    },
  };
}

/** The body, then `done` once it ends, fails or its reader stops. */
async function* until(body: AsyncIterable<Uint8Array>, done: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    done();
  }
}
