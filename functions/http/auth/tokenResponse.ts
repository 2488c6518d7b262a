/** Reading a token endpoint's answer (RFC 6749 §5.1 success, §5.2 error). */

import { CREDENTIAL_TOKEN_FIELDS } from '../../config/authBaseUrl.js';
import { ApilakeError, HttpStatusError } from '../../errors.js';
import type { Redactor } from '../redact.js';
import type { IssuedToken } from './TokenCache.js';

/** Refresh this long before the token expires, so a request never carries a token that dies in flight. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** Lifetime assumed when the endpoint sends no `expires_in` (RFC 6749 makes it optional). */
const DEFAULT_LIFETIME_MS = 3_600_000;

/**
 * The access token (and any rotated refresh token) of a successful token response, each
 * registered with the redactor before the caller can use it.
 * @throws ApilakeError when the body holds no access_token.
 */
export function parseTokenResponse(body: unknown, tokenUrl: string, redactor: Redactor, now: number): IssuedToken {
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const accessToken = fields?.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    const keys = fields ? Object.keys(fields).join(', ') || 'none' : typeof body;
    throw new ApilakeError(`token endpoint ${redactor.url(tokenUrl)} returned no access_token (keys: ${keys})`);
  }
  redactor.addSecret(accessToken);
  const refreshToken = typeof fields!.refresh_token === 'string' && fields!.refresh_token !== '' ? fields!.refresh_token : undefined;
  if (refreshToken) redactor.addSecret(refreshToken);
  // Some endpoints send expires_in as a numeric string.
  const seconds = Number(fields!.expires_in);
  const lifetimeMs = fields!.expires_in !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_LIFETIME_MS;
  const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 10);
  return { accessToken, refreshAt: now + lifetimeMs - margin, ...(refreshToken ? { refreshToken } : {}), fields: tokenFields(fields!) };
}

/** The response's text and number fields besides the credentials, as text. */
function tokenFields(fields: Readonly<Record<string, unknown>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (CREDENTIAL_TOKEN_FIELDS.includes(name)) continue;
    if (typeof value === 'string' || typeof value === 'number') kept[name] = String(value);
  }
  return kept;
}

/**
 * The OAuth2 error code (`invalid_grant`, `invalid_client`…) of a failed token request, read from
 * the error body the HTTP client quotes, or undefined when the failure was something else.
 */
export function oauthErrorCode(error: unknown): string | undefined {
  if (!(error instanceof HttpStatusError) || (error.status !== 400 && error.status !== 401)) return undefined;
  return /"error"\s*:\s*"([A-Za-z0-9_.-]+)"/.exec(error.message)?.[1];
}
