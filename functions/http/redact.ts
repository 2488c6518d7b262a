/** Keeps credentials out of everything apilake prints, logs or stores. */

/** Query parameters whose values are credentials in common APIs. */
export const SENSITIVE_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'access_token', 'api_key', 'apikey', 'api-key', 'auth', 'client_secret', 'code', 'key', 'password',
  'secret', 'sig', 'signature', 'token', 'x-amz-credential', 'x-amz-security-token', 'x-amz-signature',
]);

const MASK = '***';
/** Secret values shorter than this are not masked in free text: they would mask ordinary words. */
const MIN_MASKED_LENGTH = 4;

/**
 * Collects the secret values a run loaded and masks them wherever they appear: in URLs,
 * error messages and body snippets (some APIs echo the key back in their error pages).
 */
export class Redactor {
  private readonly values = new Set<string>();
  private readonly params = new Set<string>(SENSITIVE_QUERY_PARAMS);

  /** Registers a secret value to mask. */
  addSecret(value: string): void {
    if (value.length >= MIN_MASKED_LENGTH) {
      this.values.add(value);
      this.values.add(encodeURIComponent(value));
    }
  }

  /** Registers a query parameter name whose value is always masked (an api_key's `name`). */
  addSensitiveParam(name: string): void {
    this.params.add(name.toLowerCase());
  }

  /** A URL with user info and sensitive query values masked. */
  url(input: string | URL): string {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      return this.text(String(input));
    }
    if (url.username || url.password) {
      url.username = MASK;
      url.password = '';
    }
    for (const key of [...url.searchParams.keys()]) {
      if (this.params.has(key.toLowerCase())) url.searchParams.set(key, MASK);
    }
    return this.text(url.toString().replaceAll(encodeURIComponent(MASK), MASK));
  }

  /** Free text with every registered secret value masked. */
  text(input: string): string {
    let out = input;
    for (const value of this.values) out = out.split(value).join(MASK);
    return out;
  }
}
