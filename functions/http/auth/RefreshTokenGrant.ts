/**
 * OAuth2 refresh-token grant (RFC 6749 §6). Providers that rotate the refresh token on every use
 * (RFC 6749 §10.4, OAuth 2.0 Security BCP) invalidate the old one, so the new one is written back
 * to the secret before anything uses it, with a version check against concurrent runs.
 */

import type { AuthConfig } from '../../config/sourceSchema.js';
import { SecretError } from '../../errors.js';
import { requireSecretKeys } from '../../secrets/secretJson.js';
import type { VersionedSecret } from '../../secrets/SecretProvider.js';
import { secretExample } from '../../secrets/secretShapes.js';
import type { AuthContext, AuthType } from './Authenticator.js';
import { applyClientAuthentication, tokenRequestHeaders } from './clientAuthentication.js';
import { TokenAuthenticator, type TokenGrant } from './TokenAuthenticator.js';
import type { IssuedToken } from './TokenCache.js';
import { oauthErrorCode, parseTokenResponse } from './tokenResponse.js';

type RefreshTokenConfig = Extract<AuthConfig, { type: 'oauth2_refresh_token' }>;

/**
 * Waits before each re-read of the secret after an `invalid_grant`: another run that used the same
 * refresh token a moment earlier may still be writing its successor back (one write is two
 * Secrets Manager calls, well under a second).
 */
export const ROTATION_REREAD_DELAYS_MS: readonly number[] = [0, 250, 500, 1_000, 2_000];

/**
 * Exchanges one fetch may make. Each retry follows a token another run saved, so N runs that
 * refresh at the same moment all succeed within N exchanges (one wins each round).
 */
export const MAX_EXCHANGES_PER_FETCH = 10;

/**
 * A pending write older than this belongs to a run that stopped between the two steps of its
 * write-back, not to one still writing (the steps take well under a second).
 */
export const ABANDONED_WRITE_AGE_MS = 60_000;

/** What a {@link RefreshTokenGrant} needs. */
export interface RefreshTokenGrantOptions extends Pick<AuthContext, 'secrets' | 'redactor' | 'requestToken' | 'now' | 'sleep'> {
  readonly config: RefreshTokenConfig;
  /** The secret as createAuthenticator read it, checked at construction. */
  readonly initial: VersionedSecret;
}

/** The secret at one version, with the keys the grant needs. */
interface SecretState {
  readonly value: Readonly<Record<string, unknown>>;
  readonly version: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/**
 * Exchanges the stored refresh token for an access token. Each fetch starts from the secret's
 * current version (read past any cache), so a token another run rotated is picked up, and:
 * - a rotated refresh token is written back with `replaceIfCurrent` before the access token is
 *   returned; if another run wrote first, the secret is read again and the exchange retried once
 *   from the token that run saved, so the secret ends with the newest token;
 * - an `invalid_grant` (the token was used by another run, which is writing its successor back)
 *   re-reads the secret a few times until a newer token appears, then retries with it; while
 *   others keep winning, this repeats up to {@link MAX_EXCHANGES_PER_FETCH} exchanges. If none
 *   appears, a successor that a dead run stored but never made current is tried.
 */
export class RefreshTokenGrant implements TokenGrant {
  constructor(private readonly options: RefreshTokenGrantOptions) {
    // Fails early, before any request, when the secret lacks a key.
    this.toState(options.initial);
  }

  async fetch(): Promise<IssuedToken> {
    // Read right before the exchange, never from an earlier read: presenting a refresh token that
    // was already used makes some providers revoke the whole token family (reuse detection).
    let state = await this.read();
    let lostWrite = false;
    for (let exchanges = 1; ; exchanges++) {
      let issued: IssuedToken;
      try {
        issued = await this.exchange(state);
      } catch (error) {
        if (oauthErrorCode(error) !== 'invalid_grant') throw error;
        const rotated = exchanges < MAX_EXCHANGES_PER_FETCH ? await this.awaitRotation(state) : undefined;
        if (!rotated) throw this.rejected(error);
        state = rotated;
        continue;
      }
      if (issued.refreshToken === undefined || issued.refreshToken === state.refreshToken) return issued;
      const outcome = await this.options.secrets.replaceIfCurrent(this.options.config.secret, { ...state.value, refresh_token: issued.refreshToken }, state.version);
      // Lost twice: the secret holds the token of a run that won both races. That token is valid
      // (losing a race means the provider accepted a reused refresh token, so it keeps siblings
      // valid), and so is this access token: use it, and leave the secret to the winner.
      if (outcome.written || lostWrite) return issued;
      lostWrite = true;
      state = await this.read();
    }
  }

  private async exchange(state: SecretState): Promise<IssuedToken> {
    const { config, redactor, requestToken, now } = this.options;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: state.refreshToken });
    if (config.scope) form.set('scope', config.scope);
    const headers = tokenRequestHeaders();
    applyClientAuthentication(config.client_auth, { client_id: state.clientId, client_secret: state.clientSecret }, form, headers, redactor);
    return parseTokenResponse(await requestToken(new URL(config.token_url), form, headers), config.token_url, redactor, now());
  }

  private async awaitRotation(stale: SecretState): Promise<SecretState | undefined> {
    let last = stale;
    for (const delay of ROTATION_REREAD_DELAYS_MS) {
      await this.options.sleep(delay);
      last = await this.read();
      if (last.refreshToken !== stale.refreshToken) return last;
    }
    // No newer token became current. A run that died between storing its successor and making it
    // current left that successor pending; once it is old enough that its writer cannot still be
    // finishing, it is the token to use (and the write-back then makes it current's successor).
    const pending = await this.options.secrets.readPendingWrite(this.options.config.secret);
    if (pending === undefined || this.options.now() - pending.writtenAt < ABANDONED_WRITE_AGE_MS) return undefined;
    const candidate = this.toState({ value: pending.value, version: last.version });
    return candidate.refreshToken === stale.refreshToken ? undefined : candidate;
  }

  private async read(): Promise<SecretState> {
    const { config } = this.options;
    return this.toState(await this.options.secrets.readVersioned(config.secret, { example: secretExample(config.type) }));
  }

  private toState(secret: VersionedSecret): SecretState {
    const name = this.options.config.secret;
    // Every value is masked before a request can carry it, the tokens of later versions included.
    for (const [key, value] of Object.entries(secret.value)) if (typeof value === 'string') this.options.redactor.addSecret(value, { secret: name, key });
    const keys = requireSecretKeys(name, secret.value, ['client_id', 'client_secret', 'refresh_token']);
    return { value: secret.value, version: secret.version, clientId: keys.client_id, clientSecret: keys.client_secret, refreshToken: keys.refresh_token };
  }

  private rejected(cause: unknown): SecretError {
    const { config, redactor } = this.options;
    return new SecretError(
      `token endpoint ${redactor.url(config.token_url)} rejected the refresh token of secret "${config.secret}" (invalid_grant) ` +
        'and no newer one appeared in the secret: it was revoked or expired, or a rotated token was never saved. ' +
        'Authorize again and store the new refresh token in the secret.',
      { cause, context: { secret: config.secret } },
    );
  }
}

/**
 * `oauth2_refresh_token`: its access token is kept in the context's (process-wide) cache, so a warm
 * function's next invocation and concurrent clients reuse it instead of rotating again.
 */
export const refreshTokenAuth: AuthType<'oauth2_refresh_token'> = {
  rotating: true,
  create(config, secret, { secrets, redactor, requestToken, now, sleep, tokenCache, versioned }) {
    if (!versioned) throw new Error('a rotating secret must be read with its version');
    const grant = new RefreshTokenGrant({ config, secrets, redactor, requestToken, now, sleep, initial: versioned });
    const key = JSON.stringify([config.type, config.secret, config.token_url, config.scope ?? '', secret.client_id]);
    return new TokenAuthenticator(grant, now, tokenCache, key);
  },
};
