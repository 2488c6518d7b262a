import { describe, expect, it } from 'vitest';
import { BodyResumeError, HttpNetworkError } from '../../functions/errors.js';
import { checkPartial, checkRestart, resumableBody, resumePlan } from '../../functions/http/resumableBody.js';
import type { TransportResponse } from '../../functions/http/Transport.js';
import { ManualClock } from '../support/manualClock.js';

const headers = (fields: Readonly<Record<string, string | undefined>>) => new Headers(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
const DATE = 'Mon, 01 Jan 2024 12:00:00 GMT';

describe('resumePlan', () => {
  it.each([
    { name: 'a strong ETag with byte ranges', fields: { 'accept-ranges': 'bytes', etag: '"a1"', 'content-length': '10' }, plan: { ifRange: '"a1"', etag: '"a1"', length: 10 } },
    {
      name: 'a weak ETag',
      fields: { 'accept-ranges': 'bytes', etag: 'W/"a1"', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT', date: DATE },
      plan: { etag: 'W/"a1"', lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' },
    },
    {
      name: 'a Last-Modified a second or more before Date',
      fields: { 'accept-ranges': 'bytes', 'last-modified': 'Mon, 01 Jan 2024 11:59:59 GMT', date: DATE },
      plan: { ifRange: 'Mon, 01 Jan 2024 11:59:59 GMT', lastModified: 'Mon, 01 Jan 2024 11:59:59 GMT' },
    },
    { name: 'a Last-Modified equal to Date (weak)', fields: { 'accept-ranges': 'bytes', 'last-modified': DATE, date: DATE }, plan: { lastModified: DATE } },
    { name: 'a Last-Modified without Date', fields: { 'accept-ranges': 'bytes', 'last-modified': DATE }, plan: { lastModified: DATE } },
    { name: 'Accept-Ranges: none', fields: { 'accept-ranges': 'none', etag: '"a1"' }, plan: { etag: '"a1"' } },
    { name: 'no Accept-Ranges', fields: { etag: '"a1"', 'content-length': '10' }, plan: { etag: '"a1"', length: 10 } },
    { name: 'a content coding (offsets would count other bytes)', fields: { 'accept-ranges': 'bytes', etag: '"a1"', 'content-encoding': 'gzip', 'content-length': '10' }, plan: { etag: '"a1"' } },
    { name: 'Content-Encoding: identity', fields: { 'accept-ranges': 'bytes', etag: '"a1"', 'content-encoding': 'identity' }, plan: { ifRange: '"a1"', etag: '"a1"' } },
  ])('reads $name', ({ fields, plan }) => {
    expect(resumePlan(headers(fields))).toEqual(plan);
  });

  it('reads a 206 without Accept-Ranges as from a host that serves ranges, unless it is content-coded', () => {
    expect(resumePlan(headers({ etag: '"a1"', 'content-length': '10' }), true)).toEqual({ ifRange: '"a1"', etag: '"a1"', length: 10 });
    expect(resumePlan(headers({ etag: '"a1"', 'content-encoding': 'gzip' }), true)).toEqual({ etag: '"a1"' });
  });
});

describe('checkPartial', () => {
  const plan = { ifRange: '"a1"', etag: '"a1"', length: 100 };
  it.each([
    { name: 'the continuation', fields: { 'content-range': 'bytes 40-99/100', 'content-length': '60', etag: '"a1"' }, result: { length: 100 } },
    { name: 'no Content-Range', fields: {}, result: { problem: 'a 206 whose Content-Range is missing' } },
    { name: 'an unknown length', fields: { 'content-range': 'bytes 40-99/*' }, result: { problem: 'a 206 whose Content-Range "bytes 40-99/*" is not one byte range of a file of known length' } },
    { name: 'a range that starts earlier', fields: { 'content-range': 'bytes 0-99/100' }, result: { problem: 'a 206 whose Content-Range starts at byte 0, not at byte 40 asked for' } },
    { name: 'another length', fields: { 'content-range': 'bytes 40-100/101' }, result: { problem: 'a 206 for a file of 101 bytes, where the first response declared 100' } },
    { name: 'a range that stops short', fields: { 'content-range': 'bytes 40-59/100' }, result: { problem: "a 206 whose Content-Range ends at byte 59, not at the file's last byte 99" } },
    {
      name: 'a Content-Length beyond the range',
      fields: { 'content-range': 'bytes 40-99/100', 'content-length': '70' },
      result: { problem: 'a 206 of 70 bytes for the 60 bytes its Content-Range names' },
    },
    {
      name: 'a content coding',
      fields: { 'content-range': 'bytes 40-99/100', 'content-encoding': 'gzip' },
      result: { problem: 'a 206 with Content-Encoding gzip, where the first response had none' },
    },
    { name: 'another ETag', fields: { 'content-range': 'bytes 40-99/100', etag: '"b2"' }, result: { problem: 'ETag "b2", where the first response had "a1"' } },
  ])('judges $name', ({ fields, result }) => {
    expect(checkPartial(headers(fields), 40, plan)).toEqual(result);
  });
});

describe('checkRestart', () => {
  const plan = { etag: '"a1"', lastModified: DATE, length: 100 };
  it.each([
    { name: 'the same file', fields: { etag: '"a1"', 'last-modified': DATE, 'content-length': '100' }, result: undefined },
    { name: 'a response without validators', fields: {}, result: undefined },
    { name: 'another ETag', fields: { etag: '"b2"' }, result: { problem: 'ETag "b2", where the first response had "a1"' } },
    {
      name: 'another Last-Modified',
      fields: { 'last-modified': 'Tue, 02 Jan 2024 12:00:00 GMT' },
      result: { problem: `Last-Modified Tue, 02 Jan 2024 12:00:00 GMT, where the first response had ${DATE}` },
    },
    { name: 'another length', fields: { 'content-length': '99' }, result: { problem: 'a new response of 99 bytes, where the first declared 100' } },
  ])('judges $name', ({ fields, result }) => {
    expect(checkRestart(headers(fields), plan)).toEqual(result);
  });
});

/** A response whose body sends `bytes` in chunks of `chunk` (7), and breaks after `breakAt` of them when given. */
function response(status: number, fields: Record<string, string>, bytes: Buffer, breakAt?: number, chunk = 7): TransportResponse {
  async function* body() {
    const end = breakAt ?? bytes.length;
    for (let at = 0; at < end; at += chunk) yield await Promise.resolve(bytes.subarray(at, Math.min(at + chunk, end)));
    if (breakAt !== undefined) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  }
  return { status, headers: headers(fields), body: body(), text: () => Promise.resolve(''), discard: () => undefined };
}

async function read(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const FILE = Buffer.from(Array.from({ length: 100 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));
const options = (responses: TransportResponse[], asked: Record<string, string>[], maxAttempts = 5) => ({
  reopen: (extra: Readonly<Record<string, string>>) => {
    asked.push({ ...extra });
    return Promise.resolve(responses.shift()!);
  },
  retry: { max_attempts: maxAttempts, base_delay_ms: 10, max_delay_ms: 1000 },
  clock: new ManualClock(0),
  random: () => 0,
  describe: () => 'file, GET https://files.example/f',
});

describe('resumableBody', () => {
  it('gives the reader the bytes once when a restarted body breaks again before it reaches the first break', async () => {
    const asked: Record<string, string>[] = [];
    const fields = { 'content-length': '100' };
    const restarts = [response(200, fields, FILE, 20), response(200, fields, FILE)];
    const body = resumableBody(response(200, fields, FILE, 50), options(restarts, asked));
    expect((await read(body)).equals(FILE)).toBe(true);
    expect(asked).toEqual([{}, {}]);
  });

  it('asks for the rest from the byte where each break happened', async () => {
    const asked: Record<string, string>[] = [];
    const fields = { 'accept-ranges': 'bytes', etag: '"a1"', 'content-length': '100' };
    const partial = (from: number, breakAt?: number) => response(206, { etag: '"a1"', 'content-range': `bytes ${from}-99/100` }, FILE.subarray(from), breakAt);
    const body = resumableBody(response(200, fields, FILE, 30), options([partial(30, 25), partial(55)], asked));
    expect((await read(body)).equals(FILE)).toBe(true);
    expect(asked.map((h) => h.range)).toEqual(['bytes=30-', 'bytes=55-']);
    expect(asked.every((h) => h['if-range'] === '"a1"' && h['accept-encoding'] === 'identity')).toBe(true);
  });

  it('continues a rest that repeats no validator on the If-Range it answered, and checks the next rest against it', async () => {
    const asked: Record<string, string>[] = [];
    const rest = (from: number, fields: Record<string, string>, breakAt?: number) => response(206, { 'content-range': `bytes ${from}-99/100`, ...fields }, FILE.subarray(from), breakAt);
    const body = resumableBody(rest(40, {}, 21), { ...options([rest(61, {})], asked), askedIfRange: '"a1"' });
    expect((await read(body)).equals(FILE.subarray(40))).toBe(true);
    expect(asked).toEqual([{ range: 'bytes=61-', 'if-range': '"a1"', 'accept-encoding': 'identity' }]);

    const other = await read(resumableBody(rest(40, {}, 21), { ...options([rest(61, { etag: '"b2"' })], []), askedIfRange: '"a1"' })).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(BodyResumeError);
    expect((other as Error).message).toMatch(/^resuming the body at byte 61, the server answered ETag "b2", where the first response had "a1"/);
  });

  it('tells a restarted body that changed before the break from one that did not, small or past the bytes kept unhashed', async () => {
    const restart = async (file: Buffer, breakAt: number, changeAt: number | undefined) => {
      const again = Buffer.from(file);
      if (changeAt !== undefined) again.writeUInt8(again.readUInt8(changeAt) ^ 1, changeAt);
      const chunk = file.length > 1000 ? 65_536 : 7;
      const fields = { 'content-length': String(file.length) };
      return read(resumableBody(response(200, fields, file, breakAt, chunk), options([response(200, fields, again, undefined, chunk)], []))).catch((e: unknown) => e as Error);
    };
    // Bodies over 4 MiB are hashed from there on; the bytes before are kept and hashed when needed.
    const big = Buffer.alloc(5 * 1024 * 1024 + 123, 'abcdefghij');
    for (const [file, breakAt] of [
      [FILE, 50],
      [big, 3 * 1024 * 1024],
      [big, 5 * 1024 * 1024],
    ] as const) {
      expect(((await restart(file, breakAt, undefined)) as Buffer).equals(file)).toBe(true);
      for (const changeAt of [0, breakAt - 1]) {
        const error = await restart(file, breakAt, changeAt);
        expect(error, `${file.length} bytes, broken at ${breakAt}, changed at ${changeAt}`).toBeInstanceOf(BodyResumeError);
        expect((error as Error).message).toMatch(new RegExp(`^the body changed while it was read again after a broken connection at byte ${breakAt}: its first ${breakAt} bytes differ`));
      }
      // A change past the break is the rest of the body, read as it comes.
      expect(((await restart(file, breakAt, breakAt + 1)) as Buffer)[breakAt + 1]).toBe(file[breakAt + 1]! ^ 1);
    }
  });

  it('fails if a restarted body ends before the bytes already read', async () => {
    const fields = { 'content-length': '100' };
    const short = response(200, {}, FILE.subarray(0, 40));
    const error = await read(resumableBody(response(200, fields, FILE, 50), options([short], []))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyResumeError);
    expect((error as Error).message).toBe(
      'the body changed while it was read again after a broken connection at byte 50: the new response ends 10 bytes before the 50 already read; the attempt fails, and the next one reads it anew (file, GET https://files.example/f)',
    );
  });

  it('fails if a response to the resume is not retryable', async () => {
    const fields = { 'accept-ranges': 'bytes', etag: '"a1"', 'content-length': '100' };
    const error = await read(resumableBody(response(200, fields, FILE, 50), options([response(416, {}, Buffer.alloc(0))], []))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyResumeError);
    expect((error as Error).message).toMatch(/^resuming the body at byte 50, the server answered HTTP 416 /);
  });

  it('retries a retryable status within max_attempts, then reports the break', async () => {
    const fields = { 'content-length': '100' };
    const busy = () => response(503, {}, Buffer.alloc(0));
    const error = await read(resumableBody(response(200, fields, FILE, 50), options([busy(), busy()], [], 3))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as Error).message).toBe('network error after 3 attempts: HTTP 503, at byte 50 of the body (file, GET https://files.example/f)');
  });
});
