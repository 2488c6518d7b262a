/**
 * A URL of a source file may not carry a user name or password (`https://user:pass@host`): a
 * source file holds no credential, since it is compiled into the deployed function and its
 * base_url describes the source's Glue tables. Node would also send such a URL's user info as
 * Basic credentials, unmasked wherever the URL is printed whole.
 */

/** Why a URL with user info is refused, and what to write instead. */
export const URL_CREDENTIALS_MESSAGE = 'holds a user name or password (user:password@host); a source file holds no credential: use auth (type: basic) and its secret instead';

/** Whether `value` parses as a URL with a user name or password in it. */
export function hasUrlCredentials(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

/** `value` as it may be shown: a URL's user name and password replaced by `***`. */
export function maskUrlCredentials(value: string): string {
  if (!hasUrlCredentials(value)) return value;
  const start = value.indexOf('//') + 2;
  const rest = value.slice(start);
  const authorityEnd = rest.search(/[/?#\\]/);
  // The user info ends at the last @ of the authority (a password may hold an unescaped @).
  const at = rest.lastIndexOf('@', authorityEnd === -1 ? rest.length : authorityEnd);
  return `${value.slice(0, start)}***${rest.slice(at)}`;
}
