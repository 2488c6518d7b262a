/**
 * What to do with a redirect: the method and body rules of RFC 9110 15.4 (as the Fetch
 * standard applies them), and the origin rule that keeps credentials and records with the
 * source: same-origin redirects are followed with credentials, redirects to an origin the
 * source allow-lists are followed without any, every other one is refused.
 */

/** The statuses that redirect (RFC 9110 15.4.2–15.4.9); 300, 304 and 305 do not. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The request that got the redirect. */
export interface RedirectedRequest {
  readonly method: string;
  readonly url: URL;
  /** Whether it carries a body. */
  readonly hasBody: boolean;
}

/** What {@link decideRedirect} weighs. */
export interface RedirectInput {
  readonly status: number;
  /** The Location header, as sent. */
  readonly location: string | null;
  readonly from: RedirectedRequest;
  /** The origin the request was made for: its credentials belong there and nowhere else. */
  readonly home: string;
  /** Whether an earlier hop of this chain already left `home`. */
  readonly leftHome: boolean;
  /** Origins the source allow-lists (`redirects.allowed_origins`), normalised. */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Redirects already followed in this chain. */
  readonly followed: number;
  /** `redirects.max`. */
  readonly max: number;
}

/** The outcome: not a redirect, follow it (how), or refuse it (why). */
export type RedirectDecision =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'follow';
      readonly url: URL;
      readonly method: string;
      /** The body is dropped when the method becomes GET. */
      readonly keepBody: boolean;
      /** Send the source's credentials: only to its own origin, and only before the chain left it. */
      readonly credentials: boolean;
    }
  | { readonly kind: 'refuse'; readonly reason: 'too_many' | 'bad_location' | 'foreign_origin'; readonly target?: URL };

/** Decides one hop. Pure: the HTTP client does the sending. */
export function decideRedirect(input: RedirectInput): RedirectDecision {
  if (!REDIRECT_STATUSES.has(input.status) || input.location === null) return { kind: 'none' };
  let target: URL;
  try {
    target = new URL(input.location, input.from.url);
  } catch {
    return { kind: 'refuse', reason: 'bad_location' };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { kind: 'refuse', reason: 'bad_location', target };
  if (input.followed >= input.max) return { kind: 'refuse', reason: 'too_many', target };
  // Credentials in a Location are never ours to send (and fetch refuses such URLs).
  target.username = '';
  target.password = '';

  const home = target.origin === input.home;
  if (!home && !input.allowedOrigins.has(target.origin)) return { kind: 'refuse', reason: 'foreign_origin', target };

  // RFC 9110 15.4.2/15.4.3: a POST may become GET on 301/302 ("for historical reasons", as every
  // fetch does); 15.4.4: 303 means GET; 15.4.8/15.4.9: 307/308 keep the method and the body.
  const method = input.status === 303 && input.from.method !== 'HEAD' ? 'GET' : (input.status === 301 || input.status === 302) && input.from.method === 'POST' ? 'GET' : input.from.method;
  const keepBody = method === input.from.method && input.from.hasBody;
  return { kind: 'follow', url: target, method, keepBody, credentials: home && !input.leftHome };
}
