/** Keeps credentials out of everything apilake prints, logs or stores. */

import { SecretError } from '../errors.js';

/** Query parameters whose values are credentials in common APIs and in the signed URLs of cloud storage. */
export const SENSITIVE_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'access_token',
  'api_key',
  'apikey',
  'api-key',
  'auth',
  'client_secret',
  'code',
  'key',
  'password',
  'secret',
  'sig',
  'signature',
  'token',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  // Google Cloud Storage's V4 signed URLs (Shopify's bulk operation files): https://cloud.google.com/storage/docs/authentication/signatures#required-query-parameters
  'x-goog-credential',
  'x-goog-signature',
]);

/**
 * Shortest credential apilake accepts. Masking a shorter value is not safe: a 3-character
 * password masked inside ordinary text (`/v1/***def`) gives itself away by what surrounds it,
 * and masking every occurrence of a common short string garbles every message. Such secrets
 * are refused when they are loaded instead.
 */
export const MIN_SECRET_LENGTH = 8;

/**
 * Keys of a secret that identify rather than authenticate (a user name, an OAuth2 client id).
 * They are masked like credentials when long enough, and never refused when short: a short
 * user name is no secret, and masking it everywhere would garble messages.
 */
export const IDENTIFIER_KEYS: ReadonlySet<string> = new Set(['username', 'user', 'client_id', 'email', 'account_id']);

/** Secret keys whose values authenticate: too short to mask safely means refused, never sent. */
export const CREDENTIAL_KEYS: ReadonlySet<string> = new Set(['api_key', 'token', 'password', 'client_secret', 'refresh_token', 'private_key']);

/** Where a registered value came from, so errors can name it without showing it. */
export interface SecretOrigin {
  /** The secret's name (Secrets Manager name or `APILAKE_SECRET_*` variable). */
  readonly secret: string;
  /** The JSON key inside the secret. */
  readonly key: string;
}

const MASK = '***';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Collects the secret values a run loaded and masks them wherever they appear: in URLs,
 * error messages and body snippets (some APIs echo the key back in their error pages), in any
 * form a server or a library may write them: raw, JSON-escaped (`\/`, `\uXXXX`, escaped again
 * inside another JSON string), percent-encoded (`encodeURIComponent` and form `+`), and, for
 * base64 values such as the `user:password` of basic auth, the standard and URL-safe
 * alphabets with or without padding.
 */
export class Redactor {
  private readonly values = new Map<string, SecretOrigin | undefined>();
  /** The values as registered, without their other spellings, in registration order. */
  private readonly registered: string[] = [];
  private readonly params = new Set<string>(SENSITIVE_QUERY_PARAMS);
  /** Query parameters the source's auth sets on every request. */
  private readonly authParams = new Set<string>();
  private pattern: RegExp | undefined;
  private credentialPattern: RegExp | undefined;

  /**
   * Registers a secret value to mask.
   * @param origin the secret and key it came from; omitted for values obtained at run time (an OAuth2 access token).
   * @throws SecretError when a credential is shorter than {@link MIN_SECRET_LENGTH} characters.
   */
  addSecret(value: string, origin?: SecretOrigin): void {
    if (value === '') return; // nothing to mask; a missing key is reported by whoever needs it
    const identifier = origin !== undefined && IDENTIFIER_KEYS.has(origin.key);
    if (value.length < MIN_SECRET_LENGTH) {
      // Only a credential is refused: a short value under any other key (a Google key file's
      // project_id, a region) is not what authenticates, and is not masked either.
      if (identifier || (origin !== undefined && !CREDENTIAL_KEYS.has(origin.key))) return;
      const what = origin ? `secret "${origin.secret}" key "${origin.key}"` : 'a credential obtained at run time (e.g. an access token)';
      throw new SecretError(
        `${what} is ${value.length} character${value.length === 1 ? '' : 's'} long; apilake refuses credentials shorter than ${MIN_SECRET_LENGTH} characters, because masking them in logs and errors would still give them away (use the full credential, and remove keys the auth type does not use)`,
        { context: origin ? { ...origin } : {} },
      );
    }
    if (!this.values.has(value)) this.registered.push(value);
    for (const form of equivalentForms(value)) if (!this.values.has(form)) this.values.set(form, origin);
    this.pattern = undefined;
    this.credentialPattern = undefined;
  }

  /** Registers a query parameter name whose value is always masked: one the source's auth sets on every request (an api_key's `name`). */
  addSensitiveParam(name: string): void {
    this.params.add(name.toLowerCase());
    this.authParams.add(name.toLowerCase());
  }

  /**
   * The URL as it may be stored (a checkpoint): without user info and without the auth's own query
   * parameters (an API's next-page link that echoes the key back), which the client sets again on
   * every request it sends. Any other parameter stays, even one that holds a credential: dropping
   * it could drop the walk's position; the caller refuses to store such a URL instead.
   */
  withoutCredentials(input: URL): URL {
    if (this.authParams.size === 0 && !input.username && !input.password) return input;
    const url = new URL(input);
    url.username = '';
    url.password = '';
    for (const key of [...new Set(url.searchParams.keys())]) if (this.authParams.has(key.toLowerCase())) url.searchParams.delete(key);
    return url;
  }

  /**
   * Whether `input` holds a registered credential in any of its forms: like {@link contains}, but
   * not for values that only identify (a user name, a client id), which may rightly appear in a
   * request's path or parameters.
   */
  holdsCredential(input: string): boolean {
    if (this.credentialPattern === undefined) {
      const credentials = [...this.values].filter(([, origin]) => origin === undefined || !IDENTIFIER_KEYS.has(origin.key)).map(([value]) => value);
      this.credentialPattern =
        credentials.length === 0
          ? /(?!)/
          : new RegExp(
              credentials
                .sort((a, b) => b.length - a.length)
                .map(encodedPattern)
                .join('|'),
            );
    }
    return this.credentialPattern.test(input);
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

  /**
   * Every value registered, as given (not its other spellings), in registration order: for a
   * caller that replaces each secret with a placeholder of its own instead of `***`.
   */
  secretValues(): readonly string[] {
    return [...this.registered];
  }

  /** Free text with every registered secret value masked, in every encoding it may take. */
  text(input: string): string {
    const pattern = this.compiled();
    return pattern ? input.replace(pattern, MASK) : input;
  }

  /**
   * Free text about a request to `url` (its error body): masked as {@link text} masks, and without
   * the values of the URL's sensitive query parameters, which a host may echo back (S3's
   * `SignatureDoesNotMatch` quotes the signature it was given, and the canonical request with it:
   * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html).
   */
  textAbout(url: URL, input: string): string {
    const values = [...url.searchParams].filter(([name, value]) => this.params.has(name.toLowerCase()) && value.length >= MIN_SECRET_LENGTH).map(([, value]) => value);
    const masked = this.text(input);
    if (values.length === 0) return masked;
    const forms = [...new Set(values.flatMap(equivalentForms))].sort((a, b) => b.length - a.length);
    return masked.replace(new RegExp(forms.map(encodedPattern).join('|'), 'g'), MASK);
  }

  /** Whether `input` holds a registered secret in any of its forms. */
  contains(input: string): boolean {
    const pattern = this.compiled();
    if (!pattern) return false;
    pattern.lastIndex = 0;
    return pattern.test(input);
  }

  /**
   * The origin of the first registered raw value that `predicate` accepts, with what it
   * returned: lets a caller explain which secret is unusable without ever seeing it printed.
   */
  findSecret<T>(predicate: (value: string) => T | undefined): { origin: SecretOrigin | undefined; found: T } | undefined {
    for (const [value, origin] of this.values) {
      const found = predicate(value);
      if (found !== undefined) return { origin, found };
    }
    return undefined;
  }

  private compiled(): RegExp | undefined {
    if (this.values.size === 0) return undefined;
    // Longest first, so a value that contains another is masked whole.
    this.pattern ??= new RegExp(
      [...this.values.keys()]
        .sort((a, b) => b.length - a.length)
        .map(encodedPattern)
        .join('|'),
      'g',
    );
    return this.pattern;
  }
}

/** Describes a registered secret for a message: `secret "apilake/x" key "token"`, never its value. */
export function describeSecret(origin: SecretOrigin | undefined): string {
  return origin ? `secret "${origin.secret}" key "${origin.key}"` : 'a credential obtained at run time (e.g. an access token)';
}

/**
 * A regular expression source matching `value` in every spelling {@link Redactor} masks: raw,
 * JSON-escaped, percent-encoded, and for a base64 value its URL-safe and unpadded forms.
 */
export function secretPattern(value: string): string {
  return equivalentForms(value).map(encodedPattern).join('|');
}

/** The value, and for base64 values their URL-safe and unpadded spellings. */
function equivalentForms(value: string): string[] {
  const forms = [value];
  if (value.length % 4 === 0 && BASE64.test(value)) {
    const unpadded = value.replace(/=+$/, '');
    const urlSafe = (s: string) => s.replaceAll('+', '-').replaceAll('/', '_');
    forms.push(unpadded, urlSafe(value), urlSafe(unpadded));
  }
  return forms;
}

/**
 * A pattern matching `value` with each character in any of the spellings encoders produce,
 * mixed freely: the character itself, a JSON escape at any depth of nesting (`\/`, `\\\/`,
 * `\u00e9`), or percent-encoded UTF-8 (`%2F`, and `+` for a space in form encoding).
 */
function encodedPattern(value: string): string {
  let out = '';
  for (const char of value) {
    const alternatives = [escapeRegExp(char)];
    const json = JSON_SHORT_ESCAPES[char];
    if (json) alternatives.push(`\\\\+${escapeRegExp(json)}`);
    // Any character may be written \uXXXX (per UTF-16 unit), escaped once or more.
    alternatives.push([...utf16Units(char)].map((unit) => `\\\\+u${caseless(unit.toString(16).padStart(4, '0'))}`).join(''));
    alternatives.push([...Buffer.from(char, 'utf8')].map((byte) => `%${caseless(byte.toString(16).padStart(2, '0'))}`).join(''));
    if (char === ' ') alternatives.push('\\+');
    out += `(?:${alternatives.join('|')})`;
  }
  return out;
}

/** JSON's two-character escapes, by the character they stand for. `/` is optional in JSON, and PHP writes it. */
const JSON_SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};

function* utf16Units(char: string): Generator<number> {
  for (let i = 0; i < char.length; i++) yield char.charCodeAt(i);
}

/** A hex string matching either letter case: `2f` → `2[fF]`. */
function caseless(hex: string): string {
  return hex.replace(/[a-f]/g, (c) => `[${c}${c.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
