/**
 * Every spelling a secret may take on the wire or in a file: raw, percent- and form-encoded,
 * JSON-escaped (with and without escaped slashes), base64 padded and unpadded, base64url. Tests grep
 * cassettes, lakes and output for each, so a secret is found whichever encoding carried it.
 */
export function secretSpellings(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    JSON.stringify(value).slice(1, -1).replaceAll('/', '\\/'),
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
  ];
}
