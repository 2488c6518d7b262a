/** The auth types whose credential is the secret itself: none, api_key, bearer, basic. */

import { requireSecretKeys } from '../../secrets/secretJson.js';
import { fixedAuthenticator, type AuthType } from './Authenticator.js';

/** No credentials. */
export const noAuth: AuthType<'none'> = {
  create: () => fixedAuthenticator(() => undefined),
};

/** The key as a header or a query parameter. */
export const apiKeyAuth: AuthType<'api_key'> = {
  create(config, secret, { redactor }) {
    const { api_key } = requireSecretKeys(config.secret, secret, ['api_key']);
    if (config.in === 'query') redactor.addSensitiveParam(config.name);
    return fixedAuthenticator((url, headers) => (config.in === 'query' ? url.searchParams.set(config.name, api_key) : headers.set(config.name, api_key)));
  },
};

/** `Authorization: Bearer <token>`. */
export const bearerAuth: AuthType<'bearer'> = {
  create(config, secret) {
    const { token } = requireSecretKeys(config.secret, secret, ['token']);
    return fixedAuthenticator((_url, headers) => headers.set('authorization', `Bearer ${token}`));
  },
};

/** HTTP Basic (RFC 7617). */
export const basicAuth: AuthType<'basic'> = {
  create(config, secret, { redactor }) {
    const { username, password } = requireSecretKeys(config.secret, secret, ['username', 'password']);
    const encoded = Buffer.from(`${username}:${password}`).toString('base64');
    redactor.addSecret(encoded);
    return fixedAuthenticator((_url, headers) => headers.set('authorization', `Basic ${encoded}`));
  },
};
