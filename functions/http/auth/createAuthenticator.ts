/** Builds a source's authenticator: reads its secret once, masks every value, and hands it to the auth type. */

import { systemClock } from '../../clock.js';
import type { AuthConfig } from '../../config/sourceSchema.js';
import type { SecretProvider } from '../../secrets/SecretProvider.js';
import { secretExample } from '../../secrets/secretShapes.js';
import type { Redactor } from '../redact.js';
import type { AuthType, Authenticator, SecretJson, TokenRequester } from './Authenticator.js';
import { AUTH_TYPES } from './authTypes.js';
import { processTokenCache, type TokenCache } from './TokenCache.js';

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
  const type = AUTH_TYPES[auth.type] as AuthType<AuthConfig['type']>;
  const context = { secrets, redactor, requestToken, now, sleep: options.sleep ?? ((ms: number) => systemClock.sleep(ms)), tokenCache: options.tokenCache ?? processTokenCache };
  if (auth.type === 'none') return type.create(auth, {}, context);
  const readOptions = { example: secretExample(auth.type) };
  // A rotating secret is read past any cache and with its version, for the write-back's version check.
  const versioned = type.rotating ? await secrets.readVersioned(auth.secret, readOptions) : undefined;
  const secret = versioned?.value ?? (await secrets.getSecretJson(auth.secret, readOptions));
  registerSecretValues(secret, redactor, auth.secret);
  return type.create(auth, secret, versioned ? { ...context, versioned } : context);
}

/** Masks every string of the secret, and every line of a PEM key, so a partial quote is masked too. */
function registerSecretValues(secret: SecretJson, redactor: Redactor, name: string): void {
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
