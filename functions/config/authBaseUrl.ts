/**
 * A base URL the token endpoint issues with the token: `base_url: "{auth.instance_url}"` (and an
 * optional path after it) is where Salesforce's API lives for this org, known only from the token
 * response. Only the origin may come from the token response, so every request still goes to the
 * one origin the response named and a path of the source file.
 */
import { placeholdersIn } from '../window/templating.js';

/** `{auth.<field>}` then an optional path: the whole form a token-issued base_url may take. */
const AUTH_BASE_URL = /^\{auth\.([a-z_][a-z0-9_]*)\}(\/[^\s{}]*)?$/;

/** The auth types that obtain a token from a token endpoint, whose response can carry such fields. */
export const TOKEN_AUTH_TYPES: readonly string[] = ['oauth2_client_credentials', 'oauth2_refresh_token', 'jwt_bearer'];

/**
 * Token response fields that are credentials: never offered as `{auth.<field>}`, so they only ever
 * travel in the Authorization header (Salesforce's `signature` is an HMAC of the response).
 */
export const CREDENTIAL_TOKEN_FIELDS: readonly string[] = ['access_token', 'refresh_token', 'id_token', 'signature'];

/** The token response field a base_url names (`instance_url`), or undefined for a plain URL. */
export function authBaseUrlField(baseUrl: string): string | undefined {
  return AUTH_BASE_URL.exec(baseUrl)?.[1];
}

/** Whether `value` is a base_url: an http(s) URL without placeholders, or `{auth.<field>}` and an optional path. */
export function isBaseUrl(value: string): boolean {
  // A stray brace would be sent as literal text; a placeholder checkSource reports, naming what fills placeholders.
  return AUTH_BASE_URL.test(value) || (isHttpUrl(value) && (!/[{}]/.test(value) || isPlainPlaceholderUse(value)));
}

/** Placeholders, none of them `{auth.…}` (whose only place is the whole origin): checkSource says where placeholders are filled. */
function isPlainPlaceholderUse(value: string): boolean {
  const names = placeholdersIn(value);
  return names.length > 0 && !names.some((name) => name.startsWith('auth.'));
}

/** Whether `value` parses as an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

/** What is wrong with a token-issued base_url under this auth type, or undefined. */
export function authBaseUrlProblem(baseUrl: string, authType: string): string | undefined {
  const field = authBaseUrlField(baseUrl);
  return field === undefined ? undefined : authFieldProblem(field, authType);
}

/** The `{auth.<field>}` placeholders of a path: the token response's fields it names. */
export function authFieldsIn(path: string): string[] {
  return placeholdersIn(path)
    .filter((name) => name.startsWith('auth.'))
    .map((name) => name.slice('auth.'.length));
}

/** What is wrong with `{auth.<field>}` under this auth type (no token response, or a credential), or undefined. */
export function authFieldProblem(field: string, authType: string): string | undefined {
  if (!TOKEN_AUTH_TYPES.includes(authType)) {
    return `{auth.${field}} needs an auth type that obtains a token (${TOKEN_AUTH_TYPES.join(', ')}): auth.type ${authType} has no token response to read it from`;
  }
  if (CREDENTIAL_TOKEN_FIELDS.includes(field)) return `{auth.${field}} is a credential of the token response: it is only ever sent in the Authorization header, never in a URL`;
  return undefined;
}

/**
 * The base URL with `{auth.<field>}` filled from the token response's fields.
 * @returns the URL, or a message saying what the response lacked
 */
export function renderAuthBaseUrl(baseUrl: string, fields: Readonly<Record<string, string>>): { url: string } | { problem: string } {
  const field = authBaseUrlField(baseUrl);
  if (field === undefined) return { url: baseUrl };
  const value = fields[field];
  if (value === undefined) {
    const names = Object.keys(fields);
    return { problem: `base_url {auth.${field}}: the token response has no field "${field}" (its fields: ${names.length > 0 ? names.join(', ') : 'none besides the token'})` };
  }
  if (!isHttpUrl(value)) return { problem: `base_url {auth.${field}}: the token response's "${field}" is not an http(s) URL` };
  return { url: `${value.replace(/\/+$/, '')}${baseUrl.slice(`{auth.${field}}`.length)}` };
}
