/** The auth types whose credential is the secret itself: none, api_key, bearer, basic. */

import { CREDENTIAL_KEY, credentialTemplate, renderCredential, templatePrefix, type TemplatedAuth } from '../../config/credentialTemplate.js';
import { headerValueProblem } from '../../config/headerValue.js';
import { SecretError } from '../../errors.js';
import { requireSecretKeys } from '../../secrets/secretJson.js';
import { describeSecret, type Redactor } from '../redact.js';
import { fixedAuthenticator, type AuthType } from './Authenticator.js';

/** No credentials. */
export const noAuth: AuthType<'none'> = {
  create: () => fixedAuthenticator(() => undefined),
};

/** The key as a header or a query parameter, bare or inside the block's `prefix`/`template`. */
export const apiKeyAuth: AuthType<'api_key'> = {
  create(config, secret, { redactor }) {
    const { api_key } = requireSecretKeys(config.secret, secret, ['api_key']);
    const value = templated(config, config.secret, api_key, redactor);
    if (config.in === 'query') redactor.addSensitiveParam(config.name);
    else checkHeaderValue(config.secret, 'api_key', api_key, value);
    return fixedAuthenticator((url, headers) => (config.in === 'query' ? url.searchParams.set(config.name, value) : headers.set(config.name, value)));
  },
};

/** `Authorization: Bearer <token>`, or the block's `prefix`/`template` around the token. */
export const bearerAuth: AuthType<'bearer'> = {
  create(config, secret, { redactor }) {
    const { token } = requireSecretKeys(config.secret, secret, ['token']);
    const value = templated(config, config.secret, token, redactor);
    checkHeaderValue(config.secret, 'token', token, value);
    return fixedAuthenticator((_url, headers) => headers.set('authorization', value));
  },
};

/**
 * The credential as it travels, registered for masking whole (the bare value already is).
 * @throws SecretError when the stored value already starts with the template's text: it would be sent twice
 */
function templated(config: TemplatedAuth, secretName: string, bare: string, redactor: Redactor): string {
  const key = CREDENTIAL_KEY[config.type];
  const template = credentialTemplate(config);
  const prefix = templatePrefix(template, key);
  if (prefix.trim() !== '' && bare.toLowerCase().startsWith(prefix.toLowerCase())) {
    throw new SecretError(
      `secret "${secretName}" key "${key}" already starts with "${prefix.trim()}", which auth.${config.template !== undefined ? 'template' : 'prefix'} adds: store the bare ${key} in the secret`,
      { context: { secret: secretName, key } },
    );
  }
  const value = renderCredential(template, key, bare);
  redactor.addSecret(value);
  return value;
}

/**
 * Refuses a stored credential that no request could carry in its header (a line break, a control
 * character, a typographic quote) when the source's client is made, before any window: every
 * request would fail the same way.
 * @throws SecretError naming the secret key and the character's position, never the value
 */
function checkHeaderValue(secretName: string, key: string, bare: string, value: string): void {
  const problem = headerValueProblem(value);
  if (problem === undefined) return;
  const where = headerValueProblem(bare) ?? `${problem} of the value with auth.template applied`;
  const origin = { secret: secretName, key };
  throw new SecretError(`${describeSecret(origin)} cannot be sent in an HTTP header: its ${where}; correct the stored value`, { context: { ...origin } });
}

/** HTTP Basic (RFC 7617). */
export const basicAuth: AuthType<'basic'> = {
  create(config, secret, { redactor }) {
    const { username, password } = requireSecretKeys(config.secret, secret, ['username', 'password']);
    const encoded = Buffer.from(`${username}:${password}`).toString('base64');
    redactor.addSecret(encoded);
    return fixedAuthenticator((_url, headers) => headers.set('authorization', `Basic ${encoded}`));
  },
};
