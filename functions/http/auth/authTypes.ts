/** Maps the YAML `auth.type` discriminator to its authenticator: adding an auth type is adding an entry. */

import type { AuthConfig } from '../../config/sourceSchema.js';
import type { AuthType } from './Authenticator.js';
import { clientCredentialsAuth } from './ClientCredentialsGrant.js';
import { apiKeyAuth, basicAuth, bearerAuth, noAuth } from './fixedCredentials.js';
import { jwtBearerAuth } from './JwtBearerGrant.js';
import { refreshTokenAuth } from './RefreshTokenGrant.js';

/** Every auth type, by its `auth.type`. */
export const AUTH_TYPES: { readonly [T in AuthConfig['type']]: AuthType<T> } = {
  none: noAuth,
  api_key: apiKeyAuth,
  bearer: bearerAuth,
  basic: basicAuth,
  oauth2_client_credentials: clientCredentialsAuth,
  oauth2_refresh_token: refreshTokenAuth,
  jwt_bearer: jwtBearerAuth,
};
