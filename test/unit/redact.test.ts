import { describe, expect, it } from 'vitest';
import { SecretError } from '../../functions/errors.js';
import { headerValueProblem } from '../../functions/config/headerValue.js';
import { MIN_SECRET_LENGTH, Redactor } from '../../functions/http/redact.js';

/** A token with every character class encoders treat specially: `/`, `+`, a space, a quote, a backslash, non-ASCII and an astral character. */
const TOKEN = 'tk_live/9Xq+é "q" a\\b😀z';
const origin = { secret: 'apilake/t', key: 'token' };

function redactorWith(...values: string[]): Redactor {
  const redactor = new Redactor();
  for (const value of values) redactor.addSecret(value, origin);
  return redactor;
}

/** Every \uXXXX escape, as Python's json.dumps(ensure_ascii) or a paranoid encoder writes a whole string. */
const unicodeEscaped = (text: string) => [...text].map((c) => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')).join('');

describe('Redactor', () => {
  it.each([
    ['raw', TOKEN],
    ['JSON-escaped', JSON.stringify(TOKEN).slice(1, -1)],
    ['JSON-escaped with \\/ (PHP json_encode)', JSON.stringify(TOKEN).slice(1, -1).replaceAll('/', '\\/')],
    ['JSON-escaped inside a JSON string', JSON.stringify(JSON.stringify(TOKEN)).slice(3, -3)],
    ['\\u-escaped, lower-case hex', unicodeEscaped(TOKEN)],
    ['\\u-escaped, upper-case hex', unicodeEscaped(TOKEN).replace(/u([0-9a-f]{4})/g, (_m, h: string) => `u${h.toUpperCase()}`)],
    ['percent-encoded (encodeURIComponent)', encodeURIComponent(TOKEN)],
    ['percent-encoded, lower-case hex', encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form-encoded (URLSearchParams, + for space)', new URLSearchParams({ k: TOKEN }).toString().slice(2)],
    ['percent-encoded every byte', [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')],
  ])('masks a secret written %s', (_form, written) => {
    const redactor = redactorWith(TOKEN);
    const text = `error: {"detail":"token ${written} rejected"}`;
    expect(redactor.text(text)).toBe('error: {"detail":"token *** rejected"}');
    expect(redactor.contains(text)).toBe(true);
  });

  it.each([
    ['standard, padded', (s: string) => Buffer.from(s).toString('base64')],
    ['standard, unpadded', (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '')],
    ['URL-safe, padded', (s: string) => Buffer.from(s).toString('base64').replaceAll('+', '-').replaceAll('/', '_')],
    ['URL-safe, unpadded', (s: string) => Buffer.from(s).toString('base64url')],
  ])('masks base64 of user:password, %s', (_form, encode) => {
    // Chosen so the encoding holds '+', '/' and padding.
    const credentials = 'svc-user:p>?>?~~w0rd!!';
    const standard = Buffer.from(credentials).toString('base64');
    expect(standard).toMatch(/[+/].*=$/);
    const redactor = redactorWith(standard);
    expect(redactor.text(`sent Authorization: Basic ${encode(credentials)}.`)).toBe('sent Authorization: Basic ***.');
    expect(redactor.text(`{"auth":"Basic ${encode(credentials).replaceAll('/', '\\/')}"}`)).toBe('{"auth":"Basic ***"}');
    expect(redactor.text(`?auth=${encodeURIComponent(encode(credentials))}`)).toBe('?auth=***');
  });

  it('masks a secret inside a URL, in user info and sensitive parameters', () => {
    const redactor = redactorWith(TOKEN);
    expect(redactor.url(`https://api.test/v1/items?cursor=${encodeURIComponent(TOKEN)}&page=2`)).toBe('https://api.test/v1/items?cursor=***&page=2');
    expect(redactor.url('https://u:pw@api.test/x?api_key=zzz&page=2')).toBe('https://***@api.test/x?api_key=***&page=2');
  });

  it.each([
    ['S3 (SigV4)', 'https://b.s3.amazonaws.com/r.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Signature=5ec7e7', 'X-Amz-Signature=***'],
    ['Google Cloud Storage (V4)', 'https://storage.googleapis.com/b/r.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=bulk%40p.iam&X-Goog-Signature=5ec7e7', 'X-Goog-Signature=***'],
    ['Google Cloud Storage (V2)', 'https://storage.googleapis.com/b/r.jsonl?GoogleAccessId=bulk&Expires=1&Signature=5ec7e7', 'Signature=***'],
    ['Azure Blob Storage (SAS)', 'https://a.blob.core.windows.net/c/r.csv?sv=2022-11-02&sp=r&sig=5ec7e7', 'sig=***'],
  ])('masks the signature of a signed URL of %s', (_, url, masked) => {
    const shown = new Redactor().url(url);
    expect(shown).toContain(masked);
    expect(shown).not.toContain('5ec7e7');
  });

  it.each(['abc', 'p@ss', 'tok-abc', '1234567'])('refuses a credential of %j at load, naming the key, never the value', (value) => {
    const error = (() => {
      try {
        new Redactor().addSecret(value, { secret: 'apilake/shop', key: 'password' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(
      `secret "apilake/shop" key "password" is ${value.length} characters long; apilake refuses credentials shorter than ${MIN_SECRET_LENGTH} characters, because masking them in logs and errors would still give them away (use the full credential, and remove keys the auth type does not use)`,
    );
  });

  it('accepts a short user name without masking it, and masks a long one', () => {
    const redactor = new Redactor();
    redactor.addSecret('bob', { secret: 's', key: 'username' });
    redactor.addSecret('carol.jones', { secret: 's', key: 'username' });
    expect(redactor.text('bob and carol.jones')).toBe('bob and ***');
  });

  it.each(['api_key', 'token', 'password', 'client_secret', 'refresh_token', 'private_key'])('refuses a short value of the credential key %s', (key) => {
    expect(() => new Redactor().addSecret('short', { secret: 's', key })).toThrow(SecretError);
  });

  it("ignores a short value under a key that does not authenticate (a Google key file's project_id), and masks a long one", () => {
    const redactor = new Redactor();
    redactor.addSecret('my-proj', { secret: 'apilake/ga', key: 'project_id' });
    redactor.addSecret('service_account', { secret: 'apilake/ga', key: 'type' });
    expect(redactor.text('my-proj is a service_account')).toBe('my-proj is a ***');
  });

  it('refuses a short credential obtained at run time (an access token)', () => {
    expect(() => new Redactor().addSecret('t0k')).toThrow(/a credential obtained at run time .* is 3 characters long/);
  });

  it('leaves text without secrets alone and says so', () => {
    const redactor = redactorWith(TOKEN);
    expect(redactor.text('nothing to see')).toBe('nothing to see');
    expect(redactor.contains('tk_live/9Xq')).toBe(false);
    expect(new Redactor().contains(TOKEN)).toBe(false);
  });

  it('finds which secret key is unusable in a header without exposing it', () => {
    const redactor = new Redactor();
    redactor.addSecret('fine-value-123', { secret: 's', key: 'client_id' });
    redactor.addSecret('bad’token-123', { secret: 's', key: 'token' });
    expect(redactor.findSecret(headerValueProblem)).toEqual({
      origin: { secret: 's', key: 'token' },
      found: 'character 4 of 13 is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji)',
    });
  });
});

describe('Redactor.textAbout', () => {
  const url = new URL('https://files.example/r.csv?X-Amz-Credential=AKIAEXAMPLE7Q%2F20240101%2Fus-east-1&X-Amz-Signature=9f2c4e7a1b3d5f60&sig=short&page=2b3c4d5e6f7a8b9c');
  it("masks the values of the URL's sensitive query parameters in every spelling a host echoes them", () => {
    const text = 'sig 9f2c4e7a1b3d5f60; cred AKIAEXAMPLE7Q/20240101/us-east-1 or AKIAEXAMPLE7Q%2F20240101%2Fus-east-1 or "AKIAEXAMPLE7Q\\/20240101\\/us-east-1"';
    expect(new Redactor().textAbout(url, text)).toBe('sig ***; cred *** or *** or "***"');
  });

  it('keeps values too short to mask safely and parameters that are not credentials, and masks registered secrets as text does', () => {
    const redactor = new Redactor();
    redactor.addSecret('tok_live_123456789');
    expect(redactor.textAbout(url, 'short, page 2b3c4d5e6f7a8b9c, tok_live_123456789')).toBe('short, page 2b3c4d5e6f7a8b9c, ***');
  });
});

describe('Redactor.withoutCredentials', () => {
  const redactor = new Redactor();
  redactor.addSecret('sk_live_0123456789', { secret: 'apilake/x', key: 'api_key' });
  redactor.addSecret('acme-account-1', { secret: 'apilake/x', key: 'username' });
  redactor.addSensitiveParam('apikey');

  it.each([
    ['the auth parameter, whatever its value', 'https://a.test/v1/items?after=5&apikey=templated-value', 'https://a.test/v1/items?after=5'],
    ['user info', 'https://u:p@a.test/v1/items?after=5', 'https://a.test/v1/items?after=5'],
    [
      'nothing from a cursor named token, or an identifier',
      'https://a.test/v1/acme-account-1/items?token=abc&user=acme-account-1',
      'https://a.test/v1/acme-account-1/items?token=abc&user=acme-account-1',
    ],
  ])('removes %s', (_case, input, stored) => {
    expect(redactor.withoutCredentials(new URL(input)).href).toBe(stored);
  });

  // Dropping it could drop the walk's position (a cursor that embeds the key): the slice refuses to
  // store such a checkpoint instead (holdsCredential below).
  it.each([
    ['a parameter that echoes the key under another name', 'https://a.test/v1/items?key=sk_live_0123456789&after=5'],
    ['a cursor that embeds the key', 'https://a.test/v1/items?cursor=abc.sk_live_0123456789.sig'],
  ])('keeps %s, which holdsCredential then finds', (_case, input) => {
    const stored = redactor.withoutCredentials(new URL(input)).href;
    expect(stored).toBe(input);
    expect(redactor.holdsCredential(stored)).toBe(true);
  });

  it('tells a credential from an identifier', () => {
    expect(redactor.holdsCredential('{"url":"https://a.test/?k=sk_live_0123456789"}')).toBe(true);
    expect(redactor.holdsCredential('{"url":"https://a.test/acme-account-1/"}')).toBe(false);
    expect(new Redactor().holdsCredential('')).toBe(false);
  });
});

describe('headerValueProblem', () => {
  it.each([
    ['plain-token_123', undefined],
    ['café latin-1 is fine', undefined],
    ['tab\tinside', undefined],
    ['trailing newline\n', undefined],
    ['tök’en', 'character 4 of 6 is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji)'],
    ['a\nb', 'character 2 of 3 is a line break'],
    ['a\u0000b', 'character 2 of 3 is a NUL character'],
    ['a\u0001b', 'character 2 of 3 is a control character'],
    ['a\u007fb', 'character 2 of 3 is a control character'],
  ])('%j → %s', (value, problem) => expect(headerValueProblem(value)).toBe(problem));
});
