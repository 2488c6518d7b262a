import { describe, expect, it } from 'vitest';
import { renderAuthBaseUrl } from '../../functions/config/authBaseUrl.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { buildFirstRequest } from '../../functions/engine/buildRequest.js';
import { ApilakeError, ConfigError } from '../../functions/errors.js';
import { parseTokenResponse } from '../../functions/http/auth/tokenResponse.js';
import { Redactor } from '../../functions/http/redact.js';

const JWT = { type: 'jwt_bearer', secret: 'apilake/sf', token_url: 'https://login.test/services/oauth2/token' };
const source = (base_url: string, auth: Record<string, unknown> = JWT) =>
  parseSource(JSON.stringify({ name: 'sf', schedule: 'rate(1 hour)', base_url, auth, streams: [{ name: 'accounts', path: '/services/data/v59.0/query', params: { q: 'x' } }] }), 'sf.yaml');
const problems = (base_url: string, auth?: Record<string, unknown>): string[] => {
  try {
    source(base_url, auth);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
};
const WINDOW = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-01T01:00:00Z') };

describe('base_url from the token response', () => {
  it.each([
    ['{auth.instance_url}', JWT],
    ['{auth.instance_url}/api', JWT],
    ['{auth.instance_url}', { type: 'oauth2_client_credentials', secret: 'apilake/sf', token_url: 'https://login.test/token' }],
    ['https://api.test/v1', { type: 'none' }],
  ])('takes %s', (baseUrl, auth) => {
    expect(problems(baseUrl, auth)).toEqual([]);
  });

  it.each([
    [
      'an auth type without a token',
      '{auth.instance_url}',
      { type: 'bearer', secret: 'apilake/sf' },
      'base_url: {auth.instance_url} needs an auth type that obtains a token (oauth2_client_credentials, oauth2_refresh_token, jwt_bearer): auth.type bearer has no token response to read it from',
    ],
    [
      'a credential of the token response',
      '{auth.access_token}',
      JWT,
      'base_url: {auth.access_token} is a credential of the token response: it is only ever sent in the Authorization header, never in a URL',
    ],
    ['a placeholder after the origin', 'https://api.test/{auth.instance_url}', JWT, /^base_url: Invalid URL: expected http\(s\):\/\/host and an optional path, or \{auth\.<field>\}/],
    ['another placeholder', '{window.start}', JWT, /^base_url: Invalid URL/],
    ['text before the placeholder', 'x{auth.instance_url}', JWT, /^base_url: Invalid URL/],
  ])('fails on %s', (_what, baseUrl, auth, message) => {
    const found = problems(baseUrl, auth);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ['{auth.instance_url}', { instance_url: 'https://acme.my.salesforce.com' }, { url: 'https://acme.my.salesforce.com' }],
    ['{auth.instance_url}/api', { instance_url: 'https://acme.my.salesforce.com/' }, { url: 'https://acme.my.salesforce.com/api' }],
    ['https://api.test', {}, { url: 'https://api.test' }],
    ['{auth.instance_url}', { id: 'https://login.test/id/00D/005' }, { problem: 'base_url {auth.instance_url}: the token response has no field "instance_url" (its fields: id)' }],
    ['{auth.instance_url}', {}, { problem: 'base_url {auth.instance_url}: the token response has no field "instance_url" (its fields: none besides the token)' }],
    ['{auth.instance_url}', { instance_url: 'javascript:alert(1)' }, { problem: 'base_url {auth.instance_url}: the token response\'s "instance_url" is not an http(s) URL' }],
  ])('renders %s with %j', (baseUrl, fields, expected) => {
    expect(renderAuthBaseUrl(baseUrl, fields)).toEqual(expected);
  });

  it('builds the first request on the issued instance', () => {
    const request = buildFirstRequest(source('{auth.instance_url}'), source('{auth.instance_url}').streams[0]!, WINDOW, {}, { instance_url: 'https://acme.my.salesforce.com' });
    expect(request.url.href).toBe('https://acme.my.salesforce.com/services/data/v59.0/query?q=x');
  });

  it('fails if the token response lacks the field, naming the source and the fields it had', () => {
    const build = () => buildFirstRequest(source('{auth.instance_url}'), source('{auth.instance_url}').streams[0]!, WINDOW, {}, { scope: 'api' });
    expect(build).toThrow(ApilakeError);
    expect(build).toThrow('source "sf" base_url {auth.instance_url}: the token response has no field "instance_url" (its fields: scope)');
  });

  it("keeps the token response's text fields, not its credentials, and masks the credentials", () => {
    const redactor = new Redactor();
    const body = {
      access_token: 'tok-0123456789',
      refresh_token: 'ref-0123456789',
      signature: 'sig-0123456789',
      instance_url: 'https://acme.my.salesforce.com',
      issued_at: 1709251200000,
      token_type: 'Bearer',
      nested: { a: 1 },
    };
    const issued = parseTokenResponse(body, 'https://login.test/token', redactor, 0);
    expect(issued.fields).toEqual({ instance_url: 'https://acme.my.salesforce.com', issued_at: '1709251200000', token_type: 'Bearer' });
    expect(redactor.text('tok-0123456789 ref-0123456789')).not.toMatch(/0123456789/);
  });
});

describe('{auth.<field>} in a path', () => {
  const withPath = (path: string, auth: Record<string, unknown> = JWT) =>
    parseSource(JSON.stringify({ name: 'sf', schedule: 'rate(1 hour)', base_url: '{auth.instance_url}', auth, streams: [{ name: 'limits', path }] }), 'sf.yaml');
  const pathProblems = (path: string, auth?: Record<string, unknown>): string[] => {
    try {
      withPath(path, auth);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
      throw error;
    }
  };
  const FIELDS = { instance_url: 'https://acme.my.salesforce.com', org_id: '00D5e000000ABCD' };

  it('fills the field from the token response, percent-encoded like any path value', () => {
    const source = withPath('/services/data/v59.0/orgs/{auth.org_id}/limits');
    expect(buildFirstRequest(source, source.streams[0]!, WINDOW, {}, FIELDS).url.href).toBe('https://acme.my.salesforce.com/services/data/v59.0/orgs/00D5e000000ABCD/limits');
    expect(buildFirstRequest(source, source.streams[0]!, WINDOW, {}, { ...FIELDS, org_id: 'a/b' }).url.pathname).toBe('/services/data/v59.0/orgs/a%2Fb/limits');
  });

  it('fails if the token response lacks the field, naming the stream and the fields it had', () => {
    const source = withPath('/orgs/{auth.org_id}');
    expect(() => buildFirstRequest(source, source.streams[0]!, WINDOW, {}, { instance_url: FIELDS.instance_url })).toThrow(
      'stream "limits" path {auth.org_id}: the token response has no field "org_id" (its fields: instance_url)',
    );
  });

  it.each([
    ['a credential of the token response', '/x/{auth.access_token}', JWT, 'streams[0].path: {auth.access_token} is a credential of the token response'],
    ['an auth type without a token', '/x/{auth.org_id}', { type: 'bearer', secret: 'apilake/sf' }, 'streams[0].path: {auth.org_id} needs an auth type that obtains a token'],
  ])('fails on %s', (_what, path, auth, message) => {
    expect(pathProblems(path, auth).some((p) => p.startsWith(message))).toBe(true);
  });
});
