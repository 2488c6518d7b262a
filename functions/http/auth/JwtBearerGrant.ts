/** JWT bearer grant (RFC 7523 §2.1): a signed assertion exchanged for an access token, e.g. Google service accounts. */

import { type KeyObject, randomUUID } from 'node:crypto';
import type { AuthConfig } from '../../config/sourceSchema.js';
import { SecretError } from '../../errors.js';
import { optionalSecretKey, requireSecretKeys } from '../../secrets/secretJson.js';
import type { Redactor } from '../redact.js';
import type { AuthType, TokenRequester } from './Authenticator.js';
import { readRsaPrivateKey, signJwtRs256 } from './signJwt.js';
import { tokenRequestHeaders } from './clientAuthentication.js';
import { TokenAuthenticator, type TokenGrant } from './TokenAuthenticator.js';
import type { IssuedToken } from './TokenCache.js';
import { parseTokenResponse } from './tokenResponse.js';

type JwtBearerConfig = Extract<AuthConfig, { type: 'jwt_bearer' }>;

/** The grant type of RFC 7523 §2.1. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Seconds an assertion is valid. It is exchanged at once, so it is kept short: Google accepts up
 * to an hour ("maximum of 1 hour after the issued time"), Salesforce expects exp within minutes.
 */
export const ASSERTION_LIFETIME_SECONDS = 180;

/** The service account's identity and key, from the secret. */
export interface JwtBearerCredentials {
  /** `iss`: the secret's `issuer`, else its `client_email`. */
  readonly issuer: string;
  readonly privateKey: KeyObject;
  /** `sub`: the user to act for (e.g. Google domain-wide delegation). */
  readonly subject?: string;
  /** The JWS `kid` header, so the server picks the right public key. */
  readonly keyId?: string;
}

/** Signs a fresh assertion for each token request. */
export class JwtBearerGrant implements TokenGrant {
  constructor(
    private readonly config: JwtBearerConfig,
    private readonly credentials: JwtBearerCredentials,
    private readonly redactor: Redactor,
    private readonly requestToken: TokenRequester,
    private readonly now: () => number,
  ) {}

  /** The claims of the next assertion (RFC 7523 §3): iss, sub?, aud, scope?, iat, exp, jti. */
  claims(): Record<string, unknown> {
    const iat = Math.floor(this.now() / 1000);
    return {
      iss: this.credentials.issuer,
      ...(this.credentials.subject ? { sub: this.credentials.subject } : {}),
      aud: this.config.audience ?? this.config.token_url,
      ...(this.config.scope ? { scope: this.config.scope } : {}),
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
      // A unique id lets the server refuse a replayed assertion (RFC 7523 §3, item 7).
      jti: randomUUID(),
    };
  }

  async fetch(): Promise<IssuedToken> {
    const assertion = signJwtRs256(this.claims(), this.credentials.privateKey, this.credentials.keyId);
    // A bearer credential until it expires.
    this.redactor.addSecret(assertion);
    const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion });
    const body = await this.requestToken(new URL(this.config.token_url), form, tokenRequestHeaders());
    return parseTokenResponse(body, this.config.token_url, this.redactor, this.now());
  }
}

/** `jwt_bearer`: a service account's signed assertion (RFC 7523), e.g. a Google service-account key file. */
export const jwtBearerAuth: AuthType<'jwt_bearer'> = {
  create(config, secret, { redactor, requestToken, now }) {
    const { private_key } = requireSecretKeys(config.secret, secret, ['private_key']);
    const issuer = optionalSecretKey(config.secret, secret, 'issuer') ?? optionalSecretKey(config.secret, secret, 'client_email');
    if (issuer === undefined) {
      const present = Object.keys(secret).join(', ') || 'none';
      throw new SecretError(`secret "${config.secret}" lacks "client_email" or "issuer" (string), the assertion's iss; keys present: ${present}`, {
        context: { secret: config.secret },
      });
    }
    const credentials = {
      issuer,
      privateKey: readRsaPrivateKey(config.secret, private_key),
      subject: optionalSecretKey(config.secret, secret, 'subject'),
      keyId: optionalSecretKey(config.secret, secret, 'private_key_id'),
    };
    return new TokenAuthenticator(new JwtBearerGrant(config, credentials, redactor, requestToken, now), now);
  },
};
