/** OAuth2 client credentials grant (RFC 6749 §4.4). */

import type { AuthConfig } from '../../config/sourceSchema.js';
import type { TokenRequester } from '../Authenticator.js';
import type { Redactor } from '../redact.js';
import { applyClientAuthentication, type ClientCredentials, tokenRequestHeaders } from './clientAuthentication.js';
import type { TokenGrant } from './TokenAuthenticator.js';
import type { IssuedToken } from './TokenCache.js';
import { parseTokenResponse } from './tokenResponse.js';

type ClientCredentialsConfig = Extract<AuthConfig, { type: 'oauth2_client_credentials' }>;

/** Exchanges the client's own credentials for an access token. */
export class ClientCredentialsGrant implements TokenGrant {
  constructor(
    private readonly config: ClientCredentialsConfig,
    private readonly credentials: ClientCredentials,
    private readonly redactor: Redactor,
    private readonly requestToken: TokenRequester,
    private readonly now: () => number,
  ) {}

  async fetch(): Promise<IssuedToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.config.scope) form.set('scope', this.config.scope);
    const headers = tokenRequestHeaders();
    applyClientAuthentication(this.config.client_auth, this.credentials, form, headers, this.redactor);
    const body = await this.requestToken(new URL(this.config.token_url), form, headers);
    return parseTokenResponse(body, this.config.token_url, this.redactor, this.now());
  }
}
