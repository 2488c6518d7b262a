/**
 * A cursor-paged API of large, incompressible but deterministic records (~120 KB each), so a
 * window's part is big enough for an S3 multipart upload and every byte can still be checked.
 */

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One record. */
export interface Blob {
  readonly id: number;
  readonly ts: string;
  readonly blob: string;
}

/** 60 records an hour from 2024-01-01T00:00Z, `hours` hours of them. */
export async function startBlobApi(options: { hours: number; apiKey: string }): Promise<{ url: string; items: readonly Blob[]; close: () => Promise<void> }> {
  const items: Blob[] = Array.from({ length: options.hours * 60 }, (_, i) => {
    // 120 KB of hash output, base64: as incompressible as an API's encoded attachments.
    const chunks: Buffer[] = [];
    for (let n = 0; n < 2_800; n++) chunks.push(createHash('sha256').update(`${i}:${n}`).digest());
    return { id: i + 1, ts: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(), blob: Buffer.concat(chunks).toString('base64') };
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers['x-api-key'] !== options.apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end('{"error":"invalid api key"}');
    }
    const since = Date.parse(url.searchParams.get('since') ?? '');
    const until = Date.parse(url.searchParams.get('until') ?? '');
    const after = Number(url.searchParams.get('cursor') ?? 0);
    const selected = items.filter((i) => Date.parse(i.ts) >= since && Date.parse(i.ts) < until && i.id > after);
    const page = selected.slice(0, 10);
    const more = selected.length > page.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: page, meta: { next_cursor: more ? String(page.at(-1)!.id) : null } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    items,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
