/** A request as it goes on the wire: default and source headers, its body, and the source's auth applied. */

import { headerValueProblem } from '../config/headerValue.js';
import { SecretError, type ApilakeError } from '../errors.js';
import type { Authenticator } from './auth/Authenticator.js';
import type { Hop } from './followRedirects.js';
import type { HttpRequest } from './HttpRequest.js';
import { describeSecret, type Redactor } from './redact.js';
import { RequestHeaders } from './RequestHeaders.js';

/** A request ready to send, and what its auth added (removed again before it leaves its origin). */
export interface PreparedRequest extends Hop {
  readonly authHeaders: readonly string[];
  readonly authParams: readonly string[];
}

/**
 * The request as sent without auth. Headers are set in order, names case-insensitive: the
 * source's replace the default `accept`, the request's replace both.
 */
export function prepareRequest(request: HttpRequest, sourceHeaders: Readonly<Record<string, string>> | undefined): PreparedRequest {
  const url = new URL(request.url);
  const headers = new RequestHeaders({ accept: 'application/json', ...sourceHeaders, ...request.headers });
  let body: string | undefined;
  if (request.form) body = request.form.toString();
  else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return { method: request.method, url, headers, body, authHeaders: [], authParams: [] };
}

/**
 * The request with the source's auth applied, and what the auth added.
 * @throws SecretError naming the secret key whose value cannot travel in a header, never the value
 */
export async function authenticate(request: PreparedRequest, authenticator: Authenticator, redactor: Redactor): Promise<PreparedRequest> {
  const { url, headers } = request;
  const headersBefore = new Map(headers);
  const paramsBefore = new URLSearchParams(url.search);
  try {
    await authenticator.apply(url, headers);
  } catch (error) {
    // RequestHeaders refuses, as Headers would, a value that cannot travel in a header.
    if (error instanceof TypeError) throw unusableCredential(redactor, error);
    throw error;
  }
  const authHeaders = [...headers.keys()].filter((name) => headersBefore.get(name) !== headers.get(name));
  const authParams = [...new Set(url.searchParams.keys())].filter((name) => paramsBefore.getAll(name).join('\n') !== url.searchParams.getAll(name).join('\n'));
  for (const name of authHeaders) {
    // Control characters pass Headers (and RequestHeaders) but fail in node:http or fetch, as a network error that would be retried.
    if (headerValueProblem(headers.get(name)!) !== undefined) throw unusableCredential(redactor, undefined, headers.get(name)!);
  }
  return { ...request, authHeaders, authParams };
}

/** Names the secret key that cannot travel in a header, and why, never its value. */
function unusableCredential(redactor: Redactor, error: TypeError | undefined, headerValue?: string): ApilakeError {
  const hit = redactor.findSecret((value) => (headerValue === undefined || headerValue.includes(value) ? headerValueProblem(value) : undefined));
  if (hit) {
    return new SecretError(`${describeSecret(hit.origin)} cannot be sent in an HTTP header: its ${hit.found}; correct the stored value`, { context: hit.origin ? { ...hit.origin } : {} });
  }
  // Not a registered secret's fault: say what failed, with any credential in the message masked.
  return new SecretError(`applying the source's auth failed: ${redactor.text(error?.message ?? 'an auth header is not a valid header value')}`, { cause: error });
}
