import { Agent, createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTransport } from '../../functions/http/nodeTransport.js';
import { PageDiscarded } from '../../functions/pagination/PagesInFlight.js';

/** Header lines of `/headers`: a field repeated in another case, whitespace around values. */
const RAW_HEADERS = [
  'Content-Type',
  'application/json',
  'X-RateLimit-Remaining',
  ' 0 ',
  'x-ratelimit-remaining',
  '7',
  'Link',
  '<https://a.test/x?page=2>; rel="next"',
  'Retry-After',
  '\t12',
  'Vary',
  'accept',
  'VARY',
  'accept-encoding',
];
const PAGE = JSON.stringify({ data: Array.from({ length: 500 }, (_, i) => ({ id: i, text: `record ${i} ✓` })) });

let server: Server;
let base: string;
const sockets = new Set<Socket>();
let lastRequest: { headers: Record<string, unknown>; body: string } | undefined;

beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      lastRequest = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      const path = new URL(req.url!, 'http://x').pathname;
      const send = (encoding: string, body: Buffer) => {
        res.writeHead(200, { 'content-type': 'application/json', ...(encoding ? { 'content-encoding': encoding } : {}), 'content-length': body.length });
        res.end(body);
      };
      if (path === '/gzip') return send('gzip', gzipSync(PAGE));
      if (path === '/br') return send('br', brotliCompressSync(PAGE));
      if (path === '/deflate') return send('deflate', deflateSync(PAGE));
      if (path === '/both') return send('deflate, br', brotliCompressSync(deflateSync(PAGE)));
      if (path === '/bad-gzip') return send('gzip', Buffer.concat([gzipSync(PAGE).subarray(0, 100), Buffer.from('not gzip at all')]));
      if (path === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":[');
        return; // never ends
      }
      if (path === '/headers') {
        // Raw lines, so a field can repeat, vary its case and carry whitespace as a server may send it.
        res.writeHead(200, RAW_HEADERS);
        return res.end('{}');
      }
      if (path === '/bom') return send('', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
      send('', Buffer.from(PAGE));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const transport = nodeTransport();
const get = (path: string, signal = new AbortController().signal) =>
  transport({ method: 'GET', url: new URL(path, base), headers: new Headers({ accept: 'application/json' }), body: undefined, signal });

describe('nodeTransport', () => {
  it.each(['/plain', '/gzip', '/br', '/deflate', '/both'])('decodes the body of %s as sent', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(PAGE);
    expect(lastRequest!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('streams a decoded body in chunks that add up to the page', async () => {
    const response = await get('/gzip');
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString()).toBe(PAGE);
  });

  it('fails reading a body whose compression is corrupt', async () => {
    const response = await get('/bad-gzip');
    await expect(response.text()).rejects.toThrow();
  });

  it('reads response headers as a WHATWG Headers holding the lines sent does: any case, repeats joined, whitespace trimmed', async () => {
    const ours = (await get('/headers')).headers;
    const theirs = new Headers();
    for (let i = 0; i < RAW_HEADERS.length; i += 2) theirs.append(RAW_HEADERS[i]!, RAW_HEADERS[i + 1]!);
    for (const name of ['x-ratelimit-remaining', 'X-RATELIMIT-REMAINING', 'link', 'retry-after', 'vary', 'content-type', 'absent']) expect(ours.get(name), name).toBe(theirs.get(name));
    expect(ours.get('X-RateLimit-Remaining')).toBe('0, 7');
    expect(ours.get('absent')).toBeNull();
  });

  it('drops a leading byte order mark from text, as fetch does', async () => {
    expect(await (await get('/bom')).text()).toBe('{"a":1}');
  });

  it('sends a body with its length and the headers given', async () => {
    const response = await transport({
      method: 'POST',
      url: new URL('/plain', base),
      headers: new Headers({ 'content-type': 'application/json', 'x-key': 'k' }),
      body: '{"q":"é"}',
      signal: new AbortController().signal,
    });
    await response.text();
    expect(lastRequest).toMatchObject({ body: '{"q":"é"}', headers: { 'content-length': '10', 'x-key': 'k', 'content-type': 'application/json' } });
  });

  it('aborts a body that stalls when the signal fires, with the signal reason', async () => {
    const controller = new AbortController();
    const response = await get('/stall', controller.signal);
    const reading = response.text();
    controller.abort(new Error('deadline'));
    await expect(reading).rejects.toThrow('deadline');
  });

  it('rejects at once when the signal already fired', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(get('/plain', controller.signal)).rejects.toThrow('stopped');
  });

  it('fails with the system error code when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(transport({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: new Headers(), body: undefined, signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('sends again on a fresh connection when a kept-alive one was closed by the server while idle', async () => {
    await (await get('/plain')).text();
    // The server drops its idle keep-alive connections, as one does after its keep-alive timeout.
    for (const socket of sockets) socket.destroy();
    const response = await get('/plain');
    expect(await response.text()).toBe(PAGE);
  });
});

describe('nodeTransport, a socket that reports two errors for one failure', () => {
  it('observes both, throwing nothing', async () => {
    // The order seen under fake timers: the socket's close ("socket hang up") before its own error.
    let socket!: Duplex;
    let written!: () => void;
    const sent = new Promise<void>((resolve) => (written = resolve));
    const agent = new Agent();
    agent.createConnection = () => {
      socket = new Duplex({
        read: () => undefined,
        write: (_chunk, _encoding, callback) => {
          written();
          callback();
        },
      });
      return socket;
    };
    const controller = new AbortController();
    const response = nodeTransport({ httpAgent: agent })({ method: 'GET', url: new URL('http://api.test/x'), headers: new Headers(), body: undefined, signal: controller.signal });
    const outcome = response.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await sent;
    socket.emit('close');
    expect(() => socket.emit('error', new PageDiscarded(1))).not.toThrow();
    expect(await outcome).toBe('socket hang up');
    agent.destroy();
  });
});
