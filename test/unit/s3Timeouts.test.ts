import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../functions/errors.js';
import { BODY_CHUNK_BYTES, IdleTimeoutHttpHandler, withChunkedBody } from '../../functions/sink/IdleTimeoutHttpHandler.js';
import { s3ClientFromEnv } from '../../functions/sink/S3LakeStorage.js';
import { S3_TIMEOUTS, s3TimeoutsFromEnv } from '../../functions/sink/s3Timeouts.js';

describe('s3TimeoutsFromEnv', () => {
  it.each([
    [undefined, { idleMs: 30_000, connectMs: 10_000 }],
    ['', { idleMs: 30_000, connectMs: 10_000 }],
    ['120000', { idleMs: 120_000, connectMs: 10_000 }],
    ['1500', { idleMs: 1_500, connectMs: 1_500 }],
    ['1000', { idleMs: 1_000, connectMs: 1_000 }],
    ['3600000', { idleMs: 3_600_000, connectMs: 10_000 }],
  ])('APILAKE_S3_IDLE_TIMEOUT_MS=%j → %j', (value, timeouts) => {
    expect(s3TimeoutsFromEnv({ APILAKE_S3_IDLE_TIMEOUT_MS: value })).toEqual(timeouts);
  });

  it.each(['999', '0', '-5', '1.5e3x', '2000.5', 'thirty', '3600001'])('fails if APILAKE_S3_IDLE_TIMEOUT_MS is %j', (value) => {
    expect(() => s3TimeoutsFromEnv({ APILAKE_S3_IDLE_TIMEOUT_MS: value })).toThrow(InputError);
    expect(() => s3TimeoutsFromEnv({ APILAKE_S3_IDLE_TIMEOUT_MS: value })).toThrow(`APILAKE_S3_IDLE_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 3600000, got "${value}"`);
  });

  it('gives the client from the environment the timeouts the environment sets', () => {
    for (const [env, timeouts] of [
      [{}, S3_TIMEOUTS],
      [{ APILAKE_S3_IDLE_TIMEOUT_MS: '5000' }, { idleMs: 5_000, connectMs: 5_000 }],
    ] as const) {
      const client = s3ClientFromEnv(env);
      expect(client.config.requestHandler).toBeInstanceOf(IdleTimeoutHttpHandler);
      expect((client.config.requestHandler as IdleTimeoutHttpHandler).timeouts).toEqual(timeouts);
      client.destroy();
    }
  });
});

async function bytesOf(body: unknown): Promise<{ bytes: Buffer; chunks: number[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), chunks: chunks.map((c) => c.length) };
}

describe('withChunkedBody', () => {
  const sized = (n: number) => randomBytes(n);

  it.each([
    ['an 8 MiB part', 8 * 1024 * 1024, 128],
    ['one byte past a chunk', BODY_CHUNK_BYTES + 1, 2],
    ['three chunks and a bit', 3 * BODY_CHUNK_BYTES + 100, 4],
  ])('streams %s as chunks of at most 64 KiB, the same bytes in order', async (_what, size, count) => {
    const body = sized(size);
    const request = { method: 'PUT', headers: { 'content-length': String(size) }, body };
    const chunked = withChunkedBody(request);
    expect(chunked).not.toBe(request);
    expect(chunked.body).toBeInstanceOf(Readable);
    expect(chunked.headers).toEqual(request.headers);
    const { bytes, chunks } = await bytesOf(chunked.body);
    expect(bytes.equals(body)).toBe(true);
    expect(chunks).toHaveLength(count);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(BODY_CHUNK_BYTES);
  });

  it.each([
    ['a small buffer', sized(BODY_CHUNK_BYTES)],
    ['a string (a manifest)', 'x'.repeat(200_000)],
    ['a stream', Readable.from(['a'])],
    ['no body', undefined],
  ])('leaves %s as it is', (_what, body) => {
    const request = { method: 'PUT', body };
    expect(withChunkedBody(request)).toBe(request);
  });

  it('leaves the request it was given untouched, so a retry sends the whole body again', async () => {
    class Request {
      constructor(public body: unknown) {}
      describe() {
        return 'a request';
      }
    }
    const original = new Request(sized(200_000));
    const first = withChunkedBody(original);
    const second = withChunkedBody(original);
    expect(first).toBeInstanceOf(Request);
    expect(first.describe()).toBe('a request');
    expect(Buffer.isBuffer(original.body)).toBe(true);
    expect((await bytesOf(first.body)).bytes.equals(original.body as Buffer)).toBe(true);
    expect((await bytesOf(second.body)).bytes.equals(original.body as Buffer)).toBe(true);
  });
});
