/** How an OAuth2 client proves its identity to the token endpoint (RFC 6749 §2.3.1). */

import type { Redactor } from '../redact.js';
import { RequestHeaders, type HeaderFields } from '../RequestHeaders.js';

/** A confidential client's credentials. */
export interface ClientCredentials {
  readonly client_id: string;
  readonly client_secret: string;
}

/**
 * Puts the client's credentials on a token request: an HTTP Basic header (the form-encoded id and
 * secret, as §2.3.1 requires) or `client_id`/`client_secret` in the form body.
 */
export function applyClientAuthentication(mode: 'header' | 'body', credentials: ClientCredentials, form: URLSearchParams, headers: HeaderFields, redactor: Redactor): void {
  // Registered whichever way they travel: some endpoints echo a Basic header back in errors.
  redactor.addSecret(Buffer.from(`${credentials.client_id}:${credentials.client_secret}`).toString('base64'));
  if (mode === 'header') {
    const basic = Buffer.from(`${encodeURIComponent(credentials.client_id)}:${encodeURIComponent(credentials.client_secret)}`).toString('base64');
    redactor.addSecret(basic);
    headers.set('authorization', `Basic ${basic}`);
  } else {
    form.set('client_id', credentials.client_id);
    form.set('client_secret', credentials.client_secret);
  }
}

/** Headers of every token request. */
export function tokenRequestHeaders(): RequestHeaders {
  return new RequestHeaders({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
}
