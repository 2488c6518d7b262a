/** An authenticator that sends an OAuth2 access token, fetched by a grant and cached. */

import type { Authenticator } from './Authenticator.js';
import { type IssuedToken, TokenCache } from './TokenCache.js';
import type { HeaderFields } from '../RequestHeaders.js';

/** One way of obtaining an access token: client credentials, a refresh token, a signed JWT. */
export interface TokenGrant {
  /** Asks the token endpoint for a new access token. */
  fetch(): Promise<IssuedToken>;
}

/**
 * Sends `Authorization: Bearer <token>`; the token is cached until shortly before it expires and
 * fetched again once when the API answers 401.
 */
export class TokenAuthenticator implements Authenticator {
  constructor(
    private readonly grant: TokenGrant,
    private readonly now: () => number,
    private readonly cache: TokenCache = new TokenCache(),
    private readonly key: string = 'token',
  ) {}

  async apply(_url: URL, headers: HeaderFields): Promise<void> {
    headers.set('authorization', `Bearer ${await this.token()}`);
  }

  async refresh(): Promise<boolean> {
    this.cache.invalidate(this.key);
    await this.token();
    return true;
  }

  async values(): Promise<Readonly<Record<string, string>>> {
    return (await this.cache.issued(this.key, () => this.grant.fetch(), this.now())).fields ?? {};
  }

  private token(): Promise<string> {
    return this.cache.obtain(this.key, () => this.grant.fetch(), this.now());
  }
}
