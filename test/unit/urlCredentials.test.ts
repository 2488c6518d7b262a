import { describe, expect, it } from 'vitest';
import { hasUrlCredentials, maskUrlCredentials } from '../../functions/config/urlCredentials.js';

describe('credentials in a URL', () => {
  it.each([
    ['https://api.example.com/v1', false],
    ['https://admin:pw@api.example.com', true],
    ['https://admin@api.example.com', true],
    ['https://:pw@api.example.com', true],
    ['https://api.example.com/users/a@b.com', false],
    ['{auth.instance_url}/services', false],
  ])('%s holds credentials: %s', (url, expected) => {
    expect(hasUrlCredentials(url)).toBe(expected);
  });

  it.each([
    ['http://admin:hunter2@127.0.0.1:9/v1', 'http://***@127.0.0.1:9/v1'],
    ['https://a:b@c@host.example/x@y', 'https://***@host.example/x@y'],
    ['https://a:b@host.example?q=1', 'https://***@host.example?q=1'],
    ['https://api.example.com/users/a@b.com', 'https://api.example.com/users/a@b.com'],
  ])('shows %s as %s', (url, shown) => {
    expect(maskUrlCredentials(url)).toBe(shown);
    expect(maskUrlCredentials(url)).not.toMatch(/hunter2|a:b/);
  });
});
