/** The shapes of a request, of the response a reader gets, and of what the client returns. */

import type { ResponseHeaders, TransportResponse } from './Transport.js';

/** One request to send. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body (POST). */
  readonly body?: unknown;
  /** Form body (token requests). */
  readonly form?: URLSearchParams;
  /** Apply the source's auth. @default true */
  readonly authenticate?: boolean;
  /** Names the request in errors, e.g. `page 3`. */
  readonly label?: string;
}

/** A successful (2xx) response as a reader gets it: its body not read yet. */
export interface HttpResponse extends TransportResponse {
  /** The URL requested (with credentials), for resolving relative links. */
  readonly url: URL;
  /** The request's label (`page 3`), when it has one. */
  readonly label?: string;
  /** The request as errors quote it: `page 3, GET https://…` with credentials masked. */
  describe(): string;
  /** Masks the source's credentials in text quoted from the body; a function that needs no `this`, to pass on as it is. */
  readonly redact: (text: string) => string;
}

/**
 * Consumes a successful response's body. What it throws decides what happens next: an
 * {@link ApilakeError} ends the request at once (the body is not what it must be, and asking again
 * would only repeat it, or land records twice); anything else is a connection that broke while
 * the body arrived, retried like any network failure.
 */
export type BodyReader<T> = (response: HttpResponse) => Promise<T>;

/** Options of {@link HttpClient.request}. */
export interface RequestOptions<T> {
  readonly read: BodyReader<T>;
  readonly signal?: AbortSignal;
  /** Also counts into these (a window's) counters. */
  readonly stats?: HttpStats;
}

/** What a request returned: the final response's status and headers, and what the reader made of its body. */
export interface HttpResult<T> {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly url: URL;
  readonly body: T;
}

/** Counters of what the client did; mutated in place so a run can read them at any time. */
export interface HttpStats {
  requests: number;
  retries: number;
  throttled: number;
  /** Body bytes received, decoded. */
  bytes: number;
}
