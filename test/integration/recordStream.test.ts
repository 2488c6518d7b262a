import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseEncodingError } from '../../functions/body/bodyErrors.js';
import { evaluate } from '../../functions/expressions/evaluate.js';
import { parsePage, RecordParser } from '../../functions/body/RecordParser.js';
import { asyncListener } from '../support/listenOnLoopback.js';
import { recordTexts } from '../support/recordBodies.js';

/** Serves `bodies[path]` in pieces of 1 to 13 bytes, yielding between writes so the client sees many chunks. */
function startTricklingServer(bodies: Record<string, Buffer>): Promise<Server> {
  const server = createServer(
    asyncListener(async (req, res) => {
      const body = bodies[req.url ?? '']!;
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let at = 0, size = 1; at < body.length; at += size, size = (size % 13) + 1) {
        res.write(body.subarray(at, at + size));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    }),
  );
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

const records = Array.from({ length: 40 }, (_, i) => `{"id":9007199254740993,"n":${i}.50,"name":"Zoë ✓ 😀 ${i}","esc":"a\\"b\\u00e9"}`);
const good = Buffer.from(`{"meta":{"next":"c2"},"data":[${records.join(',')}]}`);
const bad = Buffer.concat([good.subarray(0, 300), Buffer.of(0xc3, 0x28), good.subarray(300)]);

describe('RecordParser over a real socket (undici fetch, arbitrary chunks)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = await startTricklingServer({ '/good': good, '/bad': bad });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('yields the same records and body as parsing the whole body', async () => {
    const response = await fetch(`${url}/good`);
    const parser = new RecordParser({ records: 'data' });
    const landed: string[] = [];
    let chunks = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++;
      for (const bytes of parser.push(chunk)) landed.push(bytes.toString());
    }
    const page = parser.end();
    for (const bytes of page.records) landed.push(bytes.toString());
    expect(chunks).toBeGreaterThan(10);
    expect(landed).toEqual(records);
    expect(landed).toEqual(recordTexts(parsePage(good, { records: 'data' })));
    expect(evaluate('meta.next', page.body)).toBe('c2');
    expect(evaluate('data[-1].n', page.body)).toBe(39.5);
  });

  it('fails at the offset of the invalid UTF-8, however the bytes were chunked', async () => {
    const response = await fetch(`${url}/bad`);
    const parser = new RecordParser({ records: 'data', origin: { page: 2, request: 'GET /bad' } });
    const failure = await (async () => {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.push(chunk);
      parser.end();
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ResponseEncodingError);
    expect((failure as ResponseEncodingError).offset).toBe(300);
    expect((failure as Error).message).toContain('page 2: response body is not valid UTF-8 at byte 300 (bytes C3 28)');
  });
});
