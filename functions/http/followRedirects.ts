/**
 * Sends one request and follows the redirects {@link decideRedirect} allows. Redirects are the
 * client's to follow, never the transport's: a transport would carry custom credential headers
 * (X-API-Key) to any origin. Credentials go only to the request's own origin.
 */

import { ApilakeError, RedirectError } from '../errors.js';
import type { Redactor } from './redact.js';
import { decideRedirect, type RedirectDecision } from './redirectPolicy.js';
import { RequestHeaders } from './RequestHeaders.js';
import type { Transport, TransportResponse } from './Transport.js';

/** One hop of a redirect chain, as sent. */
export interface Hop {
  readonly method: string;
  readonly url: URL;
  readonly headers: RequestHeaders;
  readonly body: string | undefined;
}

/** What a chain needs besides its first hop. */
export interface RedirectChain {
  readonly transport: Transport;
  /** Ends every hop: the request's timeout and the run's abort. */
  readonly signal: AbortSignal;
  /** Headers and query parameters the source's auth set on the first hop: they never leave its origin. */
  readonly authHeaders: readonly string[];
  readonly authParams: readonly string[];
  /** Origins the source allow-lists (`redirects.allowed_origins`), normalised. */
  readonly allowedOrigins: ReadonlySet<string>;
  /** `redirects.max`. */
  readonly max: number;
  readonly redactor: Redactor;
  /** The request as errors quote it. */
  readonly describe: () => string;
}

/** How a chain ended; `hops` counts the responses received, redirects included. */
export type ChainOutcome =
  /** `url`: where the response came from, the last redirect's target. */
  | { readonly kind: 'response'; readonly response: TransportResponse; readonly hops: number; readonly url: URL }
  | { readonly kind: 'network'; readonly error: unknown; readonly hops: number }
  /** A redirect the source may not follow: the server's choice, which a retry would only repeat. */
  | { readonly kind: 'refused'; readonly error: ApilakeError; readonly hops: number };

/** Headers that carry credentials whatever the auth type; never sent to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'] as const;
/** Headers that describe a body; dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'] as const;

/** Sends `first` and the redirects it leads to; the final response's body is left unread. */
export async function followRedirects(first: Hop, chain: RedirectChain): Promise<ChainOutcome> {
  const home = first.url.origin;
  let hop = first;
  let leftHome = false;
  for (let followed = 0; ; followed++) {
    let response: TransportResponse;
    try {
      response = await chain.transport({ method: hop.method, url: hop.url, headers: hop.headers, body: hop.body, signal: chain.signal });
    } catch (error) {
      return { kind: 'network', error, hops: followed };
    }
    const hops = followed + 1;
    const decision = decideRedirect({
      status: response.status,
      location: response.headers.get('location'),
      from: { method: hop.method, url: hop.url, hasBody: hop.body !== undefined },
      home,
      leftHome,
      allowedOrigins: chain.allowedOrigins,
      followed,
      max: chain.max,
    });
    if (decision.kind === 'none') return { kind: 'response', response, hops, url: hop.url };
    response.discard();
    if (decision.kind === 'refuse') return { kind: 'refused', error: refusedRedirect(decision, response.status, hop, chain), hops };
    const next = nextHop(decision, hop, first, chain);
    if (next instanceof ApilakeError) return { kind: 'refused', error: next, hops };
    leftHome ||= decision.url.origin !== home;
    hop = next;
  }
}

/** The request a followed redirect makes; credentials go only to the request's own origin. */
function nextHop(decision: Extract<RedirectDecision, { kind: 'follow' }>, hop: Hop, first: Hop, chain: RedirectChain): Hop | ApilakeError {
  const url = new URL(decision.url);
  const headers = new RequestHeaders(hop.headers);
  if (!decision.keepBody) for (const name of BODY_HEADERS) headers.delete(name);
  const body = decision.keepBody ? hop.body : undefined;
  if (decision.credentials) {
    // Same origin: the credentials of the first hop go along, a query api_key included. They are
    // copied rather than asked of the authenticator again, which could need a token request,
    // and so a concurrency slot, while this request holds one.
    for (const name of chain.authParams) {
      url.searchParams.delete(name);
      for (const value of first.url.searchParams.getAll(name)) url.searchParams.append(name, value);
    }
    return { method: decision.method, url, headers, body };
  }
  for (const name of [...chain.authHeaders, ...CREDENTIAL_HEADERS]) headers.delete(name);
  for (const name of chain.authParams) url.searchParams.delete(name);
  // Last line of defence: a Location or a 307 body that echoes a credential in any encoding stops here.
  const { redactor } = chain;
  const carrier = redactor.contains(url.href)
    ? 'its URL'
    : [...headers.values()].some((v) => redactor.contains(v))
      ? 'a header'
      : body !== undefined && redactor.contains(body)
        ? 'its body'
        : undefined;
  if (carrier) {
    return new RedirectError(
      `HTTP redirect from ${redactor.text(hop.url.origin)} to allowed origin ${redactor.text(url.origin)} refused: the redirected request would carry a credential of the source in ${carrier}`,
      chain.describe(),
    );
  }
  return { method: decision.method, url, headers, body };
}

function refusedRedirect(decision: Extract<RedirectDecision, { kind: 'refuse' }>, status: number, hop: Hop, chain: RedirectChain): RedirectError {
  const { redactor } = chain;
  const from = redactor.text(hop.url.origin);
  const to = decision.target ? redactor.text(decision.target.origin) : undefined;
  const message =
    decision.reason === 'foreign_origin'
      ? `HTTP ${status} redirect from ${from} to another origin ${to} refused: the source's credentials and records stay with its own origin (list "${to}" in redirects.allowed_origins to follow it, without credentials)`
      : decision.reason === 'too_many'
        ? `more than ${chain.max} redirects in a row (redirects.max); the next one pointed to ${redactor.url(decision.target!)}`
        : `HTTP ${status} redirect from ${from} with a Location that is not an http(s) URL`;
  return new RedirectError(message, chain.describe(), { context: { status, reason: decision.reason } });
}
