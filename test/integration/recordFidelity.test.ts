/**
 * Records land as the exact bytes the API sent; bodies that are not valid UTF-8, nest too deep or
 * are too large fail their window with a located error, and nothing of it lands.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { readCurrentCommits } from '../support/lakeReader.js';
import { testSource } from '../support/sources.js';

const BODIES: Record<string, Buffer> = {
  '/exact': Buffer.from('{"data":[{"price":1.50,"zero":-0,"big":1e3,"id":18446744073709551615,"dup":1,"dup":2,"esc":"caf\\u00e9 \\/ ok","order":"1234567890123456789"},\n  {"b":2,"a":1}]}'),
  '/invalid-utf8': Buffer.concat([Buffer.from('{"data":[{"name":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}]}')]),
  '/latin1': Buffer.concat([Buffer.from('{"data":[{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}]}')]),
  '/deep': Buffer.from(`{"data":[${'['.repeat(100_000)}${']'.repeat(100_000)}]}`),
  '/big': Buffer.from(`{"data":[${Array.from({ length: 3_000 }, (_, i) => `{"id":${i},"pad":"${'x'.repeat(500)}"}`).join(',')}]}`),
};

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = BODIES[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const WINDOW = { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-01T01:00:00Z') };

async function land(path: string, stream: Record<string, unknown> = {}) {
  const lake = await mkdtemp(join(tmpdir(), 'apilake-fidelity-'));
  const source = testSource(url, { path, params: {}, records: 'data', ...stream });
  const client = await createSourceClient(source, new EnvSecretProvider({}));
  const result = await runWindow({ source, stream: source.streams[0]!, window: WINDOW, client, storage: new FsLakeStorage(lake) });
  return { result, lake };
}

async function landedLines(lake: string): Promise<string[]> {
  const [manifest] = await readCurrentCommits(lake);
  const text = gunzipSync(await readFile(join(lake, manifest!.parts[0]!.key))).toString('utf8');
  return text.split('\n').filter(Boolean);
}

describe('record fidelity and hostile bodies', () => {
  it('lands each record exactly as served: number text, key order, duplicate keys, escapes, 64-bit integers', async () => {
    const { result, lake } = await land('/exact');
    expect(result.status).toBe('committed');
    const lines = await landedLines(lake);
    expect(lines[0]).toMatch(/"data":\{"price":1\.50,"zero":-0,"big":1e3,"id":18446744073709551615,"dup":1,"dup":2,"esc":"caf\\u00e9 \\\/ ok","order":"1234567890123456789"\}\}$/);
    expect(lines[1]).toMatch(/"data":\{"b":2,"a":1\}\}$/);
  });

  it('fails a body that is not valid UTF-8, naming the byte, and lands nothing', async () => {
    const { result, lake } = await land('/invalid-utf8');
    expect(result.status).toBe('failed');
    expect(result.error!.message).toMatch(/page 1: response body is not valid UTF-8 at byte 18 \(bytes C3 28\)/);
    expect(await readCurrentCommits(lake)).toEqual([]);
  });

  it('transcodes Latin-1 when the stream says so, and counts it in the manifest', async () => {
    const strict = await land('/latin1');
    expect(strict.result.status).toBe('failed');
    const { result, lake } = await land('/latin1', { response_encoding: 'latin1' });
    expect(result.status).toBe('committed');
    expect((await landedLines(lake))[0]).toContain('"data":{"name":"café"}');
    const [manifest] = await readCurrentCommits(lake);
    expect(manifest!.decoding).toEqual({ encoding: 'latin1', replaced_chars: 0, transcoded_chars: 1, reserialised_records: 0, bom_pages: 0 });
  });

  it('fails a body nested 100,000 levels deep with a located error, not a stack overflow', async () => {
    const { result } = await land('/deep');
    expect(result.status).toBe('failed');
    expect(result.error!.name).toBe('JsonNestingError');
    expect(result.error!.message).toMatch(/page 1: .*nest/);
  });

  it('refuses a body larger than max_page_mb', async () => {
    const { result } = await land('/big', { max_page_mb: 1 });
    expect(result.status).toBe('failed');
    expect(result.error!.message).toMatch(/page 1: response body is larger than max_page_mb \(1 MiB\)/);
    expect((await land('/big')).result).toMatchObject({ status: 'committed', records: 3_000 });
  });
});
