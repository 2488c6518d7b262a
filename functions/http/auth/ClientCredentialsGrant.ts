/** OAuth2 client credentials grant (RFC 6749 §4.4). */

import type { AuthConfig } from '../../config/sourceSchema.js';
import type { Redactor } from '../redact.js';
import { requireSecretKeys } from '../../secrets/secretJson.js';
import type { AuthType, TokenRequester } from './Authenticator.js';
import { applyClientAuthentication, type ClientCredentials, tokenRequestHeaders } from './clientAuthentication.js';
import { TokenAuthenticator, type TokenGrant } from './TokenAuthenticator.js';
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

/** `oauth2_client_credentials`: a bearer token for the client's own id and secret. */
export const clientCredentialsAuth: AuthType<'oauth2_client_credentials'> = {
  create(config, secret, { redactor, requestToken, now }) {
    const credentials = requireSecretKeys(config.secret, secret, ['client_id', 'client_secret']);
    return new TokenAuthenticator(new ClientCredentialsGrant(config, credentials, redactor, requestToken, now), now);
  },
};
