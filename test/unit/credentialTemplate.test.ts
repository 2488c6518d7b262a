import { describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { credentialTemplate, renderCredential } from '../../functions/config/credentialTemplate.js';
import { ConfigError, SecretError } from '../../functions/errors.js';
import { createAuthenticator } from '../../functions/http/auth/createAuthenticator.js';
import { Redactor } from '../../functions/http/redact.js';
import { RequestHeaders } from '../../functions/http/RequestHeaders.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';

const KEY = 'pk_live_0123456789abcdef';
const source = (auth: Record<string, unknown>) =>
  parseSource(JSON.stringify({ name: 't', schedule: 'rate(1 hour)', base_url: 'https://api.test', auth: { secret: 'apilake/k', ...auth }, streams: [{ name: 's', path: '/s' }] }), 't.yaml');
const problems = (auth: Record<string, unknown>): string[] => {
  try {
    source(auth);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
};
const noToken = () => Promise.reject(new Error('no token request expected'));

/** What the authenticator puts on a request, and the redactor it registered values with. */
async function applied(auth: Record<string, unknown>, secret: Record<string, string>) {
  const redactor = new Redactor();
  const authenticator = await createAuthenticator(source(auth).auth, new EnvSecretProvider({ APILAKE_SECRET_APILAKE_K: JSON.stringify(secret) }), redactor, noToken);
  const url = new URL('https://api.test/s');
  const headers = new RequestHeaders();
  await authenticator.apply(url, headers);
  return { url, headers, redactor };
}

describe('credential templates', () => {
  it.each([
    [{ type: 'api_key', name: 'Authorization' }, '{api_key}'],
    [{ type: 'api_key', name: 'Authorization', prefix: 'Klaviyo-API-Key ' }, 'Klaviyo-API-Key {api_key}'],
    [{ type: 'api_key', name: 'Authorization', template: 'Klaviyo-API-Key {api_key}' }, 'Klaviyo-API-Key {api_key}'],
    [{ type: 'bearer' }, 'Bearer {token}'],
    [{ type: 'bearer', prefix: 'Token token=' }, 'Token token={token}'],
    [{ type: 'bearer', template: 'Token token="{token}"' }, 'Token token="{token}"'],
  ])('reads %o as the template %s', (auth, template) => {
    expect(credentialTemplate(source(auth).auth as Parameters<typeof credentialTemplate>[0])).toBe(template);
  });

  it('renders a value holding $ patterns as is', () => {
    expect(renderCredential('Key {api_key}', 'api_key', "a$&b$'c$1")).toBe("Key a$&b$'c$1");
  });

  it.each([
    [{ type: 'api_key', name: 'Authorization', prefix: 'K ', template: 'K {api_key}' }, 'auth.template: give either prefix or template, not both (prefix "K " is template "K {api_key}")'],
    [{ type: 'api_key', name: 'Authorization', template: 'Klaviyo-API-Key' }, 'auth.template: "Klaviyo-API-Key" must hold {api_key} exactly once, where the secret\'s api_key goes (found 0)'],
    [{ type: 'api_key', name: 'Authorization', template: '{api_key}:{api_key}' }, 'auth.template: "{api_key}:{api_key}" must hold {api_key} exactly once, where the secret\'s api_key goes (found 2)'],
    [
      { type: 'bearer', template: 'Token {api_key}' },
      ['auth.template: "Token {api_key}" must hold {token} exactly once, where the secret\'s token goes (found 0)', 'auth.template: "Token {api_key}" holds {api_key}: a template takes only {token}'],
    ],
    [{ type: 'bearer', template: 'Token {token} {window.start}' }, 'auth.template: "Token {token} {window.start}" holds {window.start}: a template takes only {token}'],
    [{ type: 'bearer', prefix: 'Token {token}' }, 'auth.prefix: "Token {token}" holds a placeholder: a prefix is literal text sent before the token (use template for text around it)'],
    [
      { type: 'api_key', name: 'Authorization', prefix: 'Klaviyo\u2011API-Key ' },
      'auth.prefix: cannot be sent in an HTTP header: character 8 of 16 is beyond Latin-1 (e.g. a typographic quote, a non-Latin letter or an emoji)',
    ],
    [{ type: 'bearer', template: 'Token\n{token}' }, 'auth.template: cannot be sent in an HTTP header: character 6 of 13 is a line break'],
  ])('refuses %o', (auth, problem) => {
    expect(problems(auth)).toEqual([problem].flat());
  });

  it('lets a query key carry text a header could not', () => {
    expect(problems({ type: 'api_key', in: 'query', name: 'key', template: 'k\u00e9y\u2011{api_key}' })).toEqual([]);
  });

  it('sends the Klaviyo header with the bare key from the secret, masking the key and the whole header value', async () => {
    const { headers, redactor } = await applied({ type: 'api_key', name: 'Authorization', template: 'Klaviyo-API-Key {api_key}' }, { api_key: KEY });
    expect(headers.get('authorization')).toBe(`Klaviyo-API-Key ${KEY}`);
    expect(redactor.text(`sent Klaviyo-API-Key ${KEY}; key ${KEY}`)).toBe('sent ***; key ***');
  });

  it.each([
    [{ type: 'bearer', prefix: 'Token token=' }, `Token token=${KEY}`],
    [{ type: 'bearer', template: 'Token token="{token}"' }, `Token token="${KEY}"`],
    [{ type: 'bearer' }, `Bearer ${KEY}`],
  ])('sends bearer %o as Authorization: %s', async (auth, value) => {
    const { headers, redactor } = await applied(auth, { token: KEY });
    expect(headers.get('authorization')).toBe(value);
    expect(redactor.text(value)).toBe('***');
  });

  it('puts a templated key in a query parameter, masked in URLs', async () => {
    const { url, redactor } = await applied({ type: 'api_key', in: 'query', name: 'auth', template: 'key:{api_key}' }, { api_key: KEY });
    expect(url.searchParams.get('auth')).toBe(`key:${KEY}`);
    expect(redactor.url(url)).toBe('https://api.test/s?auth=***');
  });

  it.each([
    [
      { type: 'api_key', name: 'Authorization', template: 'Klaviyo-API-Key {api_key}' },
      { api_key: `Klaviyo-API-Key ${KEY}` },
      'secret "apilake/k" key "api_key" already starts with "Klaviyo-API-Key", which auth.template adds: store the bare api_key in the secret',
    ],
    [
      { type: 'bearer', prefix: 'Token token=' },
      { token: `token token=${KEY}` },
      'secret "apilake/k" key "token" already starts with "Token token=", which auth.prefix adds: store the bare token in the secret',
    ],
    [{ type: 'bearer' }, { token: `Bearer ${KEY}` }, 'secret "apilake/k" key "token" already starts with "Bearer", which auth.prefix adds: store the bare token in the secret'],
  ])('fails if the secret already holds the text the template adds (%o), never quoting the value', async (auth, secret, message) => {
    const error = await applied(auth, secret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain(KEY);
  });

  it('accepts a token that merely begins with the letters of the prefix', async () => {
    const { headers } = await applied({ type: 'bearer' }, { token: `bearerish${KEY}` });
    expect(headers.get('authorization')).toBe(`Bearer bearerish${KEY}`);
  });
});
