/** Applies a source's auth to each request; for OAuth2, fetches and caches the access token. */

import type { AuthConfig } from '../config/sourceSchema.js';
import { ApilakeError } from '../errors.js';
import { requireSecretKeys, type SecretProvider } from '../secrets/SecretProvider.js';
import type { Redactor } from './redact.js';

/** Adds credentials to an outgoing request. */
export interface Authenticator {
  /** Sets headers or query parameters on the request. */
  apply(url: URL, headers: Headers): Promise<void>;
  /** Called on a 401: returns true when fresh credentials were obtained and the request is worth repeating. */
  refresh(): Promise<boolean>;
}

/** Posts a form to the token endpoint and returns the parsed JSON body (supplied by the HTTP client). */
export type TokenRequester = (url: URL, form: URLSearchParams, headers: Headers) => Promise<unknown>;

/** Refresh this long before the token expires, so a request never carries a token that dies in flight. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/**
 * Builds the authenticator for an auth block. Secrets are read once here, and every value is
 * registered with the redactor before any request can carry it.
 */
export async function createAuthenticator(
  auth: AuthConfig,
  secrets: SecretProvider,
  redactor: Redactor,
  requestToken: TokenRequester,
  now: () => number = Date.now,
): Promise<Authenticator> {
  if (auth.type === 'none') return { apply: async () => undefined, refresh: async () => false };
  const secret = await secrets.getSecretJson(auth.secret);
  for (const [key, value] of Object.entries(secret)) if (typeof value === 'string') redactor.addSecret(value, { secret: auth.secret, key });

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
      return new ClientCredentialsAuthenticator(auth, credentials, redactor, requestToken, now);
    }
  }
}

type ClientCredentialsConfig = Extract<AuthConfig, { type: 'oauth2_client_credentials' }>;

class ClientCredentialsAuthenticator implements Authenticator {
  private token: { value: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly config: ClientCredentialsConfig,
    private readonly credentials: { client_id: string; client_secret: string },
    private readonly redactor: Redactor,
    private readonly requestToken: TokenRequester,
    private readonly now: () => number,
  ) {
    redactor.addSecret(Buffer.from(`${credentials.client_id}:${credentials.client_secret}`).toString('base64'));
  }

  async apply(_url: URL, headers: Headers): Promise<void> {
    headers.set('authorization', `Bearer ${await this.accessToken()}`);
  }

  async refresh(): Promise<boolean> {
    this.token = undefined;
    await this.accessToken();
    return true;
  }

  private accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    // Concurrent pages share one token request.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.config.scope) form.set('scope', this.config.scope);
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    if (this.config.client_auth === 'header') {
      const basic = Buffer.from(`${encodeURIComponent(this.credentials.client_id)}:${encodeURIComponent(this.credentials.client_secret)}`).toString('base64');
      this.redactor.addSecret(basic);
      headers.set('authorization', `Basic ${basic}`);
    } else {
      form.set('client_id', this.credentials.client_id);
      form.set('client_secret', this.credentials.client_secret);
    }
    const body = (await this.requestToken(new URL(this.config.token_url), form, headers)) as Record<string, unknown> | null;
    const value = body?.access_token;
    if (typeof value !== 'string' || value === '') {
      const keys = body && typeof body === 'object' ? Object.keys(body).join(', ') : typeof body;
      throw new ApilakeError(`token endpoint ${this.redactor.url(this.config.token_url)} returned no access_token (keys: ${keys})`);
    }
    this.redactor.addSecret(value);
    const lifetimeMs = typeof body?.expires_in === 'number' ? body.expires_in * 1000 : 3_600_000;
    const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 10);
    this.token = { value, refreshAt: this.now() + lifetimeMs - margin };
    return value;
  }
}
