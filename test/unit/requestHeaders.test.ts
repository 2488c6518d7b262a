import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../../functions/http/HttpClient.js';
import { Redactor } from '../../functions/http/redact.js';
import { RequestHeaders } from '../../functions/http/RequestHeaders.js';

/** What one `set` makes of a header: the stored value, or that it threw a TypeError. */
function outcome(headers: { set(name: string, value: string): void; get(name: string): string | null }, name: string, value: string): string {
  try {
    headers.set(name, value);
    return `ok ${JSON.stringify(headers.get(name))}`;
  } catch (error) {
    return error instanceof TypeError ? 'TypeError' : `other ${String(error)}`;
  }
}
/** WHATWG Headers (undici) is the reference. */
const reference = (name: string, value: string) => outcome(new Headers(), name, value);
const ours = (name: string, value: string) => outcome(new RequestHeaders(), name, value);

describe('RequestHeaders', () => {
  it('accepts, trims and refuses exactly what WHATWG Headers does, over every byte and the edges above it', () => {
    const values: string[] = [
      'plain',
      '',
      ' ',
      '\t\r\n',
      ' padded\t',
      'in side',
      'a\u00e9b',
      '\u00ff',
      '\u0100',
      'tök’en',
      '😀',
      'x\u0000y',
      'x\ny',
      'x\ry',
      '\nlead',
      'trail\r\n',
      'x\u0001y',
      'x\u007fy',
      'x\ty',
    ];
    for (let code = 0; code <= 0x101; code++) values.push(`a${String.fromCharCode(code)}b`, String.fromCharCode(code));
    const names = ['x-key', 'X-Key', 'Authorization', "!#$%&'*+-.^_`|~09azAZ", '', 'bad name', 'bad:name', 'é', 'x\u0000', '(x)', 'a/b'];
    for (const name of names) expect(ours(name, 'v'), `name ${JSON.stringify(name)}`).toBe(reference(name, 'v'));
    for (const value of values) expect(ours('x-key', value), `value ${JSON.stringify(value)}`).toBe(reference('x-key', value));
  });

  it('is case-insensitive, lets a later name replace an earlier one that differs only in case, and iterates lower-case names', () => {
    const headers = new RequestHeaders({ accept: 'application/json', Accept: 'text/csv', 'X-Trace': '1' });
    expect(headers.get('ACCEPT')).toBe('text/csv');
    expect(headers.has('x-trace')).toBe(true);
    headers.delete('X-TRACE');
    expect(headers.has('x-trace')).toBe(false);
    headers.set('Authorization', 'Bearer t');
    expect([...headers]).toEqual([
      ['accept', 'text/csv'],
      ['authorization', 'Bearer t'],
    ]);
    const copy = new RequestHeaders(headers);
    copy.set('accept', 'x');
    expect(headers.get('accept')).toBe('text/csv');
    const seen: string[] = [];
    copy.forEach((value, name) => seen.push(`${name}=${value}`));
    expect(seen).toEqual(['accept=x', 'authorization=Bearer t']);
  });

  it('never quotes a refused value in its error (it may be a credential)', () => {
    for (const value of ['s3cret\nx', 's3cret\u0000', 's3cret’']) {
      const error = (() => {
        try {
          new RequestHeaders().set('x-api-key', value);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(TypeError);
      expect(error!.message).not.toContain('s3cret');
    }
  });

  it('spares a request through the default transport the undici load (Node 20 builds Headers from it on first use; Node 22 loads it on an ES import of node:http)', () => {
    // The server is taken from the module object: an ES import of node:http would load undici on Node 22 by itself.
    const script = `
      const { createServer } = process.getBuiltinModule('node:http');
      const { HttpClient } = await import(${JSON.stringify(new URL('../../functions/http/HttpClient.ts', import.meta.url).href)});
      const { Redactor } = await import(${JSON.stringify(new URL('../../functions/http/redact.ts', import.meta.url).href)});
      const server = createServer((req, res) => res.end(JSON.stringify({ trace: req.headers['x-trace'] ?? null })));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const client = new HttpClient({ retry: { max_attempts: 1, base_delay_ms: 1, max_delay_ms: 1 }, timeoutMs: 5000, redactor: new Redactor() });
      const response = await client.requestJson({ method: 'GET', url: new URL('http://127.0.0.1:' + server.address().port + '/'), headers: { 'X-Trace': ' t1 ' } });
      server.close();
      console.log(JSON.stringify({ body: response.body, undici: process.moduleLoadList.filter((m) => /undici/.test(m)) }));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim().split('\n').at(-1)!)).toEqual({ body: { trace: 't1' }, undici: [] });
  });

  it("sends the source's headers over the default accept and the request's over both, whatever their case", async () => {
    const server = createServer((req, res) => res.end(JSON.stringify({ accept: req.headers.accept, trace: req.headers['x-trace'] ?? null })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const client = (headers?: Record<string, string>) =>
        new HttpClient({
          retry: { max_attempts: 1, base_delay_ms: 1, max_delay_ms: 1, circuit_breaker_failures: 10, circuit_breaker_cooldown_ms: 1000 },
          timeoutMs: 5000,
          redactor: new Redactor(),
          ...(headers ? { headers } : {}),
        });
      expect((await client().requestJson({ method: 'GET', url })).body).toEqual({ accept: 'application/json', trace: null });
      expect((await client({ Accept: 'text/csv', 'X-Trace': 's' }).requestJson({ method: 'GET', url })).body).toEqual({ accept: 'text/csv', trace: 's' });
      expect((await client({ Accept: 'text/csv' }).requestJson({ method: 'GET', url, headers: { ACCEPT: 'application/x-ndjson' } })).body).toEqual({ accept: 'application/x-ndjson', trace: null });
    } finally {
      server.close();
    }
  });
});
