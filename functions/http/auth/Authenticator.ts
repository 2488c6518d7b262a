/** What every auth type implements, and what it is given to build itself. */

import { promised } from '../../commons/promised.js';
import type { AuthConfig } from '../../config/sourceSchema.js';
import type { SecretProvider, VersionedSecret } from '../../secrets/SecretProvider.js';
import type { Redactor } from '../redact.js';
import type { HeaderFields } from '../RequestHeaders.js';
import type { TokenCache } from './TokenCache.js';

/** Adds credentials to an outgoing request. */
export interface Authenticator {
  /** Sets headers or query parameters on the request. */
  apply(url: URL, headers: HeaderFields): Promise<void>;
  /** Called on a 401: returns true when fresh credentials were obtained and the request is worth repeating. */
  refresh(): Promise<boolean>;
}

/** Posts a form to the token endpoint and returns the parsed JSON body (supplied by the HTTP client). */
export type TokenRequester = (url: URL, form: URLSearchParams, headers: HeaderFields) => Promise<unknown>;

/** The secret an auth type reads, already checked to be a JSON object and registered with the redactor. */
export type SecretJson = Readonly<Record<string, unknown>>;

/** What an auth type's factory is given besides its config and secret. */
export interface AuthContext {
  readonly secrets: SecretProvider;
  readonly redactor: Redactor;
  readonly requestToken: TokenRequester;
  readonly now: () => number;
  /** Waits between re-reads of a rotating secret. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Where token types keep access tokens that outlive one client (a warm function's next invocation). */
  readonly tokenCache: TokenCache;
  /** The secret with its version, for types that write it back (`rotating`). */
  readonly versioned?: VersionedSecret;
}

/** One `auth.type`: how to build its authenticator. */
export interface AuthType<T extends AuthConfig['type']> {
  /** The secret is written back (a rotating refresh token): read it past any cache, with its version. @default false */
  readonly rotating?: boolean;
  create(config: Extract<AuthConfig, { type: T }>, secret: SecretJson, context: AuthContext): Authenticator;
}

/** An authenticator whose credentials never change within a run: `apply` sets them at once, with nothing to wait for. */
export function fixedAuthenticator(apply: (url: URL, headers: HeaderFields) => void): Authenticator {
  return {
    apply: (url, headers) => promised(() => apply(url, headers)),
    refresh: () => Promise.resolve(false),
  };
}
