/**
 * A transport that records every hop it sends through another one, in the order sent: the
 * request as the client built it (auth applied, each redirect and token request its own hop)
 * and the response as the client read it. Everything above the transport (retries, redirects,
 * auth, paging, body parsing) runs exactly as in production; each body chunk is passed on as
 * it arrives, and a copy kept.
 */

import { bodyText, type ResponseHeaders, type Transport, type TransportRequest, type TransportResponse } from '../http/Transport.js';

/** One hop as recorded, secrets still in it: kept in memory only, masked before anything is written. */
export interface RecordedExchange {
  readonly request: { readonly method: string; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly body?: string };
  response?: {
    readonly status: number;
    readonly headers: readonly (readonly [string, string])[];
    readonly chunks: Buffer[];
    error?: { code?: string; message: string };
  };
  error?: { code?: string; message: string };
}

/** A recording transport and what it has recorded so far. */
export interface Recording {
  readonly transport: Transport;
  /** The hops in the order they were sent. */
  readonly exchanges: readonly RecordedExchange[];
}

/** Records every hop sent through `inner`. */
export function recordingTransport(inner: Transport): Recording {
  const exchanges: RecordedExchange[] = [];
  const transport: Transport = async (request) => {
    const exchange: RecordedExchange = { request: requestOf(request) };
    exchanges.push(exchange);
    let response: TransportResponse;
    try {
      response = await inner(request);
    } catch (error) {
      exchange.error = failureOf(error);
      throw error;
    }
    const recorded = { status: response.status, headers: headerLines(response.headers), chunks: [] as Buffer[], error: undefined as RecordedExchange['error'] };
    exchange.response = recorded;
    return recordedResponse(response, recorded);
  };
  return { transport, exchanges };
}

function requestOf(request: TransportRequest): RecordedExchange['request'] {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  return { method: request.method, url: request.url.href, headers, ...(request.body !== undefined ? { body: request.body } : {}) };
}

/** The response's fields as received; a transport that cannot list them cannot be recorded. */
function headerLines(headers: ResponseHeaders): [string, string][] {
  if (!headers.entries) throw new Error('the transport does not list response headers (ResponseHeaders.entries), so its responses cannot be recorded');
  return [...headers.entries()];
}

function failureOf(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown })?.code;
  return { ...(typeof code === 'string' ? { code } : {}), message: error instanceof Error ? error.message : String(error) };
}

/** The response passed on unchanged, each chunk the client reads copied into the recording. */
function recordedResponse(response: TransportResponse, recorded: NonNullable<RecordedExchange['response']>): TransportResponse {
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of response.body) {
        recorded.chunks.push(Buffer.from(chunk));
        yield chunk;
      }
    } catch (error) {
      recorded.error = failureOf(error);
      throw error;
    }
  }
  const stream = body();
  return {
    status: response.status,
    headers: response.headers,
    body: stream,
    text: () => bodyText(stream),
    discard: () => response.discard(),
  };
}
