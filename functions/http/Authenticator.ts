/** Applies a source's auth to each request; the OAuth2 grants live in `auth/`. */

import { systemClock } from '../clock.js';
import type { AuthConfig } from '../config/sourceSchema.js';
import { SecretError } from '../errors.js';
import { optionalSecretKey, requireSecretKeys } from '../secrets/secretJson.js';
import type { SecretProvider } from '../secrets/SecretProvider.js';
import { secretExample } from '../secrets/secretShapes.js';
import { ClientCredentialsGrant } from './auth/ClientCredentialsGrant.js';
import { JwtBearerGrant } from './auth/JwtBearerGrant.js';
import { RefreshTokenGrant } from './auth/RefreshTokenGrant.js';
import { readRsaPrivateKey } from './auth/signJwt.js';
import { TokenAuthenticator } from './auth/TokenAuthenticator.js';
import { processTokenCache, type TokenCache } from './auth/TokenCache.js';
import type { Redactor } from './redact.js';
import type { HeaderFields } from './RequestHeaders.js';

export { TOKEN_EXPIRY_MARGIN_MS } from './auth/tokenResponse.js';

/** Adds credentials to an outgoing request. */
export interface Authenticator {
  /** Sets headers or query parameters on the request. */
  apply(url: URL, headers: HeaderFields): Promise<void>;
  /** Called on a 401: returns true when fresh credentials were obtained and the request is worth repeating. */
  refresh(): Promise<boolean>;
}

/** Posts a form to the token endpoint and returns the parsed JSON body (supplied by the HTTP client). */
export type TokenRequester = (url: URL, form: URLSearchParams, headers: HeaderFields) => Promise<unknown>;

/** Seams of {@link createAuthenticator} beyond the clock. */
export interface AuthenticatorOptions {
  /** Waits between re-reads of a rotating secret. @default real time */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where `oauth2_refresh_token` keeps its access token. @default one cache per process, so a
   * warm function's next invocation and concurrent clients reuse a token instead of rotating again
   */
  readonly tokenCache?: TokenCache;
}

/**
 * Builds the authenticator for an auth block. The secret is read here, so a missing or malformed
 * one fails before any request, and every value is registered with the redactor before any
 * request can carry it.
 * @throws SecretError when the secret is missing, is not JSON, or lacks a key.
 */
export async function createAuthenticator(
  auth: AuthConfig,
  secrets: SecretProvider,
  redactor: Redactor,
  requestToken: TokenRequester,
  now: () => number = Date.now,
  options: AuthenticatorOptions = {},
): Promise<Authenticator> {
  if (auth.type === 'none') return { apply: async () => undefined, refresh: async () => false };
  const readOptions = { example: secretExample(auth.type) };
  // A rotating secret is read past any cache and with its version, for the write-back's version check.
  const versioned = auth.type === 'oauth2_refresh_token' ? await secrets.readVersioned(auth.secret, readOptions) : undefined;
  const secret = versioned?.value ?? (await secrets.getSecretJson(auth.secret, readOptions));
  registerSecretValues(secret, redactor, auth.secret);

  switch (auth.type) {
    case 'api_key': {
      const { api_key } = requireSecretKeys(auth.secret, secret, ['api_key']);
      if (auth.in === 'query') redactor.addSensitiveParam(auth.name);
      return {
        apply: async (url, headers) => (auth.in === 'query' ? url.searchParams.set(auth.name, api_key) : headers.set(auth.name, api_key)),
        refresh: async () => false,
      };
    }
    case 'bearer': {
      const { token } = requireSecretKeys(auth.secret, secret, ['token']);
      return { apply: async (_url, headers) => headers.set('authorization', `Bearer ${token}`), refresh: async () => false };
    }
    case 'basic': {
      const { username, password } = requireSecretKeys(auth.secret, secret, ['username', 'password']);
      const encoded = Buffer.from(`${username}:${password}`).toString('base64');
      redactor.addSecret(encoded);
      return { apply: async (_url, headers) => headers.set('authorization', `Basic ${encoded}`), refresh: async () => false };
    }
    case 'oauth2_client_credentials': {
      const credentials = requireSecretKeys(auth.secret, secret, ['client_id', 'client_secret']);
      return new TokenAuthenticator(new ClientCredentialsGrant(auth, credentials, redactor, requestToken, now), now);
    }
    case 'oauth2_refresh_token': {
      const grant = new RefreshTokenGrant({
        config: auth,
        secrets,
        redactor,
        requestToken,
        now,
        sleep: options.sleep ?? ((ms) => systemClock.sleep(ms)),
        initial: versioned!,
      });
      const key = JSON.stringify([auth.type, auth.secret, auth.token_url, auth.scope ?? '', secret.client_id]);
      return new TokenAuthenticator(grant, now, options.tokenCache ?? processTokenCache, key);
    }
    case 'jwt_bearer': {
      const { private_key } = requireSecretKeys(auth.secret, secret, ['private_key']);
      const issuer = optionalSecretKey(auth.secret, secret, 'issuer') ?? optionalSecretKey(auth.secret, secret, 'client_email');
      if (issuer === undefined) {
        const present = Object.keys(secret).join(', ') || 'none';
        throw new SecretError(`secret "${auth.secret}" lacks "client_email" or "issuer" (string), the assertion's iss; keys present: ${present}`, {
          context: { secret: auth.secret },
        });
      }
      const credentials = {
        issuer,
        privateKey: readRsaPrivateKey(auth.secret, private_key),
        subject: optionalSecretKey(auth.secret, secret, 'subject'),
        keyId: optionalSecretKey(auth.secret, secret, 'private_key_id'),
      };
      return new TokenAuthenticator(new JwtBearerGrant(auth, credentials, redactor, requestToken, now), now);
    }
  }
}

/** Masks every string of the secret, and every line of a PEM key, so a partial quote is masked too. */
function registerSecretValues(secret: Readonly<Record<string, unknown>>, redactor: Redactor, name: string): void {
  for (const [key, value] of Object.entries(secret)) {
    if (typeof value !== 'string') continue;
    redactor.addSecret(value, { secret: name, key });
    if (value.includes('-----BEGIN')) {
      // As it appears inside JSON text (escaped line breaks), and line by line.
      redactor.addSecret(JSON.stringify(value).slice(1, -1));
      for (const line of value.split(/\r?\n|\\n/)) if (line.length >= 16 && !line.startsWith('-----')) redactor.addSecret(line);
    }
  }
}
